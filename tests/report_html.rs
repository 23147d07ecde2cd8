//! The HTML report and `hnsim graph`: byte-identical across reruns, well-formed XHTML with one
//! topology per scenario and one drawn path per traced packet (the same ids in the SVG and in the
//! step list), failed scenarios and steps first with the drop's hop and rule marked, nothing
//! fetched from anywhere, and the whole library's report under 5 MB.

use roxmltree::{Document, Node};
use std::collections::BTreeSet;
use std::path::PathBuf;

mod common;
use common::hnsim;

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report_html");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Parse the page as XML (it starts with `<!DOCTYPE html>`, a DTD declaration to roxmltree).
fn parse(html: &str) -> Result<Document<'_>, roxmltree::Error> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    Document::parse_with_options(html, opts)
}

fn has_class(n: &Node, class: &str) -> bool {
    n.attribute("class")
        .is_some_and(|c| c.split_whitespace().any(|x| x == class))
}

fn all<'a, 'i>(n: Node<'a, 'i>, tag: &str, class: &str) -> Vec<Node<'a, 'i>> {
    n.descendants()
        .filter(|d| d.is_element() && d.tag_name().name() == tag && has_class(d, class))
        .collect()
}

fn packet_ids(nodes: &[Node]) -> BTreeSet<String> {
    nodes
        .iter()
        .map(|n| n.attribute("data-packet").unwrap().to_string())
        .collect()
}

/// Nothing in the page reaches outside it: no scripts, no `src`, links only to anchors, no CSS
/// imports or URLs.
fn assert_self_contained(doc: &Document, html: &str) {
    for n in doc.descendants().filter(|n| n.is_element()) {
        assert_ne!(n.tag_name().name(), "script");
        assert_ne!(n.tag_name().name(), "link");
        assert!(n.attribute("src").is_none(), "src= in <{}>", n.tag_name().name());
        if let Some(h) = n.attribute("href") {
            assert!(h.starts_with('#'), "external link {h}");
        }
    }
    assert!(!html.contains("url(") && !html.contains("@import"));
    // Every anchor link lands on an element of the page.
    let ids: BTreeSet<&str> = doc.descendants().filter_map(|n| n.attribute("id")).collect();
    for n in doc.descendants().filter(|n| n.is_element()) {
        if let Some(h) = n.attribute("href") {
            assert!(ids.contains(&h[1..]), "link {h} goes nowhere");
        }
    }
}

const MAX_PACKETS_PER_STEP: usize = hnsim_sim::scenario::html::MAX_PACKETS_PER_STEP;

/// No two node boxes of a topology overlap (segment bars aside, which members hang from).
fn assert_no_overlaps(id: &str, svg: Node) {
    let num = |n: &Node, a: &str| n.attribute(a).unwrap().parse::<i32>().unwrap();
    let boxes: Vec<(&str, [i32; 4])> = all(svg, "g", "node")
        .into_iter()
        .filter(|g| !has_class(g, "kind-segment"))
        .map(|g| {
            let r = g.children().find(|c| c.tag_name().name() == "rect").unwrap();
            let b = [num(&r, "x"), num(&r, "y"), num(&r, "width"), num(&r, "height")];
            (g.attribute("data-key").unwrap(), b)
        })
        .collect();
    for (i, (ka, a)) in boxes.iter().enumerate() {
        for (kb, b) in &boxes[i + 1..] {
            let apart =
                a[0] + a[2] <= b[0] || b[0] + b[2] <= a[0] || a[1] + a[3] <= b[1] || b[1] + b[3] <= a[1];
            assert!(apart, "{id}: {ka} overlaps {kb}");
        }
    }
}

#[test]
fn the_library_report_is_deterministic_structured_self_contained_and_small() {
    let (a, b) = (tmp("lib-a.html"), tmp("lib-b.html"));
    for p in [&a, &b] {
        let o = hnsim(&[
            "run",
            "scenarios/",
            "--format",
            "html",
            "--out",
            p.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let html = std::fs::read_to_string(&a).unwrap();
    assert_eq!(html.as_bytes(), std::fs::read(&b).unwrap(), "two runs differ");
    assert!(
        html.len() < 5 << 20,
        "the library's report is {} bytes (limit 5 MB)",
        html.len()
    );

    let json = hnsim(&["run", "scenarios/", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let scenarios = v["scenarios"].as_array().unwrap();

    let doc = parse(&html).expect("the report is well-formed XHTML");
    assert_self_contained(&doc, &html);
    let sections = all(doc.root(), "section", "scenario");
    assert_eq!(sections.len(), scenarios.len(), "one section per scenario");
    let mut drawn = 0;
    for s in &sections {
        let id = s.attribute("id").unwrap();
        let i: usize = id.trim_start_matches('s').parse().unwrap();
        let rep = &scenarios[i];
        assert_eq!(s.attribute("data-file"), rep["file"].as_str());
        let svgs = all(*s, "svg", "topology");
        assert_eq!(svgs.len(), 1, "{id}: one topology");
        let keys: BTreeSet<&str> = svgs[0]
            .descendants()
            .filter_map(|n| n.attribute("data-key"))
            .collect();
        assert!(keys.iter().any(|k| k.starts_with("segment:")), "{id}: no segment");
        assert_no_overlaps(id, svgs[0]);
        // One path per traced packet (up to the per-step cap), the same ids beside it.
        let traces: usize = rep["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|st| {
                let n: usize = st["exchanges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|ex| 1 + usize::from(!ex["reply"].is_null()))
                    .sum();
                n.min(MAX_PACKETS_PER_STEP)
            })
            .sum();
        let paths = all(svgs[0], "g", "packet");
        let listed = all(*s, "details", "packet");
        assert_eq!(paths.len(), traces, "{id}: one path per traced packet");
        assert_eq!(packet_ids(&paths), packet_ids(&listed), "{id}");
        assert_eq!(packet_ids(&paths).len(), traces, "{id}: packet ids are unique");
        for p in &paths {
            let line = p.children().find(|c| c.tag_name().name() == "polyline").unwrap();
            assert!(!line.attribute("points").unwrap().is_empty());
        }
        drawn += paths.len();
    }
    assert!(drawn > 100, "only {drawn} packets drawn");
    // Dropped packets (the library expects many) are marked where they stopped.
    let drops = all(doc.root(), "li", "drop").len();
    assert!(drops > 10, "{drops} marked drops");
}

const SCENARIOS: [(&str, &str); 2] = [
    (
        "a-pass.yaml",
        r#"name: quiet
underlay: {segments: {lan: {prefix: 10.0.0.0/24}}}
hosts: {node1: {ip: 10.0.0.11}}
stations: {s1: {ip: 10.0.0.50, listen: [tcp/80]}}
steps:
  - connect: {from: node1, to: "10.0.0.50:80", expect: {disposition: Delivered}}
"#,
    ),
    (
        "b-fail.yaml",
        r#"name: acl-drop
underlay: {segments: {lan: {prefix: 10.0.0.0/24}}}
hosts: {node1: {ip: 10.0.0.11}}
steps:
  - create-network:
      as: nat
      doc: {Name: nat, Type: NAT, Ipams: [{Type: Static, Subnets: [{IpAddressPrefix: 172.20.0.0/24, Routes: [{NextHop: 172.20.0.1, DestinationPrefix: 0.0.0.0/0}]}]}], SchemaVersion: {Major: 2, Minor: 0}}
  - create-endpoint:
      as: a
      doc:
        Name: ep-a
        HostComputeNetwork: "${nat.ID}"
        IpConfigurations: [{IpAddress: 172.20.0.10}]
        Policies: [{Type: ACL, Settings: {Action: Block, Direction: Out, RemoteAddresses: 172.20.0.11, Priority: 321}}]
        SchemaVersion: {Major: 2, Minor: 0}
  - create-endpoint: {as: b, doc: {HostComputeNetwork: "${nat.ID}", IpConfigurations: [{IpAddress: 172.20.0.11}], SchemaVersion: {Major: 2, Minor: 0}}}
  - container: {name: web, endpoints: [a]}
  - container: {name: db, endpoints: [b], listen: [tcp/80]}
  - connect: {from: web, to: "db:80", expect: {disposition: Delivered}}
"#,
    ),
];

#[test]
fn a_failing_scenario_comes_first_with_the_drop_hop_and_rule_marked() {
    let dir = tmp("two");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in SCENARIOS {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let out = tmp("two.html");
    let o = hnsim(&[
        "run",
        dir.to_str().unwrap(),
        "--format",
        "html",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&out).unwrap();
    let doc = parse(&html).unwrap();
    assert_self_contained(&doc, &html);
    let sections = all(doc.root(), "section", "scenario");
    assert_eq!(sections.len(), 2);
    // The failed scenario first, though its file sorts second.
    assert_eq!(sections[0].attribute("data-status"), Some("fail"));
    assert!(sections[0]
        .attribute("data-file")
        .unwrap()
        .ends_with("b-fail.yaml"));
    assert_eq!(sections[1].attribute("data-status"), Some("pass"));
    let failed = all(sections[0], "div", "fail");
    assert_eq!(failed.len(), 1, "one failed step");
    let text: String = failed[0].descendants().filter_map(|n| n.text()).collect();
    assert!(
        text.contains("✗ disposition: expected Delivered, got DeniedOut"),
        "{text}"
    );
    // The drop's hop and the rule that matched, with its priority.
    let hop = all(failed[0], "li", "drop");
    assert_eq!(hop.len(), 1);
    let rule = all(hop[0], "li", "drop-rule");
    assert_eq!(rule.len(), 1);
    let rule_text = rule[0].text().unwrap();
    assert!(
        rule_text.contains("priority 321") && rule_text.contains("Block"),
        "{rule_text}"
    );
    // The topology names endpoints by container, GUIDs second; the path ends in a drop mark.
    let svg = all(sections[0], "svg", "topology")[0];
    let names: Vec<&str> = all(svg, "text", "name").iter().filter_map(|t| t.text()).collect();
    for n in ["web", "db", "node1", "nat"] {
        assert!(names.contains(&n), "{n} not drawn: {names:?}");
    }
    let packets = all(svg, "g", "packet");
    assert_eq!(packets.len(), 1, "a dropped request has no reply");
    assert_eq!(packets[0].attribute("data-disposition"), Some("DeniedOut"));
    let id = packets[0].attribute("data-packet").unwrap();
    let mark = all(svg, "g", "mark")
        .into_iter()
        .find(|m| m.attribute("data-packet") == Some(id))
        .unwrap();
    assert_eq!(all(mark, "path", "drop-mark").len(), 1);
    // The passing scenario's path ends delivered (no drop mark).
    let svg2 = all(sections[1], "svg", "topology")[0];
    assert!(all(svg2, "path", "drop-mark").is_empty());
    assert_eq!(all(svg2, "g", "packet").len(), 2, "request and reply");
}

#[test]
fn trace_html_draws_the_one_packet() {
    let o = hnsim(&[
        "trace",
        "scenarios/overlay/s8-flannel-vxlan.yaml",
        "--from",
        "A",
        "--to",
        "10.244.2.10:80",
        "--format",
        "html",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let html = String::from_utf8(o.stdout).unwrap();
    let doc = parse(&html).unwrap();
    assert_eq!(all(doc.root(), "section", "scenario").len(), 1);
    let svg = all(doc.root(), "svg", "topology");
    assert_eq!(svg.len(), 1);
    let packets = all(svg[0], "g", "packet");
    assert_eq!(packets.len(), 2);
    assert!(packets
        .iter()
        .all(|p| p.attribute("data-disposition") == Some("Delivered")));
    // The request climbs from A through its network and host, along the segment, down to C.
    let line = packets[0]
        .children()
        .find(|c| c.tag_name().name() == "polyline")
        .unwrap();
    let points = line.attribute("points").unwrap().split(' ').count();
    assert!(points >= 7, "{points} points");
    let bad = hnsim(&[
        "trace",
        "scenarios/overlay/s8-flannel-vxlan.yaml",
        "--from",
        "A",
        "--to",
        "10.244.2.10:80",
        "--format",
        "svg",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn graph_json_has_kinds_names_and_guids_second() {
    let o = hnsim(&[
        "graph",
        "scenarios/kube-proxy/s5-nodeport-externalip.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    let kinds: BTreeSet<&str> = nodes.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    for k in [
        "segment",
        "router",
        "station",
        "host",
        "network",
        "endpoint",
        "remote-endpoint",
        "load-balancer",
    ] {
        assert!(kinds.contains(k), "no {k} node: {kinds:?}");
    }
    for n in nodes {
        let name = n["name"].as_str().unwrap();
        if let Some(g) = n["guid"].as_str() {
            assert_ne!(name, g, "a GUID as the name: {n}");
            assert!(
                n["details"].as_array().unwrap().iter().any(|d| d == g),
                "GUID not secondary: {n}"
            );
        }
    }
    // Edges refer to nodes that exist and carry kinds.
    let ids: BTreeSet<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    let edges = v["edges"].as_array().unwrap();
    assert!(edges.iter().any(|e| e["kind"] == "backend"));
    for e in edges {
        assert!(ids.contains(e["from"].as_str().unwrap()) && ids.contains(e["to"].as_str().unwrap()));
    }
    // DOT carries the same names.
    let dot = String::from_utf8(hnsim(&["graph", "scenarios/kube-proxy/s5-nodeport-externalip.yaml"]).stdout)
        .unwrap();
    assert!(dot.contains("load-balancer nodePort"), "{dot}");
    assert!(dot.contains("endpoint A\\n10.244.1.10"), "{dot}");
}

#[test]
fn kubernetes_scenarios_draw_pod_and_service_names() {
    let f = "scenarios/kubernetes/s9-overlay-clusterip-source-vip.yaml";
    let o = hnsim(&["graph", f, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let named = |kind: &str| -> Vec<String> {
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == kind)
            .map(|n| n["name"].as_str().unwrap().to_string())
            .collect()
    };
    let eps = named("endpoint");
    assert!(eps.iter().any(|n| n == "pod/default/client"), "{eps:?}");
    let lbs = named("load-balancer");
    assert!(
        !lbs.is_empty() && lbs.iter().all(|n| n.starts_with("lb/")),
        "{lbs:?}"
    );
    // In the picture, inside node win1's block, without the node prefix.
    let o = hnsim(&["run", f, "--format", "html"]);
    let html = String::from_utf8(o.stdout).unwrap();
    let doc = parse(&html).unwrap();
    let names: Vec<&str> = all(doc.root(), "text", "name")
        .iter()
        .filter_map(|t| t.text())
        .collect();
    assert!(names.contains(&"pod/default/client"), "{names:?}");
    assert!(names.contains(&"default/web/ClusterIP"), "{names:?}");
}
