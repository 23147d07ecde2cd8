//! Bulk traffic: one traffic step that sends many packets (`packets: N`, one flow) or many
//! connections (`flows: N`, a fresh source port each), optionally spaced in virtual time
//! (`rate: 50000/s`). The report keeps a count per disposition, the full exchange of the first
//! packet and of at most [`KEPT`] packets whose outcome differs from the expectation; its size
//! does not depend on the packet count (docs/scenario-format.md, "Bulk traffic").
//!
//! `packets`: the first packet goes through the whole exchange (`World::send`: traced, with its
//! reply), which establishes the flow; the rest go through the packet path only
//! (`World::forward_established`, no reply, no trace). A packet whose fate (arrived or dropped)
//! differs from the first's is sent again as a traced exchange to name its disposition (while
//! fewer than [`KEPT`] are kept; later ones are counted as `Arrived` / `Dropped`).
//! `flows`: every connection is a whole exchange (request and reply) from source port
//! `src-port` (default 1024) + k, so at most 64,512 per step; the trace is kept only for the
//! first and for the differing ones.

use super::{Check, RunError, Runner, StepReport};
use crate::scenario::format::{Expect, TrafficStep};
use crate::world::SendRequest;
use crate::Forwarded;
use serde::Serialize;
use std::collections::BTreeMap;

/// Exchanges kept beyond the first (those that differ from the expectation).
pub const KEPT: usize = 10;
/// The most packets one `packets:` step may send.
pub const MAX_PACKETS: u64 = 100_000_000;
/// The lowest source port of a `flows:` step without `src-port`.
pub const FIRST_FLOW_PORT: u16 = 1024;

/// What a bulk step sent and how it came out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BulkSummary {
    /// `packets` or `flows`.
    pub mode: &'static str,
    pub sent: u64,
    /// Packets (flows) whose outcome met the expectation.
    pub matched: u64,
    /// Count per request disposition.
    pub dispositions: BTreeMap<String, u64>,
    /// Differing packets beyond the kept ones (counted, not traced).
    pub untraced: u64,
    /// Virtual time the step spanned, in nanoseconds.
    pub virtual_ns: u64,
}

/// What a bulk step sends: `packets: N` (one flow) or `flows: N` (a connection each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Bulk {
    Packets(u64),
    Flows(u64),
}

impl Bulk {
    /// The step's bulk keys, if it has any (`packets` wins over `flows`; validation refuses both).
    pub(super) fn of(t: &TrafficStep) -> Option<Bulk> {
        match (t.packets, t.flows) {
            (Some(n), _) => Some(Bulk::Packets(n)),
            (None, Some(n)) => Some(Bulk::Flows(n)),
            (None, None) => None,
        }
    }
}

/// A `rate:` that cannot be read. `Display` is the validator's (and a report's) text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// Not `N/s`, `N/ms` or `N/us` (the text as written).
    #[error("expected a rate like `10000/s` or `50/ms`, found `{0}`")]
    Syntax(String),
    /// No packets, or more than one per nanosecond.
    #[error("expected between 1 and {per_unit} packets per {unit}, found {n}")]
    OutOfRange {
        n: u64,
        per_unit: u64,
        unit: &'static str,
    },
}

/// `N/s`, `N/ms`: packets per unit of virtual time → the gap between packets in ns.
pub fn parse_rate(s: &str) -> Result<u64, RateError> {
    let bad = || RateError::Syntax(s.to_string());
    let (n, unit) = s.trim().split_once('/').ok_or_else(bad)?;
    let n: u64 = n.trim().replace('_', "").parse().map_err(|_| bad())?;
    let (unit, per_ns) = match unit.trim() {
        "s" => ("s", 1_000_000_000u64),
        "ms" => ("ms", 1_000_000),
        "us" => ("us", 1_000),
        _ => return Err(bad()),
    };
    if n == 0 || n > per_ns {
        return Err(RateError::OutOfRange {
            n,
            per_unit: per_ns,
            unit,
        });
    }
    Ok(per_ns / n)
}

/// What is wrong with a traffic step's bulk keys: (key, message) pairs for the validator.
pub fn problems(t: &TrafficStep) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let bulk = t.packets.is_some() || t.flows.is_some();
    if t.packets.is_some() && t.flows.is_some() {
        out.push((
            "flows",
            "expected `packets` (one flow) or `flows` (many), found both".into(),
        ));
    }
    if bulk && t.repeat.is_some() {
        out.push((
            "repeat",
            "`repeat` keeps every exchange; with `packets`/`flows` leave it out".into(),
        ));
    }
    if let Some(n) = t.packets {
        if !(1..=MAX_PACKETS).contains(&n) {
            out.push((
                "packets",
                format!("expected 1 to {MAX_PACKETS} packets, found {n}"),
            ));
        }
    }
    if let Some(n) = t.flows {
        let first = t.src_port.unwrap_or(FIRST_FLOW_PORT) as u64;
        let max = 65_536 - first;
        if !(1..=max).contains(&n) {
            out.push((
                "flows",
                format!("expected 1 to {max} flows (one source port each, from {first}), found {n}"),
            ));
        }
    }
    match &t.rate {
        Some(_) if !bulk => out.push((
            "rate",
            "`rate` spaces the packets of `packets` or `flows`; found neither".into(),
        )),
        Some(r) => {
            if let Err(e) = parse_rate(r) {
                out.push(("rate", e.to_string()));
            }
        }
        None => {}
    }
    if bulk && t.expect.as_ref().is_some_and(|e| e.same_receiver.is_some()) {
        out.push((
            "expect",
            "`same-receiver` compares every exchange of a `repeat`; a bulk step counts dispositions".into(),
        ));
    }
    out
}

impl Runner<'_> {
    /// A traffic step with `packets:` or `flows:`.
    pub(super) fn bulk(
        &mut self,
        bulk: Bulk,
        base: SendRequest,
        expect: &Expect,
        t: &TrafficStep,
        rep: &mut StepReport,
    ) -> Result<(), RunError> {
        let (mode, n) = match bulk {
            Bulk::Packets(n) => ("packets", n),
            Bulk::Flows(n) => ("flows", n),
        };
        let gap = t.rate.as_deref().map(parse_rate).transpose()?.unwrap_or(0);
        let start = self.world.now();
        let mut sum = BulkSummary {
            mode,
            sent: 0,
            matched: 0,
            dispositions: BTreeMap::new(),
            untraced: 0,
            virtual_ns: 0,
        };
        let want = expect.disposition.clone().unwrap_or_else(|| "Delivered".into());
        // The first packet (flow): a whole exchange, traced and checked in full.
        let mut req = base;
        let first_port = req.src_port.unwrap_or(FIRST_FLOW_PORT);
        if mode == "flows" {
            req.src_port = Some(first_port);
        }
        let first = self.world.send(&req)?;
        self.check_exchange("[1] ", expect, &first, rep);
        let first_ok = rep.checks.iter().all(|c| c.ok);
        let first_disp = first.request.disposition.name().to_string();
        let first_arrived = reached_receiver(&first.request);
        rep.exchanges.push(first);
        sum.sent = 1;
        sum.matched = first_ok as u64;
        *sum.dispositions.entry(first_disp.clone()).or_default() += 1;
        let prepared = match mode {
            "packets" => Some(self.world.prepare_packet(&req)?),
            _ => None,
        };
        for k in 1..n {
            if gap > 0 {
                self.world.advance(gap);
            }
            sum.sent += 1;
            if let Some(p) = &prepared {
                let arrived = self.world.forward_established(p) == Forwarded::Arrived;
                if arrived == first_arrived {
                    *sum.dispositions.entry(first_disp.clone()).or_default() += 1;
                    sum.matched += first_ok as u64;
                    continue;
                }
                // Differs from the first packet: name its fate with a traced exchange.
                if rep.exchanges.len() > KEPT {
                    sum.untraced += 1;
                    let what = if arrived { "Arrived" } else { "Dropped" };
                    *sum.dispositions.entry(what.into()).or_default() += 1;
                    continue;
                }
                let ex = self.world.send(&req)?;
                let mut scratch = empty_like(rep);
                self.check_exchange(&format!("[{}] ", k + 1), expect, &ex, &mut scratch);
                let ok = scratch.checks.iter().all(|c| c.ok);
                sum.matched += ok as u64;
                *sum.dispositions
                    .entry(ex.request.disposition.name().into())
                    .or_default() += 1;
                rep.checks.extend(scratch.checks.into_iter().filter(|c| !c.ok));
                rep.exchanges.push(ex);
                continue;
            }
            let mut r = req.clone();
            r.src_port = Some(first_port.saturating_add(k.min(u16::MAX as u64) as u16));
            let ex = self.world.send(&r)?;
            let mut scratch = empty_like(rep);
            self.check_exchange(&format!("[{}] ", k + 1), expect, &ex, &mut scratch);
            let ok = scratch.checks.iter().all(|c| c.ok);
            *sum.dispositions
                .entry(ex.request.disposition.name().into())
                .or_default() += 1;
            if ok {
                sum.matched += 1;
            } else if rep.exchanges.len() > KEPT {
                sum.untraced += 1;
            } else {
                rep.checks.extend(scratch.checks.into_iter().filter(|c| !c.ok));
                rep.exchanges.push(ex);
            }
        }
        sum.virtual_ns = self.world.now().saturating_sub(start);
        rep.checks.push(Check::new(
            format!("{mode} meeting the expectation"),
            format!("{n} of {n} {want}"),
            format!(
                "{} of {n} ({})",
                sum.matched,
                sum.dispositions
                    .iter()
                    .map(|(d, c)| format!("{d} {c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            sum.matched == n,
        ));
        rep.bulk = Some(sum);
        Ok(())
    }
}

/// Did the request reach a receiver (what `World::forward_established` calls arrived)? Its
/// trace ends in a `Deliver` step then, whatever the receiver answered (a closed port's RST
/// is `NoListener` after arriving).
fn reached_receiver(t: &crate::trace::Trace) -> bool {
    match t.steps().last() {
        Some(s) => matches!(s, crate::trace::Step::Deliver { .. }),
        None => t.delivered_to.is_some(),
    }
}

/// A report for checking one more exchange (its checks are merged only when they fail).
fn empty_like(rep: &StepReport) -> StepReport {
    StepReport::new(rep.index, rep.line, &rep.kind, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(yaml: &str) -> TrafficStep {
        serde_yaml::from_str(yaml).expect("a traffic step")
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("1000/s"), Ok(1_000_000));
        assert_eq!(parse_rate("50/ms"), Ok(20_000));
        assert_eq!(parse_rate("1_000_000/s"), Ok(1_000));
        for bad in ["1000", "x/s", "10/h"] {
            assert_eq!(parse_rate(bad), Err(RateError::Syntax(bad.into())), "{bad}");
        }
        assert!(matches!(
            parse_rate("0/s"),
            Err(RateError::OutOfRange { n: 0, .. })
        ));
        // The words the validator reports.
        assert_eq!(
            parse_rate(" 10 / h").unwrap_err().to_string(),
            "expected a rate like `10000/s` or `50/ms`, found ` 10 / h`"
        );
        let e = parse_rate("2000/ us").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected between 1 and 1000 packets per us, found 2000"
        );
        assert_eq!(RunError::from(e.clone()).to_string(), e.to_string());
    }

    #[test]
    fn bulk_key_problems() {
        let keys = |y: &str| problems(&step(y)).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert!(keys("{from: A, to: 'B:80', packets: 5, rate: 10/s}").is_empty());
        assert_eq!(keys("{from: A, to: 'B:80', packets: 5, flows: 5}"), ["flows"]);
        assert_eq!(keys("{from: A, to: 'B:80', packets: 5, repeat: 2}"), ["repeat"]);
        assert_eq!(keys("{from: A, to: 'B:80', packets: 0}"), ["packets"]);
        assert_eq!(
            keys("{from: A, to: 'B:80', flows: 101, src-port: 65436}"),
            ["flows"]
        );
        assert!(keys("{from: A, to: 'B:80', flows: 100, src-port: 65436}").is_empty());
        assert_eq!(keys("{from: A, to: 'B:80', rate: 10/s}"), ["rate"]);
        assert_eq!(keys("{from: A, to: 'B:80', packets: 3, rate: fast}"), ["rate"]);
        assert_eq!(
            keys("{from: A, to: 'B:80', packets: 3, expect: {same-receiver: true}}"),
            ["expect"]
        );
    }
}
