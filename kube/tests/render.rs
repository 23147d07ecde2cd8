//! End-to-end: cluster YAML → every node's HCN calls, in the components' real order.

mod common;

use hnsim_k8s::hcn::Component;
use hnsim_model::backend::{HcnOp, ObjectKind, Verb};

#[test]
fn vxlan_cluster_renders_in_the_real_order() {
    let r = common::render_file("flannel-vxlan.yaml");
    for node in ["win1", "win2"] {
        let j = &r.agents.journals[node];
        let changes: Vec<_> = j.iter().filter(|c| c.is_change()).collect();
        // flannel, then the CNI's pods, then kube-proxy: never back to an earlier component.
        let comps: Vec<Component> = changes.iter().map(|c| c.component).collect();
        assert!(comps.windows(2).all(|w| w[0] <= w[1]), "{node}: {comps:?}");
        assert!(comps.contains(&Component::Cni) && comps.contains(&Component::KubeProxy));
        assert_eq!(changes[0].op, HcnOp::Object(Verb::Create, ObjectKind::Network));
        assert!(changes[0].document.contains(r#""Name":"flannel.4096""#), "{node}");
        // kube-proxy's first object is the source-VIP endpoint; its LBs come after it.
        let kp: Vec<_> = changes
            .iter()
            .filter(|c| c.component == Component::KubeProxy)
            .collect();
        assert_eq!(
            kp[0].op,
            HcnOp::Object(Verb::Create, ObjectKind::Endpoint),
            "{node}"
        );
        let first_lb = kp
            .iter()
            .position(|c| c.op == HcnOp::Object(Verb::Create, ObjectKind::LoadBalancer))
            .expect("an LB");
        assert!(first_lb > 0);
    }
    let text = r.text(Some("win1"));
    assert!(
        text.starts_with("node win1") && !text.contains("node win2"),
        "{text}"
    );
}
