//! End-to-end: cluster YAML → every node's HCN calls.

mod common;

#[test]
fn vxlan_cluster_renders_in_the_real_order() {
    let r = common::render_file("flannel-vxlan.yaml");
    println!("{}", r.text(None));
}
