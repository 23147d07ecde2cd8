# Known gap (dataplane). consumers.md §7 S4.3 / P3 (kubernetes/community #8890): with
# SourceVIP "" on affected WS2019 builds, HNS SNATs to the VIP itself; the backend's reply is
# addressed to the VIP, which HNS treats as new LB traffic → loop/drop, the connection times out.
# The model SNATs to the VIP (host setting empty-source-vip-uses-node-ip: false) but un-NATs the
# reply through the existing unified-flow-table session, so the reply is delivered.
# Fix (sim/src/engine.rs, LB SNAT): when the SNAT address is the VIP itself, let the backend's
# reply take the LB slow path (match the VIP as a new frontend) instead of the session's reverse
# transposition — or report the loop when the reply's destination is an LB frontend.
name: p3-empty-source-vip-loop
reference: consumers.md §7 S4.3, P3
seed: 34
underlay:
  segments:
    lan: {prefix: 10.0.0.0/24}
hosts:
  node2: {ip: 10.0.0.12, settings: {empty-source-vip-uses-node-ip: false}}
steps:
  - create-network:
      as: n2
      doc: {Name: cbr0, Type: L2Bridge, Ipams: [{Type: Static, Subnets: [{IpAddressPrefix: 10.244.2.0/24, Routes: [{NextHop: 10.244.2.1, DestinationPrefix: 0.0.0.0/0}]}]}], SchemaVersion: {Major: 2, Minor: 0}}
  - create-endpoint: {as: a2, doc: {HostComputeNetwork: "${n2.ID}", IpConfigurations: [{IpAddress: 10.244.2.10}], SchemaVersion: {Major: 2, Minor: 0}}}
  - create-endpoint: {as: b2, doc: {HostComputeNetwork: "${n2.ID}", IpConfigurations: [{IpAddress: 10.244.2.11}], SchemaVersion: {Major: 2, Minor: 0}}}
  - container: {name: A2, endpoints: [a2], listen: [tcp/8080]}
  - container: {name: B2, endpoints: [b2]}
  - create-loadbalancer:
      doc: {HostComputeEndpoints: ["${a2.ID}"], SourceVIP: "", FrontendVIPs: [10.96.0.50], PortMappings: [{Protocol: 6, InternalPort: 8080, ExternalPort: 80}], SchemaVersion: {Major: 2, Minor: 0}}
  - connect: {from: B2, to: "10.96.0.50:80", expect: {disposition: Delivered, seen: {src: 10.96.0.50}, reply: Loop}}
