//! Importing a big node dump (issue 12: 20,000 remote endpoints and 5,000 load balancers in
//! under 1 s): the files as collectlogs.ps1 writes them (UTF-16LE with a BOM, a table before
//! pretty-printed JSON), read by `hnsim_model::dump::read_files` and loaded by `Hns::import`.
//! The dump is built once, outside the timing.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hnsim_model::dump::{read_files, InputFile};
use hnsim_model::state::{Hns, HostSettings};
use serde_json::{json, Value};
use std::time::Duration;

const NET: &str = "3F0E5C9A-5B7D-4C1E-9A2B-6D8E0F1A2B01";

fn guid(kind: u32, i: u32) -> String {
    format!("{kind:08X}-0000-4000-8000-{i:012X}")
}

fn utf16(table: &str, v: &Value) -> Vec<u8> {
    let text = format!("{table}\r\n{}\r\n", serde_json::to_string_pretty(v).unwrap());
    let mut b = vec![0xFF, 0xFE];
    b.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    b
}

/// (file name, bytes) of a node with `remote` remote endpoints, 200 local ones and `lbs` LBs
/// of 4 backends each.
fn dump(remote: u32, lbs: u32) -> Vec<(String, Vec<u8>)> {
    let net = json!([{"ID": NET, "Name": "vxlan0", "Type": "Overlay", "Flags": 8,
        "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.0.0/16",
            "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]}],
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}}]}]);
    let ip = |i: u32| format!("10.244.{}.{}", 1 + i / 250, 2 + i % 250);
    let mut eps = Vec::new();
    for i in 0..200 {
        eps.push(json!({"ID": guid(1, i), "HostComputeNetwork": NET, "IpConfigurations": [{"IpAddress": ip(i), "PrefixLength": 16}],
            "MacAddress": format!("0E-2A-0A-F4-{:02X}-{:02X}", i / 256, i % 256), "State": 2,
            "Policies": [{"Type": "OutBoundNAT", "Settings": {"Exceptions": ["10.244.0.0/16", "10.96.0.0/12"]}}]}));
    }
    for i in 0..remote {
        eps.push(json!({"ID": guid(2, i), "HostComputeNetwork": NET, "IpConfigurations": [{"IpAddress": ip(200 + i), "PrefixLength": 16}],
            "MacAddress": format!("02-11-0A-F4-{:02X}-{:02X}", (i / 256) % 256, i % 256), "Flags": 1, "State": 1,
            "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": format!("10.0.{}.{}", 1 + i / 250 % 200, 2 + i % 250)}}]}));
    }
    let lbs: Vec<Value> = (0..lbs)
        .map(|i| {
            let be: Vec<String> = (0..4).map(|k| guid(2, (i * 4 + k) % remote.max(1))).collect();
            json!({"ID": guid(3, i), "HostComputeEndpoints": be, "SourceVIP": "10.244.1.2",
                "FrontendVIPs": [format!("10.96.{}.{}", i / 250, 1 + i % 250)],
                "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80, "DistributionType": 0, "Flags": 0}],
                "Flags": 0, "State": 1, "SchemaVersion": {"Major": 2, "Minor": 0}})
        })
        .collect();
    vec![
        (
            "network.txt".into(),
            utf16("Name   Type    Id\r\n----   ----    --\r\nvxlan0 Overlay …", &net),
        ),
        (
            "endpoint.txt".into(),
            utf16(
                "IpAddress MacAddress IsRemoteEndpoint State\r\n--------- ---------- ---------------- -----",
                &Value::Array(eps),
            ),
        ),
        ("policy.txt".into(), utf16("", &Value::Array(lbs))),
    ]
}

/// This thread's CPU time in nanoseconds (Linux `/proc/thread-self/schedstat`), so a figure can
/// be read on a machine shared with other work, where wall time is inflated.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// One read and one import, timed in CPU time (median of five).
fn cpu_figures(inputs: &[InputFile<'_>]) {
    let mut read = Vec::new();
    let mut import = Vec::new();
    for _ in 0..5 {
        let (Some(t0), d) = (cpu_ns(), read_files(inputs)) else {
            return;
        };
        let t1 = cpu_ns().unwrap_or(t0);
        let mut hns = Hns::new(HostSettings::default(), 1);
        hns.import(d.docs.into_iter().map(|x| x.doc));
        let t2 = cpu_ns().unwrap_or(t1);
        read.push(t1 - t0);
        import.push(t2 - t1);
    }
    read.sort();
    import.sort();
    eprintln!(
        "node_import CPU time (median of 5): read {} ms, import {} ms, total {} ms",
        read[2] / 1_000_000,
        import[2] / 1_000_000,
        (read[2] + import[2]) / 1_000_000
    );
}

fn import(c: &mut Criterion) {
    let mut g = c.benchmark_group("node_import");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    let files = dump(20_000, 5_000);
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    eprintln!(
        "node_import: dump of 20,000 remote endpoints and 5,000 LBs is {} MiB",
        bytes >> 20
    );
    let inputs: Vec<InputFile<'_>> = files
        .iter()
        .map(|(n, b)| InputFile { name: n, bytes: b })
        .collect();
    cpu_figures(&inputs);
    g.throughput(Throughput::Elements(25_201));
    g.bench_function("read_20k_remote_5k_lbs", |b| {
        b.iter(|| black_box(read_files(&inputs)))
    });
    let docs: Vec<_> = read_files(&inputs).docs.into_iter().map(|d| d.doc).collect();
    assert_eq!(docs.len(), 25_201);
    g.bench_function("import_20k_remote_5k_lbs", |b| {
        b.iter_batched(
            || (Hns::new(HostSettings::default(), 1), docs.clone()),
            |(mut hns, docs)| {
                let rep = hns.import(docs);
                (hns, rep)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("read_and_import_20k_remote_5k_lbs", |b| {
        b.iter_batched(
            || Hns::new(HostSettings::default(), 1),
            |mut hns| {
                let d = read_files(&inputs);
                let rep = hns.import(d.docs.into_iter().map(|x| x.doc));
                (hns, rep)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
