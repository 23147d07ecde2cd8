//! The ACL layer: HNS `ACL` endpoint policies compiled into prioritised rules.
//!
//! Lower `Priority` numbers are evaluated first (Calico relies on this, consumers.md S13). At equal
//! priority a `Block` beats an `Allow` (inferred: HNS's tie-break differs from first-match, which is
//! why Calico bumps the priority whenever the action changes, consumers.md §5). `RuleType: Host`
//! rules (WFP, the host firewall) form their own layer next to `Switch` (VFP) rules: a packet must
//! pass both, so a Calico `Host Allow` at priority 100 does not short-cut the Switch ladder.

pub use crate::path::Dir;
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

fn parse_addrs(s: &str, field: &str) -> Result<Vec<IpNet>, String> {
    let mut v = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let net = if part.contains('/') {
            part.parse::<IpNet>()
                .map_err(|_| format!("{field}: expected an IP or CIDR, found {part:?}"))?
        } else {
            let ip: IpAddr = part
                .parse()
                .map_err(|_| format!("{field}: expected an IP or CIDR, found {part:?}"))?;
            IpNet::from(ip)
        };
        v.push(net);
    }
    Ok(v)
}

fn parse_ports(s: &str, field: &str) -> Result<Vec<(u16, u16)>, String> {
    let mut v = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("{field}: expected a port or range like 1000-2000, found {part:?}");
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                a.trim().parse::<u16>().map_err(|_| bad())?,
                b.trim().parse::<u16>().map_err(|_| bad())?,
            ),
            None => {
                let p = part.parse::<u16>().map_err(|_| bad())?;
                (p, p)
            }
        };
        if a > b {
            return Err(bad());
        }
        v.push((a, b));
    }
    Ok(v)
}

fn parse_protocols(s: &str) -> Result<Option<Vec<u8>>, String> {
    let mut v = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let n: u16 = match part.to_ascii_lowercase().as_str() {
            "tcp" => 6,
            "udp" => 17,
            "icmp" | "icmpv4" => 1,
            "icmpv6" => 58,
            "igmp" => 2,
            other => other
                .parse()
                .map_err(|_| format!("Protocols: expected protocol numbers like \"6,17\", found {s:?}"))?,
        };
        if n == 256 {
            return Ok(None);
        }
        if n > 255 {
            return Err(format!(
                "Protocols: {n} is not a protocol number (0-255, 256 = any)"
            ));
        }
        v.push(n as u8);
    }
    Ok(if v.is_empty() { None } else { Some(v) })
}

impl AclRule {
    /// Compile one `ACL` policy; `index` names rules that carry no `Id`.
    pub fn parse(p: &AclPolicy, index: usize) -> Result<AclRule, String> {
        let allow = match p.action.to_ascii_lowercase().as_str() {
            "allow" => true,
            "block" => false,
            other => return Err(format!("Action: expected Allow or Block, found {other:?}")),
        };
        let dir = match p.direction.to_ascii_lowercase().as_str() {
            "in" => Dir::In,
            "out" => Dir::Out,
            other => return Err(format!("Direction: expected In or Out, found {other:?}")),
        };
        let host = p.rule_type.eq_ignore_ascii_case("host");
        Ok(AclRule {
            name: if p.id.is_empty() {
                format!("ACL#{index}")
            } else {
                p.id.clone()
            },
            priority: p.priority,
            allow,
            dir,
            host,
            protocols: parse_protocols(&p.protocols)?,
            local_addrs: parse_addrs(&p.local_addresses, "LocalAddresses")?,
            remote_addrs: parse_addrs(&p.remote_addresses, "RemoteAddresses")?,
            local_ports: parse_ports(&p.local_ports, "LocalPorts")?,
            remote_ports: parse_ports(&p.remote_ports, "RemotePorts")?,
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
