//! Address and MAC allocation (inferred from hns-schema.md §2.2, §6.2: HNS allocates an
//! endpoint's address from its network's subnet and its MAC from the MacPool when omitted).
//!
//! Order: the lowest free address of the first static subnet of the family (falling through to
//! the next subnet when full); the subnet's network address, broadcast address (IPv4) and gateway
//! (its default-route NextHop, unless SubnetFlags 1 DoNotReserveGatewayAddress) are reserved;
//! only LOCAL endpoints hold addresses (a remote endpoint may repeat a local address, P12).

use super::index::ip_u128;
use super::{err, Hns, ERROR_NO_MORE_ITEMS};
use crate::hresult::HcnResult;
use crate::ids::{Guid, Mac};
use crate::repr::{NetworkRepr, SubnetRepr};
use crate::schema::{subnet_flags, Network, Subnet};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A parsed subnet of a network.
#[derive(Clone, Debug)]
pub(crate) struct SubnetView {
    pub prefix: IpNet,
    pub gateway: Option<IpAddr>,
    pub reserve_gateway: bool,
    pub dhcp: bool,
    pub id: Option<Guid>,
}

impl SubnetView {
    pub fn is_reserved(&self, ip: IpAddr) -> bool {
        let p = self.prefix.trunc();
        if ip == p.network() {
            return true;
        }
        if ip.is_ipv4() && p.prefix_len() < 31 && ip == p.broadcast() {
            return true;
        }
        self.reserve_gateway && Some(ip) == self.gateway
    }
}

/// One subnet for IPAM, from its document (flags, ID) and its typed values.
fn subnet_view(s: &Subnet, subnet: &SubnetRepr, dhcp: bool) -> Option<SubnetView> {
    // The prefix and gateway as the dataplane reads them: the gateway is the next hop of the
    // first default route of the subnet's own family, so IPAM reserves the address the pods
    // route through.
    let prefix: IpNet = (*subnet.prefix.as_ref().ok()?)?;
    let gateway = subnet
        .default_route(prefix.addr().is_ipv6())
        .and_then(|(_, r)| r.next_hop.as_ref().ok().copied());
    let id = s
        .extra
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("ID"))
        .and_then(|(_, v)| v.as_str())
        .and_then(|v| v.parse().ok());
    Some(SubnetView {
        prefix,
        gateway,
        reserve_gateway: s.flags & subnet_flags::DO_NOT_RESERVE_GATEWAY_ADDRESS == 0,
        dhcp,
        id,
    })
}

/// Every readable subnet of a network, in document order (`repr`: the network's typed values,
/// whose `subnets` list every `Ipams` entry's subnets in the same order).
pub(crate) fn subnets(net: &Network, repr: &NetworkRepr) -> Vec<SubnetView> {
    let docs = net.ipams.iter().flat_map(|ipam| {
        let dhcp = ipam.ipam_type.eq_ignore_ascii_case("Dhcp");
        ipam.subnets.iter().map(move |s| (s, dhcp))
    });
    docs.zip(&repr.subnets)
        .filter_map(|((s, dhcp), r)| subnet_view(s, r, dhcp))
        .collect()
}

fn from_u128(v: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

/// How many candidates an IPv6 scan looks at before giving up (a /64 is never exhausted here).
const MAX_SCAN: u128 = 1 << 20;

/// The lowest free address of the first static subnet of the family with room. "Free" = no
/// LOCAL endpoint of network `net` holds it and the subnet does not reserve it; the index's runs
/// of held addresses find it in a few lookups however many endpoints the network has.
pub(crate) fn allocate(
    hns: &Hns,
    net: Guid,
    subnets: &[SubnetView],
    v4: bool,
) -> HcnResult<Option<(IpAddr, u8)>> {
    let mut any = false;
    for s in subnets
        .iter()
        .filter(|s| s.prefix.addr().is_ipv4() == v4 && !s.dhcp)
    {
        any = true;
        let p = s.prefix.trunc();
        let first = ip_u128(p.network());
        let last = ip_u128(p.broadcast());
        let mut c = first;
        // At most the network, broadcast and gateway addresses are skipped as reserved.
        while let Some(free) = hns.index.first_free_ip(net, !v4, c) {
            if free > last || free - first >= MAX_SCAN {
                break;
            }
            let ip = from_u128(free, v4);
            if !s.is_reserved(ip) {
                return Ok(Some((ip, p.prefix_len())));
            }
            match free.checked_add(1) {
                Some(n) => c = n,
                None => break,
            }
        }
    }
    if any {
        Err(err(
            ERROR_NO_MORE_ITEMS,
            format!(
                "no free {} address left in the network's subnets",
                if v4 { "IPv4" } else { "IPv6" }
            ),
        ))
    } else {
        Ok(None)
    }
}

/// The lowest MAC of the network's MacPool that no endpoint of the host holds; `Ok(None)` when
/// the network has no pool.
pub(crate) fn pool_mac(hns: &Hns, net: &Network) -> HcnResult<Option<Mac>> {
    if net.mac_pool.ranges.is_empty() {
        return Ok(None);
    }
    for r in &net.mac_pool.ranges {
        let (Ok(a), Ok(b)) = (
            r.start_mac_address.parse::<Mac>(),
            r.end_mac_address.parse::<Mac>(),
        ) else {
            continue;
        };
        if let Some(m) = hns.index.first_free_mac(a.to_u64()) {
            if m <= b.to_u64() {
                return Ok(Some(Mac::from_u64(m)));
            }
        }
    }
    Err(err(
        ERROR_NO_MORE_ITEMS,
        "the network's MacPool has no free MAC address",
    ))
}

impl Hns {
    /// The next MAC of the host's Hyper-V range 00-15-5D-XX-YY-ZZ not held by any endpoint.
    pub(crate) fn host_mac(&mut self) -> Mac {
        loop {
            let m = Mac::from_u64((self.mac_base + self.next_mac) & 0xFFFF_FFFF_FFFF);
            self.next_mac += 1;
            if !self.index.mac_in_use(m) {
                return m;
            }
        }
    }
}
