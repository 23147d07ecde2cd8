//! hnsim-k8s: describe a cluster in Kubernetes terms, and hnsim programs every Windows node as
//! flannel, the CNI plugins and kube-proxy (winkernel) do — through the same [`HnsBackend`]
//! calls, in the same order — so the HNS state, packets and traces are what a real node would
//! have. The facts relied on are in docs/reference/kubernetes.md.
//!
//! * [`objects`], [`load`]: Kubernetes YAML (single objects, `kind: List`, the `kind: Cluster`
//!   configuration) with located findings;
//! * [`config`]: the network plugin, ranges, per-node kube-proxy flags, behaviour profile;
//! * [`cluster`]: the API server's view (batches checked as a whole, pod IPs, derived
//!   EndpointSlices);
//! * [`netplugin`], [`cni`], [`proxy`]: the node components;
//! * [`agents`]: all nodes' components in the real order; [`render()`]: what they would send.
//!
//! This crate depends on the model only, never on the dataplane.
//!
//! [`HnsBackend`]: hnsim_model::HnsBackend

pub mod agents;
pub mod cluster;
pub mod cni;
pub mod config;
pub mod hcn;
pub mod load;
pub mod netplugin;
pub mod objects;
pub mod provenance;
pub mod proxy;
pub mod render;
pub mod watch;
pub mod workload;

pub use agents::{Agents, Backends};
pub use cluster::Cluster;
pub use config::{ClusterConfig, NetworkPlugin, Profile};
pub use load::{Finding, Loaded, Loc, Object, Severity};
pub use render::{render, Rendered};
