//! `hnsim graph`: the topology as DOT (names first, GUIDs and addresses as secondary lines) and
//! as JSON (nodes and edges with kinds and names).

use super::{EdgeKind, Kind, Topology};
use std::fmt::Write;

fn dot_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn dot_shape(k: Kind) -> &'static str {
    match k {
        Kind::Segment => "shape=box, style=filled, fillcolor=\"#cfd8dc\"",
        Kind::Router => "shape=diamond",
        Kind::Station => "shape=box, style=rounded",
        Kind::Host => "shape=box3d",
        Kind::Network => "shape=box, style=filled, fillcolor=\"#e3f2fd\"",
        Kind::Endpoint => "shape=ellipse",
        Kind::RemoteEndpoint => "shape=ellipse, style=dashed",
        Kind::LoadBalancer => "shape=hexagon",
    }
}

/// DOT text: one node per object (`kind name` and secondary lines), edges labelled, stable order.
pub fn dot(t: &Topology) -> String {
    let mut out = String::from("graph hnsim {\n  rankdir=TB;\n  node [fontsize=10];\n");
    for (i, n) in t.nodes.iter().enumerate() {
        let mut label = format!("{} {}", n.kind.as_str(), n.name);
        for d in &n.details {
            label.push('\n');
            label.push_str(d);
        }
        let _ = writeln!(out, "  n{i} [label={}, {}];", dot_str(&label), dot_shape(n.kind));
    }
    for e in &t.edges {
        let style = if e.kind == EdgeKind::Backend {
            ", style=dashed"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  n{} -- n{} [label={}{style}];",
            e.a,
            e.b,
            dot_str(&e.label)
        );
    }
    out.push_str("}\n");
    out
}

/// JSON: `{"nodes": [{id, kind, name, details, guid?, host?, container?}], "edges": [{from, to,
/// kind, label}]}` with node ids `n0`, `n1`, … as in the DOT output.
pub fn json(t: &Topology) -> String {
    let nodes: Vec<_> = t
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut v = serde_json::to_value(n).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("id".into(), format!("n{i}").into());
            }
            v
        })
        .collect();
    let edges: Vec<_> = t
        .edges
        .iter()
        .map(|e| {
            serde_json::json!({
                "from": format!("n{}", e.a),
                "to": format!("n{}", e.b),
                "kind": e.kind,
                "label": e.label,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&serde_json::json!({"nodes": nodes, "edges": edges}))
        .unwrap_or_default();
    s.push('\n');
    s
}
