//! Bad Kubernetes input in a scenario: located errors from `load_str`, never a panic or a
//! half-programmed cluster.

use hnsim_sim::scenario::load_str;

const HEAD: &str = "name: t
underlay:
  segments:
    lan: {prefix: 10.0.0.0/24}
hosts:
  win1: {ip: 10.0.0.11}
kubernetes:
  cluster:
    network-plugin: win-bridge
  objects:
  - {kind: Node, metadata: {name: win1}, spec: {podCIDR: 10.244.1.0/24}, status: {addresses: [{type: InternalIP, address: 10.0.0.11}]}}
";

fn errors(text: &str) -> Vec<String> {
    match load_str("t.yaml", text) {
        Ok(_) => Vec::new(),
        Err(es) => es.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn a_pod_on_an_unknown_node_is_located() {
    let e = errors(&format!(
        "{HEAD}  - {{kind: Pod, metadata: {{name: p}}, spec: {{nodeName: win2}}}}\nsteps: []\n"
    ));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("t.yaml:12:"), "{e:?}");
    assert!(
        e[0].contains("node `win2`, which does not exist (did you mean `win1`?)"),
        "{e:?}"
    );
}

#[test]
fn a_windows_node_without_a_host_is_an_error() {
    let e = errors(&format!(
        "{HEAD}  - {{kind: Node, metadata: {{name: win9}}, spec: {{podCIDR: 10.244.9.0/24}}, status: {{addresses: [{{type: InternalIP, address: 10.0.0.19}}]}}}}\nsteps: []\n"
    ));
    assert!(
        e.iter()
            .any(|m| m.contains("`win9` runs on scenario host `win9`, which is not under `hosts:`")),
        "{e:?}"
    );
}

#[test]
fn an_unknown_cluster_key_gets_a_suggestion() {
    let text = HEAD.replace(
        "network-plugin: win-bridge",
        "network-plugin: win-bridge\n    dns-domian: x",
    );
    let e = errors(&format!("{text}steps: []\n"));
    assert!(
        e.iter()
            .any(|m| m.contains("dns-domian") && m.contains("dns-domain")),
        "{e:?}"
    );
}

#[test]
fn apply_errors_and_address_sources_are_reported_at_their_step() {
    let e = errors(&format!(
        "{HEAD}steps:\n  - apply:\n    - {{kind: Service, metadata: {{name: s}}, spec: {{type: NodePort, clusterIP: 10.96.0.9, ports: [{{port: 80, nodePort: 80}}]}}}}\n  - connect: {{from: svc/default/s, to: 10.0.0.11:80}}\n"
    ));
    assert!(
        e.iter()
            .any(|m| m.starts_with("t.yaml:14:") && m.contains("nodePort 80 is outside")),
        "{e:?}"
    );
    assert!(
        e.iter().any(|m| m.contains("`svc/default/s` is an address")),
        "{e:?}"
    );
}

#[test]
fn kubernetes_steps_need_the_section() {
    let e = errors("name: t\nunderlay:\n  segments:\n    lan: {prefix: 10.0.0.0/24}\nhosts:\n  h: {ip: 10.0.0.1}\nsteps:\n  - kube-proxy-sync:\n");
    assert!(
        e.iter()
            .any(|m| m.contains("`kube-proxy-sync` needs a `kubernetes:` section")),
        "{e:?}"
    );
}

const WEB: &str = "  - {kind: Service, metadata: {name: web}, spec: {clusterIP: 10.96.0.9, ports: [{name: http, port: 80}, {name: metrics, port: 9100}]}}\n";

#[test]
fn an_unknown_service_port_name_is_located_with_a_suggestion() {
    let e = errors(&format!(
        "{HEAD}{WEB}steps:\n  - connect: {{from: win1, to: \"svc/default/web:htpp\"}}\n"
    ));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("t.yaml:14:27:"),
        "located at the step's `to`: {e:?}"
    );
    assert!(
        e[0].contains("has no port named `htpp` (did you mean `http`?); its ports are named http, metrics"),
        "{e:?}"
    );
    // A known name and a number are both fine.
    for to in ["svc/default/web:metrics", "svc/default/web:80"] {
        let e = errors(&format!(
            "{HEAD}{WEB}steps:\n  - connect: {{from: win1, to: \"{to}\"}}\n"
        ));
        assert!(e.is_empty(), "{to}: {e:?}");
    }
}

#[test]
fn a_node_is_a_source_only_when_hnsim_runs_it() {
    let ok = errors(&format!(
        "{HEAD}{WEB}steps:\n  - connect: {{from: node/win1, to: \"svc/default/web:http\"}}\n"
    ));
    assert!(ok.is_empty(), "{ok:?}");
    let linux = errors(&format!(
        "{HEAD}  - {{kind: Node, metadata: {{name: lin1, labels: {{kubernetes.io/os: linux}}}}, spec: {{podCIDR: 10.244.5.0/24}}, status: {{addresses: [{{type: InternalIP, address: 10.0.0.15}}]}}}}\nsteps:\n  - ping: {{from: node/lin1, to: 10.0.0.11}}\n"
    ));
    assert!(
        linux.iter().any(|m| m.contains("`node/lin1` is a Linux node")),
        "{linux:?}"
    );
    let typo = errors(&format!(
        "{HEAD}steps:\n  - ping: {{from: node/win2, to: 10.0.0.11}}\n"
    ));
    assert!(
        typo.iter()
            .any(|m| m.contains("`node/win2` is not a node of the cluster (did you mean `node/win1`?)")),
        "{typo:?}"
    );
}
