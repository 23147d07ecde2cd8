//! `hnsim hns validate FILE` run as the built binary: exit codes, output, messages.

use std::process::Command;

fn data(rel: &str) -> String {
    format!("{}/tests/data/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn validate(rel: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hnsim"))
        .args(["hns", "validate", &data(rel)])
        .output()
        .expect("run hnsim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("output is not JSON ({e}): {s}"))
}

#[test]
fn every_hns_dump_validates() {
    let hns = [
        (
            "aks-issue-1367-azurecni-l2bridge-remote-endpoint-TRUNCATED.json",
            true,
        ),
        ("calico-issue-7305-kubeproxy-v2-loadbalancer-nodeport.json", false),
        ("flannel-vxlan-windows-test-remote-endpoint.json", false),
        (
            "opengcs-issue-174-dockerd-nat-network-response-TRUNCATED.json",
            true,
        ),
        (
            "sdn-issue-371-lanzhiwang-flannel-overlay-external-and-nat-networks.json",
            true,
        ),
    ];
    for (f, is_array) in hns {
        let (code, out, err) = validate(&format!("hns-dumps/{f}"));
        assert_eq!(code, 0, "{f}: {err}");
        assert_eq!(err, "", "{f}");
        let v = json(&out);
        assert_eq!(v.is_array(), is_array, "{f}");
    }
}

#[test]
fn v1_reply_prints_v2_networks() {
    let (code, out, _) =
        validate("hns-dumps/sdn-issue-371-lanzhiwang-flannel-overlay-external-and-nat-networks.json");
    assert_eq!(code, 0);
    let v = json(&out);
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert_eq!(v[0]["Name"], "External");
    assert_eq!(v[0]["Type"], "Overlay");
    assert_eq!(
        v[0]["Ipams"][0]["Subnets"][0]["Policies"][0],
        serde_json::json!({"Type":"VSID","Settings":{"IsolationId":9999}})
    );
    assert_eq!(
        v[0]["Ipams"][0]["Subnets"][0]["Routes"][0]["NextHop"],
        "192.168.255.1"
    );
    assert!(v[0].get("Subnets").is_none());
}

#[test]
fn v2_nat_network_is_normalised() {
    let (code, out, _) = validate("hns-validate/v2-nat-network.json");
    assert_eq!(code, 0);
    let v = json(&out);
    assert_eq!(v["ID"], "404947AC-1234-5678-9ABC-DEF012345678");
    assert!(v.get("Type").is_none(), "NAT Type is omitted in v2 output: {out}");
    assert_eq!(v["Ipams"][0]["Subnets"][0]["IpAddressPrefix"], "172.20.0.0/16");
}

#[test]
fn docker_inspect_is_refused_clearly() {
    let (code, out, err) = validate("hns-dumps/docker-inspect-niroyb-docs-l2bridge-network.json");
    assert_eq!(code, 2);
    assert_eq!(out, "");
    let file = data("hns-dumps/docker-inspect-niroyb-docs-l2bridge-network.json");
    assert!(
        err.starts_with(&format!(
            "error: {file}: at $[0]: expected an HNS network, endpoint, namespace, load balancer or route"
        )),
        "{err}"
    );
    assert!(
        err.contains("found `docker network inspect` output, not an HNS document"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one message: {err}");
}

#[test]
fn bad_document_names_file_path_expected_found() {
    let (code, out, err) = validate("hns-validate/bad-subnet-prefix.json");
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "error: {}: at $.Ipams[0].Subnets[1].IpAddressPrefix: expected a CIDR prefix string like \"10.0.0.0/24\", found 17221\n",
            data("hns-validate/bad-subnet-prefix.json")
        )
    );
}

#[test]
fn malformed_json_gives_line_and_column() {
    let (code, _, err) = validate("hns-validate/malformed.json");
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "error: {}:4:3: malformed JSON: expected `,` or `}}`\n",
            data("hns-validate/malformed.json")
        )
    );
}

#[test]
fn failed_v1_reply_is_an_error() {
    let (code, _, err) = validate("hns-validate/reply-failed.json");
    assert_eq!(code, 2);
    assert!(err.ends_with("at $.Success: expected a successful reply (Success: true), found Success: false with Error \"Element not found.\"\n"), "{err}");
}

#[test]
fn missing_file() {
    let (code, _, err) = validate("hns-validate/does-not-exist.json");
    assert_eq!(code, 2);
    assert!(
        err.contains("does-not-exist.json: cannot read the file:"),
        "{err}"
    );
}

#[test]
fn not_utf8_names_line_and_column() {
    let p = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("latin1.json");
    std::fs::write(&p, b"{\n  \"Name\": \"caf\xe9\"\n}\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hnsim"))
        .args(["hns", "validate"])
        .arg(&p)
        .output()
        .expect("run hnsim");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {}:2:15: expected UTF-8 text (or UTF-16 with a byte-order mark), found the invalid byte 0xE9 (offset 16)\n",
            p.display()
        )
    );
}
