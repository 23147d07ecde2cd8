//! What-if diffs that sweep only the pairs a port-ACL change touches (`reach::incremental`)
//! find exactly the changes two full sweeps find, and fall back to full sweeps for any other
//! change.

use hnsim_sim::reach::diff::{diff, Change};
use hnsim_sim::reach::incremental::PairFilter;
use hnsim_sim::reach::Target;
use hnsim_sim::scenario::runner::{execute, RunOptions, Runner};
use hnsim_sim::scenario::{load_file, load_str, synth, Loaded};
use std::collections::BTreeMap;
use std::path::Path;

fn set_up(l: &Loaded) -> Runner<'_> {
    let opts = RunOptions {
        setup_only: true,
        ..Default::default()
    };
    execute(l, &opts).1.expect("sets up")
}

/// `l` cut before step `cut` (1-based) and `l` whole.
fn sides(l: &Loaded, cut: usize) -> (Loaded, Loaded) {
    let mut before = l.clone();
    before.scenario.steps.truncate(cut - 1);
    (before, l.clone())
}

/// The diff from two full sweeps (every pair), as `hnsim diff` made it before the filter.
fn full_diff(b: &mut Runner, a: &mut Runner) -> Vec<Change> {
    let mut targets: BTreeMap<_, Target> = BTreeMap::new();
    for t in b
        .reach_targets(&[])
        .unwrap()
        .into_iter()
        .chain(a.reach_targets(&[]).unwrap())
    {
        targets.insert(t.addr, t);
    }
    let targets: Vec<Target> = targets.into_values().collect();
    let rb = b.reach_to(&[], &targets).unwrap();
    let ra = a.reach_to(&[], &targets).unwrap();
    diff(&rb, &ra)
}

/// (touched pairs only?, changes from `reach_both`, changes from full sweeps, pairs swept).
fn both(l: &Loaded, cut: usize) -> (bool, Vec<Change>, Vec<Change>, usize) {
    let (lb, la) = sides(l, cut);
    let (mut b, mut a) = (set_up(&lb), set_up(&la));
    let (rb, ra, partial) = Runner::reach_both(&mut b, &mut a, &[], &[]).unwrap();
    let full = full_diff(&mut b, &mut a);
    (partial.is_some(), diff(&rb, &ra), full, rb.pairs.len())
}

fn library(rel: &str) -> Loaded {
    load_file(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios")
            .join(rel),
    )
    .expect("loads")
}

/// A pod's ACLs replaced in a small cluster: only pairs from or towards that pod (directly or
/// through a Service it backs) are swept, and the changes are those of full sweeps.
#[test]
fn an_acl_change_in_a_cluster_sweeps_only_the_touched_pairs() {
    let mut text = synth::overlay_cluster(2, 3, 4, 2);
    text.push_str(
        "  - update-endpoint-policy:\n      host: node1\n      target: p1_0\n      policies:\n        - \
         {Type: ACL, Settings: {Protocols: \"6\", Action: Block, Direction: In, LocalPorts: \"8080\", Priority: 100}}\n        - \
         {Type: ProviderAddress, Settings: {ProviderAddress: 10.0.0.11}}\n",
    );
    let l = load_str("cluster-acl", &text).expect("loads");
    let cut = l.scenario.steps.len();
    let (lb, la) = sides(&l, cut);
    let (mut b, mut a) = (set_up(&lb), set_up(&la));
    assert_eq!(PairFilter::of(&mut b.world, &mut a.world).err(), None);
    let (partial, changes, full, swept) = both(&l, cut);
    assert!(partial, "an ACL-only change takes the touched-pairs path");
    assert!(
        !changes.is_empty(),
        "blocking tcp/8080 into p1_0 changes something"
    );
    assert_eq!(changes, full);
    // 2 × 3 pods + 2 hosts = 8 sources; 6 pods + 2 source VIPs + 4 VIPs + 2 hosts = 14
    // destinations: 112 pairs in all. Touched: from c1_0 (14), and towards p1_0 and the VIPs
    // it backs from the 7 other sources.
    assert!(swept < 8 * 14, "{swept} pairs swept");
    let through_p1_0 = |c: &Change| c.from == "c1_0" || c.to == "c1_0" || c.to.starts_with("10.96.");
    assert!(changes.iter().all(through_p1_0), "{changes:#?}");
}

/// S14's Calico policy applied to pod C: the same changes as full sweeps.
#[test]
fn s14_policy_change_matches_full_sweeps() {
    let l = library("acl/s14-calico-vxlan-policy.yaml");
    let cut = 1 + l
        .scenario
        .steps
        .iter()
        .position(|s| format!("{s:?}").contains("UpdateEndpointPolicy"))
        .expect("S14 updates pod C's policy");
    let (partial, changes, full, _) = both(&l, cut);
    assert!(partial);
    assert!(!changes.is_empty());
    assert_eq!(changes, full);
}

/// An LB deleted out of band is no ACL change: every pair is swept.
#[test]
fn other_changes_sweep_every_pair() {
    let l = library("kubernetes/lb-deleted-out-of-band.yaml");
    // Before step 2 (delete-loadbalancer) against through step 3 (the sync after it).
    let (lb, mut la) = sides(&l, 2);
    la.scenario.steps.truncate(3);
    let (mut b, mut a) = (set_up(&lb), set_up(&la));
    let differ = PairFilter::of(&mut b.world, &mut a.world).err();
    assert_eq!(differ.as_deref(), Some("host win1's load balancers"));
    let (_, _, partial) = Runner::reach_both(&mut b, &mut a, &[], &[]).unwrap();
    assert_eq!(partial, None);
    assert!(!diff(&b.reach(&[], &[]).unwrap(), &a.reach(&[], &[]).unwrap()).is_empty());
}
