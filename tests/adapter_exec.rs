//! The adapter end to end: the conformance suite through `exec:` (`hnsim serve --stdio`), a
//! committed transcript, an edited one, and children that die or hang.

use hnsim_model::adapter::{
    self, is_adapter_fault, ExecBackend, ExecOptions, OpenOptions, Replay, BROKEN_PIPE, TIMEOUT,
};
use hnsim_model::backend::{HcnCall, HnsBackend};
use hnsim_model::conform::{self, Outcome, SuiteOptions};
use hnsim_model::hresult::HcnResult;
use hnsim_model::state::{Hns, HostSettings};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hnsim");
const TRANSCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/transcripts/conform-sim.jsonl"
);

fn serve_cmd() -> String {
    format!("exec '{BIN}' serve --stdio")
}

fn sim() -> Box<dyn HnsBackend> {
    Box::new(Hns::new(HostSettings::default(), 0))
}

fn exec(options: ExecOptions) -> ExecBackend {
    ExecBackend::spawn(&serve_cmd(), options).expect("hnsim serve --stdio starts")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hnsim-adapter-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn conform_against_sim_and_exec_gives_identical_results() {
    let opts = SuiteOptions::default();
    let mut s = sim();
    let by_sim = conform::run(&mut s, &opts);
    let mut e = exec(ExecOptions::default());
    assert!(e.server().starts_with("sim"), "hello said {:?}", e.server());
    let by_exec = conform::run(&mut e, &opts);
    assert!(by_sim.passed(), "{}", by_sim.to_text());
    assert!(by_exec.passed(), "{}", by_exec.to_text());
    assert_eq!(by_sim.results_text(), by_exec.results_text());
    assert_eq!(by_sim.cases.len(), conform::case_names().len() + 1);
    assert_eq!(by_sim.count(|o| matches!(o, Outcome::Skip(_))), 0);
}

#[test]
fn committed_transcript_replays_green_and_matches_sim() {
    let mut replay: Box<dyn HnsBackend> = Box::new(Replay::open(Path::new(TRANSCRIPT)).unwrap());
    let report = conform::run(&mut replay, &SuiteOptions::default());
    assert!(report.passed(), "{}", report.to_text());
    let mut s = sim();
    let by_sim = conform::run(&mut s, &SuiteOptions::default());
    assert_eq!(report.results_text(), by_sim.results_text());
}

#[test]
fn recording_through_exec_equals_recording_in_process() {
    // The model is deterministic, so the protocol must not change a byte of any call or answer.
    let record = |name: &str, inner: &str| {
        let out = tmp(name);
        let spec = format!("record:{}:{inner}", out.display());
        let mut b = adapter::open_backend(&spec, sim).unwrap();
        assert!(conform::run(&mut b, &SuiteOptions::default()).passed());
        drop(b);
        let text = std::fs::read_to_string(&out).unwrap();
        text.lines().skip(1).map(str::to_string).collect::<Vec<_>>()
    };
    let by_exec = record("via-exec.jsonl", &format!("exec:{}", serve_cmd()));
    let by_sim = record("via-sim.jsonl", "sim");
    assert!(by_sim.len() > 100);
    assert_eq!(by_exec, by_sim);
}

/// Change one thing in the committed transcript.
fn edited(name: &str, edit: impl Fn(&mut serde_json::Value) -> bool) -> (PathBuf, u64, String) {
    let text = std::fs::read_to_string(TRANSCRIPT).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for line in lines.iter_mut().skip(1) {
        let mut e: serde_json::Value = serde_json::from_str(line).unwrap();
        if edit(&mut e) {
            let n = e["n"].as_u64().unwrap();
            let op = e["op"].as_str().unwrap().to_string();
            *line = e.to_string();
            let path = tmp(name);
            std::fs::write(&path, lines.join("\n") + "\n").unwrap();
            return (path, n, op);
        }
    }
    panic!("nothing to edit");
}

#[test]
fn edited_reply_fails_at_that_call_naming_it() {
    // The first endpoint query: its IP address changes.
    let (path, n, op) = edited("edited-reply.jsonl", |e| {
        if e["op"] != "HcnQueryEndpointProperties" || e.get("reply").is_none() {
            return false;
        }
        let mut r: serde_json::Value = serde_json::from_str(e["reply"].as_str().unwrap()).unwrap();
        r["IpConfigurations"][0]["IpAddress"] = "172.30.99.99".into();
        e["reply"] = r.to_string().into();
        true
    });
    let out = Command::new(BIN)
        .args(["conform", "--backend"])
        .arg(format!("replay:{}", path.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failed.len(), 1, "{text}");
    assert!(failed[0].contains("172.30.99.99"), "{}", failed[0]);
    assert!(
        failed[0].contains(&format!("after call {n} ({op})")),
        "expected call {n} ({op}) named in: {}",
        failed[0]
    );
}

#[test]
fn edited_request_diverges_at_that_call_naming_it() {
    let (path, n, op) = edited("edited-request.jsonl", |e| {
        if e["op"] != "HcnCreateLoadBalancer" {
            return false;
        }
        let doc = e["document"]
            .as_str()
            .unwrap()
            .replace("10.96.77.10", "10.96.77.99");
        e["document"] = doc.into();
        true
    });
    let mut replay: Box<dyn HnsBackend> = Box::new(Replay::open(&path).unwrap());
    let report = conform::run(&mut replay, &SuiteOptions::default());
    let why = report.aborted.clone().expect("the run stops at the divergence");
    assert!(
        why.contains(&format!("call {n} ({op}) differs from the transcript")),
        "{why}"
    );
    assert!(why.contains("10.96.77.99"), "{why}");
    assert!(!report.passed());
}

/// Kills the child after `after` calls, like a host that goes away mid-suite.
struct KillAfter {
    inner: ExecBackend,
    after: u64,
    calls: u64,
    signal: &'static str,
}

impl HnsBackend for KillAfter {
    fn call(&mut self, call: &HcnCall) -> HcnResult<String> {
        self.calls += 1;
        if self.calls == self.after {
            let pid = self.inner.child_id().to_string();
            let st = Command::new("kill").args([self.signal, &pid]).status().unwrap();
            assert!(st.success());
        }
        self.inner.call(call)
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

fn short() -> ExecOptions {
    ExecOptions {
        call_timeout: Duration::from_millis(700),
        hello_timeout: Duration::from_secs(20),
    }
}

#[test]
fn killed_child_mid_suite_is_a_clear_error_within_seconds() {
    let mut b = KillAfter {
        inner: exec(short()),
        after: 40,
        calls: 0,
        signal: "-KILL",
    };
    let start = Instant::now();
    let report = conform::run(&mut b, &SuiteOptions::default());
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    let why = report.aborted.clone().expect("aborted");
    assert!(why.contains("call 40 ("), "{why}");
    // Depending on timing the write or the read notices first; both say what happened.
    assert!(
        why.contains("closed its output") || why.contains("could not send the request"),
        "{why}"
    );
    assert!(why.contains("signal: 9"), "{why}");
    assert!(matches!(
        report.cases.last().unwrap().outcome,
        Outcome::Error(_) | Outcome::Fail(_)
    ));
    assert!(!report.passed());
    // Later calls fail at once with the same fault, never hang.
    let again = b
        .inner
        .call(&HcnCall::new("HnsGetServiceVersion".parse().unwrap(), "", ""));
    let e = again.unwrap_err();
    assert!(is_adapter_fault(&e) && e.code == BROKEN_PIPE, "{e}");
}

#[test]
fn hung_child_times_out_instead_of_hanging() {
    let mut b = KillAfter {
        inner: exec(short()),
        after: 10,
        calls: 0,
        signal: "-STOP",
    };
    let start = Instant::now();
    let report = conform::run(&mut b, &SuiteOptions::default());
    assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());
    let why = report.aborted.expect("aborted");
    assert!(why.contains("no answer from the child within 0.7s"), "{why}");
    assert!(why.contains(&format!("0x{:08X}", TIMEOUT.0)), "{why}");
}

#[test]
fn wrong_child_is_detected_by_the_hello_line() {
    let opts = OpenOptions {
        exec: ExecOptions {
            call_timeout: Duration::from_millis(500),
            hello_timeout: Duration::from_millis(500),
        },
    };
    let e = adapter::open_backend_with("exec:echo SSH-2.0-OpenSSH_9.2", &opts, sim)
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("is the command an hnsim adapter server?"),
        "{e}"
    );
    let e = adapter::open_backend_with("exec:sleep 5", &opts, sim)
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("no answer from the child within 0.5s"),
        "{e}"
    );
    let e = adapter::open_backend_with("exec:echo oops >&2; exit 3", &opts, sim)
        .err()
        .unwrap();
    assert!(e.to_string().contains("exit status: 3"), "{e}");
    assert!(e.to_string().contains("oops"), "{e}");
}

#[test]
fn cli_exit_codes_and_junit() {
    let run = |args: &[&str]| Command::new(BIN).args(args).output().unwrap();
    let ok = run(&[
        "conform",
        "--backend",
        &format!("exec:{}", serve_cmd()),
        "--format",
        "junit",
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let xml = String::from_utf8(ok.stdout).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    assert!(xml.contains("failures=\"0\" errors=\"0\""), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), conform::case_names().len() + 1);
    assert!(xml.trim_end().ends_with("</testsuites>"));
    assert_eq!(run(&["conform", "--backend", "nonsense"]).status.code(), Some(2));
    assert_eq!(run(&["conform", "--format", "yaml"]).status.code(), Some(2));
    assert_eq!(run(&["serve"]).status.code(), Some(2));
    let rec = tmp("cli-record.jsonl");
    let r = run(&[
        "conform",
        "--filter",
        "namespace.",
        "--record",
        rec.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(0));
    let replayed = run(&[
        "conform",
        "--filter",
        "namespace.",
        "--backend",
        &format!("replay:{}", rec.display()),
    ]);
    assert_eq!(
        replayed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&replayed.stdout)
    );
}

#[test]
fn leftovers_of_an_interrupted_run_are_removed_first() {
    let mut b = Hns::new(HostSettings::default(), 3);
    let nat = |name: &str, third: u8| {
        serde_json::json!({"Name": name, "Type": "NAT", "SchemaVersion": {"Major": 2, "Minor": 0},
            "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": format!("10.9.{third}.0/24"),
                "Routes": [{"NextHop": format!("10.9.{third}.1"), "DestinationPrefix": "0.0.0.0/0"}]}]}]})
        .to_string()
    };
    let id_of = |reply: String| {
        let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
        v["ID"].as_str().unwrap().to_string()
    };
    let left = id_of(
        b.create_network("", &nat("hnsim-conform-network-create_query_delete-1", 1))
            .unwrap(),
    );
    let ep = serde_json::json!({"Name": "left-ep", "HostComputeNetwork": left, "SchemaVersion": {"Major": 2, "Minor": 0}});
    b.create_endpoint("", &ep.to_string()).unwrap();
    let keep = id_of(b.create_network("", &nat("keep-me", 2)).unwrap());

    // Not the restart case: NAT networks do not survive it, and keep-me must.
    let only_networks = SuiteOptions {
        filter: Some("network.".into()),
        ..SuiteOptions::default()
    };
    let report = conform::run(&mut b, &only_networks);
    assert!(report.passed(), "{}", report.to_text());
    assert_eq!(report.cases[0].name, "suite.preclean");
    b.open_network(&keep)
        .expect("a network without the tag is left alone");
    assert!(b.open_network(&left).is_err());
}
