//! The control plane at scale (issue 6): a kube-proxy node's programming — 10,000 ClusterIP
//! load balancers with 10 backends each (100,000 endpoints, one in ten local, the rest remote
//! with a ProviderAddress, on an Overlay network) — sent as JSON through `HnsBackend` to the
//! in-process model, and one in-place load balancer update on that state.
//!
//! The workload is `hnsim_model::state::workload::KubeProxyWorkload`, shared with the `scale`
//! example and `hnsim bench`, so all three measure the same calls. The caller's own work
//! (building each JSON document, reading the ID out of each create reply) is included, as it is
//! for a real caller. The 1,000-LB figure is there to show that the cost is linear.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hnsim_model::state::workload::KubeProxyWorkload;
use hnsim_model::state::{Hns, HostSettings};
use std::time::Duration;

fn program(c: &mut Criterion) {
    let mut g = c.benchmark_group("control_plane");
    // Each 10k-LB iteration takes seconds: ten samples, one iteration each.
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    for lbs in [1_000usize, 10_000] {
        let w = KubeProxyWorkload::new(lbs, 10);
        g.throughput(Throughput::Elements((w.endpoint_count() + lbs + 2) as u64));
        g.bench_function(format!("program_{lbs}_lbs_x_10_backends"), |b| {
            b.iter_batched(
                || Hns::new(HostSettings::default(), 1),
                |mut hns| {
                    let p = w.program(&mut hns).expect("the workload programs");
                    // Returned, so that freeing the state is not timed.
                    (hns, p)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn update(c: &mut Criterion) {
    let mut g = c.benchmark_group("control_plane");
    let w = KubeProxyWorkload::new(10_000, 10);
    let mut hns = Hns::new(HostSettings::default(), 1);
    let p = w.program(&mut hns).expect("the workload programs");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("lb_update_on_10k_lbs", |b| {
        b.iter(|| {
            i += 1;
            // Alternate services and target ports so every call changes the state.
            w.update_lb(&mut hns, &p, black_box((i * 37) % 10_000), 9000 + (i % 2) as u16)
                .expect("the update applies")
        })
    });
    g.finish();
}

criterion_group!(benches, program, update);
criterion_main!(benches);
