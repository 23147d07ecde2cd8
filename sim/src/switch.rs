//! The Hyper-V vSwitch: ports (container vNICs, the host vNIC, the uplink) and a MAC table.
//! HNS-programmed port MACs are static entries (compiled from the endpoints); source MACs seen on
//! the uplink are learned and age out on virtual time. A destination the table does not know is
//! flooded: in this model the flood reaches the uplink only (VFP's route layer has already
//! decided every local delivery by address, so no local port can own an unknown MAC).

use crate::fasthash::FastMap;
use hnsim_model::Mac;

/// A vSwitch port.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SwitchPort {
    /// A local endpoint's port (index in the host program).
    Endpoint(u32),
    /// The host's management vNIC.
    HostVnic,
    /// The external NIC.
    Uplink,
}

/// Where the switch sends a frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Forward {
    To(SwitchPort),
    /// Broadcast, multicast or unknown unicast.
    Flood,
}

#[derive(Copy, Clone, Debug)]
struct Entry {
    port: SwitchPort,
    /// `None` = static (programmed by HNS).
    learned_at: Option<u64>,
}

/// The MAC table (lookup only; never iterated).
#[derive(Clone, Debug)]
pub struct MacTable {
    entries: FastMap<Mac, Entry>,
    pub aging_ns: u64,
}

impl Default for MacTable {
    fn default() -> Self {
        // Hyper-V's default MAC aging is 300 s.
        MacTable {
            entries: FastMap::default(),
            aging_ns: 300_000_000_000,
        }
    }
}

impl MacTable {
    /// Replace the static entries (ports and the host vNIC) after a recompile; learned entries stay.
    pub fn program(&mut self, statics: impl IntoIterator<Item = (Mac, SwitchPort)>) {
        self.entries.retain(|_, e| e.learned_at.is_some());
        for (mac, port) in statics {
            self.entries.insert(
                mac,
                Entry {
                    port,
                    learned_at: None,
                },
            );
        }
    }

    /// Learn `mac` behind `port` (static entries are never overridden).
    pub fn learn(&mut self, mac: Mac, port: SwitchPort, now: u64) {
        if mac.is_multicast() || mac == Mac::default() {
            return;
        }
        match self.entries.get_mut(&mac) {
            Some(e) if e.learned_at.is_none() => {}
            Some(e) => {
                e.port = port;
                e.learned_at = Some(now);
            }
            None => {
                self.entries.insert(
                    mac,
                    Entry {
                        port,
                        learned_at: Some(now),
                    },
                );
            }
        }
    }

    pub fn forward(&self, dst: Mac, now: u64) -> Forward {
        if dst.is_multicast() {
            return Forward::Flood;
        }
        match self.entries.get(&dst) {
            Some(e)
                if e.learned_at
                    .is_none_or(|t| now.saturating_sub(t) <= self.aging_ns) =>
            {
                Forward::To(e.port)
            }
            _ => Forward::Flood,
        }
    }

    pub fn clear_learned(&mut self) {
        self.entries.retain(|_, e| e.learned_at.is_none());
    }
}

/// One host's vSwitch: its MAC table, programmed from the compiled ports, learning on the
/// uplink. It answers where a frame goes ([`Forward`]); the driver moves it.
#[derive(Clone, Debug, Default)]
pub struct VSwitch {
    table: MacTable,
}

impl VSwitch {
    /// Program the static entries after a recompile: each port's MAC, and the host vNIC's.
    pub fn program(&mut self, port_macs: impl IntoIterator<Item = Mac>, host_mac: Mac) {
        let statics = port_macs
            .into_iter()
            .enumerate()
            .map(|(i, mac)| (mac, SwitchPort::Endpoint(i as u32)))
            .chain([(host_mac, SwitchPort::HostVnic)]);
        self.table.program(statics);
    }

    /// A frame arrives on the uplink: its source MAC is learned behind the uplink.
    #[inline]
    pub fn learn_from_uplink(&mut self, src: Mac, now: u64) {
        self.table.learn(src, SwitchPort::Uplink, now);
    }

    /// Where a frame to `dst` goes.
    #[inline]
    pub fn forward(&self, dst: Mac, now: u64) -> Forward {
        self.table.forward(dst, now)
    }

    /// Forget learned MACs (reboot); the programmed ones stay.
    pub fn clear_learned(&mut self) {
        self.table.clear_learned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_learned_aging_and_flood() {
        let a = Mac([0, 0x15, 0x5d, 0, 0, 1]);
        let b = Mac([0, 0x15, 0x5d, 0, 0, 2]);
        let mut t = MacTable::default();
        t.program([(a, SwitchPort::Endpoint(0))]);
        assert_eq!(t.forward(a, 0), Forward::To(SwitchPort::Endpoint(0)));
        t.learn(a, SwitchPort::Uplink, 0);
        assert_eq!(
            t.forward(a, 0),
            Forward::To(SwitchPort::Endpoint(0)),
            "static wins"
        );
        assert_eq!(t.forward(b, 0), Forward::Flood);
        t.learn(b, SwitchPort::Uplink, 10);
        assert_eq!(t.forward(b, 20), Forward::To(SwitchPort::Uplink));
        assert_eq!(t.forward(b, 10 + t.aging_ns + 1), Forward::Flood, "aged out");
        assert_eq!(t.forward(Mac::BROADCAST, 0), Forward::Flood);
    }

    /// One frame in, one action out: the vSwitch of a host with two ports.
    #[test]
    fn vswitch_forwards_a_frame_by_its_destination_mac() {
        use crate::testframes::{ip, mac, tcp_syn};
        let (p0, p1, host) = (
            mac("0E-2A-0A-F4-01-0A"),
            mac("0E-2A-0A-F4-01-0B"),
            mac("00-15-5D-00-00-11"),
        );
        let mut sw = VSwitch::default();
        sw.program([p0, p1], host);
        let frame = |dst| tcp_syn((p0, dst), (ip("10.244.1.10"), 1), (ip("10.244.1.11"), 2), 64);
        assert_eq!(
            sw.forward(frame(p1).eth.dst, 0),
            Forward::To(SwitchPort::Endpoint(1))
        );
        assert_eq!(
            sw.forward(frame(host).eth.dst, 0),
            Forward::To(SwitchPort::HostVnic)
        );
        let router = mac("00-00-5E-00-01-01");
        assert_eq!(sw.forward(frame(router).eth.dst, 0), Forward::Flood);
        // A frame from the uplink teaches the switch its source, until the entry ages out.
        let inbound = tcp_syn((router, p0), (ip("8.8.8.8"), 53), (ip("10.244.1.10"), 1), 60);
        sw.learn_from_uplink(inbound.eth.src, 10);
        assert_eq!(sw.forward(router, 10), Forward::To(SwitchPort::Uplink));
        assert_eq!(sw.forward(router, 10 + 300_000_000_001), Forward::Flood);
        // A reprogram keeps what was learned; a reboot forgets it.
        sw.program([p1], host);
        assert_eq!(sw.forward(p1, 20), Forward::To(SwitchPort::Endpoint(0)));
        assert_eq!(sw.forward(router, 20), Forward::To(SwitchPort::Uplink));
        sw.clear_learned();
        assert_eq!(sw.forward(router, 20), Forward::Flood);
    }

    /// A MAC seen again on the uplink is learned afresh: its entry ages from the last frame,
    /// not the first (a router that keeps talking never ages out).
    #[test]
    fn a_mac_seen_again_on_the_uplink_ages_from_its_last_frame() {
        use crate::testframes::{ip, mac, tcp_syn};
        let (p0, host, router) = (
            mac("0E-2A-0A-F4-01-0A"),
            mac("00-15-5D-00-00-11"),
            mac("00-00-5E-00-01-01"),
        );
        let mut sw = VSwitch::default();
        sw.program([p0], host);
        let aging = MacTable::default().aging_ns;
        let inbound = tcp_syn((router, p0), (ip("8.8.8.8"), 53), (ip("10.244.1.10"), 1), 60);
        sw.learn_from_uplink(inbound.eth.src, 10);
        sw.learn_from_uplink(inbound.eth.src, 10 + aging);
        assert_eq!(
            sw.forward(router, 10 + aging + 1),
            Forward::To(SwitchPort::Uplink)
        );
        assert_eq!(sw.forward(router, 10 + 2 * aging + 1), Forward::Flood);
    }

    /// A frame with the all-zero source MAC (no station's address) teaches the switch nothing:
    /// a frame to that MAC is still flooded.
    #[test]
    fn a_zero_source_mac_is_never_learned() {
        let mut sw = VSwitch::default();
        sw.learn_from_uplink(Mac::default(), 10);
        assert_eq!(sw.forward(Mac::default(), 10), Forward::Flood);
    }
}
