//! hnsim-sim: the dataplane and the scenario engine.
//!
//! Follow one packet: a container's vNIC port → VFP (out) → vSwitch → host vNIC / uplink →
//! underlay → another host's uplink → VFP (in) → delivered. See docs/ARCHITECTURE.md (module
//! map, determinism rules) and docs/packet-walk.md (the walk function by function).
//!
//! * control plane → dataplane: [`compile`] (HNS state → per-port [`vfp`] programs);
//! * components: [`vfp`] (with its per-packet meter, `vfp::meter`), [`switch`], [`host`],
//!   `neigh`, [`fabric`], [`app`], driven by [`engine`] and held by [`world`]; the packet path's
//!   vocabulary (`At`, `Next`, `Exit`, `FlowAction`, `HostId`) is in `path`, and every
//!   longest-prefix decision uses [`route::RouteTable`]. Module dependencies point one way:
//!   `path` and `route` depend on no stage, `world` on no stage, the stages on `world`;
//! * [`reach`]: header classes and one witness packet per class (`hnsim reach`, `hnsim diff`);
//! * packets and output: [`packet`], [`wire`], [`trace`], [`capture`], [`pcap`], [`view`]
//!   (topology, layout and paths as DOT, JSON, HTML);
//! * [`scenario`]: the YAML format, parser, validator, runner and reports;
//! * [`testkit`], [`benchkit`]: labs for tests and benchmarks.

pub mod app;
pub mod benchkit;
pub mod capture;
pub mod compile;
pub mod engine;
pub mod fabric;
pub mod fasthash;
pub mod fuzz_entry;
pub mod host;
pub mod host_stack;
pub(crate) mod neigh;
pub mod packet;
pub(crate) mod path;
pub mod pcap;
pub mod reach;
pub mod route;
pub mod scenario;
pub mod settings;
pub mod switch;
#[cfg(test)]
pub(crate) mod testframes;
pub mod testkit;
pub mod trace;
pub mod vfp;
pub mod view;
pub mod wire;
pub mod world;

pub use app::{Forwarded, PreparedPacket};
pub use trace::{Disposition, Exchange, Hop, Seen, Step, Trace, L4};
pub use world::{
    Counters, DataplaneSettings, Fault, HostSpec, Place, RouterInterface, RouterSpec, SegmentSpec,
    SendRequest, StationSpec, World, WorldError,
};
