//! The scenario side of `reach`: which places and addresses a run has, under the names the
//! scenario (and its Kubernetes layer: `pod/NS/NAME`, `svc/NS/NAME`) gives them. A child of the
//! runner module, so it reads the runner's name tables directly.

use super::{execute, Check, Named, ObjectKind, RunOptions, Runner, StepReport};
use crate::reach::atoms::{AddrSplit, Span};
use crate::reach::expect::{mismatches, parse_key};
use crate::reach::incremental::PairFilter;
use crate::reach::unchanged::{self, Allowed};
use crate::reach::{sweep_where, Proto, Reach, Source, Target};
use crate::scenario::format::{ReachStep, ReachUnchangedStep};
use crate::world::NodeKind;
use ipnet::IpNet;
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
                    let place = self.place(n).map_err(|e| format!("{e}{}", self.name_hint(n)))?;
                    Ok(Source {
                        label: n.clone(),
                        place,
                    })
                })
                .collect();
        }
        // Endpoints in a namespace no container runs in (an imported node: the dump has HNS's
        // namespaces but not HCS's containers) send as themselves.
        let mut bare = std::collections::BTreeSet::new();
        for n in self.world.nodes() {
            if let NodeKind::Host(h) = &n.kind {
                bare.extend(
                    (h.vfp.program().ports.iter())
                        .filter(|p| p.container.is_none() && p.namespace.is_some())
                        .map(|p| p.endpoint),
                );
            }
        }
        Ok(self
            .names
            .iter()
            .filter(|(_, n)| match n {
                Named::Container { .. } | Named::Host | Named::Station => true,
                Named::Object {
                    kind: ObjectKind::Endpoint,
                    id,
                    ..
                } => bare.contains(id),
                _ => false,
            })
            .filter_map(|(name, _)| {
                self.place(name).ok().map(|place| Source {
                    label: name.clone(),
                    place,
                })
            })
            .collect())
    }

    /// The addresses witnesses go to: `only` (names, addresses, or prefixes: every named
    /// address and address atom inside), or every endpoint address,
    /// LB frontend VIP, host and station address, in address order, then one address of each
    /// atom of the rest of the address space (`reach::atoms`).
    pub fn reach_targets(&mut self, only: &[String]) -> Result<Vec<Target>, String> {
        let split = self.addr_split();
        self.targets_in(only, &split)
    }

    /// The cuts of the address space (`reach::atoms`), every host compiled first.
    fn addr_split(&mut self) -> AddrSplit {
        crate::reach::ensure_compiled(&mut self.world);
        AddrSplit::of(&self.world)
    }

    /// [`Runner::reach_targets`], with the address atoms of `split`.
    fn targets_in(&mut self, only: &[String], split: &AddrSplit) -> Result<Vec<Target>, String> {
        if only.is_empty() {
            return Ok(Target::with_atoms(self.named_targets(), split));
        }
        let mut out = Vec::new();
        for n in only {
            // A prefix: every named address and address atom inside it.
            if let Ok(net) = n.parse::<IpNet>() {
                let mut split = split.clone();
                split.cut(net);
                let inside = |t: &Target| {
                    let s = t.span.unwrap_or(Span {
                        lo: t.addr,
                        hi: t.addr,
                    });
                    net.contains(&s.lo) && net.contains(&s.hi)
                };
                let all = Target::with_atoms(self.named_targets(), &split);
                out.extend(all.into_iter().filter(inside));
                continue;
            }
            let addr = match n.parse::<IpAddr>() {
                Ok(a) => a,
                Err(_) => self
                    .address_of(n)
                    .map_err(|e| format!("{e}{}", self.name_hint(n)))?,
            };
            let label = match n.parse::<IpAddr>() {
                Ok(a) => self.address_labels().remove(&a).unwrap_or_else(|| n.clone()),
                Err(_) => n.clone(),
            };
            out.push(Target::named(label, addr));
        }
        Ok(out)
    }

    /// Every named address (see [`Runner::address_labels`]), in address order.
    fn named_targets(&mut self) -> Vec<Target> {
        self.address_labels()
            .into_iter()
            .map(|(addr, label)| Target::named(label, addr))
            .collect()
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
                let ip = v.json().get("IpAddress").and_then(Json::as_str)?.parse().ok()?;
                Some((ip, k.clone()))
            })
            .collect();
        let mut out = BTreeMap::new();
        for n in self.world.nodes() {
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
                                    .and_then(|s| s.keys().next().cloned())
                            })
                            .or_else(|| {
                                let k = self.k8s.as_ref()?;
                                k.label_of(&p.endpoint).map(str::to_string)
                            })
                            .unwrap_or_else(|| p.ip.to_string());
                        out.entry(IpAddr::V4(p.ip)).or_insert(label);
                    }
                    for lb in h.vfp.program().lbs.mappings() {
                        for vip in &lb.vips {
                            let label = svc
                                .get(vip)
                                .cloned()
                                .or_else(|| self.names_of.get(&lb.lb).and_then(|s| s.keys().next().cloned()))
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

    /// A concrete exchange's outcome, named as a sweep names it (for comparing the two), with
    /// the backend an LB chose for it (since the last `reach::Checkpoint::reset`).
    pub fn reach_outcome(&self, ex: &crate::trace::Exchange) -> crate::reach::Outcome {
        let mut o = crate::reach::Outcome::of(ex, &|raw: &str| self.receiver_label(raw));
        o.backend = crate::reach::lb_choice(&self.world).map(|(_, c)| c.backend);
        self.k8s_label(&mut o);
        o
    }

    /// In a Kubernetes scenario, the HNS objects kube-proxy and the CNI made, named by the
    /// Service, EndpointSlice or Pod they came from, as in traces.
    fn k8s_label(&self, o: &mut crate::reach::Outcome) {
        if let Some(k) = &self.k8s {
            for s in o.at.iter_mut().chain(o.reply.iter_mut()) {
                *s = k.label_text(s);
            }
        }
    }

    /// Sweep every class from `from` (empty: all) to the given targets.
    pub fn reach_to(&mut self, from: &[String], targets: &[Target]) -> Result<Reach, String> {
        self.reach_where(from, targets, &|_, _| true)
    }

    /// [`Runner::reach_to`], of the pairs `keep` accepts only.
    pub fn reach_where(
        &mut self,
        from: &[String],
        targets: &[Target],
        keep: &dyn Fn(&Source, &Target) -> bool,
    ) -> Result<Reach, String> {
        let sources = self.reach_sources(from)?;
        // The sweep needs the world mutably while the labels read the runner's names.
        let mut world = std::mem::replace(&mut self.world, crate::world::World::new(self.seed));
        let label = |raw: &str| self.receiver_label(raw);
        let mut r = sweep_where(&mut world, &sources, targets, &label, keep);
        self.world = world;
        for (_, o) in r.pairs.iter_mut().flat_map(|p| p.classes.iter_mut()) {
            if self.k8s.is_some() {
                o.for_each_mut(|o| self.k8s_label(o));
            }
        }
        Ok(r)
    }

    /// What-if: sweep `before` and `after` towards the same destinations (the union of
    /// theirs, named as after the change where both have them), so an address one side no
    /// longer serves is still probed. When the sides differ only in some ports' ACLs, only the
    /// pairs through those ports can change (`reach::incremental`) and only they are swept;
    /// then the number of such ports is returned too (0: the set-ups compile alike).
    pub fn reach_both(
        before: &mut Runner,
        after: &mut Runner,
        from: &[String],
        to: &[String],
    ) -> Result<(Reach, Reach, Option<usize>), String> {
        // Both sides probe the same address atoms: cut at either side's boundaries.
        let mut split = before.addr_split();
        split.merge(&after.addr_split());
        let mut targets: BTreeMap<IpAddr, Target> = BTreeMap::new();
        for t in (before.targets_in(to, &split)?)
            .into_iter()
            .chain(after.targets_in(to, &split)?)
        {
            // Named as after the change where both sides name it, else as the side that does
            // (an address one side holds is an atom of its own on the other).
            match targets.get(&t.addr) {
                Some(was) if t.span.is_some() && was.span.is_none() => {}
                _ => {
                    targets.insert(t.addr, t);
                }
            }
        }
        let targets: Vec<Target> = targets.into_values().collect();
        let only = PairFilter::of(&mut before.world, &mut after.world)
            .ok()
            .map(|f| (f.touched_targets(&targets), f));
        let keep = |s: &Source, t: &Target| match &only {
            Some((to, f)) => f.touched().from(s) || to.contains(&t.addr),
            None => true,
        };
        let b = before.reach_where(from, &targets, &keep)?;
        let a = after.reach_where(from, &targets, &keep)?;
        Ok((b, a, only.map(|(_, f)| f.touched().endpoints.len())))
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

    /// A `reach-unchanged:` step: the set-up through step `since` against the set-up through
    /// the step before this one (fresh runs of the scenario's set-up, traffic skipped, as
    /// `hnsim diff --cut-at` does), then one check per allowed change and one for the rest.
    pub(super) fn reach_unchanged_step(
        &mut self,
        r: &ReachUnchangedStep,
        rep: &mut StepReport,
    ) -> Result<(), String> {
        let this = rep.index;
        rep.label = format!("reach unchanged since step {}", r.since);
        if r.since == 0 || r.since >= this {
            return Err(format!(
                "since: expected an earlier step (1 to {}), found {}",
                this.saturating_sub(1),
                r.since
            ));
        }
        let prefix = |n: usize| {
            let mut l = self.loaded.clone();
            l.scenario.steps.truncate(n);
            l
        };
        let (lb, la) = (prefix(r.since), prefix(this - 1));
        let opts = RunOptions {
            seed: Some(self.seed),
            setup_only: true,
            ..Default::default()
        };
        let set_up = |l| {
            execute(l, &opts)
                .1
                .ok_or_else(|| "the set-up did not build".to_string())
        };
        let (mut b, mut a) = (set_up(&lb)?, set_up(&la)?);
        let (before, after, _) = Runner::reach_both(&mut b, &mut a, &r.from, &r.to)?;
        let changes = crate::reach::diff::diff(&before, &after);
        let allowed = r
            .except
            .iter()
            .map(|e| {
                let keys = match &e.class {
                    Some(c) => vec![parse_key(c)?],
                    None => Proto::ALL
                        .iter()
                        .map(|p| parse_key(p.name()))
                        .collect::<Result<_, _>>()?,
                };
                Ok(Allowed {
                    from: &e.from,
                    to: &e.to,
                    keys,
                    was: e.was.as_deref(),
                    now: &e.now,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let pairs: Vec<unchanged::Dest> = (before.pairs.iter().chain(&after.pairs))
            .map(|p| unchanged::Dest {
                from: &p.from,
                to: &p.to,
                address: p.address(),
                span: p.span(),
            })
            .collect();
        let (entries, unexpected) = unchanged::check(&changes, &allowed, &pairs);
        for (i, (e, ok)) in r.except.iter().zip(entries).enumerate() {
            let class = e.class.as_deref().unwrap_or("every class");
            let want = format!("{} → {} {class}: {}", e.from, e.to, e.now);
            let actual = if ok {
                want.clone()
            } else {
                let same_pair: Vec<String> = changes
                    .iter()
                    .filter(|c| allowed[i].fits_pair(c))
                    .map(|c| c.text())
                    .collect();
                if same_pair.is_empty() {
                    "no change for this pair".into()
                } else {
                    same_pair.join("; ")
                }
            };
            rep.checks.push(Check::new("reach changed", want, actual, ok));
        }
        let ok = unexpected.is_empty();
        let actual = if ok {
            "no other change".to_string()
        } else {
            unexpected.join("; ")
        };
        rep.checks.push(Check::new(
            "reach unchanged otherwise",
            "no other change",
            actual,
            ok,
        ));
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
