//! The dataplane compile is incremental: after one HNS change only the objects it touched are
//! recompiled (counted by `CompileStats`), and the result equals a full rebuild.

use hnsim_model::backend::ObjectKind;
use hnsim_model::state::workload::KubeProxyWorkload;
use hnsim_model::state::Hns;
use hnsim_model::state::HostSettings;
use hnsim_model::Guid;
use hnsim_model::HnsBackend;
use hnsim_sim::benchkit;
use hnsim_sim::compile::{compile, update, ChangeScan, CompileStats, HostInfo, HostProgram};
use hnsim_sim::testkit::{ctr, ip, mac};
use hnsim_sim::L4;
use serde_json::json;

fn info() -> HostInfo {
    HostInfo {
        ip: ip("10.0.0.11"),
        mac: mac("00-15-5D-00-00-11"),
        mtu: 1500,
        container_mtu_reduction: 0,
        empty_source_vip_uses_node_ip: true,
    }
}

/// Everything the packet path reads, in a comparable form.
fn tables(p: &HostProgram) -> String {
    let mut remotes: Vec<_> = p.remote_by_ip.iter().collect();
    remotes.sort_by_key(|(k, _)| **k);
    let mut maps: Vec<_> = p.port_maps.iter().collect();
    maps.sort_by_key(|(k, _)| **k);
    let mut by_ep: Vec<_> = p.port_by_ep.iter().collect();
    by_ep.sort();
    let mut by_ip: Vec<_> = p.port_by_ip.iter().collect();
    by_ip.sort();
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        p.networks,
        p.ports,
        by_ep,
        by_ip,
        remotes,
        p.lbs.mappings(),
        maps,
        p.host_addrs,
        p.host_routes,
        p.errors
    )
}

fn stats(rebuilt: (u32, u32, u32)) -> CompileStats {
    CompileStats {
        full: false,
        ports_rebuilt: rebuilt.0,
        remotes_rebuilt: rebuilt.1,
        lbs_rebuilt: rebuilt.2,
    }
}

#[test]
fn one_lb_changed_among_1000_recompiles_one_lb() {
    let mut lab = benchkit::overlay_lab(999, 10);
    let first = lab.w.recompile("node1").unwrap();
    assert!(first.full);
    assert_eq!(first.lbs_rebuilt, 1000);
    assert_eq!(
        lab.w.recompile("node1").unwrap(),
        CompileStats::default(),
        "nothing changed"
    );
    benchkit::touch_one_lb(&mut lab, 500, 9090);
    assert_eq!(lab.w.recompile("node1").unwrap(), stats((0, 0, 1)));
    // The service still works after incremental compiles.
    assert!(lab
        .send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(45000))
        .completed());
}

#[test]
fn one_endpoint_change_recompiles_its_port_or_the_lbs_it_backs() {
    let mut lab = benchkit::overlay_lab(99, 10);
    lab.w.recompile("node1").unwrap();
    // A local pod's policies change (kube-proxy / Calico): one port program.
    let b = *lab
        .w
        .hns_ref("node1")
        .unwrap()
        .endpoints
        .iter()
        .find(|(_, e)| e.ip_configurations[0].ip_address == "10.244.1.11")
        .unwrap()
        .0;
    lab.set_endpoint_policies(
        "node1",
        b,
        json!([{"Type": "ACL", "Settings": {"Action": "Allow", "Direction": "Out", "Priority": 100}}]),
    );
    assert_eq!(lab.w.recompile("node1").unwrap(), stats((1, 0, 0)));
    // A remote backend goes away: the one LB naming it is recompiled, no endpoint is.
    let backend: Guid = lab.w.hns_ref("node1").unwrap().load_balancers[&Guid(0xB000_0000 + 7)]
        .host_compute_endpoints[0]
        .parse()
        .unwrap();
    lab.w
        .hns("node1")
        .unwrap()
        .delete_object(ObjectKind::Endpoint, &backend)
        .ok();
    let hns = lab.w.hns("node1").unwrap();
    if hns.endpoints.contains_key(&backend) {
        // HNS refuses to delete an endpoint an LB uses: take it out of the state directly.
        hns.endpoints.remove(&backend);
        hns.generation += 1;
    }
    assert_eq!(lab.w.recompile("node1").unwrap(), stats((0, 0, 1)));
    // A container stops: its port is recompiled (it no longer receives).
    lab.stop_container("node1", "B");
    assert_eq!(lab.w.recompile("node1").unwrap(), stats((1, 0, 0)));
}

fn sample_hns() -> Hns {
    let lab = benchkit::overlay_lab(40, 3);
    lab.w.hns_ref("node1").unwrap().clone()
}

#[test]
fn incremental_compile_equals_a_full_rebuild() {
    let mut hns = sample_hns();
    let mut prog = compile(&hns, &info(), None);
    let check = |hns: &Hns, prog: &HostProgram, what: &str| {
        let fresh = compile(hns, &info(), None);
        assert_eq!(tables(prog), tables(&fresh), "after {what}");
        // Who wins a key two LBs claim (the lower GUID, as a full compile orders them).
        let vip = "10.96.0.50".parse().unwrap();
        let (mut n, mut m) = (0, 0);
        assert_eq!(
            prog.lbs.find(6, vip, 80, false, &mut n).map(|x| x.lb),
            fresh.lbs.find(6, vip, 80, false, &mut m).map(|x| x.lb),
            "after {what}"
        );
    };
    // 1. An LB changes VIP and backends.
    let id = Guid(0xB000_0000 + 3);
    let lb = hns.load_balancers.get_mut(&id).unwrap();
    lb.frontend_vips = vec!["10.96.0.50".into()]; // clashes with the service: the lower GUID wins
    lb.host_compute_endpoints.pop();
    hns.generation += 1;
    prog = compile(&hns, &info(), Some(&prog));
    assert!(!prog.stats.full);
    check(&hns, &prog, "an LB change");
    // 2. The clash ends (LB removed).
    hns.load_balancers.remove(&id);
    hns.generation += 1;
    prog = compile(&hns, &info(), Some(&prog));
    check(&hns, &prog, "an LB removal");
    // 3. A remote endpoint takes a local pod's IP (P12: local wins), then leaves.
    let (rid, mut remote) = hns
        .endpoints
        .iter()
        .find(|(_, e)| e.flags & 1 != 0)
        .map(|(k, v)| (*k, v.clone()))
        .unwrap();
    remote.ip_configurations[0].ip_address = "10.244.1.11".into();
    hns.endpoints.insert(rid, remote);
    hns.generation += 1;
    prog = compile(&hns, &info(), Some(&prog));
    check(&hns, &prog, "a remote endpoint on a local IP");
    hns.endpoints.remove(&rid);
    hns.generation += 1;
    prog = compile(&hns, &info(), Some(&prog));
    check(&hns, &prog, "a remote endpoint removal");
    // 4. A network policy changes: a full rebuild.
    let net = *hns.networks.keys().next().unwrap();
    hns.networks.get_mut(&net).unwrap().name = "renamed".into();
    hns.generation += 1;
    prog = compile(&hns, &info(), Some(&prog));
    assert!(prog.stats.full);
    check(&hns, &prog, "a network change");
}

#[test]
fn untouched_ports_keep_their_generation_when_only_their_neighbour_changes() {
    let mut lab = benchkit::l2bridge_lab(0);
    // B → A established, then A's policies change: B's outbound flow stays on the fast path.
    assert!(lab
        .send(ctr("B"), "10.244.1.10", L4::Tcp, 80, Some(41000))
        .completed());
    lab.w.recompile("node1").unwrap();
    let a = *lab
        .w
        .hns_ref("node1")
        .unwrap()
        .endpoints
        .iter()
        .find(|(_, e)| e.ip_configurations[0].ip_address == "10.244.1.10")
        .unwrap()
        .0;
    lab.set_endpoint_policies(
        "node1",
        a,
        json!([{"Type": "ACL", "Settings": {"Action": "Allow", "Direction": "In", "Priority": 100}}]),
    );
    assert_eq!(lab.w.recompile("node1").unwrap(), stats((1, 0, 0)));
    let c0 = lab.w.counters();
    assert!(lab
        .send(ctr("B"), "10.244.1.10", L4::Tcp, 80, Some(41000))
        .completed());
    let c1 = lab.w.counters();
    // A's port re-checks its In flow once, which re-installs the reply's Out entry (unified
    // flow); B's port does not re-check anything.
    assert_eq!(c1.slow_path - c0.slow_path, 1, "{c0:?} -> {c1:?}");
    assert_eq!(c1.fast_path - c0.fast_path, 3, "{c0:?} -> {c1:?}");
}

/// Through the HNS API the change journal names each change, so a recompile examines only the
/// objects a change touched, at 100 and at 10,000 endpoints alike, and still equals a full
/// rebuild.
#[test]
fn a_journalled_change_examines_only_what_it_touched() {
    for lbs in [10, 1_000] {
        let w = KubeProxyWorkload::new(lbs, 10);
        let mut hns = Hns::new(HostSettings::default(), 1);
        let p = w.program(&mut hns).unwrap();
        let mut prog = compile(&hns, &info(), None);
        assert!(prog.stats.full && !prog.scan.journal);
        let mut step = |hns: &mut Hns, what: &str, change: &dyn Fn(&mut Hns)| {
            change(hns);
            update(&mut prog, hns, &info());
            assert_eq!(
                tables(&prog),
                tables(&compile(hns, &info(), None)),
                "{what} ({lbs} LBs)"
            );
            (prog.stats, prog.scan)
        };
        let journal = |examined| ChangeScan {
            examined,
            journal: true,
        };
        // One service's backends rotate and its target port changes: that LB alone.
        let got = step(&mut hns, "an LB update", &|h| {
            w.update_lb(h, &p, 3, 9090).unwrap()
        });
        assert_eq!(got, (stats((0, 0, 1)), journal(1)), "{lbs} LBs");
        // A remote backend of service 5 is deleted (the LB loses it): the LB, no endpoint.
        let gone = p.endpoints[5 * 10 + 1].clone();
        let got = step(&mut hns, "a remote endpoint delete", &|h| {
            h.delete_endpoint(&gone).unwrap();
        });
        assert_eq!(got, (stats((0, 0, 1)), journal(2)), "{lbs} LBs");
        // A new remote endpoint: compiled alone.
        let doc = json!({"HostComputeNetwork": p.network, "IpConfigurations": [{"IpAddress": "10.250.9.9"}],
            "MacAddress": "02-11-0a-fa-09-09", "Flags": 1,
            "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.99"}}],
            "SchemaVersion": {"Major": 2, "Minor": 0}});
        let got = step(&mut hns, "a remote endpoint create", &|h| {
            h.create_endpoint("", &doc.to_string()).unwrap();
        });
        assert_eq!(got, (stats((0, 1, 0)), journal(1)), "{lbs} LBs");
        // Nothing changed: nothing examined.
        let got = step(&mut hns, "no change", &|_| {});
        assert_eq!(got, (stats((0, 0, 0)), journal(0)), "{lbs} LBs");
    }
}
