//! Semantic checks before anything runs: every name is defined before it is used, addresses are
//! possible (inside their segment, not duplicated), expectations name real dispositions, tables
//! have the right shape. Each error points at the offending text.

use super::format::*;
use super::locate::{Pos, Seg};
use super::parse::{suggest, Loaded, ScenarioError};
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Dispositions a trace can end in: generated from [`crate::trace::Disposition`].
pub const DISPOSITIONS: &[&str] = crate::trace::Disposition::NAMES;

/// Layer names a trace step can carry (for `path-contains`/`path-excludes` words).
const LAYERS: &[&str] = {
    use crate::vfp::Layer;
    &[
        Layer::AclSwitch.as_str(),
        Layer::AclHost.as_str(),
        Layer::SlbNat.as_str(),
        Layer::OutboundNat.as_str(),
        Layer::PortMapping.as_str(),
        Layer::Route.as_str(),
        Layer::Vnet.as_str(),
        Layer::WinNat.as_str(),
        Layer::Ics.as_str(),
        "UFT",
    ]
};

/// A `path-contains`/`path-excludes` entry: a capitalised bare word must be a trace step kind
/// or a layer name (else a typo would make the check pass or fail for the wrong reason); any
/// other text (`"vni 4096"`, `Filter:…`) is matched as a substring of the step texts.
pub fn check_path_word(w: &str) -> Result<(), String> {
    let bare = w.starts_with(|c: char| c.is_ascii_uppercase())
        && w.chars().all(|c| c.is_ascii_alphabetic() || c == '_');
    let kinds = crate::trace::Step::NAMES;
    if !bare || kinds.contains(&w) || LAYERS.contains(&w) {
        return Ok(());
    }
    let all: Vec<&str> = kinds.iter().chain(LAYERS).copied().collect();
    Err(format!(
        "unknown trace step kind or layer `{w}`{} (step kinds: {}; layers: {})",
        hnsim_model::hint::did_you_mean(w, &all),
        kinds.join(", "),
        LAYERS.join(", ")
    ))
}

/// What a name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Host,
    Station,
    Router,
    Container,
    /// A result named with `as:` (an HNS object), with the kind of object.
    Object(&'static str),
    /// A Kubernetes address: `svc/NS/NAME`, `node/NAME`, a pod not run by hnsim.
    Kubernetes,
}

impl NameKind {
    fn describe(self) -> String {
        match self {
            NameKind::Host => "a host".into(),
            NameKind::Station => "a station".into(),
            NameKind::Router => "a router".into(),
            NameKind::Container => "a container".into(),
            NameKind::Object(k) => format!("an HNS {k}"),
            NameKind::Kubernetes => "a Kubernetes address".into(),
        }
    }
    /// Can traffic start or end here?
    pub fn is_place(self) -> bool {
        matches!(
            self,
            NameKind::Host
                | NameKind::Station
                | NameKind::Container
                | NameKind::Object("endpoint")
                | NameKind::Kubernetes
        )
    }
}

struct Checker<'a> {
    l: &'a Loaded,
    errors: Vec<ScenarioError>,
    names: BTreeMap<String, NameKind>,
}

/// Validate a parsed scenario; returns every problem found, in file order.
pub fn validate(l: &Loaded) -> Result<(), Vec<ScenarioError>> {
    let mut c = Checker {
        l,
        errors: Vec::new(),
        names: BTreeMap::new(),
    };
    c.topology();
    c.errors.extend(super::sanity::check(l));
    let mut k8s = super::kubernetes::check(l);
    c.errors.append(&mut k8s.errors);
    for (i, step) in l.scenario.steps.iter().enumerate() {
        for key in [usize::MAX, i] {
            for (n, kind) in k8s.names.remove(&key).unwrap_or_default() {
                c.names.insert(n, kind);
            }
        }
        c.step(i, step);
    }
    if c.errors.is_empty() {
        Ok(())
    } else {
        c.errors.sort_by_key(|e| e.pos);
        Err(c.errors)
    }
}

fn k(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

impl Checker<'_> {
    fn at(&self, path: &[Seg]) -> Pos {
        self.l.index.nearest(path)
    }

    fn err(&mut self, path: &[Seg], msg: impl Into<String>) {
        let pos = self.at(path);
        self.errors.push(self.l.error_at(pos, msg));
    }

    /// An error at the first occurrence of `needle` at or after the position of `path`.
    fn err_text(&mut self, path: &[Seg], needle: &str, msg: impl Into<String>) {
        let start = self.at(path);
        let pos = find_text(&self.l.text, start, needle).unwrap_or(start);
        self.errors.push(self.l.error_at(pos, msg));
    }

    fn define(&mut self, path: &[Seg], name: &str, kind: NameKind) {
        if name.is_empty() {
            self.err(path, "expected a name, found an empty string");
            return;
        }
        match self.names.entry(name.to_string()) {
            Entry::Occupied(prev) => {
                let msg = format!("the name `{name}` is already used by {}", prev.get().describe());
                self.err(path, msg);
            }
            Entry::Vacant(v) => {
                v.insert(kind);
            }
        }
    }

    fn topology(&mut self) {
        let s = &self.l.scenario;
        let segs = &s.underlay.segments;
        if s.hosts.is_empty() {
            self.err(
                &[k("hosts")],
                "expected at least one host under `hosts`, found none",
            );
        }
        if segs.is_empty() {
            self.err(
                &[k("underlay")],
                "expected at least one segment under `underlay.segments` (e.g. `lan: {prefix: 10.0.0.0/24}`), found none",
            );
        }
        // Addresses in use per segment, to catch duplicates.
        let mut used: BTreeMap<(String, IpAddr), String> = BTreeMap::new();
        for (name, seg) in segs {
            if !matches!(seg.prefix, ipnet::IpNet::V4(_)) {
                self.err(
                    &[k("underlay"), k("segments"), k(name), k("prefix")],
                    format!(
                        "expected an IPv4 prefix (the underlay is IPv4), found {}",
                        seg.prefix
                    ),
                );
            }
            if let Some(m) = seg.mtu {
                if m < 576 {
                    self.err(
                        &[k("underlay"), k("segments"), k(name), k("mtu")],
                        format!("expected an MTU of at least 576, found {m}"),
                    );
                }
            }
        }
        for (name, r) in &s.underlay.routers {
            self.define(&[k("underlay"), k("routers"), k(name)], name, NameKind::Router);
            for (i, itf) in r.interfaces.iter().enumerate() {
                let p = [
                    k("underlay"),
                    k("routers"),
                    k(name),
                    k("interfaces"),
                    Seg::Index(i),
                ];
                self.address_on_segment(&p, &format!("router {name}"), &itf.segment, itf.ip, &mut used);
            }
        }
        for (name, h) in &s.hosts {
            let p = [k("hosts"), k(name)];
            self.define(&p, name, NameKind::Host);
            let seg = self.segment_of(&p, h.segment.as_deref(), h.ip);
            if let Some(seg) = seg {
                self.address_on_segment(&p, &format!("host {name}"), &seg, h.ip, &mut used);
                if let Some(gw) = h.gateway {
                    self.gateway_on_segment(&p, &seg, gw);
                }
            }
            if let Some(v) = &h.hns_version {
                if parse_version(v).is_none() {
                    self.err(
                        &[k("hosts"), k(name), k("hns-version")],
                        format!("expected an HNS version like \"15.4\", found {v:?}"),
                    );
                }
            }
            if let Err((key, msg)) = super::topology::host_settings(h) {
                self.err(&[k("hosts"), k(name), k("settings"), k(&key)], msg);
            }
            if !h.ip.is_ipv4() {
                self.err(
                    &[k("hosts"), k(name), k("ip")],
                    format!("expected an IPv4 address (the underlay is IPv4), found {}", h.ip),
                );
            }
            for (i, l) in h.listen.iter().enumerate() {
                if let Err(m) = parse_port_spec(l) {
                    self.err(&[k("hosts"), k(name), k("listen"), Seg::Index(i)], m);
                }
            }
        }
        for (name, st) in &s.stations {
            let p = [k("stations"), k(name)];
            self.define(&p, name, NameKind::Station);
            if !st.ip.is_ipv4() {
                self.err(
                    &[k("stations"), k(name), k("ip")],
                    format!("expected an IPv4 address (the underlay is IPv4), found {}", st.ip),
                );
            }
            if let Some(seg) = self.segment_of(&p, st.segment.as_deref(), st.ip) {
                self.address_on_segment(&p, &format!("station {name}"), &seg, st.ip, &mut used);
                if let Some(gw) = st.gateway {
                    self.gateway_on_segment(&p, &seg, gw);
                }
            }
            for (i, l) in st.listen.iter().enumerate() {
                if let Err(m) = parse_port_spec(l) {
                    self.err(&[k("stations"), k(name), k("listen"), Seg::Index(i)], m);
                }
            }
        }
    }

    fn segment_of(&mut self, p: &[Seg], seg: Option<&str>, ip: IpAddr) -> Option<String> {
        let segs = &self.l.scenario.underlay.segments;
        match seg {
            Some(s) if segs.contains_key(s) => Some(s.to_string()),
            Some(s) => {
                let names: Vec<&String> = segs.keys().collect();
                let mut msg = format!("unknown segment `{s}`");
                if let Some(b) = suggest(s, &names) {
                    msg.push_str(&format!("; did you mean `{b}`?"));
                }
                let mut pp = p.to_vec();
                pp.push(k("segment"));
                self.err(&pp, msg);
                None
            }
            None if segs.is_empty() => None,
            None => match super::topology::segment_containing(&self.l.scenario, ip) {
                Some(s) => Some(s),
                None => {
                    let mut pp = p.to_vec();
                    pp.push(k("ip"));
                    let list: Vec<String> = segs.iter().map(|(n, d)| format!("{n} {}", d.prefix)).collect();
                    self.err(
                        &pp,
                        format!(
                            "address {ip} is not inside any underlay segment ({})",
                            list.join(", ")
                        ),
                    );
                    None
                }
            },
        }
    }

    fn address_on_segment(
        &mut self,
        p: &[Seg],
        who: &str,
        seg: &str,
        ip: IpAddr,
        used: &mut BTreeMap<(String, IpAddr), String>,
    ) {
        let Some(def) = self.l.scenario.underlay.segments.get(seg) else {
            let mut pp = p.to_vec();
            pp.push(k("segment"));
            let names: Vec<&String> = self.l.scenario.underlay.segments.keys().collect();
            let mut msg = format!("unknown segment `{seg}`");
            if let Some(b) = suggest(seg, &names) {
                msg.push_str(&format!("; did you mean `{b}`?"));
            }
            self.err(&pp, msg);
            return;
        };
        let mut pp = p.to_vec();
        pp.push(k("ip"));
        if !def.prefix.contains(&ip) {
            self.err(
                &pp,
                format!(
                    "{who}: address {ip} is not inside segment `{seg}` ({})",
                    def.prefix
                ),
            );
        } else if ip == def.prefix.network() && def.prefix.prefix_len() < 31 && ip.is_ipv4() {
            self.err(
                &pp,
                format!("{who}: address {ip} is the network address of {}", def.prefix),
            );
        } else if ip == def.prefix.broadcast() && def.prefix.prefix_len() < 31 && ip.is_ipv4() {
            self.err(
                &pp,
                format!("{who}: address {ip} is the broadcast address of {}", def.prefix),
            );
        } else if let Some(other) = used.get(&(seg.to_string(), ip)) {
            self.err(
                &pp,
                format!("{who}: address {ip} is already used by {other} on segment `{seg}`"),
            );
        } else {
            used.insert((seg.to_string(), ip), who.to_string());
        }
    }

    fn gateway_on_segment(&mut self, p: &[Seg], seg: &str, gw: IpAddr) {
        if let Some(def) = self.l.scenario.underlay.segments.get(seg) {
            if !def.prefix.contains(&gw) {
                let mut pp = p.to_vec();
                pp.push(k("gateway"));
                self.err(
                    &pp,
                    format!("gateway {gw} is not inside segment `{seg}` ({})", def.prefix),
                );
            }
        }
    }

    fn host_ref(&mut self, p: &[Seg], host: Option<&str>) {
        let hosts = &self.l.scenario.hosts;
        match host {
            Some(h) if hosts.contains_key(h) => {}
            Some(h) => {
                let names: Vec<&String> = hosts.keys().collect();
                let mut msg = format!("unknown host `{h}`");
                if let Some(b) = suggest(h, &names) {
                    msg.push_str(&format!("; did you mean `{b}`?"));
                }
                let mut pp = p.to_vec();
                pp.push(k("host"));
                self.err(&pp, msg);
            }
            None if hosts.len() > 1 => {
                let list: Vec<&str> = hosts.keys().map(String::as_str).collect();
                self.err(
                    p,
                    format!(
                        "expected `host:` (one of {}), found none; the scenario has several hosts",
                        list.join(", ")
                    ),
                );
            }
            None => {}
        }
    }

    /// A reference to a defined name, a GUID, or a `${…}` expression.
    fn object_ref(&mut self, p: &[Seg], field: &str, value: &str) {
        let mut pp = p.to_vec();
        pp.push(k(field));
        if value.contains("${") {
            self.refs_in_str(&pp, value);
            return;
        }
        if value.parse::<hnsim_model::Guid>().is_ok() {
            return;
        }
        if !self.names.contains_key(value) {
            self.undefined(&pp, value);
        }
    }

    fn undefined(&mut self, p: &[Seg], name: &str) {
        let names: Vec<&String> = self.names.keys().collect();
        let mut msg = format!("`{name}` is not defined (names are defined by hosts, stations, `as:` and containers, before use)");
        if let Some(b) = suggest(name, &names) {
            msg = format!("`{name}` is not defined; did you mean `{b}`?");
        }
        self.err_text(p, name, msg);
    }

    /// Check every `${name…}` in a string.
    fn refs_in_str(&mut self, p: &[Seg], s: &str) {
        match super::interp::references(s) {
            Ok(refs) => {
                for r in refs {
                    if !self.names.contains_key(&r) {
                        let names: Vec<&String> = self.names.keys().collect();
                        let mut msg =
                            format!("`${{{r}…}}` refers to `{r}`, which is not defined before this step");
                        if let Some(b) = suggest(&r, &names) {
                            msg.push_str(&format!("; did you mean `{b}`?"));
                        }
                        self.err_text(p, &format!("${{{r}"), msg);
                    }
                }
            }
            Err(m) => self.err_text(p, "${", m),
        }
    }

    /// Check every `${…}` in the strings of a value. Most strings have none, and most
    /// expressions name a defined object: the walk borrows its path and makes an owned one only
    /// for a string with something to report.
    fn refs_in_value(&mut self, p: &[Seg], v: &serde_yaml::Value) {
        type At<'v> = Vec<Option<Result<&'v str, usize>>>;
        fn walk<'v>(
            v: &'v serde_yaml::Value,
            ok: &dyn Fn(&str) -> bool,
            at: &mut At<'v>,
            out: &mut Vec<(At<'v>, &'v str)>,
        ) {
            match v {
                serde_yaml::Value::String(s) if super::interp::has_expression(s) && !ok(s) => {
                    out.push((at.clone(), s))
                }
                serde_yaml::Value::Sequence(items) => {
                    for (i, it) in items.iter().enumerate() {
                        at.push(Some(Err(i)));
                        walk(it, ok, at, out);
                        at.pop();
                    }
                }
                serde_yaml::Value::Mapping(m) => {
                    for (key, val) in m {
                        at.push(key.as_str().map(Ok));
                        walk(val, ok, at, out);
                        at.pop();
                    }
                }
                serde_yaml::Value::Tagged(t) => walk(&t.value, ok, at, out),
                _ => {}
            }
        }
        let names = &self.names;
        let ok = |s: &str| {
            super::interp::reference_names(s).is_ok_and(|refs| refs.iter().all(|r| names.contains_key(*r)))
        };
        let mut found = Vec::new();
        walk(v, &ok, &mut Vec::new(), &mut found);
        for (rel, s) in found {
            let mut pp = p.to_vec();
            pp.extend(rel.into_iter().flatten().map(|seg| match seg {
                Ok(key) => k(key),
                Err(i) => Seg::Index(i),
            }));
            self.refs_in_str(&pp, s);
        }
    }

    fn expect_error(&mut self, p: &[Seg], e: &Option<String>) {
        if let Some(e) = e {
            if parse_hresult(e).is_none() {
                let names: Vec<&str> = hnsim_model::HResult::ALL
                    .iter()
                    .filter_map(|h| h.name())
                    .collect();
                let mut msg = format!(
                    "expected an HRESULT name like HCN_E_PORT_ALREADY_EXISTS or a hex code, found `{e}`"
                );
                if let Some(b) = suggest(e, &names) {
                    msg.push_str(&format!("; did you mean `{b}`?"));
                }
                let mut pp = p.to_vec();
                pp.push(k("expect-error"));
                self.err(&pp, msg);
            }
        }
    }

    fn step(&mut self, i: usize, step: &Step) {
        let kind = step.kind();
        let p = vec![k("steps"), Seg::Index(i), k(kind)];
        match step {
            hns_step!(s) => self.hns_step(&p, kind, s),
            Step::List(s) => {
                self.host_ref(&p, s.host.as_deref());
                if object_kind(&s.kind).is_none() {
                    let mut pp = p.clone();
                    pp.push(k("kind"));
                    self.err(
                        &pp,
                        format!(
                            "expected one of network, endpoint, namespace, loadbalancer, route; found `{}`",
                            s.kind
                        ),
                    );
                }
            }
            Step::Attach(s) | Step::Detach(s) => {
                self.host_ref(&p, s.host.as_deref());
                self.object_ref(&p, "namespace", &s.namespace);
                self.object_ref(&p, "endpoint", &s.endpoint);
                self.expect_error(&p, &s.expect_error);
            }
            Step::AddEndpointPolicy(s)
            | Step::RemoveEndpointPolicy(s)
            | Step::UpdateEndpointPolicy(s)
            | Step::AddNetworkPolicy(s)
            | Step::RemoveNetworkPolicy(s) => {
                self.host_ref(&p, s.host.as_deref());
                self.object_ref(&p, "target", &s.target);
                for (j, pol) in s.policies.iter().enumerate() {
                    let mut pp = p.clone();
                    pp.push(k("policies"));
                    pp.push(Seg::Index(j));
                    self.refs_in_value(&pp, pol);
                    if !pol.is_mapping() {
                        self.err(&pp, "expected a policy map like {Type: ACL, Settings: {…}}");
                    }
                }
                self.expect_error(&p, &s.expect_error);
            }
            Step::Container(s) => {
                self.host_ref(&p, s.host.as_deref());
                for (j, e) in s.endpoints.iter().enumerate() {
                    let mut pp = p.clone();
                    pp.push(k("endpoints"));
                    pp.push(Seg::Index(j));
                    if e.contains("${") {
                        self.refs_in_str(&pp, e);
                    } else if e.parse::<hnsim_model::Guid>().is_err() {
                        match self.names.get(e.as_str()) {
                            Some(NameKind::Object("endpoint")) => {}
                            Some(other) => {
                                let msg = format!(
                                    "expected an endpoint, found `{e}`, which is {}",
                                    other.describe()
                                );
                                self.err(&pp, msg)
                            }
                            None => self.undefined(&pp, e),
                        }
                    }
                }
                for (j, l) in s.listen.iter().enumerate() {
                    if let Err(m) = parse_port_spec(l) {
                        self.err(&[p.clone(), vec![k("listen"), Seg::Index(j)]].concat(), m);
                    }
                }
                self.expect_error(&p, &s.expect_error);
                let mut pp = p.clone();
                pp.push(k("name"));
                self.define(&pp, &s.name, NameKind::Container);
            }
            Step::StopContainer(s) => {
                if self.names.get(s.name.as_str()) != Some(&NameKind::Container) {
                    let mut pp = p.clone();
                    pp.push(k("name"));
                    self.undefined(&pp, &s.name);
                }
            }
            Step::Listen(s) => {
                self.place(&p, "on", &s.on);
                for (j, l) in s.ports.iter().enumerate() {
                    if let Err(m) = parse_port_spec(l) {
                        self.err(&[p.clone(), vec![k("ports"), Seg::Index(j)]].concat(), m);
                    }
                }
            }
            Step::Send(t) | Step::Connect(t) | Step::Udp(t) | Step::Ping(t) => self.traffic(&p, kind, t),
            Step::Reachability(r) => self.reachability(&p, r),
            Step::Reach(r) => {
                self.place(&p, "from", &r.from);
                if r.to.parse::<IpAddr>().is_err() {
                    self.place(&p, "to", &r.to);
                }
                for (key, value) in &r.expect {
                    let kp = [p.clone(), vec![k("expect"), k(key)]].concat();
                    let checked = crate::reach::expect::parse_key(key)
                        .and_then(|_| crate::reach::expect::check_value(value));
                    if let Err(m) = checked {
                        self.err(&kp, m);
                    }
                }
            }
            Step::ReachUnchanged(r) => self.reach_unchanged(&p, i, r),
            Step::HnsRestart(h)
            | Step::Reboot(h)
            | Step::LinkDown(h)
            | Step::LinkUp(h)
            | Step::HostDown(h)
            | Step::HostUp(h) => self.host_ref(&p, Some(&h.host)),
            Step::Loss(l) => {
                self.segment_ref(&p, &l.segment);
                if l.percent > 100 {
                    let msg = format!("expected a percentage between 0 and 100, found {}", l.percent);
                    self.err(&[p.clone(), vec![k("percent")]].concat(), msg);
                }
            }
            Step::Latency(l) => {
                self.segment_ref(&p, &l.segment);
                if let Err(m) = parse_duration(&l.delay) {
                    self.err(&[p.clone(), vec![k("delay")]].concat(), m);
                }
            }
            Step::Partition(pt) => {
                for (f, n) in [("a", &pt.a), ("b", &pt.b)] {
                    if !self.l.scenario.hosts.contains_key(n.as_str())
                        && !self.l.scenario.stations.contains_key(n.as_str())
                        && !self.l.scenario.underlay.segments.contains_key(n.as_str())
                    {
                        let msg = format!("expected a host, station or segment, found `{n}`");
                        self.err(&[p.clone(), vec![k(f)]].concat(), msg);
                    }
                }
            }
            Step::Heal(h) => {
                if h.a.is_some() != h.b.is_some() {
                    self.err(
                        &p,
                        "`heal` takes both `a` and `b`, or neither (heal every partition)",
                    );
                }
            }
            // Checked by kubernetes::check.
            Step::Apply(_) | Step::Delete(_) | Step::KubeProxySync(_) | Step::Restart(_) => {}
            Step::Advance(d) => {
                if let Err(m) = parse_duration(d) {
                    self.err(&p, m);
                }
            }
            Step::Restore(s) => {
                self.host_ref(&p, s.host.as_deref());
                match super::restore::name_kinds(s) {
                    Ok(names) => {
                        for (n, kind) in names {
                            let pp = [p.clone(), vec![k("names"), k(&n)]].concat();
                            self.define(&pp, &n, NameKind::Object(kind));
                        }
                    }
                    Err(m) => self.err(&p, m),
                }
            }
        }
    }

    fn segment_ref(&mut self, p: &[Seg], seg: &str) {
        if !self.l.scenario.underlay.segments.contains_key(seg) {
            let names: Vec<&String> = self.l.scenario.underlay.segments.keys().collect();
            let mut msg = format!("unknown segment `{seg}`");
            if let Some(b) = suggest(seg, &names) {
                msg.push_str(&format!("; did you mean `{b}`?"));
            }
            self.err(&[p.to_vec(), vec![k("segment")]].concat(), msg);
        }
    }

    fn hns_step(&mut self, p: &[Seg], kind: &'static str, s: &HnsStep) {
        self.host_ref(p, s.host.as_deref());
        let verb = kind.split('-').next().unwrap_or("");
        let obj = kind.split_once('-').map(|x| x.1).unwrap_or("");
        let needs_doc = matches!(verb, "create" | "modify" | "update");
        if needs_doc && s.doc.is_none() {
            self.err(p, format!("`{kind}` needs `doc:` (the HNS document), found none"));
        }
        if !needs_doc && s.doc.is_some() && verb != "query" {
            let mut pp = p.to_vec();
            pp.push(k("doc"));
            self.err(&pp, format!("`{kind}` takes no `doc:`"));
        }
        if verb == "create" {
            if let Some(t) = &s.target {
                let mut pp = p.to_vec();
                pp.push(k("target"));
                self.err(
                    &pp,
                    format!("`{kind}` takes no `target:` (HNS assigns the ID), found `{t}`"),
                );
            }
        } else {
            match &s.target {
                Some(t) => self.object_ref(p, "target", t),
                None => self.err(
                    p,
                    format!("`{kind}` needs `target:` (a name from `as:`, a GUID or `${{name.ID}}`)"),
                ),
            }
        }
        if let Some(d) = &s.doc {
            let mut pp = p.to_vec();
            pp.push(k("doc"));
            self.refs_in_value(&pp, d);
            if !d.is_mapping() {
                self.err(
                    &pp,
                    "expected the HNS document as a map, found a scalar or a list",
                );
            }
        }
        self.expect_error(p, &s.expect_error);
        if s.expect_error.is_some() && !s.expect.is_empty() {
            let mut pp = p.to_vec();
            pp.push(k("expect"));
            self.err(
                &pp,
                "`expect:` checks the reply of a successful call; it cannot be combined with `expect-error:`",
            );
        }
        if let Some(name) = &s.as_ {
            let mut pp = p.to_vec();
            pp.push(k("as"));
            if s.expect_error.is_some() {
                self.err(&pp, "a call expected to fail creates nothing to name with `as:`");
            } else {
                let objkind = match obj {
                    "network" => "network",
                    "endpoint" => "endpoint",
                    "namespace" => "namespace",
                    "loadbalancer" | "policylist" => "loadbalancer",
                    _ => "route",
                };
                self.define(&pp, name, NameKind::Object(objkind));
            }
        }
    }

    fn place(&mut self, p: &[Seg], field: &str, name: &str) {
        let pp = [p.to_vec(), vec![k(field)]].concat();
        match self.names.get(name) {
            Some(kind) if kind.is_place() => {}
            Some(kind) => {
                let msg = format!(
                    "expected a container, endpoint, host or station, found `{name}`, which is {}",
                    kind.describe()
                );
                self.err_text(&pp, name, msg);
            }
            None if name.parse::<IpAddr>().is_ok() => {}
            None => self.undefined(&pp, name),
        }
    }

    fn traffic(&mut self, p: &[Seg], kind: &str, t: &TrafficStep) {
        self.place(p, "from", &t.from);
        let proto = match kind {
            "connect" => Proto::Tcp,
            "udp" => Proto::Udp,
            "ping" => Proto::Icmp,
            _ => t.proto.unwrap_or(Proto::Tcp),
        };
        if kind != "send" && t.proto.is_some_and(|x| x != proto) {
            self.err(
                &[p.to_vec(), vec![k("proto")]].concat(),
                format!(
                    "`{kind}` implies {}; remove `proto:` or use `send`",
                    proto_name(proto)
                ),
            );
        }
        let to_path = [p.to_vec(), vec![k("to")]].concat();
        match parse_target(&super::runner::kubernetes::numeric_port_placeholder(&t.to)) {
            Err(m) => self.err(&to_path, m),
            Ok((dest, port)) => {
                if proto != Proto::Icmp && port.is_none() {
                    self.err(
                        &to_path,
                        format!(
                            "expected `ADDR:PORT` or `NAME:PORT` for {}, found `{}`",
                            proto_name(proto),
                            t.to
                        ),
                    );
                }
                if proto == Proto::Icmp && port.is_some() {
                    self.err(
                        &to_path,
                        format!("ping takes an address or name without a port, found `{}`", t.to),
                    );
                }
                if let Target::Name(n) = dest {
                    if n.contains("${") {
                        self.refs_in_str(&to_path, &n);
                    } else {
                        self.place(p, "to", &n);
                    }
                }
            }
        }
        if t.size.is_some_and(|s| s > 65_000) {
            self.err(
                &[p.to_vec(), vec![k("size")]].concat(),
                format!(
                    "expected a payload of at most 65000 bytes, found {}",
                    t.size.unwrap_or(0)
                ),
            );
        }
        if t.repeat.is_some_and(|r| r > 10_000) {
            self.err(
                &[p.to_vec(), vec![k("repeat")]].concat(),
                format!(
                    "expected a repeat count of at most 10000, found {}",
                    t.repeat.unwrap_or(0)
                ),
            );
        }
        for (key, msg) in super::runner::bulk_problems(t) {
            self.err(&[p.to_vec(), vec![k(key)]].concat(), msg);
        }
        if t.repeat == Some(0) {
            self.err(
                &[p.to_vec(), vec![k("repeat")]].concat(),
                "expected a repeat count of at least 1, found 0",
            );
        }
        if let Some(e) = &t.expect {
            let ep = [p.to_vec(), vec![k("expect")]].concat();
            for (field, d) in [("disposition", &e.disposition), ("reply", &e.reply)] {
                if let Some(d) = d {
                    if !(DISPOSITIONS.contains(&d.as_str()) || (field == "reply" && d == "none")) {
                        let mut msg = format!("unknown disposition `{d}`");
                        if let Some(b) = suggest(d, DISPOSITIONS) {
                            msg.push_str(&format!("; did you mean `{b}`?"));
                        }
                        self.err(&[ep.clone(), vec![k(field)]].concat(), msg);
                    }
                }
            }
            for (field, words) in [
                ("path-contains", &e.path_contains),
                ("path-excludes", &e.path_excludes),
            ] {
                for (j, w) in words.iter().enumerate() {
                    if let Err(m) = check_path_word(w) {
                        self.err(&[ep.clone(), vec![k(field), Seg::Index(j)]].concat(), m);
                    }
                }
            }
            if let Some(to) = &e.delivered_to {
                for n in to.items() {
                    self.place(&ep, "delivered-to", n);
                }
            }
            for (field, seen) in [("seen", &e.seen), ("reply-seen", &e.reply_seen)] {
                let Some(seen) = seen else { continue };
                for (key, addr) in [("src", &seen.src), ("dst", &seen.dst)] {
                    let Some(a) = addr else { continue };
                    let ap = [ep.clone(), vec![k(field), k(key)]].concat();
                    if a.contains("${") {
                        self.refs_in_str(&ap, a);
                    } else if a.parse::<IpAddr>().is_err() {
                        self.err(
                            &ap,
                            format!("expected an IP address or a `${{…}}` expression, found `{a}`"),
                        );
                    }
                }
            }
            if e.same_receiver.is_some() && t.repeat.unwrap_or(1) < 2 {
                self.err(
                    &[ep.clone(), vec![k("same-receiver")]].concat(),
                    "`same-receiver` needs `repeat:` of 2 or more",
                );
            }
        }
    }

    /// `reach-unchanged:` (docs/reach.md): `since` names an earlier step; the allowed changes
    /// name places and parse as `reach:` keys and values.
    fn reach_unchanged(&mut self, p: &[Seg], i: usize, r: &crate::scenario::format::ReachUnchangedStep) {
        if r.since == 0 || r.since > i {
            let msg = format!(
                "expected the number of an earlier step (1 to {i}), found {}",
                r.since
            );
            self.err(&[p.to_vec(), vec![k("since")]].concat(), msg);
        }
        for (j, f) in r.from.iter().enumerate() {
            self.place(&[p.to_vec(), vec![k("from"), Seg::Index(j)]].concat(), "", f);
        }
        for (j, t) in r.to.iter().enumerate() {
            if t.parse::<IpAddr>().is_err() {
                self.place(&[p.to_vec(), vec![k("to"), Seg::Index(j)]].concat(), "", t);
            }
        }
        for (j, e) in r.except.iter().enumerate() {
            let ep = [p.to_vec(), vec![k("except"), Seg::Index(j)]].concat();
            self.place(&ep, "from", &e.from);
            if let Some(Err(m)) = e.class.as_deref().map(crate::reach::expect::parse_key) {
                self.err(&[ep.clone(), vec![k("class")]].concat(), m);
            }
            for (field, v) in [("now", Some(&e.now)), ("was", e.was.as_ref())] {
                let v = v.filter(|v| v.as_str() != "(no such pair)");
                if let Some(Err(m)) = v.map(|v| crate::reach::expect::check_value(v)) {
                    self.err(&[ep.clone(), vec![k(field)]].concat(), m);
                }
            }
        }
    }

    fn reachability(&mut self, p: &[Seg], r: &ReachabilityStep) {
        let proto = r.proto.unwrap_or(Proto::Tcp);
        if proto != Proto::Icmp && r.port.is_none() {
            self.err(p, "expected `port:` for a tcp/udp reachability table");
        }
        for (j, f) in r.from.iter().enumerate() {
            self.place(&[p.to_vec(), vec![k("from"), Seg::Index(j)]].concat(), "", f);
        }
        for (j, t) in r.to.iter().enumerate() {
            if t.parse::<IpAddr>().is_err() {
                self.place(&[p.to_vec(), vec![k("to"), Seg::Index(j)]].concat(), "", t);
            }
        }
        let ep = [p.to_vec(), vec![k("expect")]].concat();
        for f in &r.from {
            if !r.expect.contains_key(f) {
                self.err(
                    &ep,
                    format!("expected a row for source `{f}` in `expect`, found none"),
                );
            }
        }
        for (row, cells) in &r.expect {
            let rp = [ep.clone(), vec![k(row)]].concat();
            if !r.from.contains(row) {
                self.err(&rp, format!("row `{row}` is not one of the sources in `from`"));
                continue;
            }
            let cells: Vec<&str> = cells.split_whitespace().collect();
            if cells.len() != r.to.len() {
                self.err(
                    &rp,
                    format!(
                        "expected {} cells (one per destination in `to`), found {}",
                        r.to.len(),
                        cells.len()
                    ),
                );
            }
            if let Some(bad) = cells.iter().find(|c| !matches!(**c, "." | "X" | "x")) {
                self.err(
                    &rp,
                    format!("expected `.` (reachable) or `X` (not reachable), found `{bad}`"),
                );
            }
        }
    }
}

fn proto_name(p: Proto) -> &'static str {
    match p {
        Proto::Tcp => "tcp",
        Proto::Udp => "udp",
        Proto::Icmp => "icmp",
    }
}

/// Find `needle` at or after `start` in the text (1-based positions).
fn find_text(text: &str, start: Pos, needle: &str) -> Option<Pos> {
    if needle.is_empty() {
        return None;
    }
    for (li, line) in text.lines().enumerate().skip(start.line.saturating_sub(1)) {
        let from = if li + 1 == start.line {
            start.col.saturating_sub(1)
        } else {
            0
        };
        let chars: Vec<char> = line.chars().collect();
        let hay: String = chars.get(from..).unwrap_or(&[]).iter().collect();
        if let Some(b) = hay.find(needle) {
            let col = from + hay[..b].chars().count();
            return Some(Pos {
                line: li + 1,
                col: col + 1,
            });
        }
    }
    None
}

/// A destination: an address or a name (possibly a `${…}` expression).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Addr(IpAddr),
    Name(String),
}

/// Parse `ADDR:PORT`, `[V6]:PORT`, `NAME:PORT`, `ADDR`, `NAME`.
pub fn parse_target(s: &str) -> Result<(Target, Option<u16>), String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("expected a destination like 10.0.0.1:80 or A:80, found an empty string".into());
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok((Target::Addr(ip), None));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (a, p) = rest
            .split_once("]:")
            .ok_or_else(|| format!("expected [IPv6]:PORT, found `{s}`"))?;
        let ip = a
            .parse::<IpAddr>()
            .map_err(|_| format!("expected an IPv6 address in `{s}`"))?;
        let port = parse_port(p, s)?;
        return Ok((Target::Addr(ip), Some(port)));
    }
    // `${a.b}` may itself contain no colon; split on the last colon outside `${…}`.
    let split = s.rfind(':').filter(|i| !s[*i..].contains('}'));
    let (host, port) = match split {
        Some(i) => (&s[..i], Some(parse_port(&s[i + 1..], s)?)),
        None => (s, None),
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok((Target::Addr(ip), port));
    }
    let looks_like_ip = host.chars().all(|c| c.is_ascii_digit() || c == '.') && host.contains('.');
    if looks_like_ip {
        return Err(format!("expected an IP address, found `{host}`"));
    }
    Ok((Target::Name(host.to_string()), port))
}

fn parse_port(p: &str, whole: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!(
            "expected a port between 1 and 65535, found `{p}` in `{whole}`"
        )),
        Ok(v) => Ok(v),
    }
}

/// `tcp/80` → (Tcp, 80).
pub fn parse_port_spec(s: &str) -> Result<(Proto, u16), String> {
    let (p, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected a port like tcp/80 or udp/53, found `{s}`"))?;
    let proto = match p.to_ascii_lowercase().as_str() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return Err(format!("expected tcp or udp before `/`, found `{p}` in `{s}`")),
    };
    Ok((proto, parse_port(n, s)?))
}

/// `15.4` → (15, 4).
pub fn parse_version(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// `5s`, `250ms`, `1m`, `10us`, `100ns` → nanoseconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("expected a duration like 5s, 250ms or 1m, found `{s}`"))?;
    let mult = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(format!("expected a duration unit (ns, us, ms, s, m, h) in `{s}`")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("duration `{s}` is too long"))
}

/// An HRESULT by name or hex (`0x803B0013`).
pub fn parse_hresult(s: &str) -> Option<hnsim_model::HResult> {
    if let Some(h) = hnsim_model::HResult::from_name(s) {
        return Some(h);
    }
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    u32::from_str_radix(hex, 16).ok().map(hnsim_model::HResult)
}

/// An object kind by its scenario name.
pub fn object_kind(s: &str) -> Option<hnsim_model::backend::ObjectKind> {
    use hnsim_model::backend::ObjectKind;
    match s {
        "network" => Some(ObjectKind::Network),
        "endpoint" => Some(ObjectKind::Endpoint),
        "namespace" => Some(ObjectKind::Namespace),
        "loadbalancer" | "policylist" => Some(ObjectKind::LoadBalancer),
        "route" => Some(ObjectKind::SdnRoute),
        _ => None,
    }
}
