//! Property tests: random HNS/HCS operation sequences keep the state machine's invariants, and a
//! failed operation leaves the state exactly as it was.

mod state_support;

use hnsim_model::backend::{HnsBackend, ObjectKind};
use hnsim_model::state::{Change, Cursor, Hns, HostSettings, Isolation, OnReferenced};
use hnsim_model::Guid;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

#[derive(Clone, Debug)]
enum Op {
    CreateNetwork {
        slot: u8,
        l2bridge: bool,
        non_persistent: bool,
        mac_pool: bool,
    },
    CreateEndpoint {
        net: usize,
        host: Option<u8>,
        remote: bool,
        port: Option<u16>,
        mac: Option<u8>,
        name: Option<u8>,
    },
    /// Add the network's second subnet, or remove its first (refused while in use).
    ModifySubnet {
        net: usize,
        add: bool,
    },
    CreateNamespace {
        default: bool,
    },
    Attach {
        ns: usize,
        ep: usize,
    },
    Detach {
        ns: usize,
        ep: usize,
    },
    AddPortMapping {
        ep: usize,
        port: u16,
    },
    RemovePolicy {
        ep: usize,
    },
    CreateLb {
        eps: Vec<usize>,
    },
    UpdateLb {
        lb: usize,
        eps: Vec<usize>,
    },
    CreateRoute {
        eps: Vec<usize>,
    },
    Delete {
        kind: usize,
        idx: usize,
    },
    DeleteUnknown {
        kind: usize,
    },
    CreateContainer {
        eps: Vec<usize>,
        hyperv: bool,
    },
    StartContainer {
        idx: usize,
    },
    StopContainer {
        idx: usize,
    },
    RemoveContainer {
        idx: usize,
    },
    Restart,
    Reboot,
}

fn op() -> impl Strategy<Value = Op> {
    let idx = 0usize..8;
    let eps = prop::collection::vec(0usize..8, 0..4);
    prop_oneof![
        4 => (0u8..4, prop::bool::weighted(0.7), prop::bool::weighted(0.3), prop::bool::weighted(0.3))
            .prop_map(|(slot, l2bridge, non_persistent, mac_pool)| Op::CreateNetwork { slot, l2bridge, non_persistent, mac_pool }),
        9 => (idx.clone(), prop::option::of(0u8..12), prop::bool::weighted(0.25), prop::option::of(80u16..84),
            prop::option::weighted(0.2, 0u8..6), prop::option::of(0u8..4))
            .prop_map(|(net, host, remote, port, mac, name)| Op::CreateEndpoint { net, host, remote, port, mac, name }),
        1 => (idx.clone(), any::<bool>()).prop_map(|(net, add)| Op::ModifySubnet { net, add }),
        2 => any::<bool>().prop_map(|default| Op::CreateNamespace { default }),
        4 => (idx.clone(), idx.clone()).prop_map(|(ns, ep)| Op::Attach { ns, ep }),
        2 => (idx.clone(), idx.clone()).prop_map(|(ns, ep)| Op::Detach { ns, ep }),
        2 => (idx.clone(), 80u16..84).prop_map(|(ep, port)| Op::AddPortMapping { ep, port }),
        1 => idx.clone().prop_map(|ep| Op::RemovePolicy { ep }),
        2 => eps.clone().prop_map(|eps| Op::CreateLb { eps }),
        1 => (idx.clone(), eps.clone()).prop_map(|(lb, eps)| Op::UpdateLb { lb, eps }),
        1 => eps.clone().prop_map(|eps| Op::CreateRoute { eps }),
        3 => (0usize..5, idx.clone()).prop_map(|(kind, idx)| Op::Delete { kind, idx }),
        1 => (0usize..5).prop_map(|kind| Op::DeleteUnknown { kind }),
        2 => (eps, any::<bool>()).prop_map(|(eps, hyperv)| Op::CreateContainer { eps, hyperv }),
        1 => idx.clone().prop_map(|idx| Op::StartContainer { idx }),
        1 => idx.clone().prop_map(|idx| Op::StopContainer { idx }),
        1 => idx.prop_map(|idx| Op::RemoveContainer { idx }),
        1 => Just(Op::Restart),
        1 => Just(Op::Reboot),
    ]
}

fn on_ref() -> impl Strategy<Value = OnReferenced> {
    prop_oneof![Just(OnReferenced::Refuse), Just(OnReferenced::Release)]
}

fn settings() -> impl Strategy<Value = HostSettings> {
    (
        on_ref(),
        on_ref(),
        on_ref(),
        on_ref(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(a, b, c, d, nat, ns, lb, hd)| HostSettings {
            network_with_endpoints: a,
            endpoint_in_namespace: b,
            endpoint_in_policy_list: c,
            namespace_with_resources: d,
            nat_networks_persist: nat,
            namespaces_survive_restart: ns,
            unique_lb_frontends: lb,
            host_default_namespace: hd,
            ..HostSettings::default()
        })
}

/// Endpoint names: two that a filter calls equal (case, spaces), and a GUID in two spellings.
const NAMES: [&str; 4] = [
    "pod-a",
    " POD-A ",
    "{0badf00d-0000-4000-8000-00000000000a}",
    "pod-b",
];

/// Whether a `Name` filter value matches a name, as hns-schema.md §4.4 describes: as GUIDs when
/// both are GUIDs, else as trimmed text in any case.
fn name_matches(name: &str, want: &str) -> bool {
    match (name.parse::<Guid>(), want.parse::<Guid>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => name.trim().eq_ignore_ascii_case(want.trim()),
    }
}

const GHOST: &str = "0BADF00D-0000-4000-8000-000000000001";

/// The i-th live key (modulo), or a GUID that names nothing.
fn pick(keys: Vec<Guid>, i: usize) -> String {
    if keys.is_empty() {
        GHOST.to_string()
    } else {
        keys[i % keys.len()].to_string()
    }
}

fn pick_many(h: &Hns, idx: &[usize]) -> Vec<String> {
    let keys: Vec<Guid> = h.endpoints.keys().copied().collect();
    idx.iter().map(|i| pick(keys.clone(), *i)).collect()
}

/// An LB whose external port varies with its backend count, so some creates clash
/// (HCN_E_PORT_ALREADY_EXISTS) and some do not.
fn lb_doc(eps: Vec<String>) -> String {
    let port = 80 + eps.len();
    json!({"HostComputeEndpoints": eps, "FrontendVIPs": ["10.96.0.10"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": port}]})
    .to_string()
}

fn ok<T>(r: Result<T, hnsim_model::HcnError>) -> bool {
    r.is_ok()
}

/// Apply one op; `Ok(true)` if it succeeded, `Ok(false)` if it failed (an HNS error).
fn apply(h: &mut Hns, op: &Op) -> bool {
    let eps: Vec<Guid> = h.endpoints.keys().copied().collect();
    let nss: Vec<Guid> = h.namespaces.keys().copied().collect();
    let containers: Vec<String> = h.compute_systems.keys().cloned().collect();
    let container = |i: usize| {
        containers
            .get(i % containers.len().max(1))
            .cloned()
            .unwrap_or_else(|| "none".into())
    };
    match op {
        Op::CreateNetwork {
            slot,
            l2bridge,
            non_persistent,
            mac_pool,
        } => {
            let s = *slot;
            let mut d = json!({"Name": format!("net{s}"), "Type": if *l2bridge { "L2Bridge" } else { "NAT" },
                "Flags": if *non_persistent { 8 } else { 0 },
                "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": format!("10.{s}.0.0/28"),
                    "Routes": [{"NextHop": format!("10.{s}.0.1"), "DestinationPrefix": "0.0.0.0/0"}]}]}]});
            if *mac_pool {
                // Four MACs, overlapping the explicit ones CreateEndpoint may give.
                d["MacPool"] = json!({"Ranges": [{"StartMacAddress": "00-15-5D-AA-00-02", "EndMacAddress": "00-15-5D-AA-00-05"}]});
            }
            ok(h.create_network("", &d.to_string()))
        }
        Op::ModifySubnet { net, add } => {
            let nets: Vec<Guid> = h.networks.keys().copied().collect();
            let n = pick(nets.clone(), *net);
            let slot = nets
                .get(*net % nets.len().max(1))
                .and_then(|g| h.networks.get(g))
                .map(|n| n.name.trim_start_matches("net").to_string())
                .unwrap_or_else(|| "0".into());
            let (verb, third) = if *add { ("Add", 1) } else { ("Remove", 0) };
            let req = json!({"ResourceType": "Subnet", "RequestType": verb, "Settings": {"Subnets": [
                {"IpAddressPrefix": format!("10.{slot}.{third}.0/28"),
                 "Routes": [{"NextHop": format!("10.{slot}.{third}.1"), "DestinationPrefix": "0.0.0.0/0"}]}]}});
            ok(h.modify_network(&n, &req.to_string()))
        }
        Op::CreateEndpoint {
            net,
            host,
            remote,
            port,
            mac,
            name,
        } => {
            let nets: Vec<Guid> = h.networks.keys().copied().collect();
            let n = pick(nets.clone(), *net);
            let slot = nets
                .get(*net % nets.len().max(1))
                .and_then(|g| h.networks.get(g))
                .map(|n| n.name.trim_start_matches("net").to_string())
                .unwrap_or_else(|| "0".into());
            let mut d = json!({"HostComputeNetwork": n});
            if let Some(m) = mac {
                d["MacAddress"] = json!(format!("00-15-5D-AA-00-{m:02X}"));
            }
            if let Some(i) = name {
                d["Name"] = json!(NAMES[*i as usize % NAMES.len()]);
            }
            if let Some(x) = host {
                d["IpConfigurations"] = json!([{"IpAddress": format!("10.{slot}.0.{x}")}]);
            }
            if *remote {
                d["Flags"] = json!(1);
                if host.is_none() {
                    d["IpConfigurations"] = json!([{"IpAddress": "10.200.0.9"}]);
                }
                d["Policies"] =
                    json!([{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "192.168.0.2"}}]);
            } else if let Some(p) = port {
                d["Policies"] = json!([{"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": p}}]);
            }
            ok(h.create_endpoint("", &d.to_string()))
        }
        Op::CreateNamespace { default } => {
            let d = if *default {
                json!({"Type": "HostDefault"})
            } else {
                json!({})
            };
            ok(h.create_namespace("", &d.to_string()))
        }
        Op::Attach { ns, ep } | Op::Detach { ns, ep } => {
            let verb = if matches!(op, Op::Attach { .. }) {
                "Add"
            } else {
                "Remove"
            };
            let req = json!({"ResourceType": "Endpoint", "RequestType": verb, "Settings": {"EndpointId": pick(eps, *ep)}});
            ok(h.modify_namespace(&pick(nss, *ns), &req.to_string()))
        }
        Op::AddPortMapping { ep, port } => {
            let req = json!({"ResourceType": "Policy", "RequestType": "Add", "Settings": {"Policies": [
                {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": port}}]}});
            ok(h.modify_endpoint(&pick(eps, *ep), &req.to_string()))
        }
        Op::RemovePolicy { ep } => {
            let id = pick(eps.clone(), *ep);
            let first: Value = id
                .parse::<Guid>()
                .ok()
                .and_then(|g| h.endpoints.get(&g))
                .and_then(|e| e.policies.first())
                .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
                .unwrap_or(json!({"Type": "QOS", "Settings": {"MaximumOutgoingBandwidthInBytes": 1}}));
            let req =
                json!({"ResourceType": "Policy", "RequestType": "Remove", "Settings": {"Policies": [first]}});
            ok(h.modify_endpoint(&id, &req.to_string()))
        }
        Op::CreateLb { eps } => {
            let refs = pick_many(h, eps);
            ok(h.create_load_balancer("", &lb_doc(refs)))
        }
        Op::UpdateLb { lb, eps } => {
            let lbs: Vec<Guid> = h.load_balancers.keys().copied().collect();
            let refs = pick_many(h, eps);
            ok(h.modify_load_balancer(&pick(lbs, *lb), &lb_doc(refs)))
        }
        Op::CreateRoute { eps } => {
            let refs = pick_many(h, eps);
            let d = json!({"HostComputeEndpoints": refs, "Routes": [{"DestinationPrefix": "10.128.0.0/16", "NextHop": "10.0.0.1", "NeedEncap": true}]});
            ok(h.create_sdn_route("", &d.to_string()))
        }
        Op::Delete { kind, idx } => {
            let kind = ObjectKind::ALL[*kind];
            let keys: Vec<Guid> = match kind {
                ObjectKind::Network => h.networks.keys().copied().collect(),
                ObjectKind::Endpoint => eps,
                ObjectKind::Namespace => nss,
                ObjectKind::LoadBalancer => h.load_balancers.keys().copied().collect(),
                ObjectKind::SdnRoute => h.routes.keys().copied().collect(),
            };
            ok(h.delete(kind, &pick(keys, *idx)))
        }
        Op::DeleteUnknown { kind } => ok(h.delete(ObjectKind::ALL[*kind], GHOST)),
        Op::CreateContainer { eps: idx, hyperv } => {
            let ids: Vec<Guid> = idx
                .iter()
                .filter_map(|i| eps.get(i % eps.len().max(1)).copied())
                .collect();
            let iso = if *hyperv {
                Isolation::HyperV
            } else {
                Isolation::Process
            };
            let name = format!("c{}", h.generation);
            ok(h.create_container(&name, iso, &ids))
        }
        Op::StartContainer { idx } => ok(h.start_container(&container(*idx))),
        Op::StopContainer { idx } => ok(h.stop_container(&container(*idx))),
        Op::RemoveContainer { idx } => ok(h.remove_container(&container(*idx))),
        Op::Restart => {
            h.restart_service();
            true
        }
        Op::Reboot => {
            h.reboot();
            true
        }
    }
}

fn enumerate_all(h: &mut Hns, kind: ObjectKind) -> Vec<Guid> {
    let out = h.enumerate(kind, "").expect("enumerate");
    let v: Vec<String> = serde_json::from_str(&out).expect("array");
    v.iter().map(|s| s.parse().expect("guid")).collect()
}

fn enumerate_filtered(h: &mut Hns, kind: ObjectKind, filter: Value) -> Vec<Guid> {
    let q = json!({"SchemaVersion": {"Major": 2, "Minor": 0}, "Filter": filter.to_string()});
    let out = h.enumerate(kind, &q.to_string()).expect("enumerate");
    let v: Vec<String> = serde_json::from_str(&out).expect("array");
    v.iter().map(|s| s.parse().expect("guid")).collect()
}

fn check_invariants(h: &mut Hns) -> Result<(), TestCaseError> {
    // The secondary indexes agree with a rebuild from the object maps.
    h.verify_indexes().map_err(TestCaseError::fail)?;
    // IDs unique across kinds and equal to their document's ID.
    let mut seen = BTreeSet::new();
    let all: Vec<(Guid, Guid)> = h
        .networks
        .iter()
        .map(|(k, v)| (*k, v.id))
        .chain(h.endpoints.iter().map(|(k, v)| (*k, v.id)))
        .chain(h.namespaces.iter().map(|(k, v)| (*k, v.id)))
        .chain(h.load_balancers.iter().map(|(k, v)| (*k, v.id)))
        .chain(h.routes.iter().map(|(k, v)| (*k, v.id)))
        .collect();
    for (k, id) in all {
        prop_assert_eq!(k, id);
        prop_assert!(!k.is_zero());
        prop_assert!(seen.insert(k), "ID {} used twice", k);
    }
    // Every endpoint's network exists; local addresses unique per network and inside a subnet.
    let mut used: BTreeMap<Guid, BTreeSet<IpAddr>> = BTreeMap::new();
    for (id, e) in &h.endpoints {
        let net = h.network_of(id);
        prop_assert!(
            net.is_some_and(|n| h.networks.contains_key(&n)),
            "endpoint {} has no network",
            id
        );
        let net = net.unwrap_or_default();
        if e.is_remote() {
            continue;
        }
        let subnets = h.network_subnets(&net);
        for ip in h.endpoint_ips(id) {
            prop_assert!(subnets.iter().any(|s| s.contains(&ip)), "{} outside subnets", ip);
            prop_assert!(
                used.entry(net).or_default().insert(ip),
                "{} used twice on {}",
                ip,
                net
            );
        }
    }
    // An endpoint is in at most one namespace, and both sides agree.
    let mut member: BTreeMap<Guid, Guid> = BTreeMap::new();
    for ns in h.namespaces.keys() {
        for e in h.namespace_endpoints(ns) {
            prop_assert!(
                h.endpoints.contains_key(&e),
                "namespace {} lists deleted endpoint {}",
                ns,
                e
            );
            prop_assert!(
                member.insert(e, *ns).is_none(),
                "endpoint {} in two namespaces",
                e
            );
        }
    }
    for id in h.endpoints.keys() {
        prop_assert_eq!(h.namespace_of(id), member.get(id).copied());
    }
    // No reference to a deleted object.
    for lb in h.load_balancers.values() {
        for e in &lb.host_compute_endpoints {
            prop_assert!(e.parse::<Guid>().is_ok_and(|g| h.endpoints.contains_key(&g)));
        }
    }
    for r in h.routes.values() {
        for e in &r.host_compute_endpoints {
            prop_assert!(e.parse::<Guid>().is_ok_and(|g| h.endpoints.contains_key(&g)));
        }
    }
    for e in h.vm_ports.keys() {
        prop_assert!(h.endpoints.contains_key(e));
    }
    for c in h.compute_systems.values() {
        if let Some(ns) = c.namespace {
            prop_assert!(h.namespaces.contains_key(&ns));
        }
        for e in &c.endpoints {
            prop_assert!(h.endpoints.contains_key(e));
            prop_assert_eq!(h.namespace_of(e), c.namespace);
        }
    }
    // At most one HostDefault namespace.
    let defaults = h
        .namespaces
        .values()
        .filter(|n| n.namespace_type == Some(hnsim_model::schema::NamespaceType::HostDefault))
        .count();
    prop_assert!(defaults <= 1);
    // Enumerate filters answered from the indexes agree with a filter applied object by object.
    let nets: Vec<(Guid, String)> = h.networks.iter().map(|(k, n)| (*k, n.name.clone())).collect();
    for (net, name) in &nets {
        let on_net: Vec<Guid> = h
            .endpoints
            .iter()
            .filter(|(_, e)| e.host_compute_network.parse::<Guid>().ok() == Some(*net))
            .map(|(k, _)| *k)
            .collect();
        let lower = net.to_string().to_lowercase();
        prop_assert_eq!(
            &enumerate_filtered(h, ObjectKind::Endpoint, json!({"VirtualNetwork": lower})),
            &on_net
        );
        prop_assert_eq!(
            &enumerate_filtered(
                h,
                ObjectKind::Endpoint,
                json!({"HostComputeNetwork": net.to_string()})
            ),
            &on_net
        );
        prop_assert_eq!(
            &enumerate_filtered(
                h,
                ObjectKind::Endpoint,
                json!({"virtualnetworkname": name.to_uppercase()})
            ),
            &on_net
        );
        let remote: Vec<Guid> = on_net
            .iter()
            .copied()
            .filter(|e| h.endpoints[e].is_remote())
            .collect();
        prop_assert_eq!(
            enumerate_filtered(
                h,
                ObjectKind::Endpoint,
                json!({"VirtualNetwork": net.to_string(), "IsRemoteEndpoint": true})
            ),
            remote
        );
        prop_assert_eq!(
            enumerate_filtered(h, ObjectKind::Network, json!({"ID": net.to_string()})),
            vec![*net]
        );
        prop_assert_eq!(
            enumerate_filtered(h, ObjectKind::Endpoint, json!({"ID": net.to_string()})),
            Vec::<Guid>::new()
        );
    }
    for want in ["pod-a", "POD-B", "0BADF00D-0000-4000-8000-00000000000A", "nobody"] {
        let named: Vec<Guid> = h
            .endpoints
            .iter()
            .filter(|(_, e)| !e.name.is_empty() && name_matches(&e.name, want))
            .map(|(k, _)| *k)
            .collect();
        prop_assert_eq!(
            enumerate_filtered(h, ObjectKind::Endpoint, json!({"Name": want})),
            named
        );
    }
    for kind in ObjectKind::ALL {
        let ids: Vec<Guid> = match kind {
            ObjectKind::Network => h.networks.keys().copied().collect(),
            ObjectKind::Endpoint => h.endpoints.keys().copied().collect(),
            ObjectKind::Namespace => h.namespaces.keys().copied().collect(),
            ObjectKind::LoadBalancer => h.load_balancers.keys().copied().collect(),
            ObjectKind::SdnRoute => h.routes.keys().copied().collect(),
        };
        for id in ids {
            // The create reply (serialised straight from the object) equals the query document.
            let text = h
                .document_text(kind, &id)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let doc = h
                .document(kind, &id)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(text, doc.to_string());
        }
    }
    // Enumerate returns exactly the live objects.
    prop_assert_eq!(
        enumerate_all(h, ObjectKind::Network),
        h.networks.keys().copied().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        enumerate_all(h, ObjectKind::Endpoint),
        h.endpoints.keys().copied().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        enumerate_all(h, ObjectKind::Namespace),
        h.namespaces.keys().copied().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        enumerate_all(h, ObjectKind::LoadBalancer),
        h.load_balancers.keys().copied().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        enumerate_all(h, ObjectKind::SdnRoute),
        h.routes.keys().copied().collect::<Vec<_>>()
    );
    Ok(())
}

/// The change journal names every object whose document changed and every endpoint whose
/// placement (namespace, container, running) or VM port changed (journal.rs).
fn check_journal(before: &Hns, after: &Hns, cursor: Cursor, op: &Op) -> Result<(), TestCaseError> {
    let Some(changes) = after.changes_since(cursor) else {
        return Err(TestCaseError::fail(format!("no journal after {op:?}")));
    };
    let journalled: BTreeSet<Change> = changes.iter().copied().collect();
    fn changed<T: PartialEq>(a: &BTreeMap<Guid, T>, b: &BTreeMap<Guid, T>) -> Vec<Guid> {
        let keys: BTreeSet<Guid> = a.keys().chain(b.keys()).copied().collect();
        keys.into_iter().filter(|k| a.get(k) != b.get(k)).collect()
    }
    let mut want: Vec<Change> = Vec::new();
    want.extend(
        changed(&before.networks, &after.networks)
            .into_iter()
            .map(Change::Network),
    );
    want.extend(
        changed(&before.endpoints, &after.endpoints)
            .into_iter()
            .map(Change::Endpoint),
    );
    want.extend(
        changed(&before.vm_ports, &after.vm_ports)
            .into_iter()
            .map(Change::Endpoint),
    );
    want.extend(
        changed(&before.load_balancers, &after.load_balancers)
            .into_iter()
            .map(Change::LoadBalancer),
    );
    want.extend(
        changed(&before.routes, &after.routes)
            .into_iter()
            .map(Change::Route),
    );
    want.extend(
        changed(&before.namespaces, &after.namespaces)
            .into_iter()
            .map(Change::Namespace),
    );
    for id in after.endpoints.keys() {
        if before.endpoint_location(id) != after.endpoint_location(id) {
            want.push(Change::Endpoint(*id));
        }
    }
    for c in want {
        prop_assert!(
            journalled.contains(&c),
            "{:?} changed by {:?} but not journalled",
            c,
            op
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_operation_sequences_keep_invariants(
        settings in settings(),
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let mut h = Hns::new(settings, seed);
        let mut failures = 0;
        for op in &ops {
            let before = h.clone();
            let gen = h.generation;
            let cursor = h.journal_cursor();
            if apply(&mut h, op) {
                prop_assert!(h.generation > gen, "a successful {:?} did not bump the generation", op);
                check_journal(&before, &h, cursor, op)?;
            } else {
                failures += 1;
                prop_assert!(h == before, "failed {:?} changed the state", op);
            }
            check_invariants(&mut h)?;
        }
        prop_assert!(failures <= ops.len());
    }

    #[test]
    fn same_seed_same_state(seed in any::<u64>(), ops in prop::collection::vec(op(), 1..40)) {
        let mut a = Hns::new(HostSettings::default(), seed);
        let mut b = Hns::new(HostSettings::default(), seed);
        for op in &ops {
            prop_assert_eq!(apply(&mut a, op), apply(&mut b, op));
        }
        prop_assert!(a == b);
    }
}
