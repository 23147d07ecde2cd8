//! VFP's unified flow table (vfp.md): the first packet of a connection installs both directions
//! at a port, so the reply leaving the receiver's port matches the cached entry (fast path)
//! instead of running the layers again; stateful ACLs let an allowed inbound connection's reply
//! out even when the Out ACLs block new outbound flows.

use hnsim_sim::testkit::{ctr, Lab};
use hnsim_sim::trace::SessionOp;
use hnsim_sim::{Disposition, Step, Trace, L4};
use serde_json::{json, Value};

/// node1: A; node2: C (overlay, S8 addressing) with C's extra endpoint policies.
fn overlay(c_policies: Value) -> Lab {
    let mut lab = Lab::s8_overlay(8, None, c_policies);
    lab.listen(ctr("C"), L4::Tcp, 80);
    lab.listen(ctr("A"), L4::Tcp, 80);
    lab
}

/// The session step at the hop of `port` in a trace.
fn session_at(t: &Trace, port: &str) -> Option<SessionOp> {
    t.hops.iter().filter(|h| h.port == port).find_map(|h| {
        h.steps.iter().find_map(|s| match s {
            Step::Session { setup_or_match, .. } => Some(*setup_or_match),
            _ => None,
        })
    })
}

#[test]
fn the_reply_leaving_the_receivers_port_matches_the_flow_the_request_installed() {
    let mut lab = overlay(json!([]));
    let c0 = lab.w.counters();
    let x = lab.send(ctr("A"), "10.244.2.10", L4::Tcp, 80, Some(43000));
    assert!(x.completed(), "{x}");
    let c1 = lab.w.counters();
    let reply = x.reply.as_ref().unwrap();
    assert_eq!(session_at(&x.request, "C"), Some(SessionOp::Setup), "{x}");
    assert_eq!(session_at(reply, "C"), Some(SessionOp::Match), "{x}");
    assert_eq!(session_at(reply, "A"), Some(SessionOp::Match), "{x}");
    // Slow path: A's port out, node2's uplink in, C's port in (the request) and node1's uplink
    // in (the first packet of this connection to arrive there); fast path: C's port out (the
    // entry C's port in installed) and A's port in (the entry A's port out installed).
    assert_eq!(c1.slow_path - c0.slow_path, 4, "{c0:?} -> {c1:?}\n{x}");
    assert_eq!(c1.fast_path - c0.fast_path, 2, "{c0:?} -> {c1:?}\n{x}");
}

#[test]
fn an_allowed_inbound_connections_reply_passes_out_acls_that_block_new_flows() {
    // C: In allow TCP 80; Out: block everything (a new outbound flow from C is denied).
    let mut lab = overlay(json!([
        {"Type": "ACL", "Settings": {"Protocols": "6", "Action": "Allow", "Direction": "In", "LocalPorts": "80", "Priority": 100, "RuleType": "Switch"}},
        {"Type": "ACL", "Settings": {"Protocols": "256", "Action": "Block", "Direction": "Out", "Priority": 200, "RuleType": "Switch"}}
    ]));
    let x = lab.send(ctr("A"), "10.244.2.10", L4::Tcp, 80, Some(43001));
    assert!(x.completed(), "{x}");
    assert_eq!(
        session_at(x.reply.as_ref().unwrap(), "C"),
        Some(SessionOp::Match),
        "{x}"
    );
    // A new flow from C is blocked by the Out ACL.
    let y = lab.send(ctr("C"), "10.244.1.10", L4::Tcp, 80, Some(43002));
    assert!(
        matches!(
            &y.request.disposition,
            Disposition::DeniedOut { priority: 200, .. }
        ),
        "{y}"
    );
}
