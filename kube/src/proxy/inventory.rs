//! kube-proxy's per-sync inventory of HNS: every endpoint of its network (by ID, by IP, by name)
//! and every load balancer (by identity), as `syncProxyRules` lists them at the start of each
//! sync (docs/reference/kubernetes.md §2.3).
//!
//! Upstream lists and queries every object on every sync. hnsim does that on the first sync and
//! whenever the backend cannot say what changed (a real host, a replay, a changed network). When
//! the backend keeps a change journal (the in-process model, `HnsBackend::changes_since`), the
//! inventory is kept between syncs and only the objects the journal names are queried again:
//! the answers are the ones a full listing would give, at a cost proportional to the change.
//! `ProxierConfig::full_inventory` turns this off (every sync lists everything, as upstream).
//!
//! The views reproduce the full listing's precedence: objects are listed in ID order, a local
//! endpoint never replaces a remote one with the same IP, and otherwise the last one listed wins.
//! Within a sync kube-proxy writes what it creates into the views (as upstream writes into its
//! maps); the journal names those objects, so the next refresh re-derives their entries.

use super::lb::{id_of, identity_of, LbIdentity};
use super::HnsEp;
use crate::hcn::{endpoint_ips, str_field, Hcn};
use hnsim_model::backend::ObjectKind;
use hnsim_model::state::{Change, Cursor};
use hnsim_model::Guid;
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

/// Listing order: by GUID (as the model enumerates), then by the ID text.
type Key = (Guid, String);

fn key(id: &str) -> Key {
    (id.parse().unwrap_or(Guid::ZERO), id.to_string())
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct EpRecord {
    name: String,
    ips: Vec<String>,
    is_local: bool,
}

/// What the sync works with, plus the records that let it be refreshed piecemeal.
#[derive(Clone, Debug, Default)]
pub(super) struct Inventory {
    /// The backend's journal position at the last refresh; `None`: list everything next time.
    cursor: Option<Cursor>,
    net_id: String,
    eps: BTreeMap<Key, EpRecord>,
    lbs: BTreeMap<Key, Option<LbIdentity>>,
    ip_owners: BTreeMap<String, BTreeSet<Key>>,
    name_owners: BTreeMap<String, BTreeSet<Key>>,
    identity_owners: BTreeMap<LbIdentity, BTreeSet<Key>>,
    /// IPs held by a local and a remote endpoint at once (kept up to date, so that finding
    /// them costs what changed).
    mixed: BTreeSet<String>,
    /// Endpoints by ID and by IP.
    pub queried: BTreeMap<String, HnsEp>,
    /// Endpoint IDs by name.
    pub by_name: BTreeMap<String, String>,
    /// LB IDs by identity.
    pub lbs_by_identity: BTreeMap<LbIdentity, String>,
}

impl Inventory {
    /// Forget everything: the next refresh lists every object.
    pub fn invalidate(&mut self) {
        self.cursor = None;
    }

    /// Bring the inventory up to date for network `net_id`. Returns the number of objects
    /// queried (the work of the refresh).
    pub fn refresh(&mut self, hcn: &mut Hcn, net_id: &str, with_family: bool, full: bool) -> u64 {
        let changes = match self.cursor {
            Some(c) if !full && self.net_id == net_id => hcn.changes_since(c),
            _ => None,
        };
        match changes {
            Some(changes) => self.apply_changes(hcn, &changes, with_family),
            None => self.list_all(hcn, net_id, with_family),
        }
    }

    /// The full listing, as upstream makes it every sync.
    fn list_all(&mut self, hcn: &mut Hcn, net_id: &str, with_family: bool) -> u64 {
        *self = Inventory {
            net_id: net_id.to_string(),
            ..Inventory::default()
        };
        let eps = hcn
            .list(
                ObjectKind::Endpoint,
                Some(json!({ "HostComputeNetwork": net_id })),
            )
            .unwrap_or_default();
        let lbs = hcn.list(ObjectKind::LoadBalancer, None).unwrap_or_default();
        let queried = (eps.len() + lbs.len()) as u64;
        // The views in listing order, exactly as the sync's maps are filled upstream.
        for e in &eps {
            let Some((k, r)) = self.endpoint_record(e) else {
                continue;
            };
            self.by_name.insert(r.name.clone(), k.1.clone());
            for ip in &r.ips {
                let h = HnsEp {
                    id: k.1.clone(),
                    is_local: r.is_local,
                };
                match self.queried.get(ip) {
                    Some(old) if !old.is_local && r.is_local => {}
                    _ => {
                        self.queried.insert(ip.clone(), h.clone());
                    }
                }
                self.queried.insert(k.1.clone(), h);
            }
            self.add_endpoint(k, r);
        }
        for l in &lbs {
            let k = key(&id_of(l));
            let i = identity_of(l, with_family);
            if let Some(i) = &i {
                self.lbs_by_identity.insert(i.clone(), k.1.clone());
            }
            self.add_lb(k, i);
        }
        self.cursor = hcn.journal_cursor();
        queried
    }

    /// Re-query the objects the journal names and re-derive the view entries they touch.
    fn apply_changes(&mut self, hcn: &mut Hcn, changes: &[Change], with_family: bool) -> u64 {
        let mut ep_ids = BTreeSet::new();
        let mut lb_ids = BTreeSet::new();
        for c in changes {
            match c {
                Change::Endpoint(g) => {
                    ep_ids.insert(*g);
                }
                Change::LoadBalancer(g) => {
                    lb_ids.insert(*g);
                }
                _ => {}
            }
        }
        let (mut ips, mut names, mut identities) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for g in &ep_ids {
            let id = g.to_string();
            let k = (*g, id.clone());
            if let Some(old) = self.remove_endpoint(&k) {
                ips.extend(old.ips);
                names.insert(old.name);
            }
            self.queried.remove(&id);
            let Ok(doc) = hcn.query(ObjectKind::Endpoint, &id) else {
                continue;
            };
            if let Some((k, r)) = self.endpoint_record(&doc) {
                ips.extend(r.ips.iter().cloned());
                names.insert(r.name.clone());
                if !r.ips.is_empty() {
                    let h = HnsEp {
                        id: k.1.clone(),
                        is_local: r.is_local,
                    };
                    self.queried.insert(k.1.clone(), h);
                }
                self.add_endpoint(k, r);
            }
        }
        for g in &lb_ids {
            let id = g.to_string();
            let k = (*g, id.clone());
            if let Some(Some(old)) = self.lbs.remove(&k) {
                self.forget_owner_identity(&old, &k);
                identities.insert(old);
            }
            let Ok(doc) = hcn.query(ObjectKind::LoadBalancer, &id) else {
                continue;
            };
            let i = identity_of(&doc, with_family);
            if let Some(i) = &i {
                identities.insert(i.clone());
            }
            self.add_lb(k, i);
        }
        for ip in ips {
            self.derive_ip(&ip);
        }
        for n in names {
            match self.name_owners.get(&n).and_then(|o| o.last()) {
                Some(k) => self.by_name.insert(n, k.1.clone()),
                None => self.by_name.remove(&n),
            };
        }
        for i in identities {
            match self.identity_owners.get(&i).and_then(|o| o.last()) {
                Some(k) => self.lbs_by_identity.insert(i, k.1.clone()),
                None => self.lbs_by_identity.remove(&i),
            };
        }
        self.cursor = hcn.journal_cursor();
        (ep_ids.len() + lb_ids.len()) as u64
    }

    /// kube-proxy created remote endpoint `id` for `ip`: it takes the IP's entry (as upstream
    /// writes it into the sync's map). The journal names it, so the next refresh re-derives.
    pub fn note_endpoint(&mut self, id: &str, ip: &str, is_local: bool) -> HnsEp {
        let k = key(id);
        if !self.eps.contains_key(&k) {
            let r = EpRecord {
                name: String::new(),
                ips: vec![ip.to_string()],
                is_local,
            };
            self.add_endpoint(k, r);
        }
        let h = HnsEp {
            id: id.to_string(),
            is_local,
        };
        self.queried.insert(id.to_string(), h.clone());
        self.queried.insert(ip.to_string(), h.clone());
        h
    }

    /// kube-proxy created or updated LB `id` with `identity`: it takes the identity's entry.
    pub fn note_lb(&mut self, id: &str, identity: LbIdentity) {
        let k = key(id);
        if !self.lbs.contains_key(&k) {
            self.add_lb(k, Some(identity.clone()));
        }
        self.lbs_by_identity.insert(identity, id.to_string());
    }

    /// An endpoint document of this network as a record; `None` for other networks.
    fn endpoint_record(&self, e: &Json) -> Option<(Key, EpRecord)> {
        if !str_field(e, "HostComputeNetwork").eq_ignore_ascii_case(&self.net_id) {
            return None;
        }
        Some((
            key(str_field(e, "ID")),
            EpRecord {
                name: str_field(e, "Name").to_string(),
                ips: endpoint_ips(e),
                is_local: e.get("Flags").and_then(Json::as_u64).unwrap_or(0) & 1 == 0,
            },
        ))
    }

    fn add_endpoint(&mut self, k: Key, r: EpRecord) {
        for ip in &r.ips {
            self.ip_owners.entry(ip.clone()).or_default().insert(k.clone());
        }
        self.eps.insert(k.clone(), r.clone());
        for ip in &r.ips {
            self.check_mixed(ip);
        }
        self.name_owners.entry(r.name).or_default().insert(k);
    }

    fn remove_endpoint(&mut self, k: &Key) -> Option<EpRecord> {
        let r = self.eps.remove(k)?;
        for ip in &r.ips {
            forget(&mut self.ip_owners, ip, k);
            self.check_mixed(ip);
        }
        forget(&mut self.name_owners, &r.name, k);
        Some(r)
    }

    fn check_mixed(&mut self, ip: &str) {
        let kinds: BTreeSet<bool> = self
            .ip_owners
            .get(ip)
            .into_iter()
            .flatten()
            .filter_map(|k| self.eps.get(k).map(|r| r.is_local))
            .collect();
        if kinds.len() == 2 {
            self.mixed.insert(ip.to_string());
        } else {
            self.mixed.remove(ip);
        }
    }

    /// kubernetes/kubernetes#138000: a remote endpoint whose IP a local endpoint also holds is
    /// stale (the IP was reused on this node); delete it, so the IP resolves to the local one.
    /// Returns a log line per deletion.
    pub fn delete_remote_duplicates(&mut self, hcn: &mut Hcn) -> Vec<String> {
        let mut log = Vec::new();
        for ip in std::mem::take(&mut self.mixed) {
            let remotes: Vec<Key> = self.ip_owners[&ip]
                .iter()
                .filter(|k| self.eps.get(*k).is_some_and(|r| !r.is_local))
                .cloned()
                .collect();
            for k in remotes {
                match hcn.delete(ObjectKind::Endpoint, &k.1) {
                    Ok(()) => {
                        log.push(format!(
                            "Deleted remote endpoint with the IP of a local endpoint hnsID={} IP={ip}",
                            k.1
                        ));
                        if let Some(r) = self.remove_endpoint(&k) {
                            self.queried.remove(&k.1);
                            for ip in r.ips {
                                self.derive_ip(&ip);
                            }
                        }
                    }
                    Err(e) => log.push(format!(
                        "Deleting the remote endpoint with the IP of a local endpoint failed hnsID={}: {e}",
                        k.1
                    )),
                }
            }
        }
        log
    }

    fn add_lb(&mut self, k: Key, i: Option<LbIdentity>) {
        if let Some(i) = &i {
            self.identity_owners
                .entry(i.clone())
                .or_default()
                .insert(k.clone());
        }
        self.lbs.insert(k, i);
    }

    fn forget_owner_identity(&mut self, i: &LbIdentity, k: &Key) {
        forget(&mut self.identity_owners, i, k);
    }

    /// The IP's entry as the listing would leave it: the last remote endpoint, else the last
    /// local one.
    fn derive_ip(&mut self, ip: &str) {
        let owners = self.ip_owners.get(ip);
        let pick = |local: bool| {
            owners
                .into_iter()
                .flatten()
                .rev()
                .find(|k| self.eps.get(*k).is_some_and(|r| r.is_local == local))
        };
        match pick(false).or_else(|| pick(true)) {
            Some(k) => {
                let h = HnsEp {
                    id: k.1.clone(),
                    is_local: self.eps[k].is_local,
                };
                self.queried.insert(ip.to_string(), h);
            }
            None => {
                self.queried.remove(ip);
            }
        }
    }
}

fn forget<K: Ord>(owners: &mut BTreeMap<K, BTreeSet<Key>>, at: &K, k: &Key) {
    if let Some(set) = owners.get_mut(at) {
        set.remove(k);
        if set.is_empty() {
            owners.remove(at);
        }
    }
}
