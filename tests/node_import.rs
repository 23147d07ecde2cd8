//! `hnsim node import`, `hnsim doctor` and `hnsim node diff` on the node fixtures in
//! tests/data/nodes (collectlogs.ps1-shaped folders: UTF-16LE files, table-then-JSON files, a
//! System.Object[] truncation, a kube-proxy log, a v1 reply), on the real documents in
//! tests/data/hns-dumps, and on bad input. The imported scenarios run, trace and graph; the
//! traces and the doctor's reports are pinned as snapshots.

use std::path::PathBuf;
use std::process::Output;

mod common;
use common::hnsim;

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("node_import");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Import a fixture folder into a scenario file; returns its path.
fn import(node: &str) -> String {
    let p = tmp(&format!("{node}.yaml"));
    let path = p.display().to_string();
    let o = hnsim(&[
        "node",
        "import",
        &format!("tests/data/nodes/{node}"),
        "--out",
        &path,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    path
}

/// (fixture, from, to, proto, what the trace must show)
const TRACES: &[(&str, &str, &str, &str)] = &[
    ("overlay-flannel", "ep-10-244-1-6", "10.96.0.20:80", "tcp"),
    ("l2bridge", "ep-10-244-3-6", "10.244.3.5:80", "tcp"),
    ("stale-remote-endpoint", "ep-10-240-0-20", "10.96.0.10:53", "udp"),
    ("after-hns-restart", "node", "10.96.0.10:53", "udp"),
];

#[test]
fn every_fixture_imports_runs_traces_and_graphs() {
    for (node, from, to, proto) in TRACES {
        let scen = import(node);
        let o = hnsim(&["run", &scen]);
        assert_eq!(o.status.code(), Some(0), "{node}: {}{}", out(&o), err(&o));
        let o = hnsim(&["graph", &scen]);
        assert_eq!(o.status.code(), Some(0), "{node}: {}", err(&o));
        assert!(out(&o).starts_with("graph hnsim {"), "{node}");
        let o = hnsim(&["trace", &scen, "--from", from, "--to", to, "--proto", proto]);
        // None of these packets is delivered to a listener: the fixtures hold no containers
        // (tcp gets a RST) or show broken nodes; exit 1 says so.
        assert_eq!(o.status.code(), Some(1), "{node}: {}", err(&o));
        insta::assert_snapshot!(format!("node_trace_{node}"), out(&o));
    }
}

#[test]
fn the_traces_show_what_is_wrong() {
    let scen = import("stale-remote-endpoint");
    let o = hnsim(&[
        "trace",
        &scen,
        "--from",
        "ep-10-240-0-20",
        "--to",
        "10.96.0.10:53",
        "--proto",
        "udp",
    ]);
    let t = out(&o);
    // The DNS LB picks the stale remote endpoint; the packet leaves for a node that is gone.
    assert!(
        t.contains("backend 10.240.0.50 (2462B2D1-C402-4024-9C86-5A6903AF7759)"),
        "{t}"
    );
    assert!(t.contains("NoRoute"), "{t}");
    let scen = import("overlay-flannel");
    let o = hnsim(&["trace", &scen, "--from", "ep-10-244-1-6", "--to", "10.244.2.7:80"]);
    assert!(out(&o).contains("via PA 10.0.0.12"), "{}", out(&o));
}

#[test]
fn the_written_scenario_says_what_was_assumed_and_what_was_lost() {
    let p = import("l2bridge");
    let text = std::fs::read_to_string(&p).unwrap();
    // No ManagementIP / ProviderAddress on an L2Bridge dump: the documented default.
    assert!(text.contains("node IP 10.0.0.4 assumed"), "{text}");
    assert!(text.contains("underlay segment 10.0.0.0/24 assumed"));
    // The depth-2 paste lost its exception list; the full v2 copy of the endpoint is kept.
    assert!(
        text.contains("cut Policies[0].ExceptionList to System.Object[]"),
        "{text}"
    );
    assert!(text.contains("10.0.0.0/8"));
    // Flags override the defaults and leave the assumption list.
    let q = tmp("l2bridge-flags.yaml").display().to_string();
    let o = hnsim(&[
        "node",
        "import",
        "tests/data/nodes/l2bridge",
        "--out",
        &q,
        "--node-ip",
        "192.168.5.13",
        "--underlay",
        "192.168.5.0/24",
        "--node-mac",
        "00-15-5D-01-02-03",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = std::fs::read_to_string(&q).unwrap();
    assert!(
        text.contains("ip: 192.168.5.13") && text.contains("mac: 00-15-5D-01-02-03"),
        "{text}"
    );
    assert!(
        !text.contains("assumed (no --underlay)") && !text.contains("no --node-mac"),
        "{text}"
    );
    // The same dump imports to the same bytes.
    let again = tmp("l2bridge-again.yaml").display().to_string();
    hnsim(&["node", "import", "tests/data/nodes/l2bridge", "--out", &again]);
    assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn doctor_reports_each_fixture() {
    for node in [
        "overlay-flannel",
        "l2bridge",
        "stale-remote-endpoint",
        "after-hns-restart",
    ] {
        let o = hnsim(&["doctor", &format!("tests/data/nodes/{node}")]);
        assert_eq!(o.status.code(), Some(1), "{node}: {}", err(&o));
        insta::assert_snapshot!(format!("node_doctor_{node}"), out(&o));
    }
    // The imported scenario gives the same findings as the dump (the import problems aside,
    // which only the dump reader knows).
    let scen = import("stale-remote-endpoint");
    let o = hnsim(&["doctor", &scen, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let checks: Vec<&str> = v[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        [
            "stale-remote-endpoint",
            "duplicate-lb-frontend",
            "lb-missing-backend",
            "outbound-nat-wide-exception",
            "outbound-nat-wide-exception"
        ]
    );
}

#[test]
fn doctor_is_silent_on_a_healthy_scenario_and_lists_its_checks() {
    let o = hnsim(&["doctor", "scenarios/overlay/s8-flannel-vxlan.yaml"]);
    let t = out(&o);
    assert_eq!(o.status.code(), Some(0), "{t}{}", err(&o));
    assert_eq!(
        t.lines()
            .filter(|l| l.ends_with("0 finding(s): 0 error(s), 0 warning(s), 0 info"))
            .count(),
        3,
        "{t}"
    );
    // kube-proxy's empty SourceVIP on L2Bridge is info only: reported, exit 0.
    let o = hnsim(&["doctor", "scenarios/kube-proxy/s3-clusterip-l2bridge.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains("info     empty-source-vip-l2bridge"),
        "{}",
        out(&o)
    );
    let o = hnsim(&["doctor", "--list-checks", "x"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(out(&o).lines().count(), 21);
    let o = hnsim(&["doctor", "tests/data/nodes/l2bridge", "--format", "xml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn node_diff_before_and_after_the_restart() {
    let o = hnsim(&[
        "node",
        "diff",
        "tests/data/nodes/overlay-flannel",
        "tests/data/nodes/after-hns-restart",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    insta::assert_snapshot!("node_diff_restart", out(&o));
    let o = hnsim(&[
        "node",
        "diff",
        "tests/data/nodes/l2bridge",
        "tests/data/nodes/l2bridge",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
}

#[test]
fn every_real_hns_document_imports() {
    for f in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/hns-dumps")).unwrap() {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let o = hnsim(&["node", "import", &p.display().to_string()]);
        if name.starts_with("docker-inspect") {
            // Not an HNS object: said so, exit 2.
            assert_eq!(o.status.code(), Some(2), "{name}");
            assert!(err(&o).contains("docker network inspect"), "{}", err(&o));
        } else {
            assert_eq!(o.status.code(), Some(0), "{name}: {}", err(&o));
            assert!(out(&o).contains("- restore:"), "{name}");
        }
    }
}

#[test]
fn bad_input_gets_a_message_never_a_panic() {
    let dir = tmp("garbage");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("empty.txt"), b"").unwrap();
    std::fs::write(
        dir.join("table.txt"),
        b"\xFF\xFEN\0a\0m\0e\0\r\0\n\0-\0-\0-\0-\0\r\0\n\0x\0\r\0\n\0",
    )
    .unwrap();
    std::fs::write(
        dir.join("binary.bin"),
        [0x4D, 0x5A, 0x90, 0x00, 0x03, 0xFF, 0xFE, 0x00],
    )
    .unwrap();
    std::fs::write(dir.join("noise.txt"), "lorem {ipsum\n".repeat(800_000)).unwrap();
    let d = dir.display().to_string();
    for cmd in [vec!["node", "import", &d], vec!["doctor", &d]] {
        let o = hnsim(&cmd);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}");
        let e = err(&o);
        assert!(!e.contains("panicked"), "{e}");
        for want in [
            "empty file",
            "a PowerShell table only",
            "binary data",
            "no HNS objects in",
        ] {
            assert!(e.contains(want), "{want}: {e}");
        }
    }
    let o = hnsim(&["node", "import", "tests/data/nodes/no-such-node"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("no-such-node"), "{}", err(&o));
}
