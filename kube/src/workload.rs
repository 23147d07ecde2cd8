//! A synthetic cluster for the benches and the work-counting tests: `nodes` Windows nodes on
//! flannel vxlan, `pods_per_node` pods each, and `services` ClusterIP Services whose
//! EndpointSlices name `endpoints` pods each, spread over all nodes (so every node holds local
//! and remote backends).

use crate::cluster::Cluster;
use crate::config::{ClusterConfig, NetworkPlugin, NodeConfig};
use crate::load::{Loc, Located, Object};
use crate::objects::{
    EndpointSlice, Node, NodeAddress, ObjectMeta, Pod, Service, ServicePort, SliceEndpoint, SlicePort,
};
use std::net::Ipv4Addr;

/// The shape of the cluster.
#[derive(Clone, Copy, Debug)]
pub struct ClusterWorkload {
    pub nodes: usize,
    pub pods_per_node: usize,
    pub services: usize,
    pub endpoints: usize,
}

fn meta(name: String) -> ObjectMeta {
    ObjectMeta {
        name,
        namespace: Some("default".into()),
        ..Default::default()
    }
}

impl ClusterWorkload {
    pub fn node_name(i: usize) -> String {
        format!("win{}", i + 1)
    }

    /// Pod `p` of node `n`: 10.(n+1).x.y in the node's /16.
    fn pod_ip(n: usize, p: usize) -> Ipv4Addr {
        let host = p as u32 + 10;
        Ipv4Addr::new(10, n as u8 + 1, (host >> 8) as u8, host as u8)
    }

    /// The endpoint IPs of Service `s`: consecutive pods, round-robin over the nodes.
    pub fn backends(&self, s: usize) -> Vec<(usize, Ipv4Addr)> {
        let total = self.nodes * self.pods_per_node;
        (0..self.endpoints)
            .map(|j| {
                let k = (s * self.endpoints + j) % total.max(1);
                let n = k % self.nodes;
                // Pods are numbered from 1 (pod 0's address is the source VIP).
                (n, Self::pod_ip(n, k / self.nodes + 1))
            })
            .collect()
    }

    /// Service `s`'s slice with its first backend replaced by pod `p` of the same node: one
    /// endpoint change.
    pub fn changed_slice(&self, s: usize, p: usize) -> EndpointSlice {
        let mut b = self.backends(s);
        if let Some(first) = b.first_mut() {
            first.1 = Self::pod_ip(first.0, p % self.pods_per_node.max(1) + 1);
        }
        self.slice(s, &b)
    }

    pub fn slice(&self, s: usize, backends: &[(usize, Ipv4Addr)]) -> EndpointSlice {
        let mut m = meta(format!("svc{s}-1"));
        m.labels
            .insert("kubernetes.io/service-name".into(), format!("svc{s}"));
        EndpointSlice {
            metadata: m,
            address_type: Some("IPv4".into()),
            endpoints: backends
                .iter()
                .map(|(n, ip)| SliceEndpoint {
                    addresses: vec![ip.to_string()],
                    node_name: Some(Self::node_name(*n)),
                    ..Default::default()
                })
                .collect(),
            ports: vec![SlicePort {
                name: None,
                port: Some(8080),
                protocol: Some("TCP".into()),
            }],
        }
    }

    pub fn cluster(&self) -> Cluster {
        let mut cfg = ClusterConfig::new(NetworkPlugin::FlannelVxlan);
        cfg.cluster_cidr = vec!["10.0.0.0/8".parse().expect("literal")];
        cfg.service_cidr = vec!["172.16.0.0/12".parse().expect("literal")];
        let mut objs: Vec<Object> = Vec::new();
        for n in 0..self.nodes {
            let name = Self::node_name(n);
            let mut nc = NodeConfig::default();
            nc.kube_proxy.source_vip = Some(Self::pod_ip(n, 0).into());
            cfg.nodes.insert(name.clone(), nc);
            let mut node = Node {
                metadata: meta(name.clone()),
                ..Default::default()
            };
            node.spec.pod_cidr = Some(format!("10.{}.0.0/16", n + 1));
            node.status.addresses.push(NodeAddress {
                type_: "InternalIP".into(),
                address: format!("192.168.0.{}", n + 11),
            });
            objs.push(Object::Node(node));
            // Pod 0's address is the node's source VIP.
            for p in 1..=self.pods_per_node {
                let mut pod = Pod {
                    metadata: meta(format!("{name}-pod{p}")),
                    ..Default::default()
                };
                pod.spec.node_name = Some(name.clone());
                pod.status.pod_ip = Some(Self::pod_ip(n, p).to_string());
                objs.push(Object::Pod(pod));
            }
        }
        for s in 0..self.services {
            let mut svc = Service {
                metadata: meta(format!("svc{s}")),
                ..Default::default()
            };
            svc.spec.cluster_ip = Some(Ipv4Addr::from(0xAC10_0000u32 + s as u32 + 1).to_string());
            svc.spec.ports.push(ServicePort {
                port: 80,
                target_port: Some(crate::objects::IntOrString::Int(8080)),
                ..Default::default()
            });
            objs.push(Object::Service(svc));
            objs.push(Object::EndpointSlice(self.slice(s, &self.backends(s))));
        }
        let mut c = Cluster::new(cfg);
        let located = objs
            .into_iter()
            .map(|value| Located {
                at: Loc::default(),
                value,
            })
            .collect();
        c.apply(located).expect("the workload is a valid cluster");
        c
    }
}
