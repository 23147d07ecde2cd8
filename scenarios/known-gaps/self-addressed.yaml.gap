# Known gap (dataplane). A container that connects to its own address never leaves its own
# TCP/IP stack (loopback inside the compartment). The model sends it into VFP and reports it as
# the P1 hairpin ("Unsupported … HNS does not hairpin"), which is about reaching yourself
# through a VIP, not through your own address.
# Fix (sim/src/engine.rs, start of a send from a container or endpoint): when the destination is
# one of the sender's own addresses, deliver locally without VFP.
name: self-addressed
reference: consumers.md P1 (what it is not)
seed: 23
underlay:
  segments:
    lan: {prefix: 10.0.0.0/24}
hosts:
  node1: {ip: 10.0.0.11}
steps:
  - create-network:
      as: cbr0
      doc: {Name: cbr0, Type: L2Bridge, Ipams: [{Type: Static, Subnets: [{IpAddressPrefix: 10.244.1.0/24, Routes: [{NextHop: 10.244.1.1, DestinationPrefix: 0.0.0.0/0}]}]}], SchemaVersion: {Major: 2, Minor: 0}}
  - create-endpoint: {as: ep, doc: {HostComputeNetwork: "${cbr0.ID}", IpConfigurations: [{IpAddress: 10.244.1.10}], SchemaVersion: {Major: 2, Minor: 0}}}
  - container: {name: A, endpoints: [ep], listen: [tcp/80]}
  - connect: {from: A, to: "A:80", expect: {disposition: Delivered, delivered-to: A, reply: Delivered}}
