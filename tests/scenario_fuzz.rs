//! Nothing panics on any input: random bytes, random YAML-ish text, and mutations of a valid
//! scenario go through parsing, validation and (when valid) the runner.

use hnsim_sim::scenario::runner::{run, RunOptions};
use hnsim_sim::scenario::{load_str, locate::Index};
use proptest::prelude::*;

const VALID: &str = r#"name: fuzz
underlay:
  segments:
    lan: {prefix: 10.0.0.0/24}
hosts:
  node1: {ip: 10.0.0.11, gateway: 10.0.0.1}
stations:
  client: {ip: 10.0.0.50, listen: [tcp/80]}
steps:
  - create-network:
      as: nat
      doc: {Name: nat, Type: NAT, Ipams: [{Type: Static, Subnets: [{IpAddressPrefix: 172.20.0.0/24, Routes: [{NextHop: 172.20.0.1, DestinationPrefix: 0.0.0.0/0}]}]}], SchemaVersion: {Major: 2, Minor: 0}}
  - create-endpoint:
      as: ep
      doc:
        HostComputeNetwork: ${nat.ID}
        IpConfigurations: [{IpAddress: 172.20.0.10}]
        Policies: [{Type: PortMapping, Settings: {Protocol: 6, InternalPort: 80, ExternalPort: 8080}}]
        SchemaVersion: {Major: 2, Minor: 0}
      expect: {"IpConfigurations[0].IpAddress": 172.20.0.10}
  - container: {name: X, endpoints: [ep], listen: [tcp/80]}
  - connect: {from: client, to: "10.0.0.11:8080", expect: {disposition: Delivered, delivered-to: X}}
  - reachability: {port: 80, from: [X], to: [client], expect: {X: "."}}
  - advance: 1s
  - hns-restart: {host: node1}
  - connect: {from: client, to: "10.0.0.11:8080", expect: {disposition: NoListener}}
"#;

fn exercise(text: &str) {
    let _ = Index::build(text);
    if let Ok(l) = load_str("fuzz.yaml", text) {
        let _ = run(&l, &RunOptions::default());
    }
}

#[test]
fn the_valid_base_loads() {
    let l = load_str("fuzz.yaml", VALID).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(l.scenario.steps.len(), 8);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_yaml_tokens(tokens in proptest::collection::vec(prop::sample::select(vec![
        "name: x\n", "hosts:\n", "  n: {ip: 10.0.0.1}\n", "steps:\n", "  - ", "send: ", "{from: n, to: \"1.2.3.4:5\"}",
        "\n", "    ", "- ", ": ", "[", "]", "{", "}", "${", "${n.ID}", "\"", "'", "#", "|\n", ">\n", "&a ", "*a", "!tag ",
        "underlay: {segments: {lan: {prefix: 10.0.0.0/24}}}\n", "reachability: {from: [n], to: [n], expect: {n: \"X\"}}",
    ]), 0..40)) {
        exercise(&tokens.concat());
    }

    #[test]
    fn mutated_valid_scenario(cuts in proptest::collection::vec((0usize..2000, 0usize..6, prop::sample::select(vec!["", " ", ":", "-", "{", "}", "\n", "x", "${", "9"])), 1..4)) {
        let mut text = VALID.to_string();
        for (at, len, ins) in cuts {
            let at = at % (text.len() + 1);
            let mut at = at;
            while !text.is_char_boundary(at) { at -= 1; }
            let mut end = (at + len).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            text.replace_range(at..end, ins);
        }
        exercise(&text);
    }
}
