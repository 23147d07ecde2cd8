//! `reach` checked against concrete packets: on every library scenario, packets sent through
//! the same path `hnsim trace` uses (`Runner::send_one`, with tracing on, unlike the sweep) get
//! exactly the outcome the sweep predicted for their class. Random packets (proptest) and both
//! ends of every class. If a rule split a class the collection of boundaries missed, the end of
//! that class away from its witness would disagree.

use hnsim_sim::reach::{Checkpoint, Outcome, Proto, Reach};
use hnsim_sim::scenario::format::Proto as StepProto;
use hnsim_sim::scenario::runner::{execute, RunOptions, Runner};
use hnsim_sim::scenario::{load_file, Loaded};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

struct Swept {
    file: String,
    /// Every number in the scenario's text, with its neighbours: the ports its author wrote
    /// (listeners, ACL ranges, Service and NodePorts), found without the code under test.
    written: Vec<u16>,
    runner: Runner<'static>,
    reach: Reach,
    start: Checkpoint,
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
        out.push(Swept {
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

fn step_proto(p: Proto) -> StepProto {
    match p {
        Proto::Tcp => StepProto::Tcp,
        Proto::Udp => StepProto::Udp,
        Proto::Icmp => StepProto::Icmp,
    }
}

/// Send one concrete packet of pair `pair` from the sweep's starting state and compare.
fn check(s: &mut Swept, pair: usize, proto: Proto, port: u16) -> Result<(), String> {
    let p = &s.reach.pairs[pair];
    let want = p.predict(proto, port).expect("every port is in a class").clone();
    let to = match proto {
        Proto::Icmp => p.addr.to_string(),
        _ => std::net::SocketAddr::new(p.addr, port).to_string(),
    };
    let (from, label) = (p.from.clone(), p.to.clone());
    s.start.reset(&mut s.runner.world);
    let got = match s.runner.send_one(&from, &to, step_proto(proto)) {
        Ok(ex) => s.runner.reach_outcome(&ex),
        // A source the world refuses (its container lost its endpoint): the sweep says so too.
        Err(e) => Outcome::refused(e.to_string()),
    };
    if got != want {
        return Err(format!(
            "{}: {from} → {to} ({label}) {}: reach predicted {want}, the packet got {got}",
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
    let mut checked = 0;
    for s in &mut all {
        for i in 0..s.reach.pairs.len() {
            let classes = s.reach.pairs[i].classes.clone();
            for (c, _) in classes {
                match c.ports {
                    Some(r) => {
                        check(s, i, c.proto, r.lo).unwrap();
                        check(s, i, c.proto, r.hi).unwrap();
                        checked += 2;
                    }
                    None => {
                        check(s, i, c.proto, 0).unwrap();
                        checked += 1;
                    }
                }
            }
            for port in s.written.clone() {
                for proto in [Proto::Tcp, Proto::Udp] {
                    check(s, i, proto, port).unwrap();
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} packets checked");
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
    // Half the ports anywhere, half among the ports the scenario's author wrote down (and their
    // neighbours): a class wrongly merged across a rule's edge is caught there.
    let strategy = (
        0..n,
        any::<prop::sample::Index>(),
        0..3u8,
        prop_oneof![
            (1..=u16::MAX).prop_map(Err),
            any::<prop::sample::Index>().prop_map(Ok)
        ],
    );
    runner
        .run(&strategy, |(si, pair, proto, port)| {
            let mut all = all.borrow_mut();
            let s = &mut all[si];
            if s.reach.pairs.is_empty() {
                return Ok(());
            }
            let pair = pair.index(s.reach.pairs.len());
            let proto = [Proto::Tcp, Proto::Udp, Proto::Icmp][proto as usize];
            let port = match port {
                Err(any) => any,
                Ok(i) if !s.written.is_empty() => s.written[i.index(s.written.len())],
                Ok(_) => 1,
            };
            check(s, pair, proto, port).map_err(TestCaseError::fail)
        })
        .unwrap();
}
