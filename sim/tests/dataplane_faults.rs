//! Faults on virtual time (link down/up, host down/up, seeded loss, latency, partition) and HCS
//! container state on the packet path; the topology graph.

use hnsim_sim::testkit::{ctr, Lab};
use hnsim_sim::{Disposition, Fault, Place, L4};
use serde_json::json;

fn lab(seed: u64) -> Lab {
    let mut lab = Lab::common(seed);
    let n = lab.network(
        "node2",
        json!({"Name": "ext", "Type": "Transparent", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.0.0.0/24",
            "Routes": [{"NextHop": "10.0.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let t = lab.endpoint("node2", n, json!({"Name": "T", "IpConfigurations": [{"IpAddress": "10.0.0.60"}], "MacAddress": "00-15-5D-00-00-60"}));
    lab.container("node2", "T", &[t]);
    lab.listen(ctr("T"), L4::Tcp, 80);
    lab.listen(Place::Host("node1".into()), L4::Tcp, 22);
    lab
}

fn client() -> Place {
    Place::Station("client".into())
}

#[test]
fn transparent_container_is_on_the_underlay() {
    let mut lab = lab(1);
    let x = lab.tcp(client(), "10.0.0.60", 80);
    assert!(x.completed(), "{x}");
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:T"));
    // The container reaches the Internet through the underlay router with its own address.
    lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    let x = lab.tcp(ctr("T"), "203.0.113.50", 443);
    assert!(x.completed(), "{x}");
    assert_eq!(
        x.request.seen.unwrap().src,
        "10.0.0.60".parse::<std::net::IpAddr>().unwrap()
    );
}

#[test]
fn link_and_host_faults() {
    let mut lab = lab(2);
    lab.w.fault(Fault::LinkDown { host: "node1".into() }).unwrap();
    let x = lab.tcp(client(), "10.0.0.11", 22);
    assert!(!x.request.disposition.is_delivered(), "{x}");
    lab.w.fault(Fault::LinkUp { host: "node1".into() }).unwrap();
    assert!(lab.tcp(client(), "10.0.0.11", 22).completed());
    lab.w.fault(Fault::HostDown { host: "node2".into() }).unwrap();
    let x = lab.tcp(client(), "10.0.0.60", 80);
    assert!(!x.request.disposition.is_delivered(), "{x}");
    lab.w.fault(Fault::HostUp { host: "node2".into() }).unwrap();
    assert!(lab.tcp(client(), "10.0.0.60", 80).completed());
}

#[test]
fn partition_and_heal() {
    let mut lab = lab(3);
    assert!(lab.tcp(client(), "10.0.0.11", 22).completed());
    lab.w
        .fault(Fault::Partition {
            a: "client".into(),
            b: "node1".into(),
        })
        .unwrap();
    let x = lab.tcp(client(), "10.0.0.11", 22);
    assert!(!x.request.disposition.is_delivered(), "{x}");
    assert!(
        lab.tcp(client(), "10.0.0.60", 80).completed(),
        "other pairs unaffected"
    );
    lab.w
        .fault(Fault::Heal {
            a: "client".into(),
            b: "node1".into(),
        })
        .unwrap();
    assert!(lab.tcp(client(), "10.0.0.11", 22).completed());
}

#[test]
fn seeded_loss_is_deterministic_and_roughly_its_rate() {
    let run = |seed: u64| {
        let mut lab = lab(seed);
        lab.tcp(client(), "10.0.0.11", 22); // warm the neighbour caches
        lab.w
            .fault(Fault::Loss {
                segment: "lan".into(),
                percent: 30,
            })
            .unwrap();
        (0..200u16)
            .map(|i| {
                matches!(
                    lab.send(client(), "10.0.0.11", L4::Tcp, 22, Some(30000 + i))
                        .request
                        .disposition,
                    Disposition::Lost { .. }
                )
            })
            .collect::<Vec<bool>>()
    };
    let a = run(4);
    assert_eq!(a, run(4), "same seed, same losses");
    let lost = a.iter().filter(|l| **l).count();
    assert!((30..90).contains(&lost), "30% of 200 requests, got {lost}");
    assert_ne!(a, run(5), "another seed loses other packets");
}

#[test]
fn latency_moves_virtual_time() {
    let mut lab = lab(6);
    lab.tcp(client(), "10.0.0.11", 22);
    let t0 = lab.w.now();
    lab.tcp(client(), "10.0.0.11", 22);
    let base = lab.w.now() - t0;
    lab.w
        .fault(Fault::Latency {
            segment: "lan".into(),
            ns: 2_000_000,
        })
        .unwrap();
    let t1 = lab.w.now();
    lab.tcp(client(), "10.0.0.11", 22);
    assert_eq!(lab.w.now() - t1, base + 2 * 2_000_000, "one crossing each way");
}

#[test]
fn stopped_container_receives_nothing() {
    let mut lab = lab(7);
    // Created, not started: the namespace exists but the container does not run.
    let n = lab
        .w
        .hns("node2")
        .unwrap()
        .networks
        .keys()
        .next()
        .copied()
        .unwrap();
    let u = lab.endpoint("node2", n, json!({"Name": "U", "IpConfigurations": [{"IpAddress": "10.0.0.61"}], "MacAddress": "00-15-5D-00-00-61"}));
    lab.created_container("node2", "U", &[u]);
    let x = lab.tcp(client(), "10.0.0.61", 80);
    assert!(
        matches!(&x.request.disposition, Disposition::HostDown { node } if node == "container:U"),
        "{x}"
    );
    assert!(lab
        .try_send(hnsim_sim::SendRequest::new(
            ctr("U"),
            "10.0.0.1".parse().unwrap(),
            L4::Tcp,
            80
        ))
        .is_err());
    // Stopped: HCS detaches its endpoints, so nothing holds the address any more.
    lab.stop_container("node2", "T");
    let x = lab.tcp(client(), "10.0.0.60", 80);
    assert!(!x.request.disposition.is_delivered(), "{x}");
    assert!(lab
        .try_send(hnsim_sim::SendRequest::new(
            ctr("T"),
            "10.0.0.1".parse().unwrap(),
            L4::Tcp,
            80
        ))
        .is_err());
}

#[test]
fn graph_lists_the_topology() {
    let lab = lab(8);
    let g = lab.w.graph();
    let names: Vec<&String> = g.node_weights().collect();
    for want in [
        "host node1",
        "host node2",
        "router r1",
        "station client",
        "network ext (Transparent) on node2",
    ] {
        assert!(
            names.iter().any(|n| n.as_str() == want),
            "{want} missing from {names:?}"
        );
    }
    assert!(names.iter().any(|n| n.starts_with("endpoint T 10.0.0.60")));
}

#[test]
fn a_container_reaches_its_own_address_by_loopback() {
    let mut lab = lab(9);
    let x = lab.tcp(ctr("T"), "10.0.0.60", 80);
    assert!(x.completed(), "{x}");
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:T"));
    assert!(
        x.request.hops.iter().all(|h| h.node == "node2" && h.port == "T"),
        "{x}"
    );
    let x = lab.tcp(ctr("T"), "10.0.0.60", 81);
    assert!(
        matches!(x.request.disposition, Disposition::NoListener { .. }),
        "{x}"
    );
}
