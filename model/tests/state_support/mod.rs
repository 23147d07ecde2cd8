//! Shared helpers for the state tests.
#![allow(dead_code)]

use hnsim_model::backend::{HnsBackend, ObjectKind};
use hnsim_model::hresult::{HResult, HcnResult};
use hnsim_model::state::{Hns, HostSettings};
use hnsim_model::Guid;
use serde_json::{json, Value};

pub fn hns() -> Hns {
    Hns::new(HostSettings::default(), 7)
}

pub fn hns_with(f: impl FnOnce(&mut HostSettings)) -> Hns {
    let mut s = HostSettings::default();
    f(&mut s);
    Hns::new(s, 7)
}

/// The HRESULT of a failed call (panics, failing the test, if it succeeded).
pub fn code<T: std::fmt::Debug>(r: HcnResult<T>) -> HResult {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e.code,
    }
}

pub fn nat_network(name: &str, prefix: &str, gw: &str) -> Value {
    json!({
        "Name": name, "Type": "NAT",
        "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
            "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}]}]}],
        "SchemaVersion": {"Major": 2, "Minor": 0}
    })
}

pub fn l2bridge_network(name: &str, prefix: &str, gw: &str) -> Value {
    let mut v = nat_network(name, prefix, gw);
    v["Type"] = json!("L2Bridge");
    v
}

/// Create through the backend; returns the ID and the created document.
pub fn create(h: &mut Hns, kind: ObjectKind, doc: &Value) -> HcnResult<(Guid, Value)> {
    let out = h.create(kind, "", &doc.to_string())?;
    let v: Value = serde_json::from_str(&out).expect("create returns JSON");
    let id: Guid = v["ID"].as_str().expect("ID").parse().expect("GUID");
    Ok((id, v))
}

pub fn net(h: &mut Hns, doc: Value) -> Guid {
    create(h, ObjectKind::Network, &doc).expect("network create").0
}

pub fn endpoint_doc(net: &Guid, ip: Option<&str>) -> Value {
    let mut v = json!({"HostComputeNetwork": net.to_string(), "SchemaVersion": {"Major": 2, "Minor": 0}});
    if let Some(ip) = ip {
        v["IpConfigurations"] = json!([{"IpAddress": ip}]);
    }
    v
}

pub fn ep(h: &mut Hns, net: &Guid, ip: Option<&str>) -> Guid {
    create(h, ObjectKind::Endpoint, &endpoint_doc(net, ip))
        .expect("endpoint create")
        .0
}

pub fn remote_ep(h: &mut Hns, net: &Guid, ip: &str, pa: &str) -> Guid {
    let mut d = endpoint_doc(net, Some(ip));
    d["Flags"] = json!(1);
    d["Policies"] = json!([{"Type": "ProviderAddress", "Settings": {"ProviderAddress": pa}}]);
    create(h, ObjectKind::Endpoint, &d)
        .expect("remote endpoint create")
        .0
}

pub fn namespace(h: &mut Hns, ty: Option<&str>) -> Guid {
    let mut d = json!({"SchemaVersion": {"Major": 2, "Minor": 0}});
    if let Some(t) = ty {
        d["Type"] = json!(t);
    }
    create(h, ObjectKind::Namespace, &d).expect("namespace create").0
}

pub fn attach_req(ep: &Guid, op: &str) -> String {
    json!({"ResourceType": "Endpoint", "RequestType": op, "Settings": {"EndpointId": ep.to_string()}})
        .to_string()
}

pub fn enumerate(h: &mut Hns, kind: ObjectKind, filter: Option<Value>) -> Vec<Guid> {
    let q = match filter {
        Some(f) => json!({"SchemaVersion": {"Major": 2, "Minor": 0}, "Filter": f.to_string()}),
        None => json!({"SchemaVersion": {"Major": 2, "Minor": 0}}),
    };
    let out = h.enumerate(kind, &q.to_string()).expect("enumerate");
    let v: Vec<String> = serde_json::from_str(&out).expect("array");
    v.iter().map(|s| s.parse().expect("guid")).collect()
}

pub fn query(h: &mut Hns, kind: ObjectKind, id: &Guid) -> Value {
    serde_json::from_str(&h.query(kind, &id.to_string(), "").expect("query")).expect("json")
}
