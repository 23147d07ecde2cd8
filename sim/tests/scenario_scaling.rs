//! The scenario engine's work per step does not grow with the size of the scenario: counted
//! (HNS calls the runner makes), never timed. Timings are in `benches/scenarios.rs`.

use hnsim_sim::scenario::runner::Runner;
use hnsim_sim::scenario::{load_str, synth};

/// HNS calls per step for each step of a synthetic overlay scenario with `pods` pods per node.
fn calls_per_step(pods: usize) -> Vec<(String, u64)> {
    let text = synth::overlay_pods(2, pods);
    let loaded = load_str("synthetic", &text).expect("synthetic scenario loads");
    let mut runner = Runner::new(&loaded, 1, false).expect("world builds");
    let mut out = Vec::new();
    for (i, step) in loaded.scenario.steps.iter().enumerate() {
        let before = runner.hns_calls();
        let rep = runner.step(i, step);
        assert!(rep.ok(), "step {} ({}) failed: {rep:?}", i + 1, rep.label);
        out.push((rep.kind.clone(), runner.hns_calls() - before));
    }
    out
}

#[test]
fn hns_calls_per_step_do_not_grow_with_named_objects() {
    let small = calls_per_step(10);
    let large = calls_per_step(1_000);
    // The last pods' steps: the same kinds, with 20 resp. 2,000 named objects defined before.
    let tail = |v: &[(String, u64)]| v[v.len() - 9..].to_vec();
    assert_eq!(tail(&small), tail(&large));
    // And what they are: create-endpoint = the create alone (`${vxN.ID}` names a network no
    // step changed since it was read); container and connect make no HNS call.
    let last = tail(&large);
    let kinds: Vec<(&str, u64)> = last.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    assert_eq!(&kinds[..2], &[("create-endpoint", 1), ("container", 0)]);
    assert_eq!(kinds.last(), Some(&("connect", 0)));
    let total: u64 = large.iter().map(|(_, n)| n).sum();
    assert!(total <= 2 * 1_000 + 20, "{total} HNS calls for 2,000 pods");
}

/// A bulk traffic step's report is the same size whatever the packet count: counts, one
/// check, the first packet's exchange.
#[test]
fn bulk_report_size_does_not_grow_with_packets() {
    let size = |packets: u64| {
        let text = format!(
            "{}  - send: {{from: c1_0, to: \"c2_0:8080\", src-port: 40000, packets: {packets}, expect: {{disposition: Delivered}}}}\n",
            synth::overlay_pods(2, 1)
        );
        let loaded = load_str("bulk", &text).expect("loads");
        let rep = hnsim_sim::scenario::runner::run(&loaded, &Default::default());
        assert!(
            rep.ok(),
            "{}",
            hnsim_sim::scenario::report::text(std::slice::from_ref(&rep))
        );
        let last = rep.steps.last().expect("steps");
        let bulk = last.bulk.as_ref().expect("a bulk summary");
        assert_eq!((bulk.sent, bulk.matched), (packets, packets));
        assert_eq!(last.exchanges.len(), 1);
        let mut rep = rep.clone();
        if let Some(b) = rep.steps.last_mut().and_then(|s| s.bulk.as_mut()) {
            b.virtual_ns = 0; // ~1 µs of virtual time per packet: digits, not memory
        }
        let json = serde_json::to_string(&rep).expect("json");
        json.replace(&packets.to_string(), "N").len()
    };
    assert_eq!(size(100), size(10_000));
}

/// Bytes of packet capture the world holds after a bulk step of `packets` packets.
fn capture_bytes(packets: u64, pcap: bool) -> usize {
    let text = format!(
        "{}  - send: {{from: c1_0, to: \"c2_0:8080\", src-port: 40000, packets: {packets}}}\n",
        synth::overlay_pods(2, 1)
    );
    let loaded = load_str("bulk", &text).expect("loads");
    let mut runner = Runner::new(&loaded, 1, pcap).expect("world builds");
    for (i, step) in loaded.scenario.steps.iter().enumerate() {
        assert!(runner.step(i, step).ok(), "step {}", i + 1);
    }
    let set = runner.world.pcap();
    set.points().map(|p| set.bytes(p).len()).sum()
}

/// Without `--pcap` nothing reads the captures, so a bulk run keeps none (each uplink frame
/// used to be encoded into a buffer that grew with every packet); with it, every frame is kept.
#[test]
fn bulk_traffic_keeps_no_capture_unless_asked() {
    assert_eq!((capture_bytes(10, false), capture_bytes(1_000, false)), (0, 0));
    let (small, large) = (capture_bytes(10, true), capture_bytes(1_000, true));
    assert!(
        large > small + 990 * 2 * 50,
        "captured {small} then {large} bytes"
    );
}

/// The run's topology (for `--format html`) is built only when pictures are asked for: without
/// them no topology snapshot is taken after traffic steps, so a run that alternates changes and
/// traffic stays linear.
#[test]
fn topology_is_kept_only_for_pictures() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/kube-proxy/s6-endpoint-lifecycle.yaml"
    );
    let loaded = hnsim_sim::scenario::load_file(std::path::Path::new(path)).unwrap();
    let plain = hnsim_sim::scenario::runner::run(&loaded, &Default::default());
    assert!(plain.ok() && plain.topology.is_none());
    let opts = hnsim_sim::scenario::runner::RunOptions {
        pictures: true,
        ..Default::default()
    };
    let drawn = hnsim_sim::scenario::runner::run(&loaded, &opts);
    assert!(drawn.topology.is_some_and(|t| !t.nodes.is_empty()));
    assert_eq!(plain.steps, drawn.steps);
}

/// Reading a scenario costs one pass over its text: the synthetic scenarios are in the fast YAML
/// reader's subset (no serde_yaml), and a run that meets no error never builds the position
/// index (a second pass that only errors need), whatever the size.
#[test]
fn a_scenario_is_read_once_and_the_index_only_built_for_errors() {
    use hnsim_sim::scenario::{yaml_subset, Scenario};
    for text in [
        synth::overlay_pods(2, 3),
        synth::overlay_pods(2, 300),
        synth::lb_steps(300, 10),
    ] {
        let (s, steps) = yaml_subset::read::<Scenario>(&text).expect("in the fast subset");
        assert_eq!(steps.map(|p| p.len()), Some(s.steps.len()));
        let loaded = load_str("synthetic", &text).expect("loads");
        let rep = hnsim_sim::scenario::runner::run(&loaded, &Default::default());
        assert!(rep.ok());
        assert!(
            !loaded.index.is_built(),
            "the index was built for a run without errors"
        );
    }
    // An error needs positions: the index is built then, and points at the step.
    let text = format!(
        "{}  - connect: {{from: nowhere, to: \"c2_0:8080\"}}\n",
        synth::overlay_pods(2, 1)
    );
    let l = hnsim_sim::scenario::parse_str("bad", &text).expect("parses");
    assert!(!l.index.is_built());
    let errs = hnsim_sim::scenario::validate::validate(&l).expect_err("an unknown place");
    assert!(l.index.is_built());
    assert_eq!(
        errs[0].pos.map(|p| p.line),
        Some(text.lines().count()),
        "{errs:?}"
    );
}
