# Known gap (dataplane). consumers.md P15: L2Tunnel sends everything to the host — including
# traffic between two containers on the same host and subnet, which the host then delivers.
# The model hands the packet to the host stack, which has no route to the local L2Tunnel
# endpoint (NoRoute "no host route to 10.244.1.11").
# Fix (sim/src/engine.rs, Exit::HostStack for L2Tunnel): when the destination is a local
# endpoint of an L2Tunnel network, deliver it back through the vSwitch to that endpoint's port.
name: l2tunnel-same-host
reference: consumers.md P15
seed: 42
underlay:
  segments:
    lan: {prefix: 10.0.0.0/24}
hosts:
  node1: {ip: 10.0.0.11}
steps:
  - create-network:
      as: tun
      doc: {Name: l2tunnel, Type: L2Tunnel, Ipams: [{Type: Static, Subnets: [{IpAddressPrefix: 10.244.1.0/24, Routes: [{NextHop: 10.244.1.1, DestinationPrefix: 0.0.0.0/0}]}]}], SchemaVersion: {Major: 2, Minor: 0}}
  - create-endpoint: {as: epA, doc: {HostComputeNetwork: "${tun.ID}", IpConfigurations: [{IpAddress: 10.244.1.10}], SchemaVersion: {Major: 2, Minor: 0}}}
  - create-endpoint: {as: epB, doc: {HostComputeNetwork: "${tun.ID}", IpConfigurations: [{IpAddress: 10.244.1.11}], SchemaVersion: {Major: 2, Minor: 0}}}
  - container: {name: A, endpoints: [epA]}
  - container: {name: B, endpoints: [epB], listen: [tcp/80]}
  - connect:
      from: A
      to: B:80
      expect: {disposition: Delivered, delivered-to: B, seen: {src: 10.244.1.10}, path-contains: ["host routes"], reply: Delivered}
