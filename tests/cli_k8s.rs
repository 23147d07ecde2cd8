//! `hnsim k8s render` run as the built binary: exit codes, output, located errors.

use std::process::Command;

fn data(rel: &str) -> String {
    format!("{}/tests/data/k8s/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn render(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hnsim"))
        .args(["k8s", "render"])
        .args(args)
        .output()
        .expect("run hnsim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_cluster_file_renders_each_node_in_the_components_order() {
    let (code, out, err) = render(&[&data("flannel-vxlan.yaml"), "--node", "win1"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("node win2"), "--node filters");
    let order = [
        "network-plugin HcnCreateNetwork",
        "network-plugin HcnModifyNetwork",
        "cni            HcnCreateNamespace",
        "cni            HcnCreateEndpoint",
        "kube-proxy     HcnCreateEndpoint",
        "kube-proxy     HcnCreateLoadBalancer",
    ];
    let mut at = 0;
    for o in order {
        let i = out[at..]
            .find(o)
            .unwrap_or_else(|| panic!("`{o}` missing after byte {at}:\n{out}"));
        at += i;
    }
    // The Linux node's VTEP MAC reaches the RemoteSubnetRoute in Linux's spelling.
    assert!(
        out.contains(r#""DistributedRouterMacAddress":"b6:2f:8a:11:22:33""#),
        "{out}"
    );
    assert!(out.contains(r#""Flags":18"#), "the NodePort LB");
}

#[test]
fn json_output_is_deterministic() {
    let (c1, a, _) = render(&[&data("flannel-vxlan.yaml"), "--format", "json"]);
    let (c2, b, _) = render(&[&data("flannel-vxlan.yaml"), "--format", "json"]);
    assert_eq!((c1, c2), (0, 0));
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(
        v["nodes"].as_array().unwrap().len(),
        2,
        "two Windows nodes; the Linux node has no HNS"
    );
}

#[test]
fn bad_objects_are_located_errors_and_exit_2() {
    let (code, out, err) = render(&[&data("bad-objects.yaml")]);
    assert_eq!(code, 2, "{out}");
    assert!(out.is_empty(), "nothing rendered half-way: {out}");
    let file = data("bad-objects.yaml");
    for want in [
        format!("{file}:18:"),
        "pod IP 10.244.9.5 is outside node `win1`'s podCIDR 10.244.1.0/24".to_string(),
        "nodePort 8080 is outside the node port range 30000-32767".to_string(),
        format!("{file}:26:"),
        "clusterIP 10.96.0.20 is already Service `default/a`'s".to_string(),
        "names Service `default/c`, which does not exist".to_string(),
    ] {
        assert!(err.contains(&want), "missing {want:?} in:\n{err}");
    }
}

#[test]
fn an_unknown_node_is_invalid_input() {
    let (code, _, err) = render(&[&data("flannel-vxlan.yaml"), "--node", "win3"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `win1`"), "{err}");
}
