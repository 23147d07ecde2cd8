//! Behaviours of the HNS store that a mutation-testing sample found unchecked (docs/testing.md
//! "Recorded runs" names the mutant each test kills).

mod state_support;

use hnsim_model::backend::{HnsBackend, ObjectKind};
use hnsim_model::hresult::HResult;
use hnsim_model::state::OnReferenced;
use hnsim_model::Guid;
use serde_json::json;
use state_support::*;

/// HNS hands out random RFC 4122 version 4 GUIDs: the version nibble is 4 and the variant
/// bits are `10`, whatever the random bits were.
#[test]
fn created_ids_are_version_4_rfc_4122_guids() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut ids: Vec<Guid> = vec![n];
    for _ in 0..24 {
        ids.push(ep(&mut h, &n, None));
    }
    for id in ids {
        let s = id.to_string();
        let hex: Vec<char> = s.chars().filter(|c| *c != '-').collect();
        assert_eq!(hex[12], '4', "version nibble of {s}");
        assert!(
            matches!(hex[16].to_ascii_lowercase(), '8' | '9' | 'a' | 'b'),
            "variant nibble of {s}"
        );
    }
}

/// With `endpoint_in_policy_list: Refuse` only an endpoint a load balancer lists is kept; one
/// nobody lists is deleted as usual.
#[test]
fn refusing_listed_endpoints_still_deletes_unlisted_ones() {
    let mut h = hns_with(|s| s.endpoint_in_policy_list = OnReferenced::Refuse);
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let listed = ep(&mut h, &n, None);
    let free = ep(&mut h, &n, None);
    let lb = json!({"HostComputeEndpoints": [listed.to_string()],
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
    create(&mut h, ObjectKind::LoadBalancer, &lb).unwrap();
    h.delete_endpoint(&free.to_string()).unwrap();
    assert_eq!(
        code(h.delete_endpoint(&listed.to_string())),
        HResult::HCN_E_ENTITY_HAS_REFERENCES
    );
}

/// A reboot drops every namespace and numbers compartments afresh: the first new namespace is
/// compartment 2 again (1 is the host's default compartment).
#[test]
fn compartments_are_numbered_afresh_after_a_reboot() {
    let mut h = hns();
    for _ in 0..3 {
        namespace(&mut h, None);
    }
    h.reboot();
    let ns = namespace(&mut h, None);
    assert_eq!(h.namespaces[&ns].namespace_id, 2);
    assert_eq!(query(&mut h, ObjectKind::Namespace, &ns)["NamespaceId"], 2);
}
