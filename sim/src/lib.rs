//! hnsim-sim: the dataplane and the scenario engine.
//!
//! Follow one packet: a container's vNIC port → VFP (out) → vSwitch → host vNIC / uplink →
//! underlay → another host's uplink → VFP (in) → delivered. See docs/ARCHITECTURE.md (module
//! map, determinism rules) and docs/packet-walk.md (the walk function by function).
//!
//! * control plane → dataplane: [`compile`] (HNS state → the per-port programs of
//!   [`vfp::program`], data that both the compiler and VFP read; the compiler also defines
//!   `Vfp::compile`);
//! * components, each owning its state and returning actions (no `World` inside): [`vfp::Vfp`]
//!   (programs, flows, SNAT, meters; `on_port_out`, `on_port_in`, `on_uplink`, `on_host_send` →
//!   `VfpAction`; `winnat_out` for the host's WinNAT / ICS), [`switch::VSwitch`] (MAC table →
//!   port or flood), [`host_stack::HostStack`] (routes, compartment neighbours; `accept` →
//!   `StackAction`), `neigh::Neigh` (a container's next hop and who answers its ARP / ND;
//!   `resolve` → `NeighAction`), [`underlay::Fabric`] (segments, attachments, routers, stations,
//!   ARP caches and fault rules; `send`, `carry`, `route`, `station_route`), [`apps::Apps`]
//!   (listening sockets; `answer` → `Answer`: SYN-ACK, RST, ICMP); what they share is
//!   in [`settings`] (settings, counters) and `path` (`At`, `Next`, `Exit`, `FlowAction`,
//!   `HostId`, the flow key's `Tuple`, `Dir`, `Zone`, and `NatLayer`); every longest-prefix
//!   decision uses [`route::RouteTable`];
//! * [`world::World`] holds the components (private fields); its child modules are the driver,
//!   `World`'s methods that call a component and route its action: [`engine`] (the event loop,
//!   `act`/`apply`, VFP entry points), [`host`], `world::neigh`, [`fabric`], [`app`]. The
//!   top-level module graph has no cycle: `scenario` → `reach`, `view` → `world` (through
//!   named methods); driver (`world::*`) → `compile` → components (`vfp` → `host_stack`) →
//!   vocabulary (`path`, `route`, `settings`, `packet`, `trace`), which uses no component;
//! * [`reach`]: header classes and one witness packet per class (`hnsim reach`, `hnsim diff`);
//! * packets and output: [`packet`], [`wire`], [`trace`], [`capture`], [`pcap`], [`view`]
//!   (topology, layout and paths as DOT and JSON);
//! * [`scenario`]: the YAML format, parser, validator, runner and reports (text, JSON, JUnit;
//!   the HTML report, which draws `view`'s pictures, is `scenario::html`);
//! * `testkit`, `benchkit` (feature `lab`, off in the library others depend on): labs for tests,
//!   examples and benchmarks.

pub mod apps;
#[cfg(feature = "lab")]
pub mod benchkit;
pub mod capture;
pub mod compile;
pub mod fasthash;
pub mod fuzz_entry;
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
#[cfg(feature = "lab")]
pub mod testkit;
pub mod trace;
pub mod underlay;
pub mod vfp;
pub mod view;
pub mod wire;
pub mod world;
pub use world::{app, engine, fabric, host};

pub use app::{Forwarded, PreparedPacket};
pub use trace::{Disposition, Exchange, Hop, Seen, Step, Trace, L4};
pub use world::{
    Counters, DataplaneSettings, Fault, HostSpec, Place, RouterInterface, RouterSpec, SegmentSpec, SendError,
    SendRequest, StationSpec, TopologyError, UnknownName, World, WorldError,
};
