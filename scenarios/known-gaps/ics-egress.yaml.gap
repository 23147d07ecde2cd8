# Known gap (dataplane). An ICS network (the Hyper-V "Default Switch", WSL) shares the host's
# connection: Internet Connection Sharing NATs container/VM traffic to the host address
# (hns-schema.md §2.2 NetworkType ICS; real ICS networks carry an "ICS" allocator with ICSFlags,
# §5.7). The model groups ICS with Internal and Private ("no external path", sim/src/host.rs),
# so egress ends as NoRoute.
# Fix (sim/src/host.rs / engine.rs): treat NetKind::Ics like NetKind::Nat for egress (SNAT to
# the host address through the WinNAT/ICS layer) while keeping it an internal vSwitch.
name: ics-egress
reference: hns-schema.md §2.2, §5.7
seed: 52
underlay:
  segments:
    lan: {prefix: 192.168.1.0/24}
hosts:
  host: {ip: 192.168.1.10}
stations:
  nas: {ip: 192.168.1.20, listen: [tcp/445]}
steps:
  - create-network:
      as: ics
      doc: {Name: Default Switch, Type: ICS, Flags: 11, Ipams: [{Type: Static, Subnets: [{IpAddressPrefix: 172.30.0.0/24, Routes: [{NextHop: 172.30.0.1, DestinationPrefix: 0.0.0.0/0}]}]}], SchemaVersion: {Major: 2, Minor: 0}}
  - create-endpoint: {as: ep, doc: {HostComputeNetwork: "${ics.ID}", IpConfigurations: [{IpAddress: 172.30.0.10}], SchemaVersion: {Major: 2, Minor: 0}}}
  - container: {name: wsl, endpoints: [ep]}
  - connect: {from: wsl, to: "nas:445", expect: {disposition: Delivered, delivered-to: nas, seen: {src: 192.168.1.10}, reply: Delivered}}
