//! Malformed scenarios: `hnsim check` and `hnsim run` exit 2 with one exact message per problem,
//! naming the file, line and column, what was expected and what was found.

use std::path::PathBuf;
use std::process::Command;

fn write(name: &str, text: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scenario_errors");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Run `hnsim <cmd> FILE`; return (exit code, stderr with the directory stripped).
fn hnsim(cmd: &str, name: &str, text: &str) -> (i32, String) {
    hnsim_bytes(cmd, name, text.as_bytes())
}

fn hnsim_bytes(cmd: &str, name: &str, text: &[u8]) -> (i32, String) {
    let p = write(name, text);
    let out = Command::new(env!("CARGO_BIN_EXE_hnsim"))
        .arg(cmd)
        .arg(&p)
        .output()
        .unwrap();
    let dir = format!("{}/", p.parent().unwrap().display());
    let err = String::from_utf8_lossy(&out.stderr).replace(&dir, "");
    (out.status.code().unwrap_or(-1), err)
}

const UNDERLAY: &str = "name: x\nunderlay:\n  segments:\n    lan: {prefix: 10.0.0.0/24}\n";

#[test]
fn yaml_syntax_error_names_line_and_column() {
    let (code, err) = hnsim("check", "syntax.yaml", "name: \"x\nhosts: {}\n");
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: syntax.yaml:3:1: found unexpected end of stream, while scanning a quoted scalar that started at line 1 column 7\n"
    );
    let (code, err) = hnsim(
        "run",
        "indent.yaml",
        "name: x\nhosts:\n  a: {ip: 10.0.0.1}\n   b: 1\n",
    );
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: indent.yaml:4:4: did not find expected key, while parsing a block mapping that started at line 3 column 3\n"
    );
}

#[test]
fn wrong_type_names_the_field() {
    let text = format!("{UNDERLAY}hosts:\n  n1: {{ip: 10.0.0.11}}\nsteps:\n  - send: {{from: n1, to: \"10.0.0.1:80\", size: big}}\n");
    let (code, err) = hnsim("check", "type.yaml", &text);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: type.yaml:8:47: steps[0].send.size: invalid type: string \"big\", expected u32\n"
    );
}

#[test]
fn unknown_key_suggests_the_nearest() {
    let text = format!("{UNDERLAY}hosts:\n  n1:\n    ip: 10.0.0.11\n    gatway: 10.0.0.1\n");
    let (code, err) = hnsim("check", "key.yaml", &text);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: key.yaml:8:5: hosts.n1: unknown key `gatway`; did you mean `gateway`? (expected one of `segment`, `ip`, `mac`, `gateway`, `mtu`, `hns-version`, `settings`, `routes`, `listen`)\n"
    );
    let text = format!("{UNDERLAY}hosts:\n  n1: {{ip: 10.0.0.11}}\nsteps:\n  - connect:\n      from: n1\n      to: 10.0.0.1:80\n      expct: {{disposition: Delivered}}\n");
    let (_, err) = hnsim("check", "key2.yaml", &text);
    assert!(
        err.starts_with(
            "error: key2.yaml:11:7: steps[0].connect: unknown key `expct`; did you mean `expect`?"
        ),
        "{err}"
    );
}

#[test]
fn unknown_step_suggests_the_nearest() {
    let text = format!(
        "{UNDERLAY}hosts:\n  n1: {{ip: 10.0.0.11}}\nsteps:\n  - sned: {{from: n1, to: \"10.0.0.1:80\"}}\n"
    );
    let (code, err) = hnsim("check", "step.yaml", &text);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: step.yaml:8:5: steps[0]: unknown step `sned`; did you mean `send`?\n"
    );
}

#[test]
fn undefined_names_are_errors_before_anything_runs() {
    let text = format!(
        "{UNDERLAY}hosts:\n  n1: {{ip: 10.0.0.11}}\nsteps:\n  - create-network:\n      as: net\n      doc: {{Name: n, Type: NAT}}\n  - create-endpoint:\n      as: podA\n      doc:\n        HostComputeNetwork: ${{nett.ID}}\n  - connect: {{from: podZ, to: \"10.0.0.1:80\"}}\n  - container: {{name: A, endpoints: [net]}}\n"
    );
    let (code, err) = hnsim("run", "undefined.yaml", &text);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: undefined.yaml:14:29: `${nett…}` refers to `nett`, which is not defined before this step; did you mean `net`?\n\
         error: undefined.yaml:15:21: `podZ` is not defined; did you mean `podA`?\n\
         error: undefined.yaml:16:38: expected an endpoint, found `net`, which is an HNS network\n"
    );
}

#[test]
fn impossible_addresses() {
    let text = format!(
        "{UNDERLAY}hosts:\n  n1: {{ip: 10.1.0.11, segment: lan}}\n  n2: {{ip: 10.0.0.255}}\n  n3: {{ip: 10.0.0.12}}\n  n4:\n    ip: 10.0.0.12\n    gateway: 10.9.9.9\nstations:\n  s: {{ip: 192.168.0.1}}\n"
    );
    let (code, err) = hnsim("check", "addr.yaml", &text);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: addr.yaml:6:8: host n1: address 10.1.0.11 is not inside segment `lan` (10.0.0.0/24)\n\
         error: addr.yaml:7:8: host n2: address 10.0.0.255 is the broadcast address of 10.0.0.0/24\n\
         error: addr.yaml:10:5: host n4: address 10.0.0.12 is already used by host n3 on segment `lan`\n\
         error: addr.yaml:11:5: gateway 10.9.9.9 is not inside segment `lan` (10.0.0.0/24)\n\
         error: addr.yaml:13:7: address 192.168.0.1 is not inside any underlay segment (lan 10.0.0.0/24)\n"
    );
    let (code, err) = hnsim(
        "check",
        "badip.yaml",
        &format!("{UNDERLAY}hosts:\n  n1: {{ip: 10.0.0.300}}\n"),
    );
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: badip.yaml:6:12: hosts.n1.ip: expected an IP address like 10.0.0.1, found `10.0.0.300`\n"
    );
}

#[test]
fn semantic_errors_in_expectations_and_tables() {
    let text = format!(
        "{UNDERLAY}hosts:\n  n1: {{ip: 10.0.0.11}}\nstations:\n  c: {{ip: 10.0.0.50}}\nsteps:\n  - create-network: {{doc: {{Name: n}}, expect-error: HCN_E_PORT_ALREADY_EXIST}}\n  - reachability:\n      port: 80\n      from: [n1, c]\n      to: [n1, c]\n      expect:\n        n1: \". X X\"\n        c: \". Y\"\n  - connect: {{from: c, to: \"n1\", expect: {{disposition: Deliverd}}}}\n  - advance: 5 minutes\n"
    );
    let (code, err) = hnsim("check", "semantic.yaml", &text);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: semantic.yaml:10:38: expected an HRESULT name like HCN_E_PORT_ALREADY_EXISTS or a hex code, found `HCN_E_PORT_ALREADY_EXIST`; did you mean `HCN_E_PORT_ALREADY_EXISTS`?\n\
         error: semantic.yaml:16:9: expected 2 cells (one per destination in `to`), found 3\n\
         error: semantic.yaml:17:9: expected `.` (reachable) or `X` (not reachable), found `Y`\n\
         error: semantic.yaml:18:24: expected `ADDR:PORT` or `NAME:PORT` for tcp, found `n1`\n\
         error: semantic.yaml:18:43: unknown disposition `Deliverd`; did you mean `Delivered`?\n\
         error: semantic.yaml:19:5: expected a duration unit (ns, us, ms, s, m, h) in `5 minutes`\n"
    );
}

#[test]
fn unknown_setting_and_host() {
    let text = format!(
        "{UNDERLAY}hosts:\n  n1:\n    ip: 10.0.0.11\n    settings: {{session-afinity: true}}\n  n2: {{ip: 10.0.0.12}}\nsteps:\n  - hns-restart: {{host: node1}}\n  - create-network: {{doc: {{Name: n}}}}\n"
    );
    let (code, err) = hnsim("check", "settings.yaml", &text);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: settings.yaml:8:16: unknown host setting `session-afinity`; did you mean `session-affinity`?\n\
         error: settings.yaml:11:19: unknown host `node1`\n\
         error: settings.yaml:12:5: expected `host:` (one of n1, n2), found none; the scenario has several hosts\n"
    );
}

#[test]
fn empty_and_binary_files() {
    let (code, err) = hnsim("check", "empty.yaml", "");
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: empty.yaml:1:1: expected a scenario (a map with `name`, `hosts` and `steps`), found an empty file\n"
    );
    let (code, err) = hnsim_bytes("check", "binary.yaml", b"\xff\xfe\x00");
    assert_eq!(code, 2);
    // FF FE is the UTF-16LE byte-order mark: what follows must be whole UTF-16 code units.
    assert_eq!(
        err,
        "error: binary.yaml: expected UTF-16LE text (by its byte-order mark), found an invalid code unit at offset 2\n"
    );
    let (code, err) = hnsim_bytes("check", "binary2.yaml", b"\xfa\x00\x01");
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: binary2.yaml:1:1: expected UTF-8 text (or UTF-16 with a byte-order mark), found the invalid byte 0xFA (offset 0)\n"
    );
    // Past the start: the line and column (in characters) of the bad byte.
    // "é" is two bytes in UTF-8; the Latin-1 "é" after it (0xE9) is the bad byte.
    let (code, err) = hnsim_bytes("check", "latin1.yaml", b"name: x\nnote: caf\xc3\xa9 \xe9t\xe9\n");
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: latin1.yaml:2:12: expected UTF-8 text (or UTF-16 with a byte-order mark), found the invalid byte 0xE9 (offset 20)\n"
    );
}

#[test]
fn missing_path_is_invalid() {
    let out = Command::new(env!("CARGO_BIN_EXE_hnsim"))
        .args(["run", "/nonexistent/hnsim/scenarios"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: /nonexistent/hnsim/scenarios: no such file or folder\n"
    );
}

#[test]
fn ipv6_underlay_and_misspelt_segment() {
    let text = "name: x\nunderlay:\n  segments:\n    lan: {prefix: 10.0.0.0/24}\n    v6: {prefix: \"fd00::/64\"}\n  routers:\n    r: {interfaces: [{segment: lna, ip: 10.0.0.1}]}\nhosts:\n  n: {ip: 10.0.0.2}\nstations:\n  s: {ip: \"fd00::5\"}\n";
    let (code, err) = hnsim("check", "v6.yaml", text);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: v6.yaml:5:10: expected an IPv4 prefix (the underlay is IPv4), found fd00::/64\n\
         error: v6.yaml:7:23: unknown segment `lna`; did you mean `lan`?\n\
         error: v6.yaml:11:7: expected an IPv4 address (the underlay is IPv4), found fd00::5\n"
    );
}
