//! Capture points: the frames seen at each host uplink (always) and at named ports (on request),
//! encoded to real bytes by `wire::encode` (VXLAN included) and stored in a [`PcapSet`] with
//! their virtual timestamps.

pub use crate::pcap::PcapSet;

/// Encode a frame for capture; `out` is left empty when the packet cannot be encoded.
pub(crate) fn encode(pkt: &crate::packet::Packet, out: &mut Vec<u8>) {
    if crate::wire::encode(pkt, out).is_err() {
        out.clear();
    }
}
