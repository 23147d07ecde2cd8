//! An `ACL` policy's typed values (endpoint `ACL`, network `NetworkACL`): action, direction,
//! rule type, protocols, addresses and ports.

use super::{addr_or_net, ReprError};
use crate::schema::AclPolicy;
use ipnet::IpNet;

/// `Action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AclAction {
    Allow,
    Block,
    /// Since schema 2.10 (TierAcl uses it, hns-schema.md §3.5); VFP here does not model it.
    Pass,
}

/// An ACL policy, typed. Each field reads on its own, so validation reports the first error in
/// its order of checks.
#[derive(Clone, Debug, PartialEq)]
pub struct AclRepr {
    pub action: Result<AclAction, Box<ReprError>>,
    /// `Direction`: `true` for `Out`.
    pub out: Result<bool, Box<ReprError>>,
    /// `RuleType`: `true` for `Host` (WFP); empty or `Switch` is VFP.
    pub host: Result<bool, Box<ReprError>>,
    /// `Protocols` (comma-joined numbers, or ProtocolType names): `None` is every protocol
    /// (empty, or 256 listed).
    pub protocols: Result<Option<Vec<u8>>, Box<ReprError>>,
    /// Protocol 252 is listed before any entry that does not read (it needs a feature gate,
    /// hns-schema.md §4.6).
    pub protocol_252: bool,
    /// `LocalAddresses`, `RemoteAddresses`: comma-joined addresses or CIDRs.
    pub local_addresses: Result<Vec<IpNet>, Box<ReprError>>,
    pub remote_addresses: Result<Vec<IpNet>, Box<ReprError>>,
    /// `LocalPorts`, `RemotePorts`: comma-joined ports or ranges `low-high`.
    pub local_ports: Result<Vec<(u16, u16)>, Box<ReprError>>,
    pub remote_ports: Result<Vec<(u16, u16)>, Box<ReprError>>,
}

/// One of `choices`, ignoring case and surrounding blanks.
fn choice<T: Copy>(s: &str, choices: &[(&str, T)]) -> Option<T> {
    choices
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s.trim()))
        .map(|(_, v)| *v)
}

/// The non-empty entries of a comma-joined list, trimmed.
fn entries(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|e| !e.is_empty())
}

impl AclRepr {
    /// Read `a`; `at(field)` is the JSON path of one of its fields (written only for an error).
    pub fn parse(a: &AclPolicy, at: impl Fn(&str) -> String) -> AclRepr {
        let bad =
            |field: &str, expected: &'static str, found: &str| ReprError::boxed(at(field), expected, found);
        let action = choice(
            &a.action,
            &[
                ("Allow", AclAction::Allow),
                ("Block", AclAction::Block),
                ("Pass", AclAction::Pass),
            ],
        )
        .ok_or_else(|| bad("Action", "Allow, Block or Pass", &a.action));
        let out = choice(&a.direction, &[("In", false), ("Out", true)])
            .ok_or_else(|| bad("Direction", "In or Out", &a.direction));
        let host = match a.rule_type.is_empty() {
            true => Ok(false),
            false => choice(&a.rule_type, &[("Host", true), ("Switch", false)])
                .ok_or_else(|| bad("RuleType", "Host or Switch", &a.rule_type)),
        };
        let (protocols, protocol_252) =
            protocols(&a.protocols, |p| bad("Protocols", "protocol numbers (0-256)", p));
        let addresses = |field: &str, s: &str| {
            entries(s)
                .map(|e| addr_or_net(e).ok_or_else(|| bad(field, "an IP address or CIDR", e)))
                .collect::<Result<Vec<_>, _>>()
        };
        let ports = |field: &str, s: &str| {
            entries(s)
                .map(|e| port_range(e).ok_or_else(|| bad(field, "a port or port range", e)))
                .collect::<Result<Vec<_>, _>>()
        };
        AclRepr {
            action,
            out,
            host,
            protocols,
            protocol_252,
            local_addresses: addresses("LocalAddresses", &a.local_addresses),
            remote_addresses: addresses("RemoteAddresses", &a.remote_addresses),
            local_ports: ports("LocalPorts", &a.local_ports),
            remote_ports: ports("RemotePorts", &a.remote_ports),
        }
    }

    /// The first value that did not read, in validation's order of checks.
    pub fn error(&self) -> Option<&ReprError> {
        self.errors().next()
    }

    /// Every value that did not read, in validation's order of checks.
    pub fn errors(&self) -> impl Iterator<Item = &ReprError> + '_ {
        [
            self.action.as_ref().err(),
            self.out.as_ref().err(),
            self.host.as_ref().err(),
            self.protocols.as_ref().err(),
            self.local_addresses.as_ref().err(),
            self.remote_addresses.as_ref().err(),
            self.local_ports.as_ref().err(),
            self.remote_ports.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .map(|e| &**e)
    }
}

/// `Protocols`: numbers up to 256 or ProtocolType names; 256 (Any) or an empty list is every
/// protocol. Also whether 252 comes before any entry that does not read.
fn protocols(
    s: &str,
    bad: impl Fn(&str) -> Box<ReprError>,
) -> (Result<Option<Vec<u8>>, Box<ReprError>>, bool) {
    let (mut list, mut any, mut saw_252) = (Vec::new(), false, false);
    for e in entries(s) {
        match crate::schema::read::protocol_number(e) {
            Some(256) => any = true,
            Some(n) if n < 256 => {
                saw_252 |= n == 252;
                list.push(n as u8);
            }
            _ => return (Err(bad(e)), saw_252),
        }
    }
    (Ok((!any && !list.is_empty()).then_some(list)), saw_252)
}

/// A port or an inclusive range `low-high` (low ≤ high).
fn port_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
            (lo <= hi).then_some((lo, hi))
        }
        None => s.parse().ok().map(|p| (p, p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(protocols: &str, action: &str, ports: &str) -> AclPolicy {
        AclPolicy {
            protocols: protocols.into(),
            action: action.into(),
            direction: "out".into(),
            local_ports: ports.into(),
            remote_addresses: "10.0.0.0/8, 1.2.3.4".into(),
            ..Default::default()
        }
    }

    fn repr(a: &AclPolicy) -> AclRepr {
        AclRepr::parse(a, |f| format!("Settings.{f}"))
    }

    #[test]
    fn an_acl_reads_into_typed_values() {
        let r = repr(&acl("6, udp", "allow", "80,1000-2000"));
        assert_eq!(r.error(), None);
        assert_eq!(
            (r.action.clone(), r.out.clone(), r.host.clone()),
            (Ok(AclAction::Allow), Ok(true), Ok(false))
        );
        assert_eq!(r.protocols, Ok(Some(vec![6, 17])));
        assert_eq!(r.local_ports, Ok(vec![(80, 80), (1000, 2000)]));
        assert_eq!(
            r.remote_addresses,
            Ok(vec!["10.0.0.0/8".parse().unwrap(), "1.2.3.4/32".parse().unwrap()])
        );
        for any in ["", "256", "6,256"] {
            assert_eq!(repr(&acl(any, "Block", "")).protocols, Ok(None), "{any:?}");
        }
        assert_eq!(repr(&acl("", "Pass", "")).action, Ok(AclAction::Pass));
    }

    #[test]
    fn the_first_value_that_does_not_read_is_named_in_validations_order() {
        let r = repr(&acl("6,300", "Permit", "80-70"));
        assert_eq!(
            r.error().map(ToString::to_string).as_deref(),
            Some(r#"Settings.Action: expected Allow, Block or Pass, found "Permit""#)
        );
        let r = repr(&acl("252,300", "Allow", "80-70"));
        assert_eq!(
            r.error().map(ToString::to_string).as_deref(),
            Some(r#"Settings.Protocols: expected protocol numbers (0-256), found "300""#)
        );
        assert!(
            r.protocol_252,
            "252 comes before the bad entry: the feature gate is checked first"
        );
        assert!(!repr(&acl("300,252", "Allow", "")).protocol_252);
        let r = repr(&acl("6", "Allow", "80-70"));
        assert_eq!(
            r.error().map(ToString::to_string).as_deref(),
            Some(r#"Settings.LocalPorts: expected a port or port range, found "80-70""#)
        );
    }
}
