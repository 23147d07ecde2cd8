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
}
