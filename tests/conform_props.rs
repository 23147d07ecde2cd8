//! Random HCN operation sequences through a backend, each answer compared with a small,
//! obviously-correct reference model, and the invariants checked after every step through
//! queries only. Run against `sim` and against `exec:` of `hnsim serve --stdio`.
//!
//! The reference encodes the model's default HostSettings where HNS behaviour is inferred:
//! deleting a network deletes its endpoints, deleting an endpoint or namespace detaches,
//! NAT networks do not survive an HNS restart (consumers.md P11), namespaces do.

use hnsim_model::adapter::{ExecBackend, ExecOptions};
use hnsim_model::backend::{HcnOp, HnsBackend, ObjectKind, Verb};
use hnsim_model::hresult::{HResult, HcnResult};
use hnsim_model::state::{Hns, HostSettings};
use hnsim_model::Guid;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ObjectKind::{Endpoint, Namespace, Network};

/// HRESULT_FROM_WIN32(ERROR_OBJECT_ALREADY_EXISTS): an address already used on the network.
const OBJECT_ALREADY_EXISTS: HResult = HResult(0x8007_1392);

#[derive(Clone, Debug)]
enum Op {
    /// A new network; `Some(i)` reuses network i's name.
    CreateNetwork(Option<usize>),
    DeleteNetwork(usize),
    /// An endpoint on network i, with host part h of its /24 (2..=254) or allocated.
    CreateEndpoint(usize, Option<u8>),
    DeleteEndpoint(usize),
    CreateNamespace,
    DeleteNamespace(usize),
    Attach(usize, usize),
    Detach(usize, usize),
    Restart,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => proptest::option::weighted(0.2, 0..8usize).prop_map(Op::CreateNetwork),
        1 => (0..8usize).prop_map(Op::DeleteNetwork),
        5 => ((0..8usize), proptest::option::weighted(0.4, 2..=6u8)).prop_map(|(n, h)| Op::CreateEndpoint(n, h)),
        2 => (0..16usize).prop_map(Op::DeleteEndpoint),
        2 => Just(Op::CreateNamespace),
        1 => (0..8usize).prop_map(Op::DeleteNamespace),
        3 => ((0..8usize), (0..16usize)).prop_map(|(a, b)| Op::Attach(a, b)),
        2 => ((0..8usize), (0..16usize)).prop_map(|(a, b)| Op::Detach(a, b)),
        1 => Just(Op::Restart),
    ]
}

struct RefNet {
    id: String,
    name: String,
    third: u8,
    alive: bool,
}
struct RefEp {
    id: String,
    net: usize,
    ip: Ipv4Addr,
    alive: bool,
    ns: Option<usize>,
}
struct RefNs {
    id: String,
    alive: bool,
}

#[derive(Default)]
struct Reference {
    nets: Vec<RefNet>,
    eps: Vec<RefEp>,
    nss: Vec<RefNs>,
}

impl Reference {
    fn delete_endpoint(&mut self, i: usize) {
        self.eps[i].alive = false;
        self.eps[i].ns = None;
    }
}

fn query() -> String {
    json!({"SchemaVersion": {"Major": 2, "Minor": 0}, "Flags": 0}).to_string()
}

fn filtered(f: Value) -> String {
    json!({"SchemaVersion": {"Major": 2, "Minor": 0}, "Flags": 0, "Filter": f.to_string()}).to_string()
}

fn code<T>(r: &HcnResult<T>) -> Option<HResult> {
    r.as_ref().err().map(|e| e.code)
}

fn guid(s: &str) -> Guid {
    s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn set(ids: &[String]) -> BTreeSet<Guid> {
    ids.iter().map(|s| guid(s)).collect()
}

fn enumerate(b: &mut dyn HnsBackend, kind: ObjectKind, q: &str) -> Result<BTreeSet<Guid>, String> {
    let r = b
        .enumerate(kind, q)
        .map_err(|e| format!("enumerate {kind:?}: {e}"))?;
    let v: Vec<String> = serde_json::from_str(&r).map_err(|e| format!("{r}: {e}"))?;
    Ok(set(&v))
}

fn query_obj(b: &mut dyn HnsBackend, kind: ObjectKind, id: &str) -> Result<Value, String> {
    let r = b
        .query(kind, id, &query())
        .map_err(|e| format!("query {kind:?} {id}: {e}"))?;
    serde_json::from_str(&r).map_err(|e| format!("{r}: {e}"))
}

/// Apply one op to the backend and the reference; their answers must agree.
fn step(b: &mut dyn HnsBackend, r: &mut Reference, op: &Op, seq: &mut u8) -> Result<(), String> {
    let expect = |got: Option<HResult>, want: Option<HResult>| -> Result<(), String> {
        if got == want {
            Ok(())
        } else {
            Err(format!("{op:?}: got {got:?}, reference says {want:?}"))
        }
    };
    match *op {
        Op::CreateNetwork(same) => {
            *seq += 1;
            let dup = same
                .and_then(|i| pick(i, r.nets.len()))
                .filter(|&i| r.nets[i].alive);
            let name = match dup {
                Some(i) => r.nets[i].name.clone(),
                None => format!("prop-net-{seq}"),
            };
            let third = *seq;
            let doc = json!({"Name": name, "Type": "NAT", "SchemaVersion": {"Major": 2, "Minor": 0},
                "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": format!("10.77.{third}.0/24"),
                    "Routes": [{"NextHop": format!("10.77.{third}.1"), "DestinationPrefix": "0.0.0.0/0"}]}]}]});
            let res = b.create(Network, "", &doc.to_string());
            if dup.is_some() {
                return expect(code(&res), Some(HResult::HCN_E_NETWORK_ALREADY_EXISTS));
            }
            expect(code(&res), None)?;
            let v: Value = serde_json::from_str(&res.unwrap()).map_err(|e| e.to_string())?;
            let id = v["ID"].as_str().ok_or("no ID")?.to_string();
            r.nets.push(RefNet {
                id,
                name,
                third,
                alive: true,
            });
        }
        Op::DeleteNetwork(i) => {
            let Some(i) = pick(i, r.nets.len()) else {
                return Ok(());
            };
            let n = &r.nets[i];
            let res = b.delete(Network, &n.id.clone());
            if !n.alive {
                return expect(code(&res), Some(HResult::ERROR_NOT_FOUND));
            }
            expect(code(&res), None)?;
            r.nets[i].alive = false;
            for e in 0..r.eps.len() {
                if r.eps[e].net == i && r.eps[e].alive {
                    r.delete_endpoint(e);
                }
            }
        }
        Op::CreateEndpoint(i, host) => {
            let Some(i) = pick(i, r.nets.len()) else {
                return Ok(());
            };
            let n = &r.nets[i];
            let (net_id, third, alive) = (n.id.clone(), n.third, n.alive);
            let mut doc = json!({"Name": format!("prop-ep-{}", r.eps.len()), "HostComputeNetwork": net_id,
                "SchemaVersion": {"Major": 2, "Minor": 0}});
            let want_ip = host.map(|h| Ipv4Addr::new(10, 77, third, h));
            if let Some(ip) = want_ip {
                doc["IpConfigurations"] = json!([{"IpAddress": ip.to_string(), "PrefixLength": 24}]);
            }
            let res = b.create(Endpoint, "", &doc.to_string());
            if !alive {
                return expect(code(&res), Some(HResult::HCN_E_NETWORK_NOT_FOUND));
            }
            let used = |ip: Ipv4Addr| r.eps.iter().any(|e| e.alive && e.net == i && e.ip == ip);
            if want_ip.is_some_and(used) {
                return expect(code(&res), Some(OBJECT_ALREADY_EXISTS));
            }
            expect(code(&res), None)?;
            let v: Value = serde_json::from_str(&res.unwrap()).map_err(|e| e.to_string())?;
            let id = v["ID"].as_str().ok_or("no ID")?.to_string();
            let got: Ipv4Addr = v["IpConfigurations"][0]["IpAddress"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("no IPv4 in {v}"))?;
            if let Some(ip) = want_ip {
                prop_check(got == ip, format!("asked for {ip}, got {got}"))?;
            } else {
                let [a, b2, c, d] = got.octets();
                prop_check(
                    (a, b2, c) == (10, 77, third) && (2..=254).contains(&d),
                    format!("allocated {got} outside 10.77.{third}.2-254"),
                )?;
                prop_check(!used(got), format!("allocated {got}, which is in use"))?;
            }
            r.eps.push(RefEp {
                id,
                net: i,
                ip: got,
                alive: true,
                ns: None,
            });
        }
        Op::DeleteEndpoint(i) => {
            let Some(i) = pick(i, r.eps.len()) else {
                return Ok(());
            };
            let e = &r.eps[i];
            let res = b.delete(Endpoint, &e.id.clone());
            if !e.alive {
                return expect(code(&res), Some(HResult::ERROR_NOT_FOUND));
            }
            expect(code(&res), None)?;
            r.delete_endpoint(i);
        }
        Op::CreateNamespace => {
            let res = b.create(
                Namespace,
                "",
                &json!({"Type": "Host", "SchemaVersion": {"Major": 2, "Minor": 0}}).to_string(),
            );
            expect(code(&res), None)?;
            let v: Value = serde_json::from_str(&res.unwrap()).map_err(|e| e.to_string())?;
            let id = v["ID"].as_str().ok_or("no ID")?.to_string();
            r.nss.push(RefNs { id, alive: true });
        }
        Op::DeleteNamespace(i) => {
            let Some(i) = pick(i, r.nss.len()) else {
                return Ok(());
            };
            let n = &r.nss[i];
            let res = b.delete(Namespace, &n.id.clone());
            if !n.alive {
                return expect(code(&res), Some(HResult::ERROR_NOT_FOUND));
            }
            expect(code(&res), None)?;
            r.nss[i].alive = false;
            for e in r.eps.iter_mut().filter(|e| e.ns == Some(i)) {
                e.ns = None;
            }
        }
        Op::Attach(n, e) | Op::Detach(n, e) => {
            let (Some(n), Some(e)) = (pick(n, r.nss.len()), pick(e, r.eps.len())) else {
                return Ok(());
            };
            let (ns, ep) = (&r.nss[n], &r.eps[e]);
            let attach = matches!(op, Op::Attach(..));
            let req = json!({"ResourceType": "Endpoint", "RequestType": if attach { "Add" } else { "Remove" },
                "Settings": {"EndpointId": ep.id}});
            let res = b.modify(Namespace, &ns.id.clone(), &req.to_string());
            let want = if !ns.alive {
                Some(HResult::ERROR_NOT_FOUND)
            } else if !ep.alive {
                Some(HResult::HCN_E_ENDPOINT_NOT_FOUND)
            } else if attach && ep.ns.is_some() {
                Some(HResult::HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS)
            } else if !attach && ep.ns != Some(n) {
                Some(HResult::HCN_E_ENDPOINT_NOT_ATTACHED)
            } else {
                None
            };
            expect(code(&res), want)?;
            if want.is_none() {
                r.eps[e].ns = if attach { Some(n) } else { None };
            }
        }
        Op::Restart => {
            expect(code(&b.restart_service()), None)?;
            for n in r.nets.iter_mut() {
                n.alive = false;
            }
            for e in 0..r.eps.len() {
                if r.eps[e].alive {
                    r.delete_endpoint(e);
                }
            }
        }
    }
    Ok(())
}

/// Index `i` among `len` created objects (dead ones included, to exercise not-found answers).
fn pick(i: usize, len: usize) -> Option<usize> {
    (len > 0).then(|| i % len)
}

fn prop_check(ok: bool, why: String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(why)
    }
}

/// The invariants, observed through enumerate and query only.
fn check(b: &mut dyn HnsBackend, r: &Reference) -> Result<(), String> {
    let alive_nets: Vec<String> = r.nets.iter().filter(|n| n.alive).map(|n| n.id.clone()).collect();
    let alive_eps: Vec<String> = r.eps.iter().filter(|e| e.alive).map(|e| e.id.clone()).collect();
    let alive_nss: Vec<String> = r.nss.iter().filter(|n| n.alive).map(|n| n.id.clone()).collect();
    prop_check(
        enumerate(b, Network, &query())? == set(&alive_nets),
        "networks differ".into(),
    )?;
    prop_check(
        enumerate(b, Endpoint, &query())? == set(&alive_eps),
        "endpoints differ".into(),
    )?;
    prop_check(
        enumerate(b, Namespace, &query())? == set(&alive_nss),
        "namespaces differ".into(),
    )?;
    for (i, n) in r.nets.iter().enumerate().filter(|(_, n)| n.alive) {
        let by_name = enumerate(b, Network, &filtered(json!({"Name": n.name})))?;
        prop_check(
            by_name == set(std::slice::from_ref(&n.id)),
            format!("Name filter for {} gave {by_name:?}", n.name),
        )?;
        let eps: Vec<String> = r
            .eps
            .iter()
            .filter(|e| e.alive && e.net == i)
            .map(|e| e.id.clone())
            .collect();
        let of_net = enumerate(b, Endpoint, &filtered(json!({"VirtualNetwork": n.id})))?;
        prop_check(
            of_net == set(&eps),
            format!("endpoints of {}: {of_net:?} vs {eps:?}", n.id),
        )?;
    }
    for e in r.eps.iter().filter(|e| e.alive) {
        let q = query_obj(b, Endpoint, &e.id)?;
        let ip = q["IpConfigurations"][0]["IpAddress"].as_str().unwrap_or("");
        prop_check(
            ip == e.ip.to_string(),
            format!("endpoint {} has IP {ip}, expected {}", e.id, e.ip),
        )?;
        let net = q["HostComputeNetwork"].as_str().unwrap_or("");
        prop_check(
            guid(net) == guid(&r.nets[e.net].id),
            format!("endpoint {} on {net}", e.id),
        )?;
        let ns = q["HostComputeNamespace"].as_str().unwrap_or("");
        let want = e.ns.map(|n| guid(&r.nss[n].id));
        let got = if ns.is_empty() { None } else { Some(guid(ns)) };
        prop_check(
            got == want,
            format!("endpoint {} in namespace {got:?}, expected {want:?}", e.id),
        )?;
    }
    for (i, n) in r.nss.iter().enumerate().filter(|(_, n)| n.alive) {
        let q = query_obj(b, Namespace, &n.id)?;
        let got: BTreeSet<Guid> = q["Resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|x| x["Type"] == "Endpoint")
            .map(|x| guid(x["Data"]["ID"].as_str().unwrap_or("")))
            .collect();
        let want: Vec<String> = r
            .eps
            .iter()
            .filter(|e| e.alive && e.ns == Some(i))
            .map(|e| e.id.clone())
            .collect();
        prop_check(
            got == set(&want),
            format!("namespace {} holds {got:?}, expected {want:?}", n.id),
        )?;
    }
    Ok(())
}

fn run_sequence(b: &mut dyn HnsBackend, ops: &[Op]) -> Result<(), String> {
    let mut r = Reference::default();
    let mut seq = 0u8;
    for (k, op) in ops.iter().enumerate() {
        step(b, &mut r, op, &mut seq).map_err(|e| format!("step {k}: {e}"))?;
        check(b, &r).map_err(|e| format!("after step {k} ({op:?}): {e}"))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sim_agrees_with_the_reference(ops in proptest::collection::vec(op_strategy(), 1..30), seed in any::<u64>()) {
        let mut b = Hns::new(HostSettings::default(), seed);
        if let Err(e) = run_sequence(&mut b, &ops) {
            prop_assert!(false, "{}", e);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn exec_agrees_with_the_reference(ops in proptest::collection::vec(op_strategy(), 1..30)) {
        let cmd = format!("exec '{}' serve --stdio", env!("CARGO_BIN_EXE_hnsim"));
        let mut b = ExecBackend::spawn(&cmd, ExecOptions::default()).expect("hnsim serve --stdio starts");
        if let Err(e) = run_sequence(&mut b, &ops) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// The reference is not vacuous: a backend that forgets detaches is caught.
#[test]
fn a_wrong_backend_is_caught() {
    struct ForgetsDetach(Hns);
    impl HnsBackend for ForgetsDetach {
        fn call(&mut self, call: &hnsim_model::backend::HcnCall) -> HcnResult<String> {
            if call.op == HcnOp::Object(Verb::Modify, Namespace) && call.document.contains("Remove") {
                return Ok(String::new());
            }
            self.0.call(call)
        }
        fn describe(&self) -> String {
            "broken".into()
        }
    }
    let mut b = ForgetsDetach(Hns::new(HostSettings::default(), 1));
    let ops = [
        Op::CreateNetwork(None),
        Op::CreateEndpoint(0, None),
        Op::CreateNamespace,
        Op::Attach(0, 0),
        Op::Detach(0, 0),
    ];
    let e = run_sequence(&mut b, &ops).unwrap_err();
    assert!(e.contains("after step 4"), "{e}");
}
