//! `hnsim run`, `check`, `trace`, `graph` against the built binary: exit codes, the last line of
//! text output, JUnit that parses as XML, byte-identical JSON for the same seed, and a failing
//! scenario reported with expected vs actual and the packet's trace.

use std::path::PathBuf;
use std::process::Output;

mod common;
use common::hnsim;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_run");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_library_passes_and_the_last_line_counts_scenarios() {
    let o = hnsim(&["run", "scenarios/"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let n = out.lines().filter(|l| l.starts_with("PASS ")).count();
    assert!(n >= 25, "{n} scenarios");
    assert_eq!(out.lines().last(), Some(format!("{n} passed, 0 failed").as_str()));
}

#[test]
fn check_determinism_passes_on_the_library() {
    let o = hnsim(&["run", "scenarios/", "--check-determinism"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn json_is_byte_identical_for_the_same_seed_and_differs_for_another() {
    let a = hnsim(&["run", "scenarios/kube-proxy", "--format", "json", "--seed", "5"]);
    let b = hnsim(&["run", "scenarios/kube-proxy", "--format", "json", "--seed", "5"]);
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(a.stdout, b.stdout);
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(v["failed"], 0);
    assert_eq!(v["scenarios"][0]["seed"], 5);
    // A different seed changes the random choices (GUIDs at least), so the bytes differ.
    let c = hnsim(&["run", "scenarios/kube-proxy", "--format", "json", "--seed", "6"]);
    assert_ne!(a.stdout, c.stdout);
}

/// A small XML well-formedness checker: one root, balanced tags, quoted attributes, only the
/// five predefined entities.
/// An element: its name and attributes.
type Element = (String, Vec<(String, String)>);

fn check_xml(s: &str) -> Result<Vec<Element>, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut elements = Vec::new();
    let mut roots = 0;
    let b = s.as_bytes();
    let mut i = 0;
    let check_text = |t: &str| -> Result<(), String> {
        let mut rest = t;
        while let Some(p) = rest.find('&') {
            let end = rest[p..].find(';').ok_or("unterminated entity")?;
            let ent = &rest[p + 1..p + end];
            if !matches!(ent, "amp" | "lt" | "gt" | "quot" | "apos") {
                return Err(format!("unknown entity &{ent};"));
            }
            rest = &rest[p + end + 1..];
        }
        if t.contains('<') {
            return Err("raw < in text".into());
        }
        Ok(())
    };
    if s.starts_with("<?xml") {
        i = s.find("?>").ok_or("bad declaration")? + 2;
    }
    while i < b.len() {
        if b[i] == b'<' {
            let end = s[i..].find('>').ok_or("unterminated tag")? + i;
            let tag = &s[i + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().ok_or(format!("close </{name}> without open"))?;
                if open != name.trim() {
                    return Err(format!("</{name}> closes <{open}>"));
                }
            } else {
                let self_closing = tag.ends_with('/');
                let body = tag.trim_end_matches('/');
                let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
                let name = body[..name_end].to_string();
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(format!("bad tag name {name:?}"));
                }
                let mut attrs = Vec::new();
                let mut rest = body[name_end..].trim();
                while !rest.is_empty() {
                    let eq = rest
                        .find('=')
                        .ok_or(format!("attribute without value in <{name}>"))?;
                    let key = rest[..eq].trim().to_string();
                    let after = &rest[eq + 1..];
                    if !after.starts_with('"') {
                        return Err(format!("unquoted attribute {key}"));
                    }
                    let close = after[1..].find('"').ok_or("unterminated attribute")? + 1;
                    let val = &after[1..close];
                    check_text(val)?;
                    attrs.push((key, val.to_string()));
                    rest = after[close + 1..].trim();
                }
                if stack.is_empty() {
                    roots += 1;
                }
                elements.push((name.clone(), attrs));
                if !self_closing {
                    stack.push(name);
                }
            }
            i = end + 1;
        } else {
            let next = s[i..].find('<').map(|p| p + i).unwrap_or(b.len());
            let text = &s[i..next];
            if stack.is_empty() && !text.trim().is_empty() {
                return Err("text outside the root".into());
            }
            check_text(text)?;
            i = next;
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed <{}>", stack.join(">, <")));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(elements)
}

#[test]
fn junit_is_well_formed_xml_with_one_testcase_per_step() {
    let o = hnsim(&["run", "scenarios/overlay", "--format", "junit"]);
    assert_eq!(o.status.code(), Some(0));
    let xml = stdout(&o);
    let els = check_xml(&xml).unwrap_or_else(|e| panic!("invalid XML: {e}\n{xml}"));
    assert_eq!(els[0].0, "testsuites");
    let suites = els.iter().filter(|(n, _)| n == "testsuite").count();
    assert_eq!(suites, 3);
    let cases = els.iter().filter(|(n, _)| n == "testcase").count();
    let declared: usize = els[0]
        .1
        .iter()
        .find(|(k, _)| k == "tests")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert_eq!(cases, declared);
    assert!(!els.iter().any(|(n, _)| n == "failure"));
    assert!(check_xml("<a><b></a></b>").is_err());
    assert!(check_xml("<a x=1/>").is_err());
}

const FAILING: &str = r#"name: failing
underlay:
  segments:
    lan: {prefix: 10.0.0.0/24}
hosts:
  node1: {ip: 10.0.0.11}
steps:
  - create-network:
      as: nat
      doc: {Name: nat, Type: NAT, Ipams: [{Type: Static, Subnets: [{IpAddressPrefix: 172.20.0.0/24, Routes: [{NextHop: 172.20.0.1, DestinationPrefix: 0.0.0.0/0}]}]}], SchemaVersion: {Major: 2, Minor: 0}}
  - create-endpoint: {as: a, doc: {HostComputeNetwork: "${nat.ID}", IpConfigurations: [{IpAddress: 172.20.0.10}], SchemaVersion: {Major: 2, Minor: 0}}}
  - create-endpoint: {as: b, doc: {HostComputeNetwork: "${nat.ID}", IpConfigurations: [{IpAddress: 172.20.0.11}], SchemaVersion: {Major: 2, Minor: 0}}}
  - container: {name: A, endpoints: [a]}
  - container: {name: B, endpoints: [b], listen: [tcp/80]}
  - connect: {from: A, to: "B:80", expect: {disposition: DeniedOut, delivered-to: A}}
  - connect: {from: A, to: "B:81", expect: {disposition: NoListener}}
"#;

#[test]
fn a_failed_expectation_shows_expected_actual_and_the_trace() {
    let p = tmp("failing.yaml", FAILING);
    let o = hnsim(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.starts_with("FAIL "), "{out}");
    assert!(
        out.contains(":15): connect A -> B:80 (172.20.0.11:80/tcp)"),
        "{out}"
    );
    assert!(
        out.contains("✗ disposition: expected DeniedOut, got Delivered"),
        "{out}"
    );
    assert!(out.contains("✗ delivered to: expected A, got B"), "{out}");
    assert!(
        out.contains("deliver container:B"),
        "the trace is printed:\n{out}"
    );
    assert!(!out.contains("step 7"), "passing steps are not detailed:\n{out}");
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed"));
    // JSON and JUnit report the same failure.
    let j = hnsim(&["run", p.to_str().unwrap(), "--format", "json"]);
    assert_eq!(j.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v["failed"], 1);
    let checks = &v["scenarios"][0]["steps"][5]["checks"];
    assert_eq!(checks[0]["ok"], false);
    assert_eq!(checks[0]["expected"], "DeniedOut");
    let x = hnsim(&["run", p.to_str().unwrap(), "--format", "junit"]);
    let xml = stdout(&x);
    let els = check_xml(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(els.iter().filter(|(n, _)| n == "failure").count(), 1);
}

#[test]
fn out_writes_the_report_and_keeps_the_summary_line() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_run");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("report.xml");
    let o = hnsim(&[
        "run",
        "scenarios/nat",
        "--format",
        "junit",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).trim_end(), "2 passed, 0 failed");
    check_xml(&std::fs::read_to_string(&out).unwrap()).unwrap();
}

#[test]
fn invalid_arguments_exit_2() {
    assert_eq!(
        hnsim(&["run", "scenarios/nat", "--format", "yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(
        hnsim(&[
            "graph",
            "scenarios/nat/s11-docker-nat-published-port.yaml",
            "--format",
            "png"
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn check_validates_the_whole_library() {
    // `--strict`: the library also has no warnings (every expectation names its disposition).
    let o = hnsim(&["check", "--strict", "scenarios/"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).lines().last().unwrap().ends_with(" valid, 0 invalid"));
}

#[test]
fn an_expectation_without_disposition_warns_and_fails_under_strict() {
    let f = tmp(
        "no-disposition.yaml",
        "name: nodisp\nunderlay:\n  segments:\n    lan: {prefix: 10.0.0.0/24}\nhosts:\n  h: {ip: 10.0.0.11}\n\
         stations:\n  s: {ip: 10.0.0.50}\nsteps:\n  - connect: {from: s, to: \"10.0.0.11:80\", expect: {path-excludes: [Encap]}}\n",
    );
    let f = f.to_str().unwrap();
    for cmd in ["check", "run"] {
        let o = hnsim(&[cmd, f]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(0), "{cmd}: {err}");
        assert!(
            err.starts_with("warning: ") && err.contains("no-disposition.yaml:10:"),
            "{cmd}: {err}"
        );
        assert!(err.contains("`disposition:`"), "{err}");
        let o = hnsim(&[cmd, "--strict", f]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{cmd} --strict: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(stdout(&o).is_empty(), "{cmd} --strict ran anyway: {}", stdout(&o));
    }
}

#[test]
fn trace_exit_codes_follow_the_packet() {
    let s1 = "scenarios/l2bridge/s1-host-gw-pod-to-pod.yaml";
    let o = hnsim(&["trace", s1, "--from", "A", "--to", "10.244.2.10:80"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.starts_with("A -> 10.244.2.10:80 (tcp)\nrequest:\n"), "{out}");
    assert!(out.contains("=> Delivered to container:C"), "{out}");
    // Nobody listens on 81: refused.
    let o = hnsim(&["trace", s1, "--from", "A", "--to", "C:81"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("=> NoListener"));
    // ICMP from a pod to the Internet is dropped (P5) in S2.
    let o = hnsim(&[
        "trace",
        "scenarios/l2bridge/s2-pod-egress-snat-icmp.yaml",
        "--from",
        "A",
        "--to",
        "203.0.113.50",
        "--proto",
        "icmp",
    ]);
    assert_eq!(o.status.code(), Some(1));
    // Invalid: an unknown source, a missing port, a bad protocol.
    assert_eq!(
        hnsim(&["trace", s1, "--from", "Z", "--to", "10.244.2.10:80"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        hnsim(&["trace", s1, "--from", "A", "--to", "10.244.2.10"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        hnsim(&[
            "trace",
            s1,
            "--from",
            "A",
            "--to",
            "10.244.2.10:80",
            "--proto",
            "sctp"
        ])
        .status
        .code(),
        Some(2)
    );
    let j = hnsim(&["trace", s1, "--from", "A", "--to", "C:80", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v["request"]["disposition"]["disposition"], "Delivered");
}

#[test]
fn graph_prints_dot() {
    let o = hnsim(&[
        "graph",
        "scenarios/overlay/s8-flannel-vxlan.yaml",
        "--format",
        "dot",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.starts_with("graph hnsim {\n") && out.ends_with("}\n"),
        "{out}"
    );
    for node in ["node1", "node2", "lan", "r1"] {
        assert!(out.contains(node), "{node} missing:\n{out}");
    }
    assert!(out.contains(" -- "));
}

#[test]
fn pcap_files_are_written_and_identical_across_runs() {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_run_pcap");
    let _ = std::fs::remove_dir_all(&base);
    let mut bytes = Vec::new();
    for run in ["one", "two"] {
        let dir = base.join(run);
        let o = hnsim(&[
            "run",
            "scenarios/overlay/s8-flannel-vxlan.yaml",
            "--pcap",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0));
        let f = dir.join("s8-flannel-vxlan").join("node1_uplink.pcap");
        let b = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        // pcap with nanosecond timestamps, little endian, Ethernet link type.
        assert_eq!(&b[..4], &0xa1b2_3c4du32.to_le_bytes());
        assert_eq!(&b[20..24], &1u32.to_le_bytes());
        assert!(b.len() > 24 + 16, "frames were captured");
        bytes.push(b);
    }
    assert_eq!(bytes[0], bytes[1]);
}

#[test]
fn junit_carries_reference_and_inferred_properties() {
    let o = hnsim(&[
        "run",
        "scenarios/l2bridge/s1-host-gw-pod-to-pod.yaml",
        "--format",
        "junit",
    ]);
    let xml = stdout(&o);
    let els = check_xml(&xml).unwrap();
    let props: Vec<&Element> = els.iter().filter(|(n, _)| n == "property").collect();
    assert!(props
        .iter()
        .any(|(_, a)| a.contains(&("value".into(), "consumers.md §7 S1".into()))));
    assert!(props
        .iter()
        .any(|(_, a)| a.contains(&("name".into(), "inferred".into()))));

    // A scenario without a reference or inferred outcomes still carries its seed.
    let p = tmp("plain.yaml", "name: plain\nseed: 7\nunderlay:\n  segments:\n    lan: {prefix: 10.0.0.0/24}\nhosts:\n  node1: {ip: 10.0.0.11}\n");
    let xml = stdout(&hnsim(&["run", p.to_str().unwrap(), "--format", "junit"]));
    let els = check_xml(&xml).unwrap();
    let props: Vec<&Element> = els.iter().filter(|(n, _)| n == "property").collect();
    assert_eq!(props.len(), 1, "{xml}");
    assert!(props[0].1.contains(&("name".into(), "seed".into())), "{xml}");
    assert!(props[0].1.contains(&("value".into(), "7".into())), "{xml}");
    // No steps: no testcase, and the counts say so.
    assert!(!els.iter().any(|(n, _)| n == "testcase"), "{xml}");
    assert!(els[0].1.contains(&("tests".into(), "0".into())), "{xml}");
}

#[test]
fn a_failed_reachability_table_prints_expected_and_observed() {
    let p = tmp(
        "reach.yaml",
        "name: reach\nunderlay:\n  segments:\n    lan: {prefix: 10.0.0.0/24}\nhosts:\n  node1: {ip: 10.0.0.11}\nstations:\n  s1: {ip: 10.0.0.50, listen: [tcp/80]}\n  s2: {ip: 10.0.0.51}\nsteps:\n  - reachability:\n      port: 80\n      from: [node1, s2]\n      to: [s1, s2]\n      expect:\n        node1: \". .\"\n        s2: \". X\"\n",
    );
    let o = hnsim(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let table = "    ✗ node1 -> s2: expected reachable, got not reachable\n\
                 \x20   ✗ table cells matching: expected 4, got 3\n\
                 \x20   expected s1 s2\n\
                 \x20   node1    .  . \n\
                 \x20   s2       .  X \n\
                 \x20   observed s1 s2\n\
                 \x20   node1    .  X!\n\
                 \x20   s2       .  X \n";
    assert!(out.contains(table), "{out}");
}
