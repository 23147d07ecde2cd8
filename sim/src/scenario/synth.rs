//! Synthetic scenarios at cluster scale, as YAML text: what the scaling tests count and the
//! criterion benches (`benches/scenarios.rs`, `hnsim bench`) time. Each is an ordinary scenario
//! (the same parser, validator and runner as a user's file), built with the documents flannel
//! and kube-proxy send on an Overlay node (docs/reference/consumers.md §1.2, §7 S8).

use std::fmt::Write;

fn header(out: &mut String, name: &str, nodes: usize) {
    let _ = writeln!(
        out,
        "name: {name}\nseed: 1\nunderlay:\n  segments:\n    lan: {{prefix: 10.0.0.0/24}}\nhosts:"
    );
    for n in 1..=nodes {
        let _ = writeln!(out, "  node{n}: {{ip: 10.0.0.{}}}", 10 + n);
    }
    out.push_str("steps:\n");
    for n in 1..=nodes {
        let _ = writeln!(
            out,
            "  - create-network:\n      host: node{n}\n      as: vx{n}\n      doc:\n        Type: Overlay\n        \
             Name: vxlan0\n        Flags: 8\n        SchemaVersion: {{Major: 2, Minor: 0}}\n        \
             Ipams: [{{Type: Static, Subnets: [{{IpAddressPrefix: 10.{n}.0.0/16, Routes: [{{NextHop: 10.{n}.0.1, \
             DestinationPrefix: 0.0.0.0/0}}], Policies: [{{Type: VSID, Settings: {{IsolationId: 4096}}}}]}}]}}]\n        \
             Policies:\n          - {{Type: DrMacAddress, Settings: {{Address: 00-15-5D-AA-00-{n:02x}}}}}\n          \
             - {{Type: HostRoute, Settings: {{}}}}"
        );
    }
    for n in 1..=nodes {
        for m in (1..=nodes).filter(|m| *m != n) {
            let _ = writeln!(
                out,
                "  - add-network-policy:\n      host: node{n}\n      target: vx{n}\n      policies: [{{Type: \
                 RemoteSubnetRoute, Settings: {{DestinationPrefix: 10.{m}.0.0/16, IsolationId: 4096, \
                 ProviderAddress: 10.0.0.{}, DistributedRouterMacAddress: 00-15-5D-AA-00-{m:02x}}}}}]",
                10 + m
            );
        }
    }
}

fn pod_ip(node: usize, pod: usize) -> String {
    format!("10.{node}.{}.{}", 1 + pod / 250, 2 + pod % 250)
}

/// `nodes` Overlay nodes with `pods` pods each: per pod a named endpoint (`p<node>_<pod>`) and a
/// container (`c<node>_<pod>`); then one cross-host connect between the first pods of node 1
/// and node 2. Every endpoint is a named object, so a runner whose per-step work grows with
/// the names defined so far is quadratic here.
pub fn overlay_pods(nodes: usize, pods: usize) -> String {
    let mut out = String::with_capacity(300 * nodes * pods + 2000);
    header(&mut out, &format!("synthetic-overlay-{nodes}x{pods}"), nodes);
    for n in 1..=nodes {
        for p in 0..pods {
            let _ = writeln!(
                out,
                "  - create-endpoint:\n      host: node{n}\n      as: p{n}_{p}\n      doc: {{Name: p{n}_{p}, \
                 HostComputeNetwork: \"${{vx{n}.ID}}\", IpConfigurations: [{{IpAddress: {}}}], Policies: \
                 [{{Type: ProviderAddress, Settings: {{ProviderAddress: 10.0.0.{}}}}}], SchemaVersion: \
                 {{Major: 2, Minor: 0}}}}\n  - container: {{name: c{n}_{p}, host: node{n}, endpoints: [p{n}_{p}], \
                 listen: [tcp/8080]}}",
                pod_ip(n, p),
                10 + n
            );
        }
    }
    if nodes >= 2 && pods >= 1 {
        out.push_str(
            "  - connect: {from: c1_0, to: \"c2_0:8080\", expect: {disposition: Delivered, delivered-to: c2_0}}\n",
        );
    }
    out
}

/// One Overlay node with `backends` named local endpoints and `lbs` create-loadbalancer steps
/// (ClusterIP 10.96.x.y:80 → 8080 over every backend, kube-proxy's document), then a connect to
/// the last VIP.
pub fn lb_steps(lbs: usize, backends: usize) -> String {
    let mut out = String::with_capacity(250 * lbs + 400 * backends + 2000);
    header(&mut out, &format!("synthetic-lbs-{lbs}"), 1);
    for b in 0..backends {
        let _ = writeln!(
            out,
            "  - create-endpoint:\n      host: node1\n      as: be{b}\n      doc: {{Name: be{b}, \
             HostComputeNetwork: \"${{vx1.ID}}\", IpConfigurations: [{{IpAddress: {}}}], SchemaVersion: \
             {{Major: 2, Minor: 0}}}}\n  - container: {{name: cbe{b}, host: node1, endpoints: [be{b}], listen: \
             [tcp/8080]}}",
            pod_ip(1, b)
        );
    }
    let refs: Vec<String> = (0..backends).map(|b| format!("\"${{be{b}.ID}}\"")).collect();
    let refs = refs.join(", ");
    for i in 0..lbs {
        let _ = writeln!(
            out,
            "  - create-loadbalancer:\n      host: node1\n      doc: {{SourceVIP: 10.1.0.250, FrontendVIPs: \
             [{}], HostComputeEndpoints: [{refs}], PortMappings: [{{Protocol: 6, InternalPort: 8080, \
             ExternalPort: 80}}], SchemaVersion: {{Major: 2, Minor: 0}}}}",
            cluster_ip(i)
        );
    }
    if lbs >= 1 && backends >= 1 {
        let _ = writeln!(
            out,
            "  - connect: {{from: cbe0, to: \"{}:80\", expect: {{disposition: Delivered}}}}",
            cluster_ip(lbs - 1)
        );
    }
    out
}

/// A kube-proxy Overlay cluster: `nodes` nodes with `pods` pods each (endpoint `p<n>_<p>`,
/// container `c<n>_<p>` listening on tcp/8080), on every node a source-VIP endpoint and a remote
/// endpoint (`Flags: 1`, ProviderAddress = the pod's node) for every other node's pod, and
/// `services` ClusterIP load balancers (10.96.x.y:80 → 8080) with `backends` pods each spread
/// over the nodes, programmed on every node as kube-proxy does (consumers.md §1.2). The
/// cluster `hnsim reach`'s full-size bench sweeps (benches/reach.rs).
pub fn overlay_cluster(nodes: usize, pods: usize, services: usize, backends: usize) -> String {
    let total = nodes * pods;
    let mut out = String::with_capacity(600 * nodes * (pods + services) + 400 * nodes * total);
    header(
        &mut out,
        &format!("synthetic-cluster-{nodes}x{pods}-{services}svc"),
        nodes,
    );
    for n in 1..=nodes {
        let _ = writeln!(
            out,
            "  - create-endpoint:\n      host: node{n}\n      as: sv{n}\n      doc: {{HostComputeNetwork: \
             \"${{vx{n}.ID}}\", IpConfigurations: [{{IpAddress: 10.{n}.0.2}}], SchemaVersion: {{Major: 2, Minor: 0}}}}"
        );
        for p in 0..pods {
            let _ = writeln!(
                out,
                "  - create-endpoint:\n      host: node{n}\n      as: p{n}_{p}\n      doc: {{Name: p{n}_{p}, \
                 HostComputeNetwork: \"${{vx{n}.ID}}\", IpConfigurations: [{{IpAddress: {}}}], Policies: \
                 [{{Type: ProviderAddress, Settings: {{ProviderAddress: 10.0.0.{}}}}}], SchemaVersion: \
                 {{Major: 2, Minor: 0}}}}\n  - container: {{name: c{n}_{p}, host: node{n}, endpoints: [p{n}_{p}], \
                 listen: [tcp/8080]}}",
                pod_ip(n, p),
                10 + n
            );
        }
    }
    for n in 1..=nodes {
        for m in (1..=nodes).filter(|m| *m != n) {
            for p in 0..pods {
                let ip = pod_ip(m, p);
                let mac: Vec<String> = ip
                    .split('.')
                    .map(|o| format!("{:02x}", o.parse::<u8>().unwrap_or(0)))
                    .collect();
                let _ = writeln!(
                    out,
                    "  - create-endpoint:\n      host: node{n}\n      as: r{n}_{m}_{p}\n      doc: {{HostComputeNetwork: \
                     \"${{vx{n}.ID}}\", IpConfigurations: [{{IpAddress: {ip}}}], MacAddress: 02-11-{}, Flags: 1, \
                     Policies: [{{Type: ProviderAddress, Settings: {{ProviderAddress: 10.0.0.{}}}}}], SchemaVersion: \
                     {{Major: 2, Minor: 0}}}}",
                    mac.join("-"),
                    10 + m
                );
            }
        }
    }
    for n in 1..=nodes {
        for i in 0..services {
            let refs: Vec<String> = (0..backends)
                .map(|k| {
                    let g = (i + k * (total / backends.max(1)).max(1)) % total.max(1);
                    let (m, p) = (1 + g / pods, g % pods);
                    if m == n {
                        format!("\"${{p{n}_{p}.ID}}\"")
                    } else {
                        format!("\"${{r{n}_{m}_{p}.ID}}\"")
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "  - create-loadbalancer:\n      host: node{n}\n      doc: {{SourceVIP: 10.{n}.0.2, FrontendVIPs: \
                 [{}], HostComputeEndpoints: [{}], PortMappings: [{{Protocol: 6, InternalPort: 8080, \
                 ExternalPort: 80}}], SchemaVersion: {{Major: 2, Minor: 0}}}}",
                cluster_ip(i),
                refs.join(", ")
            );
        }
    }
    out
}

fn cluster_ip(i: usize) -> String {
    format!("10.96.{}.{}", i / 250, 1 + i % 250)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{load_str, runner};

    #[test]
    fn synthetic_scenarios_load_and_pass() {
        for (name, text) in [
            ("pods", overlay_pods(2, 3)),
            ("lbs", lb_steps(5, 2)),
            ("cluster", overlay_cluster(2, 3, 4, 3)),
        ] {
            let l = load_str(name, &text).unwrap_or_else(|e| panic!("{name}: {e:?}\n{text}"));
            let r = runner::run(&l, &Default::default());
            assert!(
                r.ok(),
                "{name}: {}",
                crate::scenario::report::text(std::slice::from_ref(&r))
            );
        }
    }
}
