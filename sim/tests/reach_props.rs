//! `reach` checked against concrete packets: on every library scenario, packets sent through
//! the same path `hnsim trace` uses (`World::send`, with tracing on, unlike the sweep) get
//! exactly an outcome the sweep predicted for their class (one per backend where an LB spreads
//! the class; the packet's own backend is the dataplane's hash of its tuple). Random packets
//! (proptest: protocol, destination port, source port, and any address of an address atom)
//! and both ends of every class in both port dimensions (and the last and a middle address of
//! every atom). If a rule split a class or an atom the collection of boundaries missed, the end
//! of that class or atom away from its witness would disagree; if a backend were missing from
//! a class, a packet hashed to it would. A second LB choice hashes alike for a witness and a
//! concrete packet, so every combination of backends is checked on S5 by name.

use hnsim_sim::reach::{sweep, sweep_every_tail, sweep_limited, Checkpoint, Outcome, Proto, Reach};
use hnsim_sim::scenario::runner::{execute, RunOptions, Runner};
use hnsim_sim::scenario::{load_file, load_str, synth, Loaded};
use hnsim_sim::trace::L4;
use hnsim_sim::world::{Place, SendRequest};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

struct Swept {
    file: String,
    /// Every number in the scenario's text, with its neighbours: the ports its author wrote
    /// (listeners, ACL ranges, Service and NodePorts), found without the code under test.
    written: Vec<u16>,
    runner: Runner<'static>,
    reach: Reach,
    start: Checkpoint,
    /// Where each source label sends from.
    places: BTreeMap<String, Place>,
}

fn scenario_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("scenarios folder")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scenario_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

/// Every library scenario that loads and sets up, swept from all sources to all destinations.
fn sweep_library() -> Vec<Swept> {
    let mut files = Vec::new();
    scenario_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios"),
        &mut files,
    );
    let mut out = Vec::new();
    for f in files {
        let Ok(l) = load_file(&f) else { continue };
        let l: &'static Loaded = Box::leak(Box::new(l));
        let opts = RunOptions {
            setup_only: true,
            ..Default::default()
        };
        let Some(mut runner) = execute(l, &opts).1 else {
            continue;
        };
        let start = Checkpoint::take(&runner.world);
        let reach = runner.reach(&[], &[]).expect("sweep");
        let places = runner
            .reach_sources(&[])
            .expect("sources")
            .into_iter()
            .map(|s| (s.label, s.place))
            .collect();
        out.push(Swept {
            places,
            written: numbers_near(&l.text),
            file: f.display().to_string(),
            runner,
            reach,
            start,
        });
    }
    out
}

fn numbers_near(text: &str) -> Vec<u16> {
    let mut v: Vec<u16> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|d| d.parse::<u32>().ok())
        .filter(|n| (1..=65535).contains(n))
        .flat_map(|n| [n - 1, n, n + 1])
        .filter_map(|n| u16::try_from(n).ok())
        .filter(|n| *n > 0)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Send one concrete packet of pair `pair` (source port `sport`, `None`: the world's next
/// ephemeral port) from the sweep's starting state and compare.
fn check(s: &mut Swept, pair: usize, proto: Proto, sport: Option<u16>, port: u16) -> Result<(), String> {
    let dst = s.reach.pairs[pair].addr;
    check_to(s, pair, dst, proto, sport, port)
}

/// [`check`], to `dst`: the pair's address, or any address of its atom.
fn check_to(
    s: &mut Swept,
    pair: usize,
    dst: IpAddr,
    proto: Proto,
    sport: Option<u16>,
    port: u16,
) -> Result<(), String> {
    let p = &s.reach.pairs[pair];
    let from_port = sport.unwrap_or(s.start.ephemeral_port());
    let want = p
        .predict(proto, from_port, port)
        .expect("every port is in a class")
        .clone();
    let (from, label, span) = (p.from.clone(), p.to.clone(), p.span);
    assert!(span.is_none_or(|sp| sp.contains(dst)) && (span.is_some() || dst == p.addr));
    let req = SendRequest {
        from: s.places[&from].clone(),
        dst,
        proto: match proto {
            Proto::Tcp => L4::Tcp,
            Proto::Udp => L4::Udp,
            Proto::Icmp => L4::Icmp,
        },
        src_port: sport,
        dst_port: if proto == Proto::Icmp { 0 } else { port },
        data_len: 64,
        dont_fragment: false,
        ttl: None,
    };
    s.start.reset(&mut s.runner.world);
    s.runner.world.set_tracing(true);
    let mut got = match s.runner.world.send(&req) {
        Ok(ex) => s.runner.reach_outcome(&ex),
        // A source the world refuses (its container lost its endpoint): the sweep says so too.
        Err(e) => Outcome::refused(e.to_string()),
    };
    if let Some(sp) = &span {
        got.quote_span(dst, sp);
    }
    if !want.admits(&got) {
        return Err(format!(
            "{}: {from} :{from_port} → {dst} ({label}) {}/{port}: reach predicted {want}, the packet got {got}",
            s.file,
            proto.name()
        ));
    }
    Ok(())
}

#[test]
fn both_ends_of_every_class_and_every_written_port_get_the_predicted_outcome() {
    let mut all = sweep_library();
    assert!(all.len() >= 40, "only {} library scenarios set up", all.len());
    let (mut checked, mut atoms) = (0, 0);
    for s in &mut all {
        for i in 0..s.reach.pairs.len() {
            let classes = s.reach.pairs[i].classes.clone();
            for (c, _) in classes {
                // Both ends of the class in each port dimension; without a source split, the
                // ephemeral port a trace packet takes and the lowest and highest source ports.
                let srcs = match c.src {
                    Some(r) => vec![Some(r.lo), Some(r.hi)],
                    None => vec![None, Some(1), Some(65535)],
                };
                let dsts = match c.ports {
                    Some(r) => vec![r.lo, r.hi],
                    None => vec![0],
                };
                for sport in &srcs {
                    for port in &dsts {
                        check(s, i, c.proto, *sport, *port).unwrap();
                        checked += 1;
                    }
                }
                // An address atom: its last address and one in the middle too (its witness
                // went to the first).
                if let Some(sp) = s.reach.pairs[i].span {
                    for dst in [sp.hi, sp.nth(sp.width() / 2)] {
                        check_to(s, i, dst, c.proto, srcs[0], dsts[dsts.len() - 1]).unwrap();
                        atoms += 1;
                    }
                }
            }
            for port in s.written.clone() {
                for proto in [Proto::Tcp, Proto::Udp] {
                    check(s, i, proto, None, port).unwrap();
                    check(s, i, proto, Some(port), 80).unwrap();
                    checked += 2;
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} packets checked");
    assert!(atoms > 1000, "only {atoms} packets to other addresses of an atom");
}

#[test]
fn random_packets_get_the_outcome_of_their_class() {
    let all = RefCell::new(sweep_library());
    let n = all.borrow().len();
    let mut runner = TestRunner::new(Config {
        cases: 1024,
        failure_persistence: None,
        ..Config::default()
    });
    // Half the ports (destination and source, drawn apart) anywhere, half among the ports the
    // scenario's author wrote down (and their neighbours): a class wrongly merged across a
    // rule's edge is caught there.
    let port = || {
        prop_oneof![
            (1..=u16::MAX).prop_map(Err),
            any::<prop::sample::Index>().prop_map(Ok)
        ]
    };
    // The destination: the pair's address, or a random address of its atom.
    let strategy = (
        0..n,
        any::<prop::sample::Index>(),
        0..3u8,
        port(),
        port(),
        any::<u128>(),
    );
    runner
        .run(&strategy, |(si, pair, proto, port, sport, offset)| {
            let mut all = all.borrow_mut();
            let s = &mut all[si];
            if s.reach.pairs.is_empty() {
                return Ok(());
            }
            let pair = pair.index(s.reach.pairs.len());
            let proto = [Proto::Tcp, Proto::Udp, Proto::Icmp][proto as usize];
            let pick = |p: Result<prop::sample::Index, u16>| match p {
                Err(any) => any,
                Ok(i) if !s.written.is_empty() => s.written[i.index(s.written.len())],
                Ok(_) => 1,
            };
            let (port, sport) = (pick(port), pick(sport));
            let dst = match s.reach.pairs[pair].span {
                Some(sp) => sp.nth(offset % sp.width().saturating_add(1).max(1)),
                None => s.reach.pairs[pair].addr,
            };
            check_to(s, pair, dst, proto, Some(sport), port).map_err(TestCaseError::fail)
        })
        .unwrap();
}

#[test]
fn sharing_witness_tails_between_classes_changes_no_outcome() {
    // A sweep takes a backend's outcome from an earlier class of the same source with the same
    // tail (`reach::follow`); one that sends every witness must agree, on a synthetic cluster
    // whose Services share backends and on every library scenario.
    let text = synth::overlay_cluster(2, 6, 12, 4);
    let l: &'static Loaded = Box::leak(Box::new(load_str("cluster", &text).expect("loads")));
    let opts = RunOptions {
        setup_only: true,
        ..Default::default()
    };
    let mut runners = vec![execute(l, &opts).1.expect("sets up")];
    runners.extend(sweep_library().into_iter().map(|s| s.runner));
    let label = |raw: &str| raw.to_string();
    let (mut shared_total, mut every_total) = (0, 0);
    for r in &mut runners {
        let sources = r.reach_sources(&[]).expect("sources");
        let targets = r.reach_targets(&[]).expect("targets");
        let shared = sweep(&mut r.world, &sources, &targets, &label);
        let every = sweep_every_tail(&mut r.world, &sources, &targets, &label);
        for (x, y) in shared.pairs.iter().zip(&every.pairs) {
            for (a, b) in x.classes.iter().zip(&y.classes) {
                assert!(
                    a == b,
                    "{} → {} ({}) {:?}: shared {}, every witness {}",
                    x.from,
                    x.addr,
                    x.to,
                    a.0,
                    a.1.long(),
                    b.1.long()
                );
            }
        }
        assert_eq!(shared.pairs, every.pairs);
        shared_total += shared.witnesses;
        every_total += every.witnesses;
    }
    assert!(shared_total < every_total, "no witness was shared");
}

#[test]
fn a_way_through_two_spreading_lbs_lists_every_combination_up_to_the_bound() {
    // S5: win1 connects from port 30080 (a NodePort) to win2's NodePort 30080. win2's LB
    // spreads the request over web-a and web-c; the reply arrives at win1:30080, where win1's
    // NodePort LB claims it and spreads it over the same two: 2 × 2 ways.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/kubernetes/s5-nodeport-etp.yaml");
    let l: &'static Loaded = Box::leak(Box::new(load_file(&path).expect("loads")));
    let opts = RunOptions {
        setup_only: true,
        ..Default::default()
    };
    let mut r = execute(l, &opts).1.expect("sets up");
    let class_of = |reach: &Reach| {
        let pair = &reach.pairs[0];
        let (c, o) = pair
            .classes
            .iter()
            .find(|(c, _)| c.proto == Proto::Tcp && c.contains(Proto::Tcp, 30080, 30080) && c.src.is_some())
            .expect("tcp/30080 from port 30080");
        (*c, o.clone())
    };
    let reach = r.reach(&["win1".into()], &["win2".into()]).expect("sweep");
    assert!(reach.capped.is_empty(), "{:?}", reach.capped);
    let (c, all) = class_of(&reach);
    let ways: std::collections::BTreeSet<(Option<String>, Option<String>)> = all
        .iter()
        .map(|o| (o.delivered_to.clone(), o.reply.clone()))
        .collect();
    assert_eq!(ways.len(), 4, "{c:?}: {}", all.long());
    // With a bound of 3 outcomes per class the cut is reported, naming the class.
    let sources = r.reach_sources(&["win1".into()]).expect("source");
    let targets = r.reach_targets(&["win2".into()]).expect("target");
    let label = |raw: &str| raw.to_string();
    let cut = sweep_limited(&mut r.world, &sources, &targets, &label, 3);
    let (_, listed) = class_of(&cut);
    assert_eq!(listed.iter().count(), 3);
    assert!(
        cut.capped.iter().any(|k| k.class == c && k.listed == 3),
        "{:?}",
        cut.capped
    );
    assert!(hnsim_sim::reach::render::text(&cut).contains("not every combination of LB backends followed"));
}
