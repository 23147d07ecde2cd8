//! The ACL layer: HNS `ACL` endpoint policies compiled into prioritised rules.
//!
//! Lower `Priority` numbers are evaluated first (Calico relies on this, consumers.md S13). At equal
//! priority a `Block` beats an `Allow` (inferred: HNS's tie-break differs from first-match, which is
//! why Calico bumps the priority whenever the action changes, consumers.md §5). `RuleType: Host`
//! rules (WFP, the host firewall) form their own layer next to `Switch` (VFP) rules: a packet must
//! pass both, so a Calico `Host Allow` at priority 100 does not short-cut the Switch ladder.

pub use crate::path::Dir;
use hnsim_model::repr::{AclAction, AclRepr, ReprError};
use hnsim_model::schema::AclPolicy;
use ipnet::IpNet;
use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclRule {
    /// The rule's `Id`, or `ACL#<index>` when it has none.
    pub name: String,
    pub priority: u16,
    pub allow: bool,
    pub dir: Dir,
    /// `RuleType: Host` (WFP) rather than `Switch` (VFP).
    pub host: bool,
    /// `None` = any protocol (empty or 256).
    pub protocols: Option<Vec<u8>>,
    pub local_addrs: Vec<IpNet>,
    pub remote_addrs: Vec<IpNet>,
    pub local_ports: Vec<(u16, u16)>,
    pub remote_ports: Vec<(u16, u16)>,
}

/// What a rule set decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AclVerdict {
    /// Rule index into the layer's rules.
    Rule(usize),
    /// No rule of this direction exists.
    NoRules,
    /// Rules exist, none matched.
    NoMatch,
}

/// The fields an ACL matches, from the endpoint's point of view.
#[derive(Copy, Clone, Debug)]
pub struct AclView {
    pub proto: u8,
    pub local: IpAddr,
    pub local_port: Option<u16>,
    pub remote: IpAddr,
    pub remote_port: Option<u16>,
}

/// Why an `ACL` policy does not compile into a rule.
#[derive(Debug, PartialEq, Eq)]
pub enum AclUnbuilt<'a> {
    /// A value that did not read (validation refuses it; a restored state may hold it).
    Unread(&'a ReprError),
    /// `Action: Pass` (schema 2.10): accepted by HNS, not modelled by this VFP.
    Pass,
}

impl AclUnbuilt<'_> {
    /// `Action: Pass` is not modelled: the message, quoting the action as written.
    pub fn pass_message(action: &str) -> String {
        format!("expected Allow or Block (Pass is not modelled), found {action:?}")
    }
}

impl AclRule {
    /// Compile one `ACL` policy from its typed values (`r`, read from `p` by the model);
    /// `index` names rules that carry no `Id`.
    pub fn from_repr<'a>(p: &AclPolicy, r: &'a AclRepr, index: usize) -> Result<AclRule, AclUnbuilt<'a>> {
        // In the model's order of checks (`AclRepr::error`).
        fn read<'a, T: Clone>(v: &'a Result<T, Box<ReprError>>) -> Result<T, AclUnbuilt<'a>> {
            match v {
                Ok(x) => Ok(x.clone()),
                Err(e) => Err(AclUnbuilt::Unread(e)),
            }
        }
        let allow = match read(&r.action)? {
            AclAction::Allow => true,
            AclAction::Block => false,
            AclAction::Pass => return Err(AclUnbuilt::Pass),
        };
        Ok(AclRule {
            name: if p.id.is_empty() {
                format!("ACL#{index}")
            } else {
                p.id.clone()
            },
            priority: p.priority,
            allow,
            dir: if read(&r.out)? { Dir::Out } else { Dir::In },
            host: read(&r.host)?,
            protocols: read(&r.protocols)?,
            local_addrs: read(&r.local_addresses)?,
            remote_addrs: read(&r.remote_addresses)?,
            local_ports: read(&r.local_ports)?,
            remote_ports: read(&r.remote_ports)?,
        })
    }

    /// Read and compile one `ACL` policy (tests, and callers without a repr); the error names
    /// the field.
    pub fn parse(p: &AclPolicy, index: usize) -> Result<AclRule, String> {
        let r = AclRepr::parse(p, |f| f.to_string());
        AclRule::from_repr(p, &r, index).map_err(|e| match e {
            AclUnbuilt::Unread(e) => e.to_string(),
            AclUnbuilt::Pass => format!("Action: {}", AclUnbuilt::pass_message(&p.action)),
        })
    }

    pub fn matches(&self, v: &AclView) -> bool {
        if let Some(ps) = &self.protocols {
            if !ps.contains(&v.proto) {
                return false;
            }
        }
        let addr_ok = |nets: &[IpNet], ip: IpAddr| nets.is_empty() || nets.iter().any(|n| n.contains(&ip));
        let port_ok = |ranges: &[(u16, u16)], p: Option<u16>| {
            ranges.is_empty() || p.is_some_and(|p| ranges.iter().any(|(a, b)| *a <= p && p <= *b))
        };
        addr_ok(&self.local_addrs, v.local)
            && addr_ok(&self.remote_addrs, v.remote)
            && port_ok(&self.local_ports, v.local_port)
            && port_ok(&self.remote_ports, v.remote_port)
    }
}

/// One direction of one rule type, sorted by priority (stable: ties keep Block first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AclSet {
    pub rules: Vec<AclRule>,
}

impl AclSet {
    pub fn new(mut rules: Vec<AclRule>) -> AclSet {
        rules.sort_by_key(|r| (r.priority, r.allow));
        AclSet { rules }
    }

    /// The first matching rule in priority order; `evaluated` counts rules tested.
    pub fn eval(&self, v: &AclView, evaluated: &mut u64) -> AclVerdict {
        if self.rules.is_empty() {
            return AclVerdict::NoRules;
        }
        for (i, r) in self.rules.iter().enumerate() {
            *evaluated += 1;
            if r.matches(v) {
                return AclVerdict::Rule(i);
            }
        }
        AclVerdict::NoMatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(action: &str, dir: &str, prio: u16) -> AclPolicy {
        AclPolicy {
            action: action.into(),
            direction: dir.into(),
            priority: prio,
            ..Default::default()
        }
    }

    #[test]
    fn lower_priority_number_wins_and_block_wins_ties() {
        let mut allow = acl("Allow", "Out", 200);
        allow.remote_addresses = "10.127.130.7".into();
        allow.remote_ports = "31002".into();
        allow.protocols = "6".into();
        let mut block = acl("Block", "Out", 1998);
        block.remote_addresses = "10.127.130.0/24".into();
        let set = AclSet::new(vec![
            AclRule::parse(&block, 0).unwrap(),
            AclRule::parse(&allow, 1).unwrap(),
        ]);
        let v = AclView {
            proto: 6,
            local: "192.168.1.20".parse().unwrap(),
            local_port: Some(40000),
            remote: "10.127.130.7".parse().unwrap(),
            remote_port: Some(31002),
        };
        let mut n = 0;
        assert_eq!(set.eval(&v, &mut n), AclVerdict::Rule(0));
        assert!(set.rules[0].allow);
        let v2 = AclView {
            remote: "10.127.130.9".parse().unwrap(),
            remote_port: Some(443),
            ..v
        };
        assert_eq!(set.eval(&v2, &mut n), AclVerdict::Rule(1));
        let tie = AclSet::new(vec![
            AclRule::parse(&acl("Allow", "In", 5), 0).unwrap(),
            AclRule::parse(&acl("Block", "In", 5), 1).unwrap(),
        ]);
        assert_eq!(tie.eval(&v, &mut n), AclVerdict::Rule(0));
        assert!(!tie.rules[0].allow);
    }

    #[test]
    fn bad_fields_are_named() {
        let mut p = acl("Allow", "In", 1);
        p.local_ports = "80-70".into();
        assert!(AclRule::parse(&p, 0).unwrap_err().contains("LocalPorts"));
        let p = acl("Permit", "In", 1);
        assert!(AclRule::parse(&p, 0).unwrap_err().contains("Action"));
    }
}
