//! The scenario side of `reach`: which places and addresses a run has, under the names the
//! scenario (and its Kubernetes layer: `pod/NS/NAME`, `svc/NS/NAME`) gives them. A child of the
//! runner module, so it reads the runner's name tables directly.

use super::{Check, Named, Runner, StepReport};
use crate::reach::expect::{mismatches, parse_key};
use crate::reach::{sweep, Reach, Source, Target};
use crate::scenario::format::ReachStep;
use crate::world::NodeKind;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::net::IpAddr;

impl Runner<'_> {
    /// The places witnesses start from: `only` (names), or every container, host and station.
    pub fn reach_sources(&self, only: &[String]) -> Result<Vec<Source>, String> {
        if !only.is_empty() {
            return only
                .iter()
                .map(|n| {
                    let place = self.place(n).map_err(|e| e + &self.name_hint(n))?;
                    Ok(Source {
                        label: n.clone(),
                        place,
                    })
                })
                .collect();
        }
        Ok(self
            .names
            .iter()
            .filter(|(_, n)| matches!(n, Named::Container { .. } | Named::Host | Named::Station))
            .filter_map(|(name, _)| {
                self.place(name).ok().map(|place| Source {
                    label: name.clone(),
                    place,
                })
            })
            .collect())
    }

    /// The addresses witnesses go to: `only` (names or addresses), or every endpoint address,
    /// LB frontend VIP, host and station address, in address order.
    pub fn reach_targets(&mut self, only: &[String]) -> Result<Vec<Target>, String> {
        if !only.is_empty() {
            let mut out = Vec::new();
            for n in only {
                let addr = match n.parse::<IpAddr>() {
                    Ok(a) => a,
                    Err(_) => self.address_of(n).map_err(|e| e + &self.name_hint(n))?,
                };
                let label = match n.parse::<IpAddr>() {
                    Ok(a) => self.address_labels().remove(&a).unwrap_or_else(|| n.clone()),
                    Err(_) => n.clone(),
                };
                out.push(Target { label, addr });
            }
            return Ok(out);
        }
        Ok(self
            .address_labels()
            .into_iter()
            .map(|(addr, label)| Target { label, addr })
            .collect())
    }

    /// Every address the world serves with its best name: a Kubernetes Service (`svc/…`) or
    /// a scenario name for VIPs, the container for endpoint addresses, the host or station.
    fn address_labels(&mut self) -> BTreeMap<IpAddr, String> {
        crate::reach::ensure_compiled(&mut self.world);
        let svc: BTreeMap<IpAddr, String> = self
            .vars
            .iter()
            .filter(|(k, _)| k.starts_with("svc/"))
            .filter_map(|(k, v)| {
                let ip = v.get("IpAddress").and_then(Json::as_str)?.parse().ok()?;
                Some((ip, k.clone()))
            })
            .collect();
        let mut out = BTreeMap::new();
        for n in &self.world.nodes {
            match &n.kind {
                NodeKind::Host(h) => {
                    out.insert(IpAddr::V4(h.spec.ip), n.name.clone());
                    for p in &h.vfp.program().ports {
                        let label = p
                            .container
                            .clone()
                            .or_else(|| {
                                self.names_of
                                    .get(&p.endpoint)
                                    .and_then(|s| s.iter().next().cloned())
                            })
                            .unwrap_or_else(|| p.ip.to_string());
                        out.entry(IpAddr::V4(p.ip)).or_insert(label);
                    }
                    for lb in h.vfp.program().lbs.mappings() {
                        for vip in &lb.vips {
                            let label = svc
                                .get(vip)
                                .cloned()
                                .or_else(|| self.names_of.get(&lb.lb).and_then(|s| s.iter().next().cloned()))
                                .unwrap_or_else(|| vip.to_string());
                            out.entry(*vip).or_insert(label);
                        }
                    }
                }
                NodeKind::Station(s, _) => {
                    out.insert(IpAddr::V4(s.ip), n.name.clone());
                }
                NodeKind::Router(..) => {}
            }
        }
        out
    }

    /// Sweep every class from `from` to `to` (empty: all); see `crate::reach`.
    pub fn reach(&mut self, from: &[String], to: &[String]) -> Result<Reach, String> {
        let targets = self.reach_targets(to)?;
        self.reach_to(from, &targets)
    }

    /// A concrete exchange's outcome, named as a sweep names it (for comparing the two).
    pub fn reach_outcome(&self, ex: &crate::trace::Exchange) -> crate::reach::Outcome {
        crate::reach::Outcome::of(ex, &|raw: &str| self.receiver_label(raw))
    }

    /// Sweep every class from `from` (empty: all) to the given targets.
    pub fn reach_to(&mut self, from: &[String], targets: &[Target]) -> Result<Reach, String> {
        let sources = self.reach_sources(from)?;
        // The sweep needs the world mutably while the labels read the runner's names.
        let mut world = std::mem::replace(&mut self.world, crate::world::World::new(self.seed));
        let label = |raw: &str| self.receiver_label(raw);
        let r = sweep(&mut world, &sources, targets, &label);
        self.world = world;
        Ok(r)
    }

    /// A `reach:` step: one check per expectation, naming the pieces that got something else.
    pub(super) fn reach_step(&mut self, r: &ReachStep, rep: &mut StepReport) -> Result<(), String> {
        rep.label = format!("reach {} -> {}", r.from, r.to);
        let reach = self.reach(std::slice::from_ref(&r.from), std::slice::from_ref(&r.to))?;
        let pair = reach.pairs.first().ok_or("no pair to sweep")?;
        for (key, want) in &r.expect {
            let k = parse_key(key)?;
            let bad = mismatches(pair, &k, want);
            let actual = if bad.is_empty() {
                want.clone()
            } else {
                bad.iter()
                    .map(|(r, o)| format!("{r} {o}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            rep.checks.push(Check::new(
                format!("reach {key}"),
                want.clone(),
                actual,
                bad.is_empty(),
            ));
        }
        Ok(())
    }

    /// `; did you mean `X`?` for a name close to one the scenario defines.
    fn name_hint(&self, n: &str) -> String {
        let known: Vec<&str> = self
            .names
            .keys()
            .chain(self.vars.keys())
            .map(String::as_str)
            .collect();
        hnsim_model::hint::did_you_mean(n, &known)
    }
}
