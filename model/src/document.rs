//! Decoding any HNS document (v2, v1, the v1 reply wrapper) into normalised v2 types, with
//! JSON-path errors; encoding HNS-style output (hns-schema.md §1, §2, §5).

use crate::schema::read::{describe, Path, ReadDoc};
use crate::schema::*;
use crate::v1::{self, PolicyListV2, ENDPOINT_V1, NAMESPACE_V1, NETWORK_V1};
use serde_json::{Map, Value};

// The error and the JSON parser are the schema reader's; kept here under their old names.
pub use crate::schema::read::parse_json;
pub use crate::schema::DocError;

// `serde_json::from_*::<Network>()` (and Endpoint, Namespace) reads either shape, like
// `decode_network` without the v1 reply wrapper. The schema reads only the v2 shape; deciding
// between the shapes is this module's and the v1 reader's.
crate::schema::read::deserialize_via_read!(
    Network => v1::read_network,
    Endpoint => v1::read_endpoint,
    Namespace => v1::read_namespace,
);

/// Any top-level HNS object, normalised to v2.
#[derive(Clone, Debug, PartialEq)]
pub enum HnsDocument {
    Network(Network),
    Endpoint(Endpoint),
    Namespace(Namespace),
    LoadBalancer(LoadBalancer),
    Route(SdnRoute),
}

impl HnsDocument {
    /// `network`, `endpoint`, … for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            HnsDocument::Network(_) => "network",
            HnsDocument::Endpoint(_) => "endpoint",
            HnsDocument::Namespace(_) => "namespace",
            HnsDocument::LoadBalancer(_) => "load balancer",
            HnsDocument::Route(_) => "route",
        }
    }
}

/// The object kinds, for detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Network,
    Endpoint,
    Namespace,
    LoadBalancer,
    Route,
    PolicyList,
}

fn has(m: &Map<String, Value>, names: &[&str]) -> bool {
    m.keys().any(|k| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
}

/// v1 keys that networks and endpoints share, so they tell nothing about the kind.
const SHARED_V1: &[&str] = &["DNSSuffix", "DNSServerList"];

fn has_telling(m: &Map<String, Value>, names: &[&str]) -> bool {
    m.keys().any(|k| {
        names.iter().any(|n| k.eq_ignore_ascii_case(n))
            && !SHARED_V1.iter().any(|n| k.eq_ignore_ascii_case(n))
    })
}

fn get<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

// Keys that only one shape uses (hns-schema.md §2, §5).
const NETWORK_V2: &[&str] = &["Ipams", "MacPool"];
const ENDPOINT_V2: &[&str] = &["HostComputeNetwork", "IpConfigurations", "HostComputeNamespace"];
const NAMESPACE_V2: &[&str] = &["NamespaceId", "NamespaceGuid", "CreateWithCompartment"];
const LB_V2: &[&str] = &["PortMappings", "FrontendVIPs", "SourceVIP"];
const ROUTE_V2: &[&str] = &["Routes", "Setting"];

/// Which kind of object the keys say it is (v2 keys first, then the v1 ones).
fn detect(m: &Map<String, Value>) -> Option<Kind> {
    if has(m, &["References"]) {
        return Some(Kind::PolicyList);
    }
    if has(m, &["HostComputeEndpoints"]) {
        return Some(if has(m, ROUTE_V2) {
            Kind::Route
        } else {
            Kind::LoadBalancer
        });
    }
    if has(m, LB_V2) {
        return Some(Kind::LoadBalancer);
    }
    if has(m, ENDPOINT_V2) {
        return Some(Kind::Endpoint);
    }
    if has(m, NAMESPACE_V2) || matches!(get(m, "Resources"), Some(Value::Array(_))) {
        return Some(Kind::Namespace);
    }
    if has(m, NETWORK_V2) {
        return Some(Kind::Network);
    }
    if has_telling(m, ENDPOINT_V1) {
        return Some(Kind::Endpoint);
    }
    if has(m, NAMESPACE_V1) {
        return Some(Kind::Namespace);
    }
    if has_telling(m, NETWORK_V1) {
        return Some(Kind::Network);
    }
    if has(m, &["MacAddress"]) {
        return Some(Kind::Endpoint);
    }
    // Only a Type: a network type or a namespace type tells the kind.
    if let Some(Value::String(t)) = get(m, "Type") {
        if NamespaceType::parse(t).is_some() {
            return Some(Kind::Namespace);
        }
        if !matches!(NetworkType::parse(t), NetworkType::Other(_)) {
            return Some(Kind::Network);
        }
    }
    // An SDN route with no endpoints: its normal form omits the empty HostComputeEndpoints, and
    // must still read back as a route (found by fuzzing, fuzz/README.md). Only with routes in
    // it: an empty list is omitted from the normal form too, which would then name no kind.
    if matches!(get(m, "Routes"), Some(Value::Array(r)) if !r.is_empty()) {
        return Some(Kind::Route);
    }
    None
}

fn not_hns(m: &Map<String, Value>, path: Path<'_>) -> DocError {
    let keys: Vec<&str> = m.keys().map(String::as_str).take(8).collect();
    let mut found = format!(
        "an object with keys {}{}",
        keys.join(", "),
        if m.len() > keys.len() { ", …" } else { "" }
    );
    if has(m, &["Driver"]) && has(m, &["IPAM"]) && has(m, &["Containers"]) {
        found = format!(
            "`docker network inspect` output, not an HNS document (the HNS network ID is in \
             Options[\"com.docker.network.windowsshim.hnsid\"]); {found}"
        );
    }
    DocError {
        path: path.to_string(),
        expected: "an HNS network, endpoint, namespace, load balancer or route (keys such as \
                   Ipams, HostComputeNetwork, NamespaceId, PortMappings, Routes; or v1 Subnets, \
                   VirtualNetwork, CompartmentId, References)"
            .into(),
        found,
    }
}

fn is_reply(m: &Map<String, Value>) -> bool {
    has(m, &["Success"]) && (has(m, &["Output"]) || has(m, &["Error"]))
}

fn decode_one(v: Value, path: Path<'_>, out: &mut Vec<HnsDocument>) -> Result<(), DocError> {
    if let Value::Array(items) = v {
        for (i, item) in items.into_iter().enumerate() {
            decode_one(item, path.index(i), out)?;
        }
        return Ok(());
    }
    let Value::Object(m) = &v else {
        return Err(DocError {
            path: path.to_string(),
            expected: "an HNS document (a JSON object) or an array of them".into(),
            found: describe(&v),
        });
    };
    if is_reply(m) {
        if let Some(o) = v1::reply_output(v, path)? {
            decode_one(o, path.key("Output"), out)?;
        }
        return Ok(());
    }
    let Some(kind) = detect(m) else {
        return Err(not_hns(m, path));
    };
    out.push(decode_kind(v, path, kind)?);
    Ok(())
}

fn decode_kind(v: Value, path: Path<'_>, kind: Kind) -> Result<HnsDocument, DocError> {
    Ok(match kind {
        // The network, endpoint and namespace readers take both shapes (v1 keys are converted).
        Kind::Network => HnsDocument::Network(v1::read_network(v, path)?),
        Kind::Endpoint => HnsDocument::Endpoint(v1::read_endpoint(v, path)?),
        Kind::Namespace => HnsDocument::Namespace(v1::read_namespace(v, path)?),
        Kind::LoadBalancer => HnsDocument::LoadBalancer(LoadBalancer::read(v, path)?),
        Kind::Route => HnsDocument::Route(SdnRoute::read(v, path)?),
        Kind::PolicyList => match v1::read_policy_list(v, path)? {
            PolicyListV2::LoadBalancer(lb) => HnsDocument::LoadBalancer(lb),
            PolicyListV2::Route(r) => HnsDocument::Route(r),
        },
    })
}

/// Decode one document, an array of them, or a v1 reply wrapper; v2 or v1; the kind is told by
/// its keys.
pub fn decode_any(json: &str) -> Result<Vec<HnsDocument>, DocError> {
    let mut out = Vec::new();
    decode_one(parse_json(json)?, Path::ROOT, &mut out)?;
    Ok(out)
}

/// [`decode_any_value`], consuming the value (no copy: node dumps decode tens of thousands).
pub fn decode_any_owned(v: Value) -> Result<Vec<HnsDocument>, DocError> {
    let mut out = Vec::new();
    decode_one(v, Path::ROOT, &mut out)?;
    Ok(out)
}

pub fn decode_any_value(v: &Value) -> Result<Vec<HnsDocument>, DocError> {
    let mut out = Vec::new();
    decode_one(v.clone(), Path::ROOT, &mut out)?;
    Ok(out)
}

/// Decode `v` (or the `Output` of a v1 reply holding one object) as a `kind`.
fn decode_as(v: Value, kind: Kind) -> Result<HnsDocument, DocError> {
    if let Value::Object(m) = &v {
        if is_reply(m) {
            return match v1::reply_output(v, Path::ROOT)? {
                Some(o) => decode_kind(o, Path::ROOT.key("Output"), kind),
                None => Err(DocError {
                    path: "$".into(),
                    expected: "a v1 reply with an Output".into(),
                    found: "no Output".into(),
                }),
            };
        }
    }
    decode_kind(v, Path::ROOT, kind)
}

/// Per kind: `decode_x(json)` and `decode_x_value(value)`. `$pick` chooses the reader from the
/// value (a load balancer or route may come as a v1 PolicyList).
macro_rules! decoders {
    ($($(#[$m:meta])* $name:ident, $vname:ident, $oname:ident, $t:ty, $kind:ident, $pick:expr, $what:expr;)*) => {$(
        $(#[$m])*
        pub fn $name(json: &str) -> Result<$t, DocError> {
            $oname(parse_json(json)?)
        }
        #[doc = concat!("As [`", stringify!($name), "`], from a parsed value.")]
        pub fn $vname(v: &Value) -> Result<$t, DocError> {
            $oname(v.clone())
        }
        #[doc = concat!("As [`", stringify!($name), "`], consuming a parsed value (no copy).")]
        pub fn $oname(v: Value) -> Result<$t, DocError> {
            let kind = $pick(&v);
            match decode_as(v, kind)? {
                HnsDocument::$kind(x) => Ok(x),
                other => Err(DocError {
                    path: "$".into(),
                    expected: $what.into(),
                    found: format!("a {} document", other.kind_name()),
                }),
            }
        }
    )*};
}

decoders! {
    /// Decode a Network document (v2 or v1 shape, or a v1 reply holding one).
    decode_network, decode_network_value, decode_network_owned, Network, Network, |_| Kind::Network,
        "a network document";
    /// Decode an Endpoint document (v2 or v1 shape, or a v1 reply holding one).
    decode_endpoint, decode_endpoint_value, decode_endpoint_owned, Endpoint, Endpoint,
        |_| Kind::Endpoint, "an endpoint document";
    /// Decode a Namespace document (v2 or v1 shape, or a v1 reply holding one).
    decode_namespace, decode_namespace_value, decode_namespace_owned, Namespace, Namespace,
        |_| Kind::Namespace, "a namespace document";
    /// Decode a load balancer: a HostComputeLoadBalancer or a v1 ELB PolicyList.
    decode_load_balancer, decode_load_balancer_value, decode_load_balancer_owned, LoadBalancer,
        LoadBalancer, |v| policy_list_or(v, Kind::LoadBalancer),
        "a load balancer (HostComputeLoadBalancer or a v1 ELB PolicyList)";
    /// Decode an SDN route: a HostComputeRoute or a v1 ROUTE PolicyList.
    decode_route, decode_route_value, decode_route_owned, SdnRoute, Route,
        |v| policy_list_or(v, Kind::Route),
        "an SDN route (HostComputeRoute or a v1 ROUTE PolicyList)";
}

fn policy_list_or(v: &Value, kind: Kind) -> Kind {
    match v {
        Value::Object(m) if has(m, &["References"]) => Kind::PolicyList,
        _ => kind,
    }
}

/// Decode a HostComputeQuery; an empty string is hcsshim's default query (schema 2.0, flags 0).
pub fn decode_query(json: &str) -> Result<HostComputeQuery, DocError> {
    if json.trim().is_empty() {
        return Ok(HostComputeQuery::v2());
    }
    HostComputeQuery::read(parse_json(json)?, Path::ROOT)
}

/// Decode a modify request `{ResourceType, RequestType, Settings}`.
pub fn decode_modify(json: &str) -> Result<ModifyRequest, DocError> {
    ModifyRequest::read(parse_json(json)?, Path::ROOT)
}

fn policies_of<T: ReadDoc>(settings: &Value) -> Result<Vec<T>, DocError> {
    let mut o = crate::schema::read::Obj::new(
        settings.clone(),
        Path::Root("$.Settings"),
        "policy settings {\"Policies\":[…]}",
    )?;
    o.list(&["Policies"])
}

/// The policies of a `Policy` modify request's `Settings` (`{"Policies":[…]}`), for an endpoint.
pub fn decode_endpoint_policies(settings: &Value) -> Result<Vec<EndpointPolicy>, DocError> {
    policies_of(settings)
}

/// The policies of a `Policy` modify request's `Settings`, for a network.
pub fn decode_network_policies(settings: &Value) -> Result<Vec<NetworkPolicy>, DocError> {
    policies_of(settings)
}

// ---- encoding: HNS's v2 output form ----

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    // Our types have string keys only; serialisation cannot fail.
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// A network as HNS writes it: `Type` omitted for NAT (hns-schema.md §1), GUIDs upper case.
pub fn encode_network(n: &Network) -> Value {
    let mut v = to_value(n);
    if n.kind() == NetworkType::Nat {
        if let Value::Object(m) = &mut v {
            m.shift_remove("Type");
        }
    }
    v
}

pub fn encode_endpoint(e: &Endpoint) -> Value {
    to_value(e)
}

pub fn encode_namespace(n: &Namespace) -> Value {
    to_value(n)
}

pub fn encode_load_balancer(lb: &LoadBalancer) -> Value {
    to_value(lb)
}

pub fn encode_route(r: &SdnRoute) -> Value {
    to_value(r)
}

pub fn encode_query(q: &HostComputeQuery) -> Value {
    to_value(q)
}

pub fn encode_modify(m: &ModifyRequest) -> Value {
    to_value(m)
}

pub fn encode_document(d: &HnsDocument) -> Value {
    match d {
        HnsDocument::Network(n) => encode_network(n),
        HnsDocument::Endpoint(e) => encode_endpoint(e),
        HnsDocument::Namespace(n) => encode_namespace(n),
        HnsDocument::LoadBalancer(lb) => encode_load_balancer(lb),
        HnsDocument::Route(r) => encode_route(r),
    }
}

/// A network in the v1 `HNSNetwork` shape (queries asking for SchemaVersion 1.0).
pub fn encode_network_v1(n: &Network) -> Value {
    v1::network_to_v1(n)
}

/// An endpoint in the v1 `HNSEndpoint` shape.
pub fn encode_endpoint_v1(e: &Endpoint) -> Value {
    v1::endpoint_to_v1(e)
}
