//! Capture: host uplinks are always captured with real bytes (ARP, plain and VXLAN frames), named
//! ports on request; every frame decodes back to the packet the trace describes.

use hnsim_sim::packet::{ArpOp, Payload, Transport};
use hnsim_sim::testkit::{ctr, ip, Lab};
use hnsim_sim::{wire, L4};

/// Frames of one capture point (classic pcap: 24-byte header, 16-byte record headers).
fn frames(pcap: &[u8]) -> Vec<Vec<u8>> {
    assert!(pcap.len() >= 24, "pcap header");
    let mut out = Vec::new();
    let mut i = 24;
    while i + 16 <= pcap.len() {
        let len = u32::from_le_bytes(pcap[i + 8..i + 12].try_into().unwrap()) as usize;
        out.push(pcap[i + 16..i + 16 + len].to_vec());
        i += 16 + len;
    }
    assert_eq!(i, pcap.len(), "records fill the file");
    out
}

fn overlay() -> Lab {
    let mut lab = Lab::s8_overlay(31, None, serde_json::Value::Null);
    lab.listen(ctr("C"), L4::Tcp, 80);
    lab
}

#[test]
fn uplink_capture_holds_arp_and_the_vxlan_frame() {
    let mut lab = overlay();
    lab.w.enable_pcap(&["node2/C".to_string()]);
    let x = lab.send(ctr("A"), "10.244.2.10", L4::Tcp, 80, Some(40000));
    assert!(x.completed(), "{x}");
    let points: Vec<String> = lab.w.pcap().points().map(str::to_string).collect();
    assert!(points.contains(&"node1/uplink".to_string()), "{points:?}");
    assert!(points.contains(&"node2/C".to_string()), "{points:?}");
    let up: Vec<_> = frames(&lab.w.pcap().bytes("node1/uplink"))
        .iter()
        .map(|f| wire::decode(f).expect("captured frame decodes"))
        .collect();
    // ARP for the PA's MAC, then the encapsulated SYN, then the encapsulated SYN-ACK back.
    assert!(
        matches!(up[0].payload, Payload::Arp(a) if a.op == ArpOp::Request && a.target_ip == ip("10.0.0.12"))
    );
    assert!(up
        .iter()
        .any(|p| matches!(p.payload, Payload::Arp(a) if a.op == ArpOp::Reply)));
    let syn = up.iter().find(|p| p.outer.is_some()).expect("a VXLAN frame");
    let o = syn.outer.unwrap();
    assert_eq!(
        (o.src, o.dst, o.dst_port, o.vni),
        (ip("10.0.0.11"), ip("10.0.0.12"), 4789, 4096)
    );
    assert_eq!(syn.eth.dst.to_string(), "00-15-5D-AA-00-12");
    match syn.payload {
        Payload::Ip {
            ip: h,
            l4: Transport::Tcp {
                src_port, dst_port, ..
            },
        } => {
            assert_eq!(
                (h.src, h.dst, src_port, dst_port),
                (ip("10.244.1.10").into(), ip("10.244.2.10").into(), 40000, 80)
            );
        }
        other => panic!("inner is not TCP: {other:?}"),
    }
    let back = up
        .iter()
        .filter(|p| p.outer.is_some_and(|o| o.src == ip("10.0.0.12")))
        .count();
    assert_eq!(back, 1, "the SYN-ACK came back encapsulated");
    // The named port saw the decapsulated SYN with C's MAC.
    let port = frames(&lab.w.pcap().bytes("node2/C"));
    let syn_at_c = wire::decode(&port[0]).unwrap();
    assert!(syn_at_c.outer.is_none());
    assert_eq!(syn_at_c.eth.dst.to_string(), "0E-2A-0A-F4-02-0A");
}
