# Known gap (dataplane). After an HCS container stops, HNS detaches its endpoint (hcsshim
# NamespaceDetach / the model's stop_container): no compartment or VM NIC is behind the switch
# port any more, so nothing can answer. The model still delivers to the endpoint and answers
# with a TCP RST ("NoListener at endpoint:…"), so the client sees a refusal instead of a timeout.
# Fix (sim/src/engine.rs, delivery to a port): a port whose endpoint has no running compute
# system and no bare namespace drops the packet (HostDown / no reply) instead of answering.
name: detached-endpoint
reference: hns-schema.md §6.5
seed: 22
underlay:
  segments:
    lan: {prefix: 192.168.1.0/24}
hosts:
  host: {ip: 192.168.1.10}
stations:
  client: {ip: 192.168.1.50}
steps:
  - create-network:
      as: nat
      doc: {Name: nat, Type: NAT, Ipams: [{Type: Static, Subnets: [{IpAddressPrefix: 172.20.0.0/24, Routes: [{NextHop: 172.20.0.1, DestinationPrefix: 0.0.0.0/0}]}]}], SchemaVersion: {Major: 2, Minor: 0}}
  - create-endpoint:
      as: ep
      doc: {HostComputeNetwork: "${nat.ID}", Policies: [{Type: PortMapping, Settings: {Protocol: 6, InternalPort: 80, ExternalPort: 8081}}], SchemaVersion: {Major: 2, Minor: 0}}
  - container: {name: uvm, isolation: hyperv, endpoints: [ep], listen: [tcp/80]}
  - connect: {from: client, to: "host:8081"}
  - stop-container: {name: uvm}
  - connect: {from: client, to: "host:8081", expect: {reply: none}}
