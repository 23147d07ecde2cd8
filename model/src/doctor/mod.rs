//! `hnsim doctor`: named checks over one host's HNS state that point at what is wrong, each
//! tied to the public issue (or pitfall of docs/reference/consumers.md §6) it comes from.
//!
//! A check reads the state only (no packets). The list, with what each looks for, is
//! [`CHECKS`]; docs/reference/node-dumps.md §8 explains them. Thresholds that are judgement
//! calls (how wide an OutBoundNAT exception may be, how full the SNAT port range may get) are
//! [`Context`] fields.

mod checks;
pub mod diff;

use crate::state::Hns;
use serde::Serialize;
use std::net::IpAddr;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; traffic is not known to fail because of it.
    Info,
    /// Likely to break some traffic, or will break it after a restart.
    Warning,
    /// Traffic that matches it fails.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check's name (`stale-remote-endpoint`).
    pub check: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The objects involved: `endpoint <ID> (<IP>)`, `load balancer <ID> (<VIP>:<port>/<proto>)`.
    pub objects: Vec<String>,
    /// The public issue or reference the check comes from.
    pub reference: &'static str,
}

/// What the state does not say, and the thresholds.
#[derive(Clone, Debug)]
pub struct Context {
    /// The node's underlay address, when known (dump ManagementIP / ProviderAddress, a flag).
    pub node_ip: Option<IpAddr>,
    /// The underlay MTU (default 1500).
    pub underlay_mtu: u16,
    /// An OutBoundNAT exception shorter than this prefix length is "wide" (default 12: the
    /// size of the default service CIDR 10.96.0.0/12; AKS#1367 had 10.0.0.0/8).
    pub widest_exception: u8,
    /// Ports in the dynamic range HNS takes SNAT blocks from (default 16384: 49152–65535).
    pub dynamic_ports: u32,
    /// Port pools as `hnsportpoolallocs.txt` shows them (`PortPoolAllocations`), if dumped.
    pub port_pools: Vec<serde_json::Value>,
    /// Problems the import reported (dangling references), turned into findings.
    pub import_problems: Vec<crate::state::ImportProblem>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            node_ip: None,
            underlay_mtu: 1500,
            widest_exception: 12,
            dynamic_ports: 16384,
            port_pools: Vec::new(),
            import_problems: Vec::new(),
        }
    }
}

/// A named check.
pub struct Check {
    pub name: &'static str,
    pub severity: Severity,
    /// What it looks for, one line.
    pub what: &'static str,
    pub reference: &'static str,
    run: fn(&Hns, &Context, &mut Out),
}

/// Where a check puts its findings (it knows its own name, severity and reference).
pub(crate) struct Out<'a> {
    check: &'a Check,
    findings: Vec<Finding>,
}

impl Out<'_> {
    fn add(&mut self, message: String, objects: Vec<String>) {
        self.add_as(self.check.severity, message, objects);
    }

    fn add_as(&mut self, severity: Severity, message: String, objects: Vec<String>) {
        self.findings.push(Finding {
            check: self.check.name,
            severity,
            message,
            objects,
            reference: self.check.reference,
        });
    }
}

pub use checks::CHECKS;

/// Run every check, in [`CHECKS`] order; each check's findings in object-ID order.
pub fn run(hns: &Hns, ctx: &Context) -> Vec<Finding> {
    let mut all = Vec::new();
    for c in CHECKS {
        let mut out = Out {
            check: c,
            findings: Vec::new(),
        };
        (c.run)(hns, ctx, &mut out);
        all.extend(out.findings);
    }
    all
}

/// Run one check by name (`None` for an unknown name).
pub fn run_one(name: &str, hns: &Hns, ctx: &Context) -> Option<Vec<Finding>> {
    let c = CHECKS.iter().find(|c| c.name == name)?;
    let mut out = Out {
        check: c,
        findings: Vec::new(),
    };
    (c.run)(hns, ctx, &mut out);
    Some(out.findings)
}
