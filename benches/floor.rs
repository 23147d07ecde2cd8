//! The floor: the least work any simulated hop must do on an established flow — parse the
//! headers of a real packet, one hash lookup on its 5-tuple, rewrite an address (and port),
//! update the checksums incrementally. Every other per-hop cost in hnsim sits on top of this.
//!
//! Also measured, for scale: the same on the inner frame of a VXLAN packet, and a full
//! checksum-verifying decode / encode of a 1400-byte segment.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hnsim_model::Mac;
use hnsim_sim::packet::*;
use hnsim_sim::wire::{self, FiveTuple, Side, VXLAN_OUTER_LEN};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

/// What a flow-table hit does: DNAT to a backend (as kube-proxy's ClusterIP LB does).
#[derive(Copy, Clone)]
struct Rewrite {
    dst: Ipv4Addr,
    dst_port: u16,
}

fn syn_to_vip(data_len: u16, outer: Option<VxlanOuter>) -> Packet {
    Packet {
        outer,
        eth: EthHeader {
            src: Mac([0x0e, 0x2a, 0x0a, 0xf4, 0x01, 0x0a]),
            dst: Mac([0x00, 0x15, 0x5d, 0xaa, 0x00, 0x12]),
        },
        payload: Payload::Ip {
            ip: IpHeader {
                src: IpAddr::V4(Ipv4Addr::new(10, 244, 1, 10)),
                dst: IpAddr::V4(Ipv4Addr::new(10, 96, 0, 50)),
                ttl: 128,
                dont_fragment: true,
                ident: 1,
            },
            l4: Transport::Tcp {
                src_port: 40000,
                dst_port: 80,
                seq: 1,
                ack: 1,
                flags: tcp_flags::ACK | tcp_flags::PSH,
            },
        },
        data_len,
    }
}

/// A table of `n` flows plus the two that the benchmark frame alternates between (VIP:80 →
/// backend:8080 and back), so every iteration hits and rewrites.
fn flow_table(n: u32) -> HashMap<FiveTuple, Rewrite> {
    let mut t = HashMap::with_capacity(n as usize + 2);
    for i in 0..n {
        let key = FiveTuple {
            src: IpAddr::V4(Ipv4Addr::from(0x0af4_0000 + i)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 96, 0, 50)),
            protocol: proto::TCP,
            src_port: 30000 + (i % 30000) as u16,
            dst_port: 80,
        };
        t.insert(
            key,
            Rewrite {
                dst: Ipv4Addr::new(10, 244, 2, 10),
                dst_port: 8080,
            },
        );
    }
    let key = |dst, dst_port| FiveTuple {
        src: IpAddr::V4(Ipv4Addr::new(10, 244, 1, 10)),
        dst: IpAddr::V4(dst),
        protocol: proto::TCP,
        src_port: 40000,
        dst_port,
    };
    let vip = Ipv4Addr::new(10, 96, 0, 50);
    let backend = Ipv4Addr::new(10, 244, 2, 10);
    t.insert(
        key(vip, 80),
        Rewrite {
            dst: backend,
            dst_port: 8080,
        },
    );
    t.insert(
        key(backend, 8080),
        Rewrite {
            dst: vip,
            dst_port: 80,
        },
    );
    t
}

/// One hop on `frame`: peek, look up, rewrite. Returns whether the flow was found.
#[inline(always)]
fn hop(frame: &mut [u8], table: &HashMap<FiveTuple, Rewrite>) -> bool {
    let Ok((at, key)) = wire::peek(frame) else {
        return false;
    };
    let Some(rw) = table.get(&key) else {
        return false;
    };
    wire::rewrite_ipv4_addr(frame, &at, Side::Dst, rw.dst).is_ok()
        && wire::rewrite_port(frame, &at, Side::Dst, rw.dst_port).is_ok()
}

fn floor(c: &mut Criterion) {
    let table = flow_table(10_000);
    let mut g = c.benchmark_group("floor");
    g.throughput(Throughput::Elements(1));

    let mut frame = Vec::new();
    wire::encode(&syn_to_vip(64, None), &mut frame).expect("encode");
    assert!(hop(&mut frame, &table), "the benchmark flow must hit");
    g.bench_function("peek_lookup_rewrite", |b| {
        b.iter(|| black_box(hop(black_box(&mut frame), &table)))
    });

    let outer = VxlanOuter {
        eth: EthHeader {
            src: Mac([0x00, 0x15, 0x5d, 0xaa, 0x00, 0x11]),
            dst: Mac([0x00, 0x15, 0x5d, 0xaa, 0x00, 0x12]),
        },
        src: Ipv4Addr::new(10, 0, 0, 11),
        dst: Ipv4Addr::new(10, 0, 0, 12),
        ttl: 128,
        src_port: 50123,
        dst_port: wire::VXLAN_PORT,
        vni: 4096,
    };
    let mut vx = Vec::new();
    wire::encode(&syn_to_vip(64, Some(outer)), &mut vx).expect("encode");
    g.bench_function("vxlan_peek_outer_then_inner", |b| {
        b.iter(|| {
            let f = black_box(&mut vx[..]);
            let is_vxlan = matches!(wire::peek(f), Ok((_, k)) if k.dst_port == wire::VXLAN_PORT);
            black_box(is_vxlan && hop(&mut f[VXLAN_OUTER_LEN..], &table))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("wire");
    let big = syn_to_vip(1400, Some(outer));
    let mut buf = Vec::with_capacity(2048);
    wire::encode(&big, &mut buf).expect("encode");
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("decode_verify_1400", |b| {
        b.iter(|| black_box(wire::decode(black_box(&buf))))
    });
    g.bench_function("encode_1400", |b| {
        b.iter_batched_ref(
            || Vec::with_capacity(2048),
            |out| wire::encode(black_box(&big), out),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, floor);
criterion_main!(benches);
