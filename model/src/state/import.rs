//! Restoring a node's state exactly as a dump shows it (docs/reference/node-dumps.md §6).
//!
//! Unlike the create calls, an import keeps every object's ID, MAC, addresses and references as
//! they were, and does not check the documents against HNS's create-time rules: a broken node
//! is the point. What does not hold together (an LB naming an endpoint that is not in the dump,
//! an endpoint on a network the dump lacks) is reported as an [`ImportProblem`] and kept where
//! the dataplane can live with it, so `hnsim doctor` sees the state as it was.
//!
//! Every object goes through the same `put_*` helpers as the state machine's own operations,
//! and the generation moves once, so anything that follows changes (indexes, the compile) sees
//! the imported objects.

use super::{ops, Hns};
use crate::document::HnsDocument;
use crate::ids::Guid;
use std::collections::BTreeSet;

/// An imported object that refers to something missing, or that could not be placed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportProblem {
    /// `network`, `endpoint`, `namespace`, `load balancer`, `route`.
    pub kind: &'static str,
    pub id: Guid,
    pub message: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub networks: usize,
    pub endpoints: usize,
    pub namespaces: usize,
    pub load_balancers: usize,
    pub routes: usize,
    pub problems: Vec<ImportProblem>,
}

fn parse(s: &str) -> Option<Guid> {
    super::index::guid(s).or_else(|| s.trim().parse().ok())
}

impl Hns {
    /// Load objects with their given IDs and references (not a replay of create calls). An
    /// object with the ID of one already held replaces it; an object without an ID gets a fresh
    /// one (reported). Returns what was loaded and every dangling reference.
    pub fn import(&mut self, docs: impl IntoIterator<Item = HnsDocument>) -> ImportReport {
        let mut rep = ImportReport::default();
        let (mut nets, mut eps, mut nss, mut lbs, mut rts) = (vec![], vec![], vec![], vec![], vec![]);
        for d in docs {
            match d {
                HnsDocument::Network(x) => nets.push(x),
                HnsDocument::Endpoint(x) => eps.push(x),
                HnsDocument::Namespace(x) => nss.push(x),
                HnsDocument::LoadBalancer(x) => lbs.push(x),
                HnsDocument::Route(x) => rts.push(x),
            }
        }
        let problem = |rep: &mut ImportReport, kind, id, message: String| {
            rep.problems.push(ImportProblem { kind, id, message })
        };
        // Networks, then what refers to them, so each reference can be checked on arrival.
        for mut n in nets {
            n.id = self.import_id(n.id, "network", &mut rep);
            self.put_network(n);
            rep.networks += 1;
        }
        for mut e in eps {
            e.id = self.import_id(e.id, "endpoint", &mut rep);
            match parse(&e.host_compute_network) {
                Some(g) if self.networks.contains_key(&g) => e.host_compute_network = g.to_string(),
                _ => problem(
                    &mut rep,
                    "endpoint",
                    e.id,
                    format!(
                        "names network {:?}, which is not in the dump; the endpoint is kept but \
                         carries no traffic",
                        e.host_compute_network
                    ),
                ),
            }
            self.put_endpoint(e);
            rep.endpoints += 1;
        }
        for mut n in nss {
            n.id = self.import_id(n.id, "namespace", &mut rep);
            let listed: Vec<String> = ops::resource_strings(&n, "Endpoint").collect();
            let mut dangling = BTreeSet::new();
            for s in &listed {
                match parse(s) {
                    Some(g) if self.endpoints.contains_key(&g) => {
                        if let Some(e) = self.endpoints.get(&g) {
                            let mut e = e.clone();
                            e.host_compute_namespace = n.id.to_string();
                            self.put_endpoint(e);
                        }
                    }
                    _ => {
                        dangling.insert(s.clone());
                    }
                }
            }
            if !dangling.is_empty() {
                n.resources.retain(|r| {
                    !(r.resource_type.eq_ignore_ascii_case("Endpoint")
                        && r.id().is_some_and(|i| dangling.contains(i)))
                });
                let list: Vec<String> = dangling.into_iter().collect();
                problem(
                    &mut rep,
                    "namespace",
                    n.id,
                    format!(
                        "lists endpoint(s) {} that are not in the dump; dropped from its resources",
                        list.join(", ")
                    ),
                );
            }
            self.next_compartment = self.next_compartment.max(n.namespace_id.saturating_add(1));
            self.put_namespace(n);
            rep.namespaces += 1;
        }
        // Endpoints that name a namespace (v1 `Namespace.ID`, v2 HostComputeNamespace) the
        // namespace dump did not list them in.
        let named: Vec<(Guid, String)> = self
            .endpoints
            .iter()
            .filter(|(_, e)| !e.host_compute_namespace.is_empty())
            .map(|(g, e)| (*g, e.host_compute_namespace.clone()))
            .collect();
        // One pass over the namespaces' lists, one update per namespace: linear however many
        // endpoints a namespace holds.
        let listed: BTreeSet<(Guid, Guid)> = self
            .namespaces
            .iter()
            .flat_map(|(n, x)| ops::resource_ids(x, "Endpoint").map(move |e| (*n, e)))
            .collect();
        let mut add: std::collections::BTreeMap<Guid, Vec<Guid>> = Default::default();
        for (ep, ns) in named {
            match parse(&ns) {
                Some(n) if self.namespaces.contains_key(&n) => {
                    if !listed.contains(&(n, ep)) {
                        add.entry(n).or_default().push(ep);
                    }
                }
                Some(n) if n.is_zero() => self.clear_namespace(ep),
                _ => {
                    problem(
                        &mut rep,
                        "endpoint",
                        ep,
                        format!("names namespace {ns}, which is not in the dump; left unattached"),
                    );
                    self.clear_namespace(ep);
                }
            }
        }
        for (n, eps) in add {
            if let Some(mut x) = self.namespaces.get(&n).cloned() {
                x.resources.extend(eps.iter().map(ops::endpoint_resource));
                self.put_namespace(x);
            }
        }
        for mut l in lbs {
            l.id = self.import_id(l.id, "load balancer", &mut rep);
            let missing = self.missing_endpoints(&l.host_compute_endpoints);
            if !missing.is_empty() {
                problem(
                    &mut rep,
                    "load balancer",
                    l.id,
                    format!(
                        "backend endpoint(s) {} not in the dump; kept, they carry no traffic",
                        missing.join(", ")
                    ),
                );
            }
            self.put_lb(l);
            rep.load_balancers += 1;
        }
        for mut r in rts {
            r.id = self.import_id(r.id, "route", &mut rep);
            let missing = self.missing_endpoints(&r.host_compute_endpoints);
            if !missing.is_empty() {
                problem(
                    &mut rep,
                    "route",
                    r.id,
                    format!("endpoint(s) {} not in the dump", missing.join(", ")),
                );
            }
            self.put_route(r);
            rep.routes += 1;
        }
        self.bump();
        rep
    }

    fn import_id(&mut self, id: Guid, kind: &'static str, rep: &mut ImportReport) -> Guid {
        if !id.is_zero() {
            return id;
        }
        let g = self.new_guid();
        rep.problems.push(ImportProblem {
            kind,
            id: g,
            message: "had no ID in the dump; given a fresh one".into(),
        });
        g
    }

    fn missing_endpoints(&self, refs: &[String]) -> Vec<String> {
        refs.iter()
            .filter(|s| !parse(s).is_some_and(|g| self.endpoints.contains_key(&g)))
            .cloned()
            .collect()
    }

    fn clear_namespace(&mut self, ep: Guid) {
        if let Some(mut e) = self.endpoints.get(&ep).cloned() {
            e.host_compute_namespace.clear();
            self.put_endpoint(e);
        }
    }
}
