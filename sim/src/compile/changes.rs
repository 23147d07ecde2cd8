//! Which endpoints and load balancers differ from what was last compiled: read from the HNS
//! change journal (`hnsim_model::state::journal`) in time proportional to the changes, or found
//! by comparing every object with the cache when the journal cannot vouch for completeness (the
//! first compile, a full rebuild, direct edits of the state's maps).
//!
//! Debug builds check every journal-driven answer against the full comparison, so an entry the
//! model forgot to journal fails the tests instead of leaving a stale dataplane.

use super::{diff, lb_fingerprint, same_endpoint, Cache, Diff};
use hnsim_model::schema::{Endpoint, LoadBalancer};
use hnsim_model::state::{Change, Cursor, Hns};
use hnsim_model::Guid;
use std::collections::BTreeSet;

/// The objects to recompile (`None`: gone from HNS), each once, in ID order.
pub(super) struct Changes<'a> {
    pub endpoints: Vec<(Guid, Option<&'a Endpoint>)>,
    pub lbs: Vec<(Guid, Option<&'a LoadBalancer>)>,
    /// Objects compared with the cache to find them.
    pub examined: u32,
}

/// The changes since `since` (the journal position of the last compile), or since the cache
/// was filled when there is no usable journal.
pub(super) fn find<'a>(cache: &Cache, hns: &'a Hns, since: Option<Cursor>) -> Changes<'a> {
    let Some(entries) = since.and_then(|c| hns.changes_since(c)) else {
        return scan(cache, hns);
    };
    let found = from_journal(cache, hns, entries);
    #[cfg(debug_assertions)]
    {
        let full = scan(cache, hns);
        let ids = |c: &Changes| {
            (
                c.endpoints.iter().map(|(g, _)| *g).collect::<Vec<_>>(),
                c.lbs.iter().map(|(g, _)| *g).collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            ids(&found),
            ids(&full),
            "the HNS change journal missed a change (endpoints, load balancers)"
        );
    }
    found
}

/// Has the endpoint's placement (namespace, container, running) moved since it was compiled?
fn moved(cache: &Cache, hns: &Hns, id: &Guid) -> bool {
    cache
        .locals
        .get(id)
        .is_some_and(|u| hns.endpoints.contains_key(id) && hns.endpoint_location(id) != u.location)
}

fn scan<'a>(cache: &Cache, hns: &'a Hns) -> Changes<'a> {
    let mut endpoints: Vec<(Guid, Option<&Endpoint>)> =
        diff(&hns.endpoints, &cache.endpoints, |_, ep, unit| {
            same_endpoint(ep, unit)
        })
        .into_iter()
        .map(|(id, d)| match d {
            Diff::Added(ep) | Diff::Changed(ep) => (id, Some(ep)),
            Diff::Removed => (id, None),
        })
        .collect();
    let changed: BTreeSet<Guid> = endpoints.iter().map(|(g, _)| *g).collect();
    endpoints.extend(
        cache
            .locals
            .keys()
            .filter(|id| !changed.contains(id) && moved(cache, hns, id))
            .map(|id| (*id, hns.endpoints.get(id))),
    );
    endpoints.sort_by_key(|(g, _)| *g);
    let lbs = diff(&hns.load_balancers, &cache.lbs, |_, lb, u| {
        lb_fingerprint(lb) == u.fingerprint
    })
    .into_iter()
    .map(|(id, d)| match d {
        Diff::Added(lb) | Diff::Changed(lb) => (id, Some(lb)),
        Diff::Removed => (id, None),
    })
    .collect();
    let examined = hns.endpoints.len() + cache.locals.len() + hns.load_balancers.len();
    Changes {
        endpoints,
        lbs,
        examined: examined.min(u32::MAX as usize) as u32,
    }
}

fn from_journal<'a>(cache: &Cache, hns: &'a Hns, entries: &[Change]) -> Changes<'a> {
    let mut eps = BTreeSet::new();
    let mut lbs = BTreeSet::new();
    for c in entries {
        match c {
            Change::Endpoint(g) => {
                eps.insert(*g);
            }
            Change::LoadBalancer(g) => {
                lbs.insert(*g);
            }
            // Networks are compared whole on every update (a change rebuilds everything);
            // namespaces matter through the endpoints they place, which are journalled too;
            // SDN route objects are not compiled.
            Change::Network(_) | Change::Namespace(_) | Change::Route(_) => {}
        }
    }
    let examined = (eps.len() + lbs.len()) as u32;
    let endpoints = eps
        .into_iter()
        .filter_map(|id| {
            let ep = hns.endpoints.get(&id);
            let differs = match (ep, cache.endpoints.get(&id)) {
                (None, None) => false,
                (Some(ep), Some(unit)) => !same_endpoint(ep, unit) || moved(cache, hns, &id),
                _ => true,
            };
            differs.then_some((id, ep))
        })
        .collect();
    let lbs = lbs
        .into_iter()
        .filter_map(|id| {
            let lb = hns.load_balancers.get(&id);
            let differs = match (lb, cache.lbs.get(&id)) {
                (None, None) => false,
                (Some(lb), Some(u)) => lb_fingerprint(lb) != u.fingerprint,
                _ => true,
            };
            differs.then_some((id, lb))
        })
        .collect();
    Changes {
        endpoints,
        lbs,
        examined,
    }
}
