//! The network plugin of a Windows node: the HNS network, the per-remote-node routes, and the
//! host-gw bridge endpoint (docs/reference/kubernetes.md §3; consumers.md §2).
//!
//! * flannel vxlan: Overlay network `flannel.<VNI>` (Flags 8 = EnableNonPersistent, one static
//!   subnet = the node's podCIDR, gateway .1, VSID = VNI, NetAdapterName), then a `HostRoute`
//!   policy, then one `RemoteSubnetRoute` per other node's lease (PA = that node's IP, DR MAC =
//!   its VTEP MAC). The VTEP MAC it advertises is the network's `DrMacAddress`.
//! * flannel host-gw: L2Bridge network `cbr0` (the HNS v1 shape flannel sends), the bridge
//!   endpoint `cbr0_ep` at subnet+2 attached to the host, and an OS route per other node (held
//!   here as data: OS routes are not HNS objects).
//! * win-bridge / sdnbridge / win-overlay / sdnoverlay alone: the network the CNI creates on
//!   first ADD (same shapes, without flannel's routes).

use crate::cluster::NodeView;
use crate::config::{ClusterConfig, NetworkPlugin};
use crate::hcn::{policies, str_field, v2, Component, Hcn};
use hnsim_model::backend::ObjectKind;
use ipnet::IpNet;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What another node advertises (its flannel lease).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub node: String,
    pub subnet: IpNet,
    pub public_ip: IpAddr,
    /// The VTEP MAC: a Windows node's DR MAC (dash-separated) or a Linux `flannel.1` MAC
    /// (colon-separated lower case, as Linux prints it).
    pub vtep_mac: String,
}

/// The plugin's state on one node.
#[derive(Clone, Debug, Default)]
pub struct NetworkPluginNode {
    pub network_id: Option<String>,
    pub network_name: String,
    /// The VTEP (DR) MAC this node advertises.
    pub vtep_mac: Option<String>,
    /// RemoteSubnetRoutes added, by destination prefix.
    pub remote_routes: BTreeMap<IpNet, (IpAddr, String)>,
    /// host-gw OS routes: remote pod subnet → remote node IP.
    pub os_routes: BTreeMap<IpNet, IpAddr>,
    pub bridge_endpoint: Option<String>,
}

/// An error the plugin hit (it would log it and retry).
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("node {node}: no pod subnet (spec.podCIDR)")]
    NoSubnet { node: String },
    #[error("{what} failed: {err}")]
    Hns {
        what: String,
        err: hnsim_model::HcnError,
    },
}

fn hns(what: impl Into<String>) -> impl FnOnce(hnsim_model::HcnError) -> PluginError {
    let what = what.into();
    move |err| PluginError::Hns { what, err }
}

/// `subnet + n` (the gateway .1, the bridge endpoint .2).
pub fn nth(subnet: IpNet, n: u8) -> IpAddr {
    match subnet {
        IpNet::V4(s) => {
            let b = u32::from(s.network()) + u32::from(n);
            IpAddr::V4(b.into())
        }
        IpNet::V6(s) => {
            let b = u128::from(s.network()) + u128::from(n);
            IpAddr::V6(b.into())
        }
    }
}

impl NetworkPluginNode {
    pub fn new(config: &ClusterConfig) -> Self {
        NetworkPluginNode {
            network_name: config.default_network_name(),
            ..Default::default()
        }
    }

    /// Create the node's network if it does not exist (flannel: "created if missing").
    pub fn ensure_network(
        &mut self,
        hcn: &mut Hcn,
        config: &ClusterConfig,
        me: &NodeView,
        adapter: &str,
    ) -> Result<(), PluginError> {
        hcn.component = Component::NetworkPlugin;
        let subnet = me
            .pod_cidr(false)
            .or_else(|| me.pod_cidrs.first().copied())
            .ok_or_else(|| PluginError::NoSubnet {
                node: me.name.clone(),
            })?;
        if let Some(net) = hcn
            .network_by_name(&self.network_name)
            .map_err(hns("GetNetworkByName"))?
        {
            self.adopt(&net);
            return Ok(());
        }
        let plugin = config.network_plugin;
        let doc = if plugin == NetworkPlugin::FlannelHostGw {
            // flannel host-gw still speaks HNS v1 (consumers.md §2.2).
            let mut d = json!({
                "Name": self.network_name,
                "Type": "L2Bridge",
                "Subnets": [{"AddressPrefix": subnet.to_string(), "GatewayAddress": nth(subnet, 1).to_string()}],
            });
            if let Some(dns) = config.dns {
                d["DNSServerList"] = json!(dns.to_string());
            }
            d
        } else {
            let ty = if plugin.overlay() { "Overlay" } else { "L2Bridge" };
            let mut sub = json!({
                "IpAddressPrefix": subnet.to_string(),
                "Routes": [{"NextHop": nth(subnet, 1).to_string(), "DestinationPrefix": "0.0.0.0/0"}],
            });
            if plugin.overlay() {
                sub["Policies"] = json!([{"Type": "VSID", "Settings": {"IsolationId": config.vni}}]);
            }
            let mut subnets = vec![sub];
            // Dual-stack L2Bridge: the node's IPv6 podCIDR as a second subnet (overlay is
            // single-stack, docs/reference/kubernetes.md §2.1).
            if let (false, Some(v6)) = (
                plugin.overlay(),
                me.pod_cidr(true).filter(|_| subnet.addr().is_ipv4()),
            ) {
                subnets.push(json!({
                    "IpAddressPrefix": v6.to_string(),
                    "Routes": [{"NextHop": nth(v6, 1).to_string(), "DestinationPrefix": "::/0"}],
                }));
            }
            let mut d = json!({
                "Name": self.network_name,
                "Type": ty,
                "Ipams": [{"Type": "Static", "Subnets": subnets}],
                "Policies": [{"Type": "NetAdapterName", "Settings": {"NetworkAdapterName": adapter}}],
                "SchemaVersion": v2(),
            });
            if plugin.flannel() {
                d["Flags"] = json!(8);
            }
            d
        };
        let id = hcn
            .create(ObjectKind::Network, &doc)
            .map_err(hns("HcnCreateNetwork"))?;
        self.network_id = Some(id.clone());
        if plugin == NetworkPlugin::FlannelVxlan {
            // "for local host to local pod connectivity" (consumers.md §2.1).
            let m = json!({"ResourceType": "Policy", "RequestType": "Add",
                           "Settings": {"Policies": [{"Type": "HostRoute", "Settings": {}}]}});
            hcn.modify(ObjectKind::Network, &id, &m)
                .map_err(hns("HcnModifyNetwork HostRoute"))?;
        }
        let net = hcn
            .query(ObjectKind::Network, &id)
            .map_err(hns("HcnQueryNetworkProperties"))?;
        self.adopt(&net);
        if plugin == NetworkPlugin::FlannelHostGw {
            self.ensure_bridge_endpoint(hcn, subnet)?;
        }
        Ok(())
    }

    fn adopt(&mut self, net: &Json) {
        let id = str_field(net, "ID").to_string();
        self.network_id = Some(id.clone());
        // flannel advertises HNS's DrMacAddress. The model publishes none; hnsim's dataplane
        // then uses 00-15-5D + the network ID's last three bytes (inferred), so flannel here
        // advertises the same.
        self.vtep_mac = policies(net, "DrMacAddress")
            .filter_map(|s| s.get("Address").and_then(Json::as_str))
            .next()
            .map(str::to_string)
            .or_else(|| derived_dr_mac(&id));
    }

    /// host-gw's `cbr0_ep`: subnet+2, attached to the host (compartment 1). Re-adding it after a
    /// restart fails on some builds (flannel-io/flannel#1391): a failure here is reported.
    fn ensure_bridge_endpoint(&mut self, hcn: &mut Hcn, subnet: IpNet) -> Result<(), PluginError> {
        let net = self.network_id.clone().unwrap_or_default();
        let name = format!("{}_ep", self.network_name);
        let doc = json!({
            "Name": name,
            "HostComputeNetwork": net,
            "IpConfigurations": [{"IpAddress": nth(subnet, 2).to_string()}],
            "SchemaVersion": v2(),
        });
        let id = hcn
            .create(ObjectKind::Endpoint, &doc)
            .map_err(hns(format!("HcnCreateEndpoint {name}")))?;
        // Hot-attach to the host: its default namespace (compartment 1). A real host always has
        // one; a model host started without it gets it here (hnsim's stand-in).
        let nss = hcn
            .list(ObjectKind::Namespace, None)
            .map_err(hns("HcnEnumerateNamespaces"))?;
        let host = match nss.iter().find(|n| {
            n.get("IsDefault").and_then(Json::as_bool) == Some(true) || str_field(n, "Type") == "HostDefault"
        }) {
            Some(h) => str_field(h, "ID").to_string(),
            None => hcn
                .create(
                    ObjectKind::Namespace,
                    &json!({"Type": "HostDefault", "NamespaceId": 1, "SchemaVersion": v2()}),
                )
                .map_err(hns("create the host's default namespace"))?,
        };
        let m = json!({"ResourceType": "Endpoint", "RequestType": "Add", "Settings": {"EndpointId": id}});
        hcn.modify(ObjectKind::Namespace, &host, &m)
            .map_err(hns("attach cbr0_ep to the host"))?;
        self.bridge_endpoint = Some(id);
        Ok(())
    }

    /// Bring the per-remote-node routes in line with the other nodes' leases: vxlan adds a
    /// RemoteSubnetRoute per lease (removing a stale one with the same prefix first), host-gw
    /// records an OS route.
    pub fn sync_routes(
        &mut self,
        hcn: &mut Hcn,
        config: &ClusterConfig,
        leases: &[Lease],
    ) -> Result<(), PluginError> {
        hcn.component = Component::NetworkPlugin;
        let Some(net) = self.network_id.clone() else {
            return Ok(());
        };
        match config.network_plugin {
            NetworkPlugin::FlannelVxlan => {
                for l in leases {
                    let want = (l.public_ip, l.vtep_mac.clone());
                    if self.remote_routes.get(&l.subnet) == Some(&want) {
                        continue;
                    }
                    if let Some((pa, mac)) = self.remote_routes.remove(&l.subnet) {
                        let m = json!({"ResourceType": "Policy", "RequestType": "Remove",
                            "Settings": {"Policies": [rsr(l.subnet, config.vni, pa, &mac)]}});
                        hcn.modify(ObjectKind::Network, &net, &m)
                            .map_err(hns("remove RemoteSubnetRoute"))?;
                    }
                    let m = json!({"ResourceType": "Policy", "RequestType": "Add",
                        "Settings": {"Policies": [rsr(l.subnet, config.vni, l.public_ip, &l.vtep_mac)]}});
                    hcn.modify(ObjectKind::Network, &net, &m)
                        .map_err(hns(format!("add RemoteSubnetRoute {}", l.subnet)))?;
                    self.remote_routes.insert(l.subnet, want);
                }
            }
            NetworkPlugin::FlannelHostGw => {
                for l in leases {
                    self.os_routes.insert(l.subnet, l.public_ip);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn rsr(prefix: IpNet, vni: u32, pa: IpAddr, mac: &str) -> Json {
    json!({"Type": "RemoteSubnetRoute", "Settings": {
        "DestinationPrefix": prefix.to_string(), "IsolationId": vni,
        "ProviderAddress": pa.to_string(), "DistributedRouterMacAddress": mac}})
}

/// 00-15-5D and the last three bytes of the network GUID (the dataplane's stand-in for the DR
/// MAC HNS would assign).
fn derived_dr_mac(id: &str) -> Option<String> {
    let hex: String = id.chars().filter(char::is_ascii_hexdigit).collect();
    (hex.len() == 32).then(|| {
        let t = &hex[26..32];
        format!("00-15-5D-{}-{}-{}", &t[0..2], &t[2..4], &t[4..6]).to_ascii_uppercase()
    })
}

/// A Linux flannel node's VTEP MAC (`flannel.1`): its `backend-data` annotation's `VtepMAC` if
/// written, else a locally administered MAC from the node IP, in Linux's spelling.
pub fn linux_vtep_mac(annotations: &BTreeMap<String, String>, ip: IpAddr) -> String {
    if let Some(mac) = annotations
        .get("flannel.alpha.coreos.com/backend-data")
        .and_then(|d| serde_json::from_str::<Json>(d).ok())
        .and_then(|v| v.get("VtepMAC").and_then(Json::as_str).map(str::to_string))
    {
        return mac;
    }
    let b = match ip {
        IpAddr::V4(v) => v.octets(),
        IpAddr::V6(v) => {
            let o = v.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    format!("6e:11:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3])
}
