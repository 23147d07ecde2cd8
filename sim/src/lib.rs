//! hnsim-sim: the dataplane and the scenario engine.
//!
//! Follow one packet: a container's vNIC port → VFP (out) → vSwitch → host vNIC / uplink →
//! underlay → another host's uplink → VFP (in) → delivered. See ARCHITECTURE in docs/.

pub mod app;
pub mod benchkit;
pub mod capture;
pub mod compile;
pub mod engine;
pub mod fabric;
pub mod fasthash;
pub mod fuzz_entry;
pub mod host;
pub(crate) mod neigh;
pub mod packet;
pub mod pcap;
pub mod scenario;
pub mod switch;
pub mod testkit;
pub mod trace;
pub mod vfp;
pub mod wire;
pub mod world;

pub use trace::{Disposition, Exchange, Hop, Seen, Step, Trace, L4};
pub use world::{
    Counters, DataplaneSettings, Fault, Forwarded, HostSpec, Place, PreparedPacket, RouterInterface,
    RouterSpec, SegmentSpec, SendRequest, StationSpec, World, WorldError,
};
