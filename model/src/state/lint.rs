//! `hns validate` and scenario checks: what a create would reject, without a host to create on,
//! and the keys HNS would ignore (docs/inputs.md).
//!
//! * [`check_document`] runs the create-time validation of [`super::validate`] on one decoded
//!   document against an empty host, piece by piece (subnets, MAC pool, each policy, addresses),
//!   so every problem is reported with its JSON path and the HRESULT the create would return —
//!   not only the first. Checks that need other objects (the endpoint's network exists, a load
//!   balancer's endpoints exist, an address is free) are left to the real create.
//! * [`unknown_keys`] turns the readers' leftover keys into warnings with a "did you mean".

use super::validate;
use super::{Hns, HostSettings};
use crate::document::{decode_any_value, encode_document, DocError, HnsDocument};
use crate::hint::suggest;
use crate::hresult::{HResult, HcnError};
use crate::ids::{Guid, Mac};
use crate::schema::{collect_unknown_keys, LeftoverKey};
use serde_json::Value;
use std::net::IpAddr;

/// One problem in a document: where (JSON path), the HRESULT a create would return (`None` for
/// a warning about a key HNS ignores), and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub code: Option<HResult>,
    pub message: String,
}

impl Problem {
    fn from_hcn(path: impl Into<String>, e: HcnError) -> Problem {
        Problem {
            path: path.into(),
            code: Some(e.code),
            message: e.message,
        }
    }

    /// A warning (HNS accepts it, but it is most likely a mistake).
    pub fn is_warning(&self) -> bool {
        self.code.is_none()
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(c) => write!(f, "{}: {} (a create returns {c})", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Every problem of a JSON text: `Err(message)` when it cannot be decoded at all (the message
/// goes right after the file name: `:L:C: malformed JSON …` or `: at $.Path: …`), else the
/// problems (errors and warnings) and the documents' v2 form. `hnsim hns validate`, its fuzz target
/// and the corpus replay test all call this.
pub fn check_text(text: &str, settings: &HostSettings) -> Result<(serde_json::Value, Vec<Problem>), String> {
    let value = parse_json_strict(text).map_err(|e| {
        // serde_json's message ends in "at line L column C"; lead with line:col instead.
        let msg = e.to_string();
        let msg = msg
            .rsplit_once(" at line ")
            .map_or(msg.clone(), |(m, _)| m.to_string());
        format!(":{}:{}: malformed JSON: {msg}", e.line(), e.column())
    })?;
    let (docs, problems) = check_value(&value, settings).map_err(|e| format!(": {e}"))?;
    let out = if docs.len() == 1 && !value.is_array() {
        encode_document(&docs[0])
    } else {
        serde_json::Value::Array(docs.iter().map(encode_document).collect())
    };
    Ok((out, problems))
}

/// Decode any HNS document (or array, or v1 reply) and check it: the documents, and every
/// problem — create-time errors and unknown-key warnings — in document order.
pub fn check_value(v: &Value, settings: &HostSettings) -> Result<(Vec<HnsDocument>, Vec<Problem>), DocError> {
    let (docs, left) = collect_unknown_keys(|| decode_any_value(v));
    let docs = docs?;
    let mut problems = unknown_keys(&left);
    let prefix_of = |i: usize| {
        if v.is_array() {
            format!("$[{i}]")
        } else {
            "$".to_string()
        }
    };
    for (i, d) in docs.iter().enumerate() {
        for mut p in check_document(d, settings) {
            p.path = format!("{}{}", prefix_of(i), &p.path[1..]);
            problems.push(p);
        }
    }
    Ok((docs, problems))
}

/// Parse JSON like `serde_json::from_str`, but a key that appears twice in one object (also in
/// another case: HNS matches keys without regard to case, so only one of them would count) is
/// an error at its line and column instead of silently keeping one of them.
pub fn parse_json_strict(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<Strict>(text).map(|s| s.0)
}

struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(Strict(x)) = seq.next_element()? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = serde_json::Map::new();
        // Lower-cased key → the key as sent (a lookup only: linear in the object's size).
        let mut seen = std::collections::HashMap::new();
        while let Some(k) = map.next_key::<String>()? {
            if let Some(prev) = seen.insert(k.to_ascii_lowercase(), k.clone()) {
                let msg = if prev == k {
                    format!("expected each key once, found `{k}` twice")
                } else {
                    format!("expected each key once, found `{prev}` and `{k}` (HNS matches keys without regard to case)")
                };
                return Err(serde::de::Error::custom(msg));
            }
            let Strict(v) = map.next_value()?;
            m.insert(k, v);
        }
        Ok(Value::Object(m))
    }
}

/// Keys HNS defines (or writes in its output) for an object that the model keeps in `extra`
/// without reading: not typos. From the field lists in docs/reference/hns-schema.md §5.2, §5.3
/// and the real-output lists after them; keyed by the start of the reader's object name.
const DEFINED_BUT_OPAQUE: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "ActivityId",
            "AdditionalParams",
            "Health",
            "Resources",
            "State",
            "Version",
        ],
    ),
    (
        "a network",
        &[
            "AutomaticDNS",
            "CurrentEndpointCount",
            "DNSServerCompartment",
            "DNSServerList",
            "DNSSuffix",
            "DrMacAddress",
            "Extensions",
            "GatewayMac",
            "IPv6",
            "IsolateSwitch",
            "LayeredOn",
            "ManagementIP",
            "MaxConcurrentEndpoints",
            "NatName",
            "NetworkAdapterName",
            "SourceMac",
            "SwitchGuid",
            "SwitchName",
            "TotalEndpoints",
        ],
    ),
    (
        "an endpoint",
        &[
            "DisableICC",
            "DNSDomain",
            "DNSServerList",
            "DNSSuffix",
            "EnableInternalDNS",
            "EnableLowMetric",
            "EncapOverhead",
            "GatewayAddress",
            "GatewayAddressV6",
            "InterfaceConstraint",
            "IPv6Address",
            "IPv6PrefixLength",
            "IsRemoteEndpoint",
            "Namespace",
            "SharedContainers",
            "StartTime",
            "Type",
            "VirtualNetwork",
            "VirtualNetworkName",
        ],
    ),
    ("a v1 subnet", &["Flags", "ID", "IpSubnets", "ObjectType"]),
    // v1 policies are flat (`{"Type":"PA","PA":…}`, subnet `{"VSID":4096}`).
    ("a policy", &["PA", "VSID"]),
    ("an IP configuration", &["IpSubnetId"]),
];

fn defined_but_opaque(object: &str, key: &str) -> bool {
    DEFINED_BUT_OPAQUE
        .iter()
        .filter(|(o, _)| object.starts_with(o))
        .any(|(_, keys)| keys.iter().any(|k| k.eq_ignore_ascii_case(key)))
}

/// Warnings for keys HNS does not define for their object.
pub fn unknown_keys(left: &[LeftoverKey]) -> Vec<Problem> {
    left.iter()
        .filter(|l| !defined_but_opaque(&l.object, &l.key))
        .map(|l| {
            let mut message = if l.key == "<<" {
                "a YAML merge key `<<` is not expanded inside HNS documents; write the keys out".to_string()
            } else {
                format!("unknown key `{}` in {}; HNS ignores it", l.key, l.object)
            };
            if let Some(b) = suggest(&l.key, &l.known).filter(|b| b != &l.key) {
                message.push_str(&format!("; did you mean `{b}`?"));
            }
            Problem {
                path: child_path(&l.path, &l.key),
                code: None,
                message,
            }
        })
        .collect()
}

/// `$.A` + `B` → `$.A.B` (`$.A["odd key"]` when the key is not plain).
pub fn child_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{parent}.{key}")
    } else {
        format!("{parent}[{key:?}]")
    }
}

/// Create-time checks of one document on an empty host with `settings`.
pub fn check_document(doc: &HnsDocument, settings: &HostSettings) -> Vec<Problem> {
    let hns = Hns::new(settings.clone(), 0);
    let mut out = Vec::new();
    let mut push = |path: String, r: Result<(), HcnError>| {
        if let Err(e) = r {
            out.push(Problem::from_hcn(path, e))
        }
    };
    match doc {
        HnsDocument::Network(n) => {
            push("$.Ipams".into(), validate::subnets(&hns, n));
            for (i, p) in n.policies.iter().enumerate() {
                push(format!("$.Policies[{i}]"), validate::network_policy(&hns, p));
            }
            // The rest of create (type, flags, MAC pool) once, without the parts checked above.
            let mut rest = n.clone();
            rest.ipams.clear();
            rest.policies.clear();
            push(
                "$".into(),
                validate::network(&hns, Guid::default(), rest).map(drop),
            );
        }
        HnsDocument::Endpoint(e) => {
            let remote = e.is_remote();
            if !e.host_compute_network.trim().is_empty() {
                push(
                    "$.HostComputeNetwork".into(),
                    validate::parse_guid(&e.host_compute_network, "HostComputeNetwork").map(drop),
                );
            }
            for (i, c) in e.ip_configurations.iter().enumerate() {
                push(
                    format!("$.IpConfigurations[{i}]"),
                    ip_config(&hns, &c.ip_address, c.prefix_length),
                );
            }
            if !e.mac_address.trim().is_empty() && e.mac_address.parse::<Mac>().is_err() {
                push(
                    "$.MacAddress".into(),
                    Err(HcnError::new(
                        HResult::HCN_E_INVALID_ENDPOINT,
                        format!("expected a MAC address, found {:?}", e.mac_address),
                    )),
                );
            }
            for (i, p) in e.policies.iter().enumerate() {
                push(
                    format!("$.Policies[{i}]"),
                    validate::endpoint_policy(&hns, p, remote),
                );
            }
        }
        HnsDocument::LoadBalancer(lb) => {
            let mut lb = lb.clone();
            for (i, r) in lb.host_compute_endpoints.iter().enumerate() {
                push(
                    format!("$.HostComputeEndpoints[{i}]"),
                    validate::parse_guid(r, "HostComputeEndpoints").map(drop),
                );
            }
            // Whether the endpoints exist is for the real create to say.
            lb.host_compute_endpoints.clear();
            push("$".into(), validate::load_balancer(&hns, None, lb).map(drop));
        }
        HnsDocument::Route(r) => {
            let mut r = r.clone();
            for (i, e) in r.host_compute_endpoints.iter().enumerate() {
                push(
                    format!("$.HostComputeEndpoints[{i}]"),
                    validate::parse_guid(e, "HostComputeEndpoints").map(drop),
                );
            }
            r.host_compute_endpoints.clear();
            push("$".into(), validate::sdn_route(&hns, r).map(drop));
        }
        HnsDocument::Namespace(_) => {}
    }
    out
}

/// One IP configuration's address and prefix length (the parts that need no network).
fn ip_config(hns: &Hns, ip: &str, prefix_length: u8) -> Result<(), HcnError> {
    let bad = |m: String| HcnError::new(HResult::HCN_E_INVALID_IP, m);
    let addr: IpAddr = ip
        .trim()
        .parse()
        .map_err(|_| bad(format!("IpAddress: expected an IP address, found {ip:?}")))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix_length > max {
        return Err(bad(format!(
            "PrefixLength: prefix length {prefix_length} > {max}"
        )));
    }
    if addr.is_ipv6() && !hns.supports(super::Feature::Ipv6DualStack) {
        return Err(HcnError::new(
            HResult::HCN_E_REQUEST_UNSUPPORTED,
            format!(
                "an IPv6 endpoint address needs HNS feature Ipv6DualStack, which HNS {} does not support",
                hns.settings.hns_version
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(json: &str) -> Vec<String> {
        let v: Value = serde_json::from_str(json).unwrap();
        let (_, p) = check_value(&v, &HostSettings::default()).unwrap();
        p.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_misspelt_acl_key_is_named_with_a_hint() {
        let p = problems(
            r#"{"Type":"ACL","Settings":{"Action":"Block","Direction":"In","RemoteAddress":"10.0.0.1","Priority":100}}"#
                .replace("{\"Type\"", "{\"Name\":\"e\",\"HostComputeNetwork\":\"00000000-0000-0000-0000-000000000001\",\"Policies\":[{\"Type\"")
                .replace("100}}", "100}}]}")
                .as_str(),
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("$.Policies[0].Settings.RemoteAddress: unknown key `RemoteAddress`"),
            "{p:?}"
        );
        assert!(p[0].ends_with("did you mean `RemoteAddresses`?"), "{p:?}");
    }

    #[test]
    fn every_create_error_of_a_network_is_reported() {
        let p = problems(
            r#"{"Name":"n","Type":"L2Bridge","Ipams":[{"Subnets":[{"IpAddressPrefix":"10.244.1.0/24"}]}],
                "Policies":[{"Type":"NoSuchPolicy","Settings":{}},{"Type":"NetworkACL","Settings":{"Action":"Alow","Direction":"In"}}]}"#,
        );
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].starts_with("$.Ipams: Ipams[0].Subnets[0]: subnet has address prefix but no gateway"),
            "{p:?}"
        );
        assert!(p[0].contains("HCN_E_INVALID_NETWORK"), "{p:?}");
        assert!(
            p[1].starts_with("$.Policies[0]: unknown network policy type"),
            "{p:?}"
        );
        assert!(p[1].contains("HCN_E_INVALID_POLICY_TYPE"), "{p:?}");
        assert!(p[2].contains("Action must be Allow, Block or Pass"), "{p:?}");
    }

    #[test]
    fn a_bad_vip_and_a_long_prefix_are_errors() {
        let p = problems(
            r#"{"FrontendVIPs":["10.96.0.999"],"PortMappings":[{"Protocol":6,"InternalPort":80,"ExternalPort":80}]}"#,
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("FrontendVIPs") && p[0].contains("HCN_E_INVALID_IP"),
            "{p:?}"
        );
        let p = problems(
            r#"{"Name":"e","HostComputeNetwork":"00000000-0000-0000-0000-000000000001","IpConfigurations":[{"IpAddress":"10.0.0.5","PrefixLength":33}]}"#,
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("prefix length 33 > 32"), "{p:?}");
    }

    #[test]
    fn duplicate_keys_are_located() {
        let e = parse_json_strict("{\n  \"Name\": \"a\",\n  \"Name\": \"b\"\n}").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("expected each key once, found `Name` twice"),
            "{e}"
        );
        assert_eq!(e.line(), 3);
        let e = parse_json_strict(r#"{"Type":"ACL","type":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("found `Type` and `type`"), "{e}");
        assert_eq!(
            parse_json_strict(r#"{"a":[1,2.5,"x",null,true,{}]}"#).unwrap(),
            serde_json::json!({"a":[1,2.5,"x",null,true,{}]})
        );
    }

    /// Found by fuzzing: the normal form of a route with no endpoints (which omits the empty
    /// `HostComputeEndpoints`) must validate again.
    #[test]
    fn the_normal_form_of_a_route_without_endpoints_reads_back() {
        let s = HostSettings::default();
        let (out, p) = check_text(r#"{"HostComputeEndpoints":[],"Routes":[{"DestinationPrefix":"10.0.0.0/8","NextHop":"10.0.0.1"}]}"#, &s).unwrap();
        assert_eq!(p, []);
        assert!(out.get("HostComputeEndpoints").is_none(), "{out}");
        let (again, _) = check_text(&out.to_string(), &s).unwrap();
        assert_eq!(again, out);
        // With no routes either, the keys name no kind: refused, not printed as a bare `{ID}`.
        let e = check_text(r#"{"Name":"n","Type":"L/24","Routes":[]}"#, &s).unwrap_err();
        assert!(e.contains("expected an HNS network, endpoint"), "{e}");
    }

    #[test]
    fn a_good_document_has_no_problems() {
        let p = problems(
            r#"{"Name":"cbr0","Type":"L2Bridge","Ipams":[{"Type":"Static","Subnets":[{"IpAddressPrefix":"10.244.1.0/24",
                "Routes":[{"NextHop":"10.244.1.1","DestinationPrefix":"0.0.0.0/0"}]}]}],"SchemaVersion":{"Major":2,"Minor":0}}"#,
        );
        assert_eq!(p, Vec::<String>::new());
    }
}

#[cfg(test)]
mod dumps {
    use super::*;

    /// Real documents captured from HNS hosts: no key they carry is reported unknown.
    #[test]
    fn real_dumps_have_no_unknown_keys() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/hns-dumps");
        let mut seen = 0;
        let mut all = Vec::new();
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let text = std::fs::read_to_string(&p).unwrap();
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let Ok((_, problems)) = check_value(&v, &HostSettings::default()) else {
                continue;
            };
            seen += 1;
            for pr in problems.iter().filter(|p| p.is_warning()) {
                all.push(format!("{}: {pr}", p.display()));
            }
        }
        assert!(seen >= 4, "{seen}");
        assert!(all.is_empty(), "{}", all.join("\n"));
    }
}

#[cfg(test)]
mod regressions {
    use crate::backend::HnsBackend;
    use crate::state::{Hns, HostSettings};

    /// Issue 14, item 8: a duplicate endpoint address names both endpoints, not just the network.
    #[test]
    fn a_duplicate_endpoint_address_names_both_endpoints() {
        let mut hns = Hns::new(HostSettings::default(), 1);
        let net = hns
            .create_network(
                "",
                r#"{"Name":"n","Type":"L2Bridge","Ipams":[{"Subnets":[{"IpAddressPrefix":"10.1.0.0/24","Routes":[{"NextHop":"10.1.0.1","DestinationPrefix":"0.0.0.0/0"}]}]}]}"#,
            )
            .unwrap();
        let id = serde_json::from_str::<serde_json::Value>(&net).unwrap()["ID"]
            .as_str()
            .unwrap()
            .to_string();
        let ep = |name: &str| {
            format!(
                r#"{{"Name":"{name}","HostComputeNetwork":"{id}","IpConfigurations":[{{"IpAddress":"10.1.0.5"}}]}}"#
            )
        };
        hns.create_endpoint("", &ep("podA")).unwrap();
        let e = hns.create_endpoint("", &ep("podB")).unwrap_err();
        assert!(
            e.message
                .starts_with("endpoint \"podB\": address 10.1.0.5 is already used by endpoint \"podA\" ("),
            "{}",
            e.message
        );
    }
}
