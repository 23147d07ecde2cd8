//! `hnsim reach` and `hnsim diff` run as the built binary over library scenarios: the port
//! ranges each class gets, the flows a change broke, exit codes (docs/reach.md).

fn scenario(rel: &str) -> String {
    format!("{}/scenarios/{rel}", env!("CARGO_MANIFEST_DIR"))
}

mod common;
use common::hnsim_parts as hnsim;

fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in\n{out}"))
}

#[test]
fn the_s13_ladder_as_port_ranges() {
    let s = scenario("acl/s13-acl-ladder.yaml");
    let (code, out, err) = hnsim(&[
        "reach", &s, "--from", "P", "--from", "client", "--to", "node", "--to", "P",
    ]);
    assert_eq!(code, 0, "{err}");
    // S13.1: the priority-200 Allow (TCP to the node's 31002) wins over the 1998 Block, without
    // SNAT (the node's address is an OutBoundNAT exception: seen from the pod's own); every
    // other packet to the infra subnet hits the Block (the rule without an Id is `ACL#3`).
    assert_eq!(
        line(&out, "P → 10.127.130.7"),
        "P → 10.127.130.7 (node): tcp/31002 Delivered (node) seen from 192.168.1.20; \
         tcp/1-31001,31003-65535 udp/1-65535 icmp DeniedOut at node/P ACL_SWITCH ACL#3"
    );
    // S13.5: inbound TCP 1111 allowed; everything else inbound (22 included) matches no In
    // rule and is blocked because the direction has rules.
    assert_eq!(
        line(&out, "client → 192.168.1.20"),
        "client → 192.168.1.20 (P): tcp/1111 Delivered (P) seen from 10.127.130.50; \
         tcp/1-1110,1112-65535 udp/1-65535 icmp DeniedIn at node/P ACL_SWITCH default"
    );
    assert!(
        out.ends_with("4 pairs, 56 classes (one witness packet each)\n"),
        "{out}"
    );
}

#[test]
fn acl_port_ranges_with_a_hole() {
    let s = scenario("reach/acl-port-ranges.yaml");
    let (code, out, err) = hnsim(&["reach", &s, "--from", "client", "--to", "P"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "client → 192.168.1.20 (P): tcp/8000,8099 udp/5000 Delivered (P) seen from 10.127.130.50; \
         tcp/1-7999,8100-65535 udp/1-4999,6000-65535 icmp DeniedIn at node/P ACL_SWITCH default; \
         tcp/8001-8049,8051-8098 udp/5001-5999 NoListener at container:P; \
         tcp/8050 DeniedIn at node/P ACL_SWITCH web-hole\n\
         1 pairs, 13 classes (one witness packet each)\n"
    );
}

#[test]
fn json_counts_every_class_once() {
    let (code, out, err) = hnsim(&[
        "reach",
        &scenario("kubernetes/lb-deleted-out-of-band.yaml"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let pairs = v["pairs"].as_array().expect("pairs");
    let sum: u64 = pairs.iter().map(|p| p["classes"].as_u64().unwrap()).sum();
    assert_eq!(v["classes"].as_u64(), Some(sum));
    // Kubernetes names: the Service's ClusterIP is reached at its backend pod on port 80 only.
    let svc = pairs
        .iter()
        .find(|p| p["from"] == "pod/default/client" && p["to"] == "svc/default/web")
        .expect("client → svc/default/web");
    assert_eq!(svc["groups"][0]["disposition"], "Delivered");
    assert_eq!(svc["groups"][0]["delivered_to"], "pod/default/web-a");
    assert_eq!(svc["groups"][0]["tcp"], serde_json::json!([{"lo": 80, "hi": 80}]));
}

#[test]
fn an_lb_deleted_out_of_band_breaks_exactly_the_service_port() {
    let s = scenario("kubernetes/lb-deleted-out-of-band.yaml");
    // Step 2 deletes the ClusterIP LB on win1; step 3 is kube-proxy's sync, which does not
    // notice; the whole set-up ends with kube-proxy's restart, which puts it back.
    let (code, out, err) = hnsim(&["diff", &s, "--cut-at", "2", "--until", "3"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        out,
        "pod/default/client → 10.96.0.50 (svc/default/web) tcp/80: Delivered (pod/default/web-a) seen from 10.0.0.11 ⇒ NoRoute at r1\n\
         pod/default/web-a → 10.96.0.50 (svc/default/web) tcp/80: Delivered (pod/default/web-a) seen from 10.0.0.11 ⇒ NoRoute at r1\n\
         2 change(s); 1080 classes before, 1080 after\n"
    );
    let (code, out, _) = hnsim(&["diff", &s, "--cut-at", "2"]);
    assert_eq!(code, 0, "the restart repairs it:\n{out}");
}

#[test]
fn an_hns_restart_breaks_every_class_towards_the_restarted_pod() {
    let s = scenario("faults/s15-hns-restart-overlay.yaml");
    // Step 11 is the restart of HNS on node1.
    let (code, out, err) = hnsim(&[
        "diff", &s, "--cut-at", "11", "--until", "11", "--from", "C", "--to", "A",
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        out,
        "C → 10.244.1.10 (A) tcp/1-79,81-65535: NoListener at container:A ⇒ NoListener at node1\n\
         C → 10.244.1.10 (A) tcp/80: Delivered (A) seen from 10.244.2.10 ⇒ NoListener at node1\n\
         C → 10.244.1.10 (A) udp/1-65535: NoListener at container:A ⇒ NoListener at node1\n\
         C → 10.244.1.10 (A) icmp: Delivered (A) seen from 10.244.2.10 ⇒ NoListener at node1\n\
         4 change(s); 5 classes before, 3 after\n"
    );
    // Every destination: the addresses of node1's pod subnet no pod holds, which node1 refused
    // itself (NoRoute), now end at its closed VXLAN port like A's; nothing else changed.
    let (code, out, err) = hnsim(&["diff", &s, "--cut-at", "11", "--until", "11", "--from", "C"]);
    assert_eq!(code, 1, "{err}");
    let changed: Vec<&str> = out.lines().collect();
    assert_eq!(changed.len(), 17, "{out}");
    for l in &changed[..16] {
        assert!(l.starts_with("C → 10.244.1."), "{l}");
        assert!(l.ends_with("⇒ NoListener at node1"), "{l}");
    }
    assert!(changed.contains(
        &"C → 10.244.1.11-10.244.1.255 (unassigned, in 10.244.1.0/24: network subnet, remote subnet route) \
          icmp: NoRoute at node1 ⇒ NoListener at node1"
    ));
    assert_eq!(changed[16], "16 change(s); 63 classes before, 61 after");
}

#[test]
fn no_change_is_exit_0_and_bad_input_exit_2() {
    let s = scenario("acl/s13-acl-ladder.yaml");
    let (code, out, _) = hnsim(&["diff", &s, &s]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "0 change(s); 0 classes before, 0 after (both set-ups compile to the same programs)\n"
        )
    );
    for (args, want) in [
        (vec!["reach", &s, "--from", "nope"], "`nope` is not defined"),
        (vec!["reach", &s, "--to", "lab31"], "did you mean `lab30`?"),
        (vec!["reach", &s, "--format", "xml"], "expected text or json"),
        (
            vec!["diff", &s, "--cut-at", "0"],
            "expected a step number from 1 to",
        ),
        (
            vec!["diff", &s, "--cut-at", "3", "--until", "2"],
            "--until: expected a step number from 3",
        ),
        (vec!["reach", "/nonexistent.yaml"], ""),
    ] {
        let (code, out, err) = hnsim(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} printed {out}");
    }
}

#[test]
fn a_diff_of_two_node_dumps() {
    // The same flannel node before and after an HNS restart (tests/data/nodes): the restart
    // dropped the overlay network and its endpoints, so the host's own traffic to its pods
    // now finds no route; 172.28.160.1, a host address (a NAT gateway) of the after state only,
    // is an address atom of its own on both sides and now reaches the host. Both dumps are
    // imported as `hnsim node import` does.
    let a = format!("{}/tests/data/nodes/overlay-flannel", env!("CARGO_MANIFEST_DIR"));
    let b = format!(
        "{}/tests/data/nodes/after-hns-restart",
        env!("CARGO_MANIFEST_DIR")
    );
    let (code, out, err) = hnsim(&["diff", &a, &b, "--from", "node"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        out,
        "node → 10.244.1.2 (ep-10-244-1-2) tcp/1-65535: NoRoute at endpoint:6A1B2C3D-0000-4A00-8000-00000000A002 ⇒ NoRoute at node\n\
         node → 10.244.1.2 (ep-10-244-1-2) udp/1-65535: NoRoute at endpoint:6A1B2C3D-0000-4A00-8000-00000000A002 ⇒ NoRoute at node\n\
         node → 10.244.1.2 (ep-10-244-1-2) icmp: NoRoute at endpoint:6A1B2C3D-0000-4A00-8000-00000000A002 ⇒ NoRoute at node\n\
         node → 10.244.1.5 (ep-10-244-1-5) tcp/1-65535: NoListener at endpoint:6A1B2C3D-0000-4A00-8000-00000000A005 ⇒ NoRoute at node\n\
         node → 10.244.1.5 (ep-10-244-1-5) udp/1-65535: NoListener at endpoint:6A1B2C3D-0000-4A00-8000-00000000A005 ⇒ NoRoute at node\n\
         node → 10.244.1.5 (ep-10-244-1-5) icmp: Delivered (ep-10-244-1-5) seen from 10.0.0.11 ⇒ NoRoute at node\n\
         node → 10.244.1.6 (ep-10-244-1-6) tcp/1-65535: NoListener at endpoint:6A1B2C3D-0000-4A00-8000-00000000A006 ⇒ NoRoute at node\n\
         node → 10.244.1.6 (ep-10-244-1-6) udp/1-65535: NoListener at endpoint:6A1B2C3D-0000-4A00-8000-00000000A006 ⇒ NoRoute at node\n\
         node → 10.244.1.6 (ep-10-244-1-6) icmp: Delivered (ep-10-244-1-6) seen from 10.0.0.11 ⇒ NoRoute at node\n\
         node → 172.28.160.1 (gateway, host address) tcp/1-65535: NoRoute at node ⇒ NoListener at host:node\n\
         node → 172.28.160.1 (gateway, host address) udp/1-65535: NoRoute at node ⇒ NoListener at host:node\n\
         node → 172.28.160.1 (gateway, host address) icmp: NoRoute at node ⇒ Delivered (node) seen from 172.28.160.1\n\
         12 change(s); 93 classes before, 95 after\n"
    );
    // The pods' endpoints send as themselves (the dump has namespaces, not containers): after
    // the restart they are gone, so each of their pairs exists on one side only.
    let (code, out, _) = hnsim(&["diff", &a, &b]);
    assert_eq!(code, 1);
    let pod: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("ep-10-244-1-5 → "))
        .collect();
    // 20 towards named addresses (the DNS VIP's udp/53 is a change of its own, as its class
    // names the backend its LB chose, `NoRoute at node via 10.244.2.7`, and the rest of UDP
    // has none) and 69 towards address atoms.
    assert_eq!(pod.len(), 89, "{out}");
    assert!(pod.iter().all(|l| l.ends_with("⇒ (no such pair)")), "{out}");
    // A dump against itself: no change, exit 0.
    let (code, out, _) = hnsim(&["diff", &a, &a]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "0 change(s); 0 classes before, 0 after (both set-ups compile to the same programs)\n"
        )
    );
}

#[test]
fn kubernetes_objects_are_named_in_reach_tables() {
    // The source VIP endpoint kube-proxy creates on an overlay node: named as the node's source
    // VIP both as a destination and where its packets end, never as a bare GUID.
    let s = scenario("kubernetes/overlay-source-vip.yaml");
    let (code, out, err) = hnsim(&["reach", &s, "--from", "pod/default/client", "--to", "10.244.1.2"]);
    assert_eq!(code, 0, "{err}");
    let l = line(&out, "pod/default/client → 10.244.1.2");
    assert!(
        l.starts_with("pod/default/client → 10.244.1.2 (node/win1 source VIP): "),
        "{l}"
    );
    let (_, at) = l
        .split_once(" NoRoute at endpoint:")
        .unwrap_or_else(|| panic!("{l}"));
    assert!(at.ends_with(" [node/win1 source VIP]"), "{l}");
}

#[test]
fn source_ports_are_split_only_where_a_rule_looks_at_them() {
    let s = scenario("reach/acl-source-ports.yaml");
    // P admits tcp/8080 from source ports 1024-65535 only (an In rule's RemotePorts); Q may not
    // send from its ports 40000-40999 (an Out rule's LocalPorts): each boundary shows, exactly.
    let (code, out, err) = hnsim(&["reach", &s, "--from", "client", "--from", "Q", "--to", "P"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "client → 192.168.1.20 (P): tcp/8080 from ports 1024-65535 Delivered (P) seen from 10.127.130.50; \
         udp/1-65535 icmp, tcp/1-65535 from ports 1-1023, tcp/1-8079,8081-65535 from ports 1024-65535 \
         DeniedIn at node/P ACL_SWITCH default\n\
         Q → 192.168.1.20 (P): tcp/8080 from ports 1024-39999,41000-65535 Delivered (P) seen from 192.168.1.21; \
         icmp, tcp/1-65535 from ports 1-1023, udp/1-65535 from ports 1-39999,41000-65535, \
         tcp/1-8079,8081-65535 from ports 1024-39999,41000-65535 DeniedIn at node/P ACL_SWITCH default; \
         tcp/1-65535 udp/1-65535 from ports 40000-40999 DeniedOut at node/Q ACL_SWITCH no-40k-source\n\
         2 pairs, 50 classes (one witness packet each)\n"
    );
    // No rule looks at the client's port towards Q (Q's Out rule is on Q's own port): the
    // classes are those of the destination ports only, as many as before source ports were
    // split (tcp cut at 1024, 8080, 8081, 40000, 41000 by the ACL ranges; udp at 40000, 41000).
    let (code, out, err) = hnsim(&["reach", &s, "--from", "client", "--to", "Q"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("from ports"), "{out}");
    assert!(
        out.ends_with("1 pairs, 10 classes (one witness packet each)\n"),
        "{out}"
    );
}

#[test]
fn an_lb_class_lists_every_backend_it_can_reach() {
    // S5 (externalTrafficPolicy): NodePort 30080 spreads over both nodes' backends; 30081 is
    // Local, so on win1 it reaches win1's own backend only.
    let s = scenario("kubernetes/s5-nodeport-etp.yaml");
    let (code, out, err) = hnsim(&["reach", &s, "--from", "client", "--to", "10.0.0.11"]);
    assert_eq!(code, 0, "{err}");
    let l = line(&out, "client → 10.0.0.11");
    assert!(
        l.starts_with(
            "client → 10.0.0.11 (win1): tcp/30080 Delivered (pod/default/web-a, pod/default/web-c) seen from 10.0.0.11; \
             tcp/30081 Delivered (pod/default/local-a) seen from 10.0.0.50;"
        ),
        "{l}"
    );
    assert!(
        out.ends_with(
            "1 pairs, 16 classes, 17 witness packets (one per backend where an LB spreads a class)\n"
        ),
        "{out}"
    );
    let (_, out, _) = hnsim(&[
        "reach",
        &s,
        "--from",
        "client",
        "--to",
        "10.0.0.11",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let g = &v["pairs"][0]["groups"][0];
    let backends: Vec<&str> = g["backends"]
        .as_array()
        .expect("one outcome per backend")
        .iter()
        .map(|b| b["backend"].as_str().expect("backend"))
        .collect();
    assert_eq!(backends, ["10.244.1.10", "10.244.2.10"]);
    assert_eq!(v["witnesses"], 17);
    // S7: where the host honours session affinity the source reaches one backend; where it
    // does not (ws2019), the "sticky" Service spreads like any other.
    let s = scenario("kube-proxy/s7-session-affinity.yaml");
    let (code, out, err) = hnsim(&["reach", &s, "--from", "A", "--from", "D", "--to", "10.96.0.50"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        line(&out, "A → 10.96.0.50").contains("tcp/80 Delivered (C) seen"),
        "{out}"
    );
    assert!(
        line(&out, "D → 10.96.0.50").contains("tcp/80 Delivered (D, E) seen"),
        "{out}"
    );
}

#[test]
fn addresses_no_object_holds_are_swept_as_atoms() {
    // Pod A's OutBoundNAT exceptions and its ACL prefixes cut the address space; each piece no
    // object holds gets one witness, printed as its range with the narrowest prefix holding it.
    let s = scenario("reach/address-atoms.yaml");
    let (code, out, err) = hnsim(&["reach", &s, "--from", "A"]);
    assert_eq!(code, 0, "{err}");
    for want in [
        // Outside every prefix: SNATed to the node (ICMP cannot be), then r1 has no route.
        "A → 0.0.0.0-9.255.255.255 (unassigned, in 0.0.0.0/0: host route): tcp/1-65535 \
         udp/1-65535 NoRoute at r1; icmp Unsupported at node1",
        // Inside the exception: not SNATed, so ICMP leaves too.
        "A → 10.244.2.0-10.244.255.255 (unassigned, in 10.244.0.0/16: OutBoundNAT exception): \
         tcp/1-65535 udp/1-65535 icmp NoRoute at r1",
        // An ACL's prefix that no route has: its own atom.
        "A → 203.0.113.128/25 (unassigned: ACL address): tcp/1-65535 udp/1-65535 icmp \
         DeniedOut at node1/A ACL_SWITCH no-upper-half",
        "A → 203.0.113.51-203.0.113.127 (unassigned, in 203.0.113.0/24: segment): tcp/1-65535 \
         udp/1-65535 NoRoute at r1; icmp Unsupported at node1",
        // A router's address is an atom of its own.
        "A → 10.0.0.1 (next hop, router interface): tcp/1-65535 udp/1-65535 icmp NoListener at r1",
    ] {
        let head = want.split(':').next().expect("title");
        assert_eq!(line(&out, head), want);
    }
    // Named destinations first, then the atoms, which cover the rest of IPv4 once.
    assert!(
        out.ends_with("25 pairs, 85 classes (one witness packet each)\n"),
        "{out}"
    );
    // `--to PREFIX`: the named addresses and atoms inside, cut at the prefix.
    let (code, out, err) = hnsim(&["reach", &s, "--from", "A", "--to", "203.0.113.0/25"]);
    assert_eq!(code, 0, "{err}");
    let titles: Vec<&str> = out.lines().map(|l| l.split(':').next().unwrap_or("")).collect();
    assert_eq!(
        titles,
        [
            "A → 203.0.113.50 (inet)",
            "A → 203.0.113.0 (unassigned, in 203.0.113.0/24",
            "A → 203.0.113.1 (gateway, router interface)",
            "A → 203.0.113.2-203.0.113.49 (unassigned, in 203.0.113.0/24",
            "A → 203.0.113.51-203.0.113.127 (unassigned, in 203.0.113.0/24",
            "5 pairs, 19 classes (one witness packet each)",
        ]
    );
    // JSON: the range as the address, and the address its witnesses went to.
    let (_, out, _) = hnsim(&[
        "reach",
        &s,
        "--from",
        "A",
        "--to",
        "198.51.100.0/24",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["pairs"][0]["address"], "198.51.100.0/24");
    assert_eq!(v["pairs"][0]["witness"], "198.51.100.0");
}
