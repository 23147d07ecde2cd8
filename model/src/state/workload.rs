//! A kube-proxy style programming workload (issue 6, control plane): one Overlay or L2Bridge
//! network, a source-VIP endpoint, `lbs × backends` endpoints (every `local_every`-th a local
//! pod endpoint whose address HNS allocates, the rest remote endpoints with Flags 1 and, on
//! Overlay, a ProviderAddress policy), then one ClusterIP load balancer per service with its
//! FrontendVIPs, PortMappings and HostComputeEndpoints — the calls kube-proxy's winkernel proxier
//! makes (consumers.md §1.2), sent as JSON through any [`HnsBackend`].
//!
//! The benches, the `scale` example and `hnsim bench` share it so that their figures measure the
//! same thing. The caller's work (building each JSON document, reading the ID out of each
//! create's reply) is part of the run, as it is for a real caller.

use crate::backend::HnsBackend;
use crate::hresult::{HResult, HcnError, HcnResult};
use serde::Deserialize;

/// The shape of the workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeProxyWorkload {
    /// Services (one ClusterIP load balancer each).
    pub load_balancers: usize,
    /// Backends (endpoints) per load balancer; every backend is its own endpoint.
    pub backends: usize,
    /// Every n-th endpoint is a local pod endpoint (address from HNS's IPAM); 0 = none.
    pub local_every: usize,
    /// `Overlay` (remote endpoints carry a ProviderAddress) or `L2Bridge` (MAC only).
    pub overlay: bool,
}

/// What [`KubeProxyWorkload::program`] created, as the GUID strings HNS returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Programmed {
    pub network: String,
    pub source_vip_endpoint: String,
    /// Backend endpoints, `lb * backends + j` order.
    pub endpoints: Vec<String>,
    pub load_balancers: Vec<String>,
}

/// The node's source VIP (kube-proxy `--source-vip`), inside the pod subnet.
pub const SOURCE_VIP: &str = "10.244.0.2";
/// Remote nodes each hold a /24 pod subnet with this many pods.
const PODS_PER_NODE: usize = 250;

#[derive(Deserialize)]
struct Created {
    #[serde(rename = "ID")]
    id: String,
}

fn created_id(reply: &str) -> HcnResult<String> {
    serde_json::from_str::<Created>(reply)
        .map(|c| c.id)
        .map_err(|e| HcnError::new(HResult::HCN_E_INVALID_JSON, format!("create reply: {e}")))
}

impl KubeProxyWorkload {
    /// `lbs` services with `backends` endpoints each; one endpoint in ten local; Overlay.
    pub fn new(lbs: usize, backends: usize) -> Self {
        KubeProxyWorkload {
            load_balancers: lbs,
            backends,
            local_every: 10,
            overlay: true,
        }
    }

    /// Endpoints the workload creates (backends, not counting the source VIP endpoint).
    pub fn endpoint_count(&self) -> usize {
        self.load_balancers * self.backends
    }

    /// Whether endpoint `i` (in creation order) is local.
    pub fn is_local(&self, i: usize) -> bool {
        self.local_every != 0 && i.is_multiple_of(self.local_every)
    }

    /// The network the CNI creates before kube-proxy starts (flannel `vxlan0` / `cbr0` style).
    pub fn network_doc(&self) -> String {
        let (name, ty, vsid) = if self.overlay {
            (
                "vxlan0",
                "Overlay",
                r#","Policies":[{"Type":"VSID","Settings":{"IsolationId":4096}}]"#,
            )
        } else {
            ("cbr0", "L2Bridge", "")
        };
        format!(
            concat!(
                r#"{{"Name":"{}","Type":"{}","Flags":0,"Ipams":[{{"Type":"Static","Subnets":[{{"#,
                r#""IpAddressPrefix":"10.244.0.0/16","Routes":[{{"NextHop":"10.244.0.1","#,
                r#""DestinationPrefix":"0.0.0.0/0"}}]{}}}]}}],"#,
                r#""SchemaVersion":{{"Major":2,"Minor":0}}}}"#
            ),
            name, ty, vsid
        )
    }

    /// The source-VIP endpoint kube-proxy creates on Overlay (consumers.md §1.2 step 3).
    pub fn source_vip_doc(&self, network: &str) -> String {
        format!(
            concat!(
                r#"{{"HostComputeNetwork":"{}","IpConfigurations":[{{"IpAddress":"{}"}}],"#,
                r#""SchemaVersion":{{"Major":2,"Minor":0}}}}"#
            ),
            network, SOURCE_VIP
        )
    }

    /// The remote pod address of endpoint `i` and the PA of its node.
    fn remote_addr(i: usize) -> (String, String) {
        let node = i / PODS_PER_NODE;
        let ip = format!("10.{}.{}.{}", 245 + node / 256, node % 256, i % PODS_PER_NODE + 2);
        let pa = format!("192.168.{}.{}", 1 + node / 250, node % 250 + 1);
        (ip, pa)
    }

    /// Endpoint `i`: a local pod endpoint (CNI: no address, HNS allocates one) or a kube-proxy
    /// remote endpoint (Flags 1, MAC `02-11-<ip hex>`, ProviderAddress on Overlay).
    pub fn endpoint_doc(&self, network: &str, i: usize) -> String {
        if self.is_local(i) {
            return format!(
                r#"{{"Name":"pod{}_eth0","HostComputeNetwork":"{}","SchemaVersion":{{"Major":2,"Minor":0}}}}"#,
                i, network
            );
        }
        let (ip, pa) = Self::remote_addr(i);
        let octets: Vec<u8> = ip.split('.').filter_map(|o| o.parse().ok()).collect();
        let mac = format!(
            "02-11-{:02x}-{:02x}-{:02x}-{:02x}",
            octets.first().copied().unwrap_or(0),
            octets.get(1).copied().unwrap_or(0),
            octets.get(2).copied().unwrap_or(0),
            octets.get(3).copied().unwrap_or(0)
        );
        let policies = if self.overlay {
            format!(r#","Policies":[{{"Type":"ProviderAddress","Settings":{{"ProviderAddress":"{pa}"}}}}]"#)
        } else {
            String::new()
        };
        format!(
            concat!(
                r#"{{"HostComputeNetwork":"{}","IpConfigurations":[{{"IpAddress":"{}"}}],"#,
                r#""MacAddress":"{}","Flags":1{},"SchemaVersion":{{"Major":2,"Minor":0}}}}"#
            ),
            network, ip, mac, policies
        )
    }

    /// The ClusterIP of service `lb`.
    pub fn cluster_ip(lb: usize) -> String {
        format!("10.{}.{}.{}", 96 + lb / 65536, (lb / 256) % 256, lb % 256)
    }

    /// The ClusterIP load balancer of service `lb` over `endpoints`; `target_port` is the
    /// backends' port (a modify changes it or the backend list).
    pub fn lb_doc(&self, lb: usize, endpoints: &[String], target_port: u16) -> String {
        let mut eps = String::with_capacity(endpoints.len() * 39);
        for (i, e) in endpoints.iter().enumerate() {
            if i > 0 {
                eps.push(',');
            }
            eps.push('"');
            eps.push_str(e);
            eps.push('"');
        }
        let source_vip = if self.overlay { SOURCE_VIP } else { "" };
        format!(
            concat!(
                r#"{{"HostComputeEndpoints":[{}],"SourceVIP":"{}","FrontendVIPs":["{}"],"#,
                r#""PortMappings":[{{"Protocol":6,"InternalPort":{},"ExternalPort":80,"#,
                r#""DistributionType":0,"Flags":0}}],"Flags":0,"#,
                r#""SchemaVersion":{{"Major":2,"Minor":0}}}}"#
            ),
            eps,
            source_vip,
            Self::cluster_ip(lb),
            target_port
        )
    }

    /// The network, the source VIP endpoint, every endpoint, then every load balancer.
    pub fn program(&self, b: &mut dyn HnsBackend) -> HcnResult<Programmed> {
        let network = created_id(&b.create_network("", &self.network_doc())?)?;
        let source_vip_endpoint = if self.overlay {
            created_id(&b.create_endpoint("", &self.source_vip_doc(&network))?)?
        } else {
            String::new()
        };
        let mut endpoints = Vec::with_capacity(self.endpoint_count());
        for i in 0..self.endpoint_count() {
            endpoints.push(created_id(
                &b.create_endpoint("", &self.endpoint_doc(&network, i))?,
            )?);
        }
        let mut load_balancers = Vec::with_capacity(self.load_balancers);
        for lb in 0..self.load_balancers {
            let eps = &endpoints[lb * self.backends..(lb + 1) * self.backends];
            load_balancers.push(created_id(
                &b.create_load_balancer("", &self.lb_doc(lb, eps, 8080))?,
            )?);
        }
        Ok(Programmed {
            network,
            source_vip_endpoint,
            endpoints,
            load_balancers,
        })
    }

    /// One in-place update of service `lb` (kube-proxy's ModifyLoadbalancer path): its backend
    /// list rotated by one and its target port `target_port`.
    pub fn update_lb(
        &self,
        b: &mut dyn HnsBackend,
        p: &Programmed,
        lb: usize,
        target_port: u16,
    ) -> HcnResult<()> {
        let mut eps = p.endpoints[lb * self.backends..(lb + 1) * self.backends].to_vec();
        eps.rotate_left(1);
        b.modify_load_balancer(&p.load_balancers[lb], &self.lb_doc(lb, &eps, target_port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_json() {
        let w = KubeProxyWorkload::new(3, 4);
        let net = "11111111-2222-4333-8444-555555555555";
        for d in [
            w.network_doc(),
            w.source_vip_doc(net),
            w.endpoint_doc(net, 0),
            w.endpoint_doc(net, 1),
            w.lb_doc(2, &[net.to_string(), net.to_string()], 8080),
        ] {
            let v: serde_json::Value = serde_json::from_str(&d).expect(&d);
            assert!(v.is_object(), "{d}");
        }
        assert_eq!(KubeProxyWorkload::cluster_ip(258), "10.96.1.2");
        assert!(w
            .endpoint_doc(net, 1)
            .contains(r#""MacAddress":"02-11-0a-f5-00-03""#));
    }
}
