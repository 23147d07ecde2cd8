//! The node-dump reader (model/src/dump) and the exact-state import (state/import.rs):
//! every shape a node writes, every bad input a user feeds, and dangling references.

use hnsim_model::document::HnsDocument;
use hnsim_model::dump::{read_dump, read_files, InputFile, Level, NodeDump};
use hnsim_model::state::{Hns, HostSettings};
use hnsim_model::Guid;

fn shared(name: &str) -> Vec<u8> {
    let p = format!("{}/../tests/data/hns-dumps/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn utf16le_bom(s: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    v.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
    v
}

fn warnings(d: &NodeDump) -> Vec<String> {
    d.warnings().map(|n| n.to_string()).collect()
}

fn kinds(d: &NodeDump) -> Vec<&'static str> {
    d.docs.iter().map(|x| x.doc.kind_name()).collect()
}

#[test]
fn every_real_hns_document_reads() {
    for (file, want) in [
        (
            "sdn-issue-371-lanzhiwang-flannel-overlay-external-and-nat-networks.json",
            vec!["network", "network"],
        ),
        (
            "flannel-vxlan-windows-test-remote-endpoint.json",
            vec!["endpoint"],
        ),
        (
            "calico-issue-7305-kubeproxy-v2-loadbalancer-nodeport.json",
            vec!["load balancer"],
        ),
        (
            "opengcs-issue-174-dockerd-nat-network-response-TRUNCATED.json",
            vec!["network"],
        ),
        (
            "aks-issue-1367-azurecni-l2bridge-remote-endpoint-TRUNCATED.json",
            vec!["endpoint"],
        ),
    ] {
        let d = read_dump(file, &shared(file));
        assert_eq!(kinds(&d), want, "{file}: {:?}", warnings(&d));
        assert!(warnings(&d).is_empty(), "{file}: {:?}", warnings(&d));
    }
    // `docker network inspect` is not an HNS object: a warning that says so, no document.
    let f = "docker-inspect-niroyb-docs-l2bridge-network.json";
    let d = read_dump(f, &shared(f));
    assert!(d.docs.is_empty());
    assert!(
        warnings(&d)[0].contains("docker network inspect"),
        "{:?}",
        warnings(&d)
    );
}

#[test]
fn utf16_table_then_concatenated_json() {
    // network.txt: `>` a table, then `>>` JSON; networkdetailed.txt: one document per network.
    let text = "\r\nName     Type    Id                                   AddressPrefix\r\n\
                ----     ----    --                                   -------------\r\n\
                cbr0     L2Bridge 0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11 10.244.1.0/24\r\n\r\n\
                {\r\n    \"ID\":  \"0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11\",\r\n    \"Name\":  \"cbr0\",\r\n    \"Type\":  \"L2Bridge\",\r\n    \"Ipams\":  []\r\n}\r\n\
                {\r\n    \"ID\":  \"5B9E6A4D-8F0E-4C8E-9D7E-0A1B2C3D4E5F\",\r\n    \"Name\":  \"nat\",\r\n    \"Type\":  \"NAT\",\r\n    \"Ipams\":  []\r\n}\r\n";
    let d = read_dump("network.txt", &utf16le_bom(text));
    assert_eq!(kinds(&d), ["network", "network"], "{:?}", warnings(&d));
    assert!(warnings(&d).is_empty(), "{:?}", warnings(&d));
    // Lines are the file's lines, counted through the table.
    assert_eq!((d.docs[0].source.line, d.docs[1].source.line), (6, 12));
}

#[test]
fn a_truncated_field_is_named_with_its_object() {
    let text = r#"[{"ID":"2462B2D1-C402-4024-9C86-5A6903AF7759","HostComputeNetwork":"0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11",
        "IpConfigurations":[{"IpAddress":"10.244.1.5","PrefixLength":24}],"Policies":"System.Object[]","Flags":0}]"#;
    let d = read_dump("endpoint.txt", text.as_bytes());
    assert_eq!(kinds(&d), ["endpoint"]);
    assert_eq!(d.docs[0].truncated, ["Policies"]);
    let w = warnings(&d);
    assert_eq!(w.len(), 1);
    assert!(
        w[0].contains("endpoint 2462B2D1-C402-4024-9C86-5A6903AF7759 at $[0]")
            && w[0].contains("Policies")
            && w[0].contains("System.Object[]"),
        "{w:?}"
    );
    // A hashtable cut to `@{…}` inside an array is named by its index.
    let t2 = r#"{"ID":"0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11","Name":"n","Type":"L2Bridge","Ipams":[{"Type":"Static","Subnets":"@{IpAddressPrefix=10.0.0.0/24}"}]}"#;
    let d = read_dump("networkdetailed.txt", t2.as_bytes());
    assert_eq!(d.docs[0].truncated, ["Ipams[0].Subnets"]);
}

#[test]
fn v1_reply_policy_list_and_kube_proxy_log_lines() {
    let reply = r#"{"Output":[{"ID":"7A0D6A2E-1C8B-4C21-9F0E-3D2C1B0A9F8E","Policies":[{"Type":"ELB","VIPs":["10.96.0.10"],"ExternalPort":53,"InternalPort":53,"Protocol":17}],"References":["/endpoints/2462B2D1-C402-4024-9C86-5A6903AF7759"]}],"Success":true}"#;
    let d = read_dump("policylists.json", reply.as_bytes());
    assert_eq!(kinds(&d), ["load balancer"], "{:?}", warnings(&d));
    let log = concat!(
        "I0203 10:00:00.000000    4242 hns.go:300] \"Created Hns loadbalancer policy resource\" loadBalancer={\"ID\":\"0BE07C06-353C-4FBF-8EBC-5531F877E68A\",\"HostComputeEndpoints\":[],\"PortMappings\":[{\"Protocol\":6,\"InternalPort\":80,\"ExternalPort\":31416,\"Flags\":2}],\"SchemaVersion\":{\"Major\":2,\"Minor\":0}}\n",
        "I0203 10:00:01.000000    4242 proxier.go:1] unrelated line\n",
        "I0203 10:00:02.000000    4242 hns.go:300] Created Hns loadbalancer policy resource &{Id:abc HostComputeEndpoints:[] SourceVIP:}\n",
        "I0203 10:00:03.000000    4242 hns.go:300] Created Hns loadbalancer policy resource &{Id:3599612c-0000-4000-8000-000000000001 HostComputeEndpoints:[78c19c4d-0000-4000-8000-000000000002] SourceVIP: FrontendVIPs:[10.185.128.116] PortMappings:[{Protocol:6 InternalPort:80 ExternalPort:80 DistributionType:0 Flags:0}] SchemaVersion:{Major:2 Minor:0} Flags:0}\n",
    );
    let d = read_dump("kube-proxy.log", log.as_bytes());
    // The JSON form and the Go %+v form; the cut-off %+v line (an ID that is no GUID) is noted.
    assert_eq!(kinds(&d), ["load balancer", "load balancer"]);
    let HnsDocument::LoadBalancer(lb) = &d.docs[1].doc else {
        panic!()
    };
    assert_eq!(lb.frontend_vips, ["10.185.128.116"]);
    assert_eq!(d.docs[1].source.line, 4);
    let w = warnings(&d);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("kube-proxy.log:3") && w[0].contains("not an HNS object"),
        "{w:?}"
    );
    // A failed v1 reply says so.
    let d = read_dump("r.json", br#"{"Success":false,"Error":"Element not found."}"#);
    assert!(d.docs.is_empty() && warnings(&d)[0].contains("Element not found"));
}

#[test]
fn bad_inputs_get_messages_not_panics() {
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("empty.txt", vec![], "empty file"),
        ("blank.txt", b"  \r\n\r\n".to_vec(), "only white space"),
        (
            "table.txt",
            utf16le_bom("Name Type\r\n---- ----\r\ncbr0 L2Bridge\r\n"),
            "a PowerShell table only",
        ),
        ("bin.dat", vec![0x4D, 0x5A, 0x90, 0x00, 0xFF, 0x13], "binary data"),
        (
            "garbage.txt",
            b"hello {world\n[not json either\n".to_vec(),
            "does not parse",
        ),
        (
            "list.txt",
            b"ID       : 1\r\nPolicies : {@{Type=ELB; VIPs=System.Object[]}}\r\n".to_vec(),
            "Format-List",
        ),
    ];
    for (name, bytes, want) in cases {
        let d = read_dump(name, &bytes);
        assert!(d.docs.is_empty(), "{name}");
        let w = warnings(&d);
        assert!(w.iter().any(|m| m.contains(want)), "{name}: {w:?}");
    }
}

#[test]
fn ten_megabytes_of_noise_is_one_warning() {
    let line = "0123456789 abcdefghij {not json} ".repeat(3) + "\n";
    let big = line.repeat(10 * 1024 * 1024 / line.len() + 1);
    assert!(big.len() >= 10 * 1024 * 1024);
    let d = read_dump("big.txt", big.as_bytes());
    assert_eq!(warnings(&d), ["warning: big.txt: no HNS JSON found"]);
}

#[test]
fn files_merge_and_text_files_are_skipped() {
    let v2 = br#"{"ID":"2462B2D1-C402-4024-9C86-5A6903AF7759","HostComputeNetwork":"0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11","IpConfigurations":[{"IpAddress":"10.244.2.7"}],"MacAddress":"02-11-0a-f0-00-0b","Policies":[{"Type":"ProviderAddress","Settings":{"ProviderAddress":"10.0.0.12"}}]}"#;
    let v1 = br#"{"ID":"2462b2d1-c402-4024-9c86-5a6903af7759","IPAddress":"10.244.2.7","IsRemoteEndpoint":true,"VirtualNetwork":"0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11"}"#;
    let d = read_files(&[
        InputFile {
            name: "endpoint.txt",
            bytes: v2,
        },
        InputFile {
            name: "endpoints-v1.json",
            bytes: v1,
        },
        InputFile {
            name: "vfpOutput.txt",
            bytes: b"ITEM LIST",
        },
    ]);
    assert_eq!(d.docs.len(), 1);
    let HnsDocument::Endpoint(e) = &d.docs[0].doc else {
        panic!()
    };
    // The fuller v2 copy wins; the v1 copy's remote flag is kept.
    assert!(e.is_remote() && !e.policies.is_empty());
    assert_eq!(d.notes.iter().filter(|n| n.level == Level::Info).count(), 1);
}

#[test]
fn import_keeps_ids_and_reports_dangling_references() {
    let net: Guid = "0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11".parse().unwrap();
    let docs = format!(
        r#"[{{"ID":"{net}","Name":"cbr0","Type":"L2Bridge","Ipams":[{{"Type":"Static","Subnets":[{{"IpAddressPrefix":"10.244.1.0/24"}}]}}]}},
           {{"ID":"11111111-2222-4333-8444-555555555555","HostComputeNetwork":"{net}","IpConfigurations":[{{"IpAddress":"10.244.1.5"}}],"MacAddress":"00-15-5D-01-02-03"}},
           {{"ID":"66666666-2222-4333-8444-555555555555","HostComputeNetwork":"99999999-2222-4333-8444-555555555555","IpConfigurations":[{{"IpAddress":"10.244.1.6"}}]}},
           {{"ID":"77777777-2222-4333-8444-555555555555","NamespaceId":7,"Resources":[{{"Type":"Endpoint","Data":{{"Id":"11111111-2222-4333-8444-555555555555"}}}},{{"Type":"Endpoint","Data":{{"Id":"88888888-2222-4333-8444-555555555555"}}}}]}},
           {{"ID":"AAAAAAAA-2222-4333-8444-555555555555","HostComputeEndpoints":["11111111-2222-4333-8444-555555555555","BBBBBBBB-2222-4333-8444-555555555555"],"FrontendVIPs":["10.96.0.10"],"PortMappings":[{{"Protocol":17,"InternalPort":53,"ExternalPort":53}}]}}]"#
    );
    let d = read_dump("all.json", docs.as_bytes());
    assert_eq!(d.docs.len(), 5, "{:?}", warnings(&d));
    let mut hns = Hns::new(HostSettings::default(), 1);
    let gen = hns.generation;
    let rep = hns.import(d.docs.into_iter().map(|x| x.doc));
    assert_eq!(
        (rep.networks, rep.endpoints, rep.namespaces, rep.load_balancers),
        (1, 2, 1, 1)
    );
    assert!(hns.generation > gen);
    hns.verify_indexes().unwrap();
    let ep: Guid = "11111111-2222-4333-8444-555555555555".parse().unwrap();
    let ns: Guid = "77777777-2222-4333-8444-555555555555".parse().unwrap();
    assert_eq!(hns.endpoint_mac(&ep).unwrap().to_string(), "00-15-5D-01-02-03");
    assert_eq!(hns.namespace_of(&ep), Some(ns));
    assert_eq!(hns.namespace_endpoints(&ns), [ep]);
    let msgs: Vec<String> = rep
        .problems
        .iter()
        .map(|p| format!("{} {}: {}", p.kind, p.id, p.message))
        .collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(
        msgs[0].starts_with("endpoint 66666666") && msgs[0].contains("99999999"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].starts_with("namespace 77777777") && msgs[1].contains("88888888"),
        "{msgs:?}"
    );
    assert!(
        msgs[2].starts_with("load balancer AAAAAAAA") && msgs[2].contains("BBBBBBBB"),
        "{msgs:?}"
    );
    // The LB keeps its dangling backend: the doctor must see the state as it was.
    assert_eq!(
        hns.load_balancers
            .values()
            .next()
            .unwrap()
            .host_compute_endpoints
            .len(),
        2
    );
    // A second namespace gets a compartment past the imported one.
    let id = hns.namespace_create(Guid::default(), Default::default()).unwrap();
    assert_eq!(hns.namespaces[&id].namespace_id, 8);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "Name Type\r\n---- ----\r\nx    L2Bridge\r\n[{\"ID\":\"0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11\",\"Name\":\"cbr0\",\"Type\":\"L2Bridge\",\"Ipams\":[{\"Type\":\"Static\",\"Subnets\":[{\"IpAddressPrefix\":\"10.244.1.0/24\"}]}]},{\"Output\":[{\"ID\":\"11111111-2222-4333-8444-555555555555\",\"IPAddress\":\"10.244.1.5\",\"IsRemoteEndpoint\":true,\"Policies\":\"System.Object[]\"}],\"Success\":true}]\r\nI0101 x.go:1] Created Hns loadbalancer policy resource {\"ID\":\"AAAAAAAA-2222-4333-8444-555555555555\",\"PortMappings\":[{\"Protocol\":6}]}\r\n";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary bytes: notes, never a panic.
        #[test]
        fn on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read_dump("fuzz", &bytes);
        }

        /// A real-shaped dump cut anywhere and with one byte changed, in both encodings.
        #[test]
        fn on_damaged_dumps(cut in 0usize..SAMPLE.len(), at in 0usize..SAMPLE.len(), b in any::<u8>(), wide in any::<bool>()) {
            let mut bytes = if wide { utf16le_bom(SAMPLE) } else { SAMPLE.as_bytes().to_vec() };
            let at = at.min(bytes.len() - 1);
            bytes[at] = b;
            bytes.truncate(cut.max(1) * if wide { 2 } else { 1 });
            let d = read_dump("damaged", &bytes);
            // Whatever was read is a well-formed document that imports.
            let mut hns = Hns::new(HostSettings::default(), 1);
            hns.import(d.docs.into_iter().map(|x| x.doc));
            prop_assert!(hns.verify_indexes().is_ok());
        }
    }

    #[test]
    fn the_undamaged_sample_reads_completely() {
        let d = read_dump("sample", SAMPLE.as_bytes());
        assert_eq!(
            kinds(&d),
            ["network", "endpoint", "load balancer"],
            "{:?}",
            warnings(&d)
        );
        assert_eq!(warnings(&d).len(), 1, "{:?}", warnings(&d)); // the System.Object[] cut
    }
}

#[test]
fn an_endpoint_naming_its_namespace_is_listed_there() {
    // Get-HnsNamespace was collected before the pod attached (its Resources are empty); the
    // endpoint itself names the namespace.
    let docs = r#"[{"ID":"0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11","Name":"cbr0","Type":"L2Bridge"},
        {"ID":"77777777-2222-4333-8444-555555555555","NamespaceId":4},
        {"ID":"11111111-2222-4333-8444-555555555555","HostComputeNetwork":"0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11",
         "HostComputeNamespace":"77777777-2222-4333-8444-555555555555","IpConfigurations":[{"IpAddress":"10.244.1.5"}]},
        {"ID":"12111111-2222-4333-8444-555555555555","HostComputeNetwork":"0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11",
         "HostComputeNamespace":"99999999-2222-4333-8444-555555555555","IpConfigurations":[{"IpAddress":"10.244.1.6"}]}]"#;
    let d = read_dump("ns.json", docs.as_bytes());
    let mut hns = Hns::new(HostSettings::default(), 1);
    let rep = hns.import(d.docs.into_iter().map(|x| x.doc));
    let ns: Guid = "77777777-2222-4333-8444-555555555555".parse().unwrap();
    let ep: Guid = "11111111-2222-4333-8444-555555555555".parse().unwrap();
    let orphan: Guid = "12111111-2222-4333-8444-555555555555".parse().unwrap();
    assert_eq!(hns.namespace_endpoints(&ns), [ep]);
    assert_eq!(hns.namespace_of(&orphan), None);
    assert_eq!(rep.problems.len(), 1, "{:?}", rep.problems);
    assert!(rep.problems[0].message.contains("99999999"), "{:?}", rep.problems);
    hns.verify_indexes().unwrap();
}
