//! What a conformance case can do: HCN calls through the backend, with the checks and the
//! bookkeeping (unique names, cleanup) every case needs. Nothing here looks past the adapter.

use crate::adapter::is_adapter_fault;
use crate::backend::{HcnCall, HcnOp, HnsBackend, ObjectKind, Verb};
use crate::hresult::{HResult, HcnError, HcnResult};
use crate::ids::Guid;
use serde_json::{json, Value};

/// Why a case stopped early.
#[derive(Debug)]
pub enum Stop {
    Fail(String),
    Skip(String),
    /// The adapter itself failed (dead child, timeout, replay divergence): the run ends.
    Fault(HcnError),
}

pub type Step<T> = Result<T, Stop>;

/// Fail the case with a message unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::conform::ctx::Stop::Fail(format!($($fmt)+)));
        }
    };
}
pub(crate) use ensure;

/// The default HostComputeQuery (schema 2.0, flags 0), as hcsshim sends it.
pub fn default_query() -> String {
    json!({"SchemaVersion": {"Major": 2, "Minor": 0}, "Flags": 0}).to_string()
}

/// A HostComputeQuery with a filter; the filter is a JSON string inside the JSON (hns-schema.md §4.4).
pub fn filter_query(filter: Value) -> String {
    json!({"SchemaVersion": {"Major": 2, "Minor": 0}, "Flags": 0, "Filter": filter.to_string()}).to_string()
}

pub fn same_guid(a: &str, b: &str) -> bool {
    match (a.parse::<Guid>(), b.parse::<Guid>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

pub struct Ctx<'a> {
    backend: &'a mut dyn HnsBackend,
    tag: &'a str,
    case: &'static str,
    names: u32,
    subnets: &'a mut u32,
    /// Objects this case created and has not deleted, in creation order.
    created: Vec<(ObjectKind, String)>,
    /// Every object this run created (for the leftover check).
    pub(crate) ever: &'a mut Vec<(ObjectKind, String)>,
    trail: &'a mut Trail,
}

/// Calls made so far in the run, and the last one: failures name it, so that it can be found in
/// a transcript (`--record`), whose entries carry the same numbers.
#[derive(Debug, Default)]
pub struct Trail {
    pub calls: u64,
    pub last: Option<HcnOp>,
}

impl Trail {
    pub fn describe(&self) -> String {
        match self.last {
            Some(op) => format!("after call {} ({op})", self.calls),
            None => "before any call".into(),
        }
    }
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        backend: &'a mut dyn HnsBackend,
        tag: &'a str,
        case: &'static str,
        subnets: &'a mut u32,
        ever: &'a mut Vec<(ObjectKind, String)>,
        trail: &'a mut Trail,
    ) -> Self {
        Ctx {
            backend,
            tag,
            case,
            names: 0,
            subnets,
            created: Vec::new(),
            ever,
            trail,
        }
    }

    /// The run's name prefix.
    pub fn tag(&self) -> &str {
        self.tag
    }

    /// Where the run is: "after call N (OP)".
    pub fn trail_text(&self) -> String {
        self.trail.describe()
    }

    /// A name unique to this run and case: `<tag>-<case>-<n>`.
    pub fn name(&mut self) -> String {
        self.names += 1;
        format!("{}-{}-{}", self.tag, self.case.replace('.', "-"), self.names)
    }

    /// A fresh /24 for a NAT network, unique in this run: (prefix, gateway).
    pub fn subnet(&mut self) -> (String, String) {
        *self.subnets += 1;
        let n = *self.subnets;
        (format!("172.30.{n}.0/24"), format!("172.30.{n}.1"))
    }

    /// One call; adapter faults stop the run, HNS answers come back as they are.
    pub fn call(&mut self, op: HcnOp, id: &str, doc: &str) -> Step<HcnResult<String>> {
        self.trail.calls += 1;
        self.trail.last = Some(op);
        let r = self.backend.call(&HcnCall::new(op, id, doc));
        match r {
            Err(e) if is_adapter_fault(&e) => Err(Stop::Fault(e)),
            r => Ok(r),
        }
    }

    /// A call that must succeed.
    pub fn ok(&mut self, op: HcnOp, id: &str, doc: &str) -> Step<String> {
        match self.call(op, id, doc)? {
            Ok(s) => Ok(s),
            Err(e) => Err(Stop::Fail(format!("{op}({}) failed: {e}", show_id(id)))),
        }
    }

    /// A call that must fail with one of `codes`.
    pub fn fails(&mut self, codes: &[HResult], op: HcnOp, id: &str, doc: &str) -> Step<HcnError> {
        match self.call(op, id, doc)? {
            Ok(reply) => Err(Stop::Fail(format!(
                "{op}({}) succeeded (reply {}), expected {}",
                show_id(id),
                crate::adapter::protocol::truncate(&reply, 200),
                show_codes(codes)
            ))),
            Err(e) if codes.is_empty() || codes.contains(&e.code) => Ok(e),
            Err(e) => Err(Stop::Fail(format!(
                "{op}({}) failed with {}, expected {}",
                show_id(id),
                e,
                show_codes(codes)
            ))),
        }
    }

    /// Create an object; its reply must be JSON with an `ID`. Registered for cleanup.
    pub fn create(&mut self, kind: ObjectKind, id: &str, doc: &Value) -> Step<(String, Value)> {
        let op = HcnOp::Object(Verb::Create, kind);
        let reply = self.ok(op, id, &doc.to_string())?;
        let v = parse_reply(op, &reply)?;
        let Some(new_id) = v.get("ID").and_then(Value::as_str).map(str::to_string) else {
            return Err(Stop::Fail(format!("{op} reply has no \"ID\": {reply}")));
        };
        ensure!(
            new_id.parse::<Guid>().is_ok(),
            "{op} reply's ID {new_id:?} is not a GUID"
        );
        self.created.push((kind, new_id.clone()));
        self.ever.push((kind, new_id.clone()));
        Ok((new_id, v))
    }

    /// A NAT network with one fresh subnet and its default route.
    pub fn nat_network(&mut self) -> Step<(String, Value, String, String)> {
        let name = self.name();
        let (prefix, gw) = self.subnet();
        let doc = json!({
            "Name": name, "Type": "NAT",
            "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
                "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}]}]}],
            "SchemaVersion": {"Major": 2, "Minor": 0}
        });
        let (id, v) = self.create(ObjectKind::Network, "", &doc)?;
        Ok((id, v, name, prefix))
    }

    /// An endpoint on `network` (HNS allocates the address unless `ip` is given).
    pub fn endpoint(&mut self, network: &str, ip: Option<&str>) -> Step<(String, Value)> {
        let mut doc = json!({
            "Name": self.name(), "HostComputeNetwork": network,
            "SchemaVersion": {"Major": 2, "Minor": 0}
        });
        if let Some(ip) = ip {
            doc["IpConfigurations"] = json!([{"IpAddress": ip, "PrefixLength": 24}]);
        }
        self.create(ObjectKind::Endpoint, "", &doc)
    }

    /// Default query of one object, parsed.
    pub fn query(&mut self, kind: ObjectKind, id: &str) -> Step<Value> {
        let op = HcnOp::Object(Verb::Query, kind);
        let reply = self.ok(op, id, &default_query())?;
        let v = parse_reply(op, &reply)?;
        if let Some(got) = v.get("ID").and_then(Value::as_str) {
            ensure!(
                same_guid(got, id),
                "{op}({id}) answered for another object: ID {got}"
            );
        } else {
            return Err(Stop::Fail(format!("{op}({id}) reply has no \"ID\": {reply}")));
        }
        Ok(v)
    }

    /// Enumerate with a query; the reply must be a JSON array of GUID strings.
    pub fn enumerate(&mut self, kind: ObjectKind, query: &str) -> Step<Vec<Guid>> {
        let op = HcnOp::Object(Verb::Enumerate, kind);
        let reply = self.ok(op, "", query)?;
        // HCN answers an empty string or null when there is nothing (hcsshim tolerates both).
        if reply.trim().is_empty() {
            return Ok(Vec::new());
        }
        let v = parse_reply(op, &reply)?;
        if v.is_null() {
            return Ok(Vec::new());
        }
        let Some(items) = v.as_array() else {
            return Err(Stop::Fail(format!("{op} reply is not an array: {reply}")));
        };
        items
            .iter()
            .map(|i| {
                i.as_str()
                    .and_then(|s| s.parse::<Guid>().ok())
                    .ok_or_else(|| Stop::Fail(format!("{op} reply holds a non-GUID item {i}")))
            })
            .collect()
    }

    pub fn modify(&mut self, kind: ObjectKind, id: &str, doc: &Value) -> Step<()> {
        self.ok(HcnOp::Object(Verb::Modify, kind), id, &doc.to_string())
            .map(|_| ())
    }

    /// Delete an object this case created.
    pub fn delete(&mut self, kind: ObjectKind, id: &str) -> Step<()> {
        self.ok(HcnOp::Object(Verb::Delete, kind), id, "")?;
        self.created.retain(|(k, i)| !(*k == kind && i == id));
        Ok(())
    }

    /// The service version (`{"Major":…,"Minor":…}`).
    pub fn service_version(&mut self) -> Step<(u64, u64)> {
        let reply = self.ok(HcnOp::GetServiceVersion, "", "")?;
        let v = parse_reply(HcnOp::GetServiceVersion, &reply)?;
        match (
            v.get("Major").and_then(Value::as_u64),
            v.get("Minor").and_then(Value::as_u64),
        ) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => Err(Stop::Fail(format!(
                "{} reply lacks numeric Major/Minor: {reply}",
                HcnOp::GetServiceVersion
            ))),
        }
    }

    /// Delete what the case left behind, newest first; an object already gone is fine.
    pub(crate) fn cleanup(&mut self) -> Step<()> {
        let mut failures = Vec::new();
        while let Some((kind, id)) = self.created.pop() {
            let op = HcnOp::Object(Verb::Delete, kind);
            match self.call(op, &id, "")? {
                Ok(_) => {}
                Err(e) if is_gone(&e) => {}
                Err(e) => failures.push(format!("{op}({id}): {e}")),
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Stop::Fail(format!("cleanup failed: {}", failures.join("; "))))
        }
    }
}

/// The codes meaning "no such object" (ERROR_NOT_FOUND from HcnOpen*, HCN_E_*_NOT_FOUND).
pub const GONE: &[HResult] = &[
    HResult::ERROR_NOT_FOUND,
    HResult::HCN_E_NETWORK_NOT_FOUND,
    HResult::HCN_E_ENDPOINT_NOT_FOUND,
];

fn is_gone(e: &HcnError) -> bool {
    GONE.contains(&e.code)
}

pub fn parse_reply(op: HcnOp, reply: &str) -> Step<Value> {
    serde_json::from_str(reply).map_err(|e| {
        Stop::Fail(format!(
            "{op} reply is not JSON ({e}): {}",
            crate::adapter::protocol::truncate(reply, 200)
        ))
    })
}

fn show_id(id: &str) -> &str {
    if id.is_empty() {
        "∅"
    } else {
        id
    }
}

fn show_codes(codes: &[HResult]) -> String {
    if codes.is_empty() {
        return "an error".into();
    }
    codes
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}
