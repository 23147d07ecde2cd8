//! The control plane's cost per operation does not grow with the state (issue 6): each
//! create / modify / delete makes the same number of index lookups, and about the same number of
//! heap allocations, on a host with 10 load balancers as on one with 1,000 (10,000 endpoints). A
//! whole-state scan (collecting the used addresses or MACs, walking every load balancer) makes
//! both numbers grow with the state and fails here. Counted, never timed.

use hnsim_model::backend::{HnsBackend, ObjectKind};
use hnsim_model::state::workload::{KubeProxyWorkload, Programmed};
use hnsim_model::state::{Hns, HostSettings};
use serde_json::{json, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the allocations of the current thread (tests run on several threads at once).
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn allocations() -> u64 {
    ALLOCATIONS.with(|n| n.get())
}

/// What a batch of operations cost: index probes and allocations, per operation.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cost {
    probes: f64,
    allocations: f64,
}

fn measure(h: &mut Hns, ops: usize, mut f: impl FnMut(&mut Hns, usize)) -> Cost {
    let (p0, a0) = (h.index_probes(), allocations());
    for i in 0..ops {
        f(h, i);
    }
    Cost {
        probes: (h.index_probes() - p0) as f64 / ops as f64,
        allocations: (allocations() - a0) as f64 / ops as f64,
    }
}

fn created(reply: &str) -> String {
    let v: Value = serde_json::from_str(reply).expect("create replies with JSON");
    v["ID"].as_str().expect("ID").to_string()
}

/// A programmed node with `lbs` services of 10 backends, plus a namespace and a NAT network
/// for the PortMapping and attach operations.
fn node(lbs: usize) -> (Hns, KubeProxyWorkload, Programmed, String) {
    let w = KubeProxyWorkload::new(lbs, 10);
    let mut h = Hns::new(HostSettings::default(), 3);
    let p = w.program(&mut h).expect("programming");
    let ns = created(&h.create_namespace("", "{}").expect("namespace"));
    (h, w, p, ns)
}

/// The cost of each kind of operation on one node.
fn costs(lbs: usize) -> Vec<(&'static str, Cost)> {
    const N: usize = 20;
    let (mut h, w, p, ns) = node(lbs);
    let base = w.endpoint_count();
    let mut out = Vec::new();
    let mut new_eps = Vec::new();

    out.push((
        "local endpoint create (IPAM address, host MAC)",
        measure(&mut h, N, |h, i| {
            let id = created(
                &h.create_endpoint("", &w.endpoint_doc(&p.network, base + i * w.local_every))
                    .expect("local endpoint"),
            );
            new_eps.push(id);
        }),
    ));
    out.push((
        "remote endpoint create",
        measure(&mut h, N, |h, i| {
            let id = created(
                &h.create_endpoint("", &w.endpoint_doc(&p.network, base + i * w.local_every + 1))
                    .expect("remote endpoint"),
            );
            new_eps.push(id);
        }),
    ));
    out.push((
        "endpoint PortMapping add (conflict check)",
        measure(&mut h, N, |h, i| {
            let req = json!({"ResourceType": "Policy", "RequestType": "Add", "Settings": {"Policies": [
                {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 30000 + i}}]}});
            h.modify_endpoint(&new_eps[i], &req.to_string())
                .expect("port mapping");
        }),
    ));
    out.push((
        "namespace attach",
        measure(&mut h, N, |h, i| {
            let req = json!({"ResourceType": "Endpoint", "RequestType": "Add", "Settings": {"EndpointId": new_eps[i]}});
            h.modify_namespace(&ns, &req.to_string()).expect("attach");
        }),
    ));
    let mut new_lbs = Vec::new();
    out.push((
        "load balancer create (frontend check)",
        measure(&mut h, N, |h, i| {
            let lb = lbs + i;
            let doc = w.lb_doc(lb, &new_eps[i..i + 10], 8080);
            new_lbs.push(created(&h.create_load_balancer("", &doc).expect("lb")));
        }),
    ));
    out.push((
        "load balancer update",
        measure(&mut h, N, |h, i| {
            w.update_lb(h, &p, i % lbs, 9000 + i as u16).expect("update");
        }),
    ));
    out.push((
        "endpoint delete (listed by a load balancer)",
        measure(&mut h, N, |h, i| {
            // Remote backends (index 1 or 6 mod 10) of the first services.
            h.delete(ObjectKind::Endpoint, &p.endpoints[i * 5 + 1])
                .expect("endpoint delete");
        }),
    ));
    out.push((
        "load balancer delete",
        measure(&mut h, N, |h, i| {
            h.delete(ObjectKind::LoadBalancer, &new_lbs[i])
                .expect("lb delete");
        }),
    ));
    h.verify_indexes().expect("indexes in step");
    out
}

#[test]
fn operations_cost_the_same_at_10_and_1000_load_balancers() {
    let small = costs(10);
    let large = costs(1_000);
    // Equal counts prove nothing if the counter does not count.
    assert!(
        small.iter().any(|(_, c)| c.probes > 0.0),
        "no index probes counted"
    );
    for ((what, s), (_, l)) in small.iter().zip(&large) {
        println!("{what}: 10 LBs {s:?}, 1000 LBs {l:?}");
        assert_eq!(
            s.probes, l.probes,
            "{what}: index probes per operation grew from {} to {} with the state",
            s.probes, l.probes
        );
        // B-tree node splits make allocation counts wobble by a fraction per operation; a
        // scan that collects the state would add hundreds.
        assert!(
            l.allocations <= s.allocations + 2.0,
            "{what}: allocations per operation grew from {} to {} with the state",
            s.allocations,
            l.allocations
        );
    }
}
