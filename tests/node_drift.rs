//! `hnsim doctor --expected CLUSTER.yaml --node NAME`: drift of a node's HNS state against what
//! the Kubernetes layer programs on it. The "node dump" here is the rendered state itself,
//! written as `ConvertTo-Json` would (UTF-16LE), then changed the way real nodes drift.

use hnsim_k8s::load::{read_value, split_documents, Loaded, Loc};
use hnsim_k8s::{render, Cluster};
use hnsim_model::document::{encode_endpoint, encode_load_balancer, encode_namespace, encode_network};
use serde_json::Value;
use std::path::PathBuf;

const CLUSTER: &str = "tests/data/k8s/flannel-vxlan.yaml";

mod common;
use common::hnsim;

/// win1's state as the Kubernetes layer renders it: every object as a v2 document.
fn rendered_win1() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/k8s/flannel-vxlan.yaml"
    ))
    .unwrap();
    let mut l = Loaded::default();
    for (i, (_, d)) in split_documents(&text).iter().enumerate() {
        read_value(&serde_yaml::from_str(d).unwrap(), Loc::new(i), &mut l);
    }
    let mut c = Cluster::new(l.config.unwrap().value);
    c.apply(l.objects).unwrap();
    let r = render(&c, 1);
    let h = &r.hosts["win1"];
    let mut docs: Vec<Value> = h.networks.values().map(encode_network).collect();
    docs.extend(h.endpoints.values().map(encode_endpoint));
    docs.extend(h.namespaces.values().map(encode_namespace));
    docs.extend(h.load_balancers.values().map(encode_load_balancer));
    docs
}

fn write_dump(name: &str, docs: &[Value]) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("node_drift");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let mut bytes = vec![0xFF, 0xFE];
    let text = serde_json::to_string_pretty(docs).unwrap();
    bytes.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

fn drift(dump: &str) -> (Option<i32>, Vec<(String, String)>) {
    let o = hnsim(&[
        "doctor",
        dump,
        "--expected",
        CLUSTER,
        "--node",
        "win1",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let found = v[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"].as_str().unwrap().starts_with("drift-"))
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["objects"][0].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (o.status.code(), found)
}

#[test]
fn the_rendered_state_has_no_drift() {
    let (_, found) = drift(&write_dump("same.json", &rendered_win1()));
    assert_eq!(found, vec![]);
}

#[test]
fn a_missing_lb_a_moved_remote_endpoint_and_a_stale_lb_are_reported() {
    let mut docs = rendered_win1();
    let lbs: Vec<usize> = (0..docs.len())
        .filter(|&i| docs[i].get("PortMappings").is_some())
        .collect();
    assert!(lbs.len() >= 2, "the fixture has services");
    // A stale LB nothing explains.
    let mut stale = docs[lbs[0]].clone();
    stale["ID"] = Value::String("8D000000-0000-4000-8000-0000000DEAD0".into());
    stale["FrontendVIPs"] = serde_json::json!(["10.96.77.77"]);
    // One expected LB deleted out of band (kubernetes/kubernetes#135802).
    let gone = docs.remove(lbs[1]);
    docs.push(stale);
    // A remote endpoint whose node moved to another PA.
    let remote = docs
        .iter_mut()
        .find(|d| d["Flags"].as_u64() == Some(1))
        .expect("a remote endpoint");
    let pa = remote["Policies"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["Type"] == "ProviderAddress")
        .unwrap();
    pa["Settings"]["ProviderAddress"] = Value::String("10.0.0.99".into());
    let (code, found) = drift(&write_dump("drifted.json", &docs));
    assert_eq!(code, Some(1));
    let checks: Vec<&str> = found.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        checks,
        ["drift-differs", "drift-missing", "drift-unexplained"],
        "{found:?}"
    );
    assert!(found[0].1.starts_with("remote endpoint"), "{found:?}");
    let vip = gone["FrontendVIPs"][0].as_str().unwrap_or("node");
    assert!(found[1].1.contains(vip), "{found:?} {vip}");
    assert!(found[2].1.contains("10.96.77.77"), "{found:?}");
}

#[test]
fn a_wrong_node_name_is_bad_input_with_a_hint() {
    let dump = write_dump("hint.json", &rendered_win1());
    let o = hnsim(&["doctor", &dump, "--expected", CLUSTER, "--node", "win3"]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("not a Windows node") && e.contains("did you mean"),
        "{e}"
    );
}
