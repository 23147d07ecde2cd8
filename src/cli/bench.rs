//! `hnsim bench [--quick] [--format text|json]`: the headline performance figures on the user's
//! own machine, in seconds (issue 6). The criterion benches in `benches/` are the careful
//! measurements; this is the quick look.
//!
//! Output: named figures, each a value with its unit. JSON is one object,
//! `{"quick", "workload", "figures": {NAME: {"value", "unit", "what"}}, "not_measured": [NAME…]}`,
//! with the figures in a fixed order, so that scripts read them by name and new figures slot in
//! without breaking them. Timings come from the wall clock, so the values differ run to run
//! (this command is outside the simulator's determinism rules; the names and shape do not vary).

use hnsim_model::state::workload::KubeProxyWorkload;
use hnsim_model::state::{Hns, HostSettings};
use hnsim_model::HcnError;
use serde_json::{json, Map, Value};
use std::time::Instant;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// A smaller workload (1,000 load balancers instead of 10,000) that runs in about a second.
    #[arg(long)]
    pub quick: bool,
    /// Output format: text or json.
    #[arg(long, default_value = "text")]
    pub format: String,
}

/// One measured figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// Stable dotted name: `control_plane.program_calls_per_second`, …
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
    /// What was measured, in a few words.
    pub what: String,
}

/// The dataplane figures by name; one that could not be measured is listed as `not_measured`.
pub const DATAPLANE_FIGURES: [&str; 4] = [
    "dataplane.established_pps.same_host_l2bridge",
    "dataplane.established_pps.cross_host_overlay",
    "dataplane.established_pps.cluster_ip_cross_host",
    "dataplane.established_cost_ratio_10k_vs_10_lbs",
];

/// The control-plane figures: program `w` into a fresh in-process model through `HnsBackend`,
/// then `updates` in-place LB updates on the programmed state.
pub fn control_plane_figures(w: &KubeProxyWorkload, updates: usize) -> Result<Vec<Figure>, HcnError> {
    let calls = w.endpoint_count() + w.load_balancers + 2;
    let mut hns = Hns::new(HostSettings::default(), 1);
    let t = Instant::now();
    let p = w.program(&mut hns)?;
    let secs = t.elapsed().as_secs_f64().max(1e-9);
    let probes = hns.index_probes();
    let t = Instant::now();
    for i in 0..updates {
        let lb = (i * 37) % w.load_balancers.max(1);
        w.update_lb(&mut hns, &p, lb, 9000 + (i % 2) as u16)?;
    }
    let update_us = t.elapsed().as_secs_f64() * 1e6 / updates.max(1) as f64;
    let shape = format!(
        "{} LBs x {} backends ({} endpoints)",
        w.load_balancers,
        w.backends,
        w.endpoint_count()
    );
    Ok(vec![
        Figure {
            name: "control_plane.program_seconds",
            value: secs,
            unit: "s",
            what: format!("program {shape} through HnsBackend"),
        },
        Figure {
            name: "control_plane.program_calls_per_second",
            value: calls as f64 / secs,
            unit: "calls/s",
            what: format!("HCN calls per second while programming ({calls} calls)"),
        },
        Figure {
            name: "control_plane.lb_update_microseconds",
            value: update_us,
            unit: "us",
            what: format!("one in-place load balancer update (mean of {updates})"),
        },
        Figure {
            name: "control_plane.index_probes_per_call",
            value: probes as f64 / calls as f64,
            unit: "lookups/call",
            what: "state index lookups per HCN call (constant as the state grows)".into(),
        },
    ])
}

/// The dataplane figures, measured by `hnsim_sim::benchkit` on worlds built like the criterion
/// benches': established-flow packets per second per path (tracing and capture off), the floor
/// they are compared with, and the per-packet cost ratio at 10,000 vs 10 load balancers.
pub fn dataplane_figures(quick: bool) -> Result<Vec<Figure>, String> {
    let d = hnsim_sim::benchkit::dataplane_figures(quick)
        .map_err(|e| format!("the {} bench world could not be built: {}", e.world, e.what))?;
    let mut out = vec![Figure {
        name: "dataplane.floor_ns",
        value: d.floor_ns,
        unit: "ns",
        what: "parse headers + one 5-tuple lookup + rewrite + checksum (the least a hop does)".into(),
    }];
    for p in &d.paths {
        let name = match p.name.as_str() {
            "same_host_l2bridge" => DATAPLANE_FIGURES[0],
            "cross_host_overlay" => DATAPLANE_FIGURES[1],
            "cross_host_clusterip" => DATAPLANE_FIGURES[2],
            _ => continue,
        };
        out.push(Figure {
            name,
            value: p.packets_per_second,
            unit: "packets/s",
            what: format!(
                "{} ns per established packet, {:.2}x floor",
                p.ns_per_packet.round(),
                p.ratio_to_floor
            ),
        });
    }
    out.push(Figure {
        name: DATAPLANE_FIGURES[3],
        value: d.lb_scaling_ratio,
        unit: "ratio",
        what: format!(
            "established ClusterIP cost with 10,000 vs 10 LBs ({} vs {} ns)",
            d.clusterip_ns_10000_lbs.round(),
            d.clusterip_ns_10_lbs.round()
        ),
    });
    Ok(out)
}

/// The JSON report.
pub fn to_json(quick: bool, w: &KubeProxyWorkload, figures: &[Figure]) -> Value {
    let mut f = Map::new();
    for x in figures {
        f.insert(
            x.name.to_string(),
            json!({"value": x.value, "unit": x.unit, "what": x.what}),
        );
    }
    let missing: Vec<&str> = DATAPLANE_FIGURES
        .iter()
        .copied()
        .filter(|n| !figures.iter().any(|x| x.name == *n))
        .collect();
    json!({
        "quick": quick,
        "workload": {
            "load_balancers": w.load_balancers,
            "backends_per_load_balancer": w.backends,
            "endpoints": w.endpoint_count(),
            "network": if w.overlay { "Overlay" } else { "L2Bridge" },
        },
        "figures": f,
        "not_measured": missing,
    })
}

/// The text report: one line per figure.
pub fn to_text(quick: bool, figures: &[Figure]) -> String {
    let mut out = format!("hnsim bench{}\n", if quick { " --quick" } else { "" });
    for x in figures {
        let prec = if x.value.abs() < 100.0 { 3 } else { 0 };
        out.push_str(&format!(
            "  {:<50} {:>12.prec$} {:<12} {}\n",
            x.name, x.value, x.unit, x.what
        ));
    }
    let missing: Vec<&str> = DATAPLANE_FIGURES
        .iter()
        .copied()
        .filter(|n| !figures.iter().any(|x| x.name == *n))
        .collect();
    if !missing.is_empty() {
        out.push_str(&format!("  not measured yet: {}\n", missing.join(", ")));
    }
    out
}

pub fn bench(a: BenchArgs) -> u8 {
    let json_out = match a.format.as_str() {
        "text" => false,
        "json" => true,
        other => return super::invalid(format!("--format: expected text or json, found {other:?}")),
    };
    let (w, updates) = if a.quick {
        (KubeProxyWorkload::new(1_000, 10), 200)
    } else {
        (KubeProxyWorkload::new(10_000, 10), 1_000)
    };
    let mut figures = match control_plane_figures(&w, updates) {
        Ok(f) => f,
        Err(e) => {
            // The workload is fixed and valid; a failure is a model bug, not bad input.
            eprintln!("error: the control-plane workload failed: {e}");
            return 1;
        }
    };
    match dataplane_figures(a.quick) {
        Ok(d) => figures.extend(d),
        Err(e) => eprintln!("warning: {e}"),
    }
    let written = if json_out {
        super::out::println(&to_json(a.quick, &w, &figures).to_string())
    } else {
        super::out::print(&to_text(a.quick, &figures))
    };
    super::out::finish(written, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_named_and_slot_in() {
        let w = KubeProxyWorkload::new(4, 3);
        let f = control_plane_figures(&w, 3).expect("tiny workload programs");
        let names: Vec<&str> = f.iter().map(|x| x.name).collect();
        assert_eq!(
            names,
            [
                "control_plane.program_seconds",
                "control_plane.program_calls_per_second",
                "control_plane.lb_update_microseconds",
                "control_plane.index_probes_per_call"
            ]
        );
        assert!(f.iter().all(|x| x.value.is_finite() && x.value >= 0.0));
        let v = to_json(true, &w, &f);
        assert_eq!(v["workload"]["endpoints"], 12);
        assert_eq!(v["figures"]["control_plane.program_seconds"]["unit"], "s");
        assert_eq!(
            v["not_measured"].as_array().map(Vec::len),
            Some(DATAPLANE_FIGURES.len())
        );
        // A dataplane figure, once measured, leaves `not_measured`.
        let mut more = f.clone();
        more.push(Figure {
            name: DATAPLANE_FIGURES[0],
            value: 1.0,
            unit: "packets/s",
            what: String::new(),
        });
        let v = to_json(true, &w, &more);
        assert_eq!(
            v["not_measured"].as_array().map(Vec::len),
            Some(DATAPLANE_FIGURES.len() - 1)
        );
        assert!(to_text(true, &more).contains(DATAPLANE_FIGURES[0]));
    }
}
