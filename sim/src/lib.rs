//! hnsim-sim: the dataplane and the scenario engine.
//!
//! Follow one packet: a container's vNIC port → VFP (out) → vSwitch → host vNIC / uplink →
//! underlay → another host's uplink → VFP (in) → delivered. See ARCHITECTURE in docs/.

pub mod packet;
pub mod pcap;
pub mod wire;
