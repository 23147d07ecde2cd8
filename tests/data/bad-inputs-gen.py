import os, json
os.makedirs(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'bad'), exist_ok=True)
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'bad'))
manifest = []
BASE_HEAD = """name: bad
underlay:
  segments:
    lan: {prefix: 10.0.0.0/24}
hosts:
  node1: {ip: 10.0.0.11}
stations:
  srv: {ip: 10.0.0.50, listen: [tcp/80]}
steps:
"""
NET = '  - create-network: {as: n1, doc: {Name: nat, Type: NAT, Ipams: [{Type: Static, Subnets: [{IpAddressPrefix: 172.20.1.0/24, Routes: [{NextHop: 172.20.1.1, DestinationPrefix: 0.0.0.0/0}]}]}]}}\n'
EP = '  - create-endpoint: {as: e1, doc: {HostComputeNetwork: "${n1.ID}"}}\n'
CT = '  - container: {name: P1, endpoints: [e1]}\n'
OK_STEPS = NET + EP + CT

def put(name, data, *entries):
    mode = 'wb' if isinstance(data, bytes) else 'w'
    with open(name, mode) as f:
        f.write(data)
    for e in entries:
        manifest.append((name,) + e)

def y(name, steps, *entries, head=BASE_HEAD):
    put(name, head + steps, *entries)

# ---- scenario YAML: parse errors ----
put('yaml-syntax-unterminated-quote.yaml', 'name: "x\nhosts: {}\n', ('check', 2, ':3:1: found unexpected end of stream'))
put('yaml-empty.yaml', '', ('check', 2, ':1:1: expected a scenario'))
put('yaml-only-comments.yaml', '# nothing\n', ('check', 2, ':2:1: missing field `name`'))
put('yaml-not-a-map.yaml', '- a\n- b\n', ('check', 2, 'expected struct Scenario'))
put('yaml-tabs.yaml', 'name: x\nhosts:\n\tnode1: {ip: 10.0.0.1}\n', ('check', 2, ':3:1:'))
put('yaml-duplicate-key.yaml', 'name: x\nname: y\nhosts: {}\n', ('check', 2, 'duplicate'))
put('yaml-binary.yaml', bytes(range(256)), ('check', 2, 'expected UTF-8 text'))
put('yaml-latin1.yaml', b'name: caf\xe9\nhosts: {}\n', ('check', 2, ':1:10: expected UTF-8 text'))
put('yaml-bad-utf16-odd.yaml', b'\xff\xfen\x00a\x00m', ('check', 2, 'expected UTF-16LE text'))
put('yaml-deep-nesting.yaml', 'name: x\nhosts: {}\nsteps:\n  - create-network: {doc: ' + '['*300 + ']'*300 + '}\n', ('check', 2, 'recursion limit exceeded'))
put('yaml-wrong-type-seed.yaml', 'name: x\nseed: many\nhosts: {}\n', ('check', 2, ':2:7: seed: invalid type'))
y('yaml-unknown-top-key.yaml', '', ('check', 2, 'unknown key `stepz`; did you mean `steps`?'), head=BASE_HEAD.replace('steps:', 'stepz:'))
y('yaml-unknown-host-key.yaml', '', ('check', 2, ':6:26: hosts.node1: unknown key `gatway`; did you mean `gateway`?'), head=BASE_HEAD.replace('{ip: 10.0.0.11}', '{ip: 10.0.0.11, gatway: 10.0.0.1}'))
y('yaml-unknown-step.yaml', '  - sned: {from: srv, to: "10.0.0.11:80"}\n', ('check', 2, ':10:5: steps[0]: unknown step `sned`; did you mean `send`?'))
y('yaml-merge-key-typed.yaml', '', ('check', 2, 'a YAML merge key (`<<: *anchor`) is only expanded inside HNS documents'),
  head=BASE_HEAD.replace('  node1: {ip: 10.0.0.11}', '  node1: {<<: {ip: 10.0.0.11}}'))
# prefix errors
y('prefix-length-33.yaml', '', ('check', 2, ':4:19: underlay.segments.lan.prefix: prefix length 33 > 32 in `10.0.0.0/33`'), head=BASE_HEAD.replace('10.0.0.0/24', '10.0.0.0/33'))
y('prefix-garbage.yaml', '', ('check', 2, 'expected an address prefix like 10.0.0.0/24, found `10.0.0/24`'), head=BASE_HEAD.replace('10.0.0.0/24', '10.0.0/24'))
y('prefix-host-bits.yaml', '', ('check', 2, ':4:11: prefix 10.0.0.5/24 has host bits set; did you mean 10.0.0.0/24?'), head=BASE_HEAD.replace('10.0.0.0/24', '10.0.0.5/24').replace('10.0.0.11', '10.0.0.11'))
y('route-host-bits.yaml', '', ('check', 2, 'prefix 192.168.1.7/24 has host bits set; did you mean 192.168.1.0/24?'),
  head=BASE_HEAD.replace('{ip: 10.0.0.11}', '{ip: 10.0.0.11, routes: [{prefix: 192.168.1.7/24, via: 10.0.0.1}]}'))
y('host-ip-bad.yaml', '', ('check', 2, 'expected an IP address like 10.0.0.1, found `10.0.0.300`'), head=BASE_HEAD.replace('ip: 10.0.0.11', 'ip: 10.0.0.300'))
y('host-mac-multicast.yaml', '', ('check', 2, ':6:26: expected a unicast MAC (first byte even), found the multicast address 01-00-5E-00-00-01'),
  head=BASE_HEAD.replace('{ip: 10.0.0.11}', '{ip: 10.0.0.11, mac: 01-00-5E-00-00-01}'))
y('station-mac-zero.yaml', '', ('check', 2, 'expected a unicast MAC, found the all-zero address'),
  head=BASE_HEAD.replace('{ip: 10.0.0.50, listen', '{ip: 10.0.0.50, mac: 00-00-00-00-00-00, listen'))
y('name-empty.yaml', '', ('check', 2, ':1:1: expected a scenario name, found ""'), head=BASE_HEAD.replace('name: bad', 'name: ""'))
y('host-outside-segment.yaml', '', ('check', 2, 'address 10.9.0.11 is not inside any underlay segment'), head=BASE_HEAD.replace('10.0.0.11', '10.9.0.11'))
y('host-duplicate-ip.yaml', '', ('check', 2, 'address 10.0.0.11 is already used by host node1'), head=BASE_HEAD.replace('  srv: {ip: 10.0.0.50', '  srv: {ip: 10.0.0.11'))
y('segment-mtu-small.yaml', '', ('check', 2, 'expected an MTU of at least 576, found 100'), head=BASE_HEAD.replace('{prefix: 10.0.0.0/24}', '{prefix: 10.0.0.0/24, mtu: 100}'))
# host settings range checks
for key, val, msg in [
    ('snat-block', 0, '`snat-block`: expected a block size of at least 1, found 0'),
    ('snat-first-port', 65535, '`snat-first-port`: expected a first port from 1 to 65472 (room for one block of 64), found 65535'),
    ('container-mtu-reduction', 5000, '`container-mtu-reduction`: expected at most 924 (the link MTU 1500 minus IPv4\'s minimum 576), found 5000'),
    ('flow-idle-timeout-ns', 0, '`flow-idle-timeout-ns`: expected at least 1 ns, found 0'),
    ('snat-pool-ports', 0, '`snat-pool-ports`: expected at least 1 port, found 0'),
    ('snat-block', -1, '`snat-block`: invalid value'),
    ('snat-blok', 64, 'unknown host setting `snat-blok`; did you mean `snat-block`?'),
    ('network-with-endpoints', 'keep', '`network-with-endpoints`: expected `refuse` or `release`, found keep'),
]:
    y(f'setting-{key}-{str(val).replace("-", "neg")}.yaml', '', ('check', 2, msg),
      head=BASE_HEAD.replace('{ip: 10.0.0.11}', '{ip: 10.0.0.11, settings: {%s: %s}}' % (key, val)))
y('hns-version-bad.yaml', '', ('check', 2, 'expected an HNS version like "15.4", found "fifteen"'), head=BASE_HEAD.replace('{ip: 10.0.0.11}', '{ip: 10.0.0.11, hns-version: fifteen}'))
# expectations
y('expect-disposition-typo.yaml', OK_STEPS + '  - send: {from: P1, to: "srv:80", expect: {disposition: Deliverd}}\n', ('check', 2, ':13:45: unknown disposition `Deliverd`; did you mean `Delivered`?'))
y('expect-disposition-noneighbor.yaml', OK_STEPS + '  - send: {from: P1, to: "srv:80", expect: {disposition: NoNeighbor}}\n', ('check', 2, 'unknown disposition `NoNeighbor`'))
y('expect-reply-typo.yaml', OK_STEPS + '  - send: {from: P1, to: "srv:80", expect: {reply: Delivred}}\n', ('check', 2, 'unknown disposition `Delivred`; did you mean `Delivered`?'))
y('expect-path-excludes-typo.yaml', OK_STEPS + '  - send: {from: P1, to: "srv:80", expect: {path-excludes: [Transfrom]}}\n', ('check', 2, ':13:61: unknown trace step kind or layer `Transfrom`; did you mean `Transform`?'))
y('expect-path-contains-layer-typo.yaml', OK_STEPS + '  - send: {from: P1, to: "srv:80", expect: {path-contains: [OUTBOUND_NATT]}}\n', ('check', 2, 'unknown trace step kind or layer `OUTBOUND_NATT`; did you mean `OUTBOUND_NAT`?'))
y('expect-error-typo.yaml', '  - create-network: {doc: {Name: x, Type: Bogus}, expect-error: HCN_E_INVALID_NETWORK_TPYE}\n', ('check', 2, 'did you mean `HCN_E_INVALID_NETWORK_TYPE`?'))
y('expect-delivered-to-undefined.yaml', OK_STEPS + '  - send: {from: P1, to: "srv:80", expect: {delivered-to: svr}}\n', ('check', 2, '`svr` is not defined; did you mean `srv`?'))
y('undefined-from.yaml', OK_STEPS + '  - send: {from: P2, to: "srv:80"}\n', ('check', 2, '`P2` is not defined; did you mean `P1`?'))
y('undefined-expr.yaml', '  - create-endpoint: {as: e1, doc: {HostComputeNetwork: "${n2.ID}"}}\n', ('check', 2, 'refers to `n2`, which is not defined before this step'))
y('target-port-zero.yaml', OK_STEPS + '  - send: {from: P1, to: "srv:0"}\n', ('check', 2, 'expected a port between 1 and 65535, found `0`'))
y('target-ip-bad.yaml', OK_STEPS + '  - send: {from: P1, to: "10.0.0.256:80"}\n', ('check', 2, 'expected an IP address, found `10.0.0.256`'))
y('listen-bad.yaml', '', ('check', 2, 'expected tcp or udp before `/`, found `sctp`'), head=BASE_HEAD.replace('listen: [tcp/80]', 'listen: [sctp/80]'))
y('duration-bad.yaml', '  - advance: 5 parsecs\n', ('check', 2, 'expected a duration'))
y('repeat-too-many.yaml', OK_STEPS + '  - send: {from: P1, to: "srv:80", repeat: 100000}\n', ('check', 2, 'expected a repeat count of at most 10000'))
y('create-with-target.yaml', '  - create-network: {target: x, doc: {Name: x}}\n', ('check', 2, 'takes no `target:`'))
y('list-kind-typo.yaml', '  - list: {kind: netwrok}\n', ('check', 2, 'expected one of network, endpoint'))
y('doc-not-a-map.yaml', '  - create-network: {doc: [1, 2]}\n', ('check', 2, 'expected the HNS document as a map'))
y('reachability-cells.yaml', OK_STEPS + '  - reachability: {from: [P1], to: [srv], port: 80, expect: {P1: ". ."}}\n', ('check', 2, 'expected 1 cells'))
# HNS document typos inside scenarios: warnings (exit 0), errors with --strict
acl = '  - add-endpoint-policy: {target: e1, policies: [{Type: ACL, Settings: {Action: Block, Direction: In, RemoteAddress: 10.0.0.50, Priority: 100}}]}\n'
y('doc-acl-remoteaddress-typo.yaml', NET + EP + acl,
  ('check', 0, ':12:103: steps[2].add-endpoint-policy.policies[0].Settings.RemoteAddress: unknown key `RemoteAddress` in ACL settings; HNS ignores it; did you mean `RemoteAddresses`?'),
  ('check --strict', 2, 'error: ') )
pm = '  - create-endpoint: {as: e2, doc: {HostComputeNetwork: "${n1.ID}", Policies: [{Type: PortMapping, Settings: {Protocol: 6, InternalPort: 80, ExternalPrt: 8080}}]}}\n'
y('doc-portmapping-externalprt.yaml', NET + pm, ('check', 0, 'unknown key `ExternalPrt` in PortMapping settings; HNS ignores it; did you mean `ExternalPort`?'), ('check --strict', 2, 'ExternalPrt'))
y('doc-network-tpye.yaml', '  - create-network: {as: n1, doc: {Name: nat, Tpye: L2Bridge}}\n', ('check', 0, ':10:47: steps[0].create-network.doc.Tpye: unknown key `Tpye` in a network'), ('check --strict', 2, 'did you mean `Type`?'))
y('doc-merge-key-honoured.yaml', '  - create-network: {as: n1, doc: {<<: {Name: nat, Type: NAT}, Flags: 0}}\n  - query-network: {target: n1, expect: {Name: nat}}\n', ('run', 0, ''))
# follow-on failures and set-up reasons
y('followon-after-failed-create.yaml', '  - create-network: {as: n1, doc: {Name: nat, Type: Bogus}}\n' + EP + CT + '  - send: {from: P1, to: "srv:80", expect: {disposition: Delivered}}\n',
  ('run', 1, 'skipped because step 1 failed (it was to define `n1`, which this step uses)'),
  ('trace --from P1 --to srv:80', 2, 'warning: setup step 1 ('),
  ('graph', 1, 'did not go as expected: '))
# ---- HNS JSON (hns validate) ----
def j(name, doc, *entries, raw=None):
    put(name, raw if raw is not None else json.dumps(doc, indent=2) + '\n', *[( 'hns validate',) + e for e in entries])
GOODNET = {"Name": "n", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24", "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}], "SchemaVersion": {"Major": 2, "Minor": 0}}
def net(**kw):
    d = json.loads(json.dumps(GOODNET)); d.update(kw); return d
NETID = "7A3A2A1A-0000-4000-8000-000000000001"
def ep(**kw):
    d = {"Name": "e", "HostComputeNetwork": NETID, "SchemaVersion": {"Major": 2, "Minor": 0}}; d.update(kw); return d
j('hns-prefix-33.json', net(Ipams=[{"Subnets": [{"IpAddressPrefix": "10.244.1.0/33", "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]), (2, '$.Ipams: Ipams[0].Subnets[0].IpAddressPrefix: prefix length 33 > 32'))
j('hns-subnet-no-routes.json', net(Ipams=[{"Subnets": [{"IpAddressPrefix": "10.244.1.0/24"}]}]), (2, 'subnet has address prefix but no gateway specified (a create returns HCN_E_INVALID_NETWORK'))
j('hns-subnet-no-default.json', net(Ipams=[{"Subnets": [{"IpAddressPrefix": "10.244.1.0/24", "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "10.0.0.0/8"}]}]}]), (2, 'no default gateway'))
j('hns-network-type-bogus.json', net(Type="Bridged"), (2, 'unknown network type "Bridged" (a create returns HCN_E_INVALID_NETWORK_TYPE'))
j('hns-network-policy-unknown.json', net(Policies=[{"Type": "RemoteSubnetRout", "Settings": {}}]), (2, '$.Policies[0]: unknown network policy type "RemoteSubnetRout"'))
j('hns-network-acl-alow.json', net(Policies=[{"Type": "NetworkACL", "Settings": {"Action": "Alow", "Direction": "In"}}]), (2, 'Action must be Allow, Block or Pass, found "Alow"'))
j('hns-macpool-reversed.json', net(MacPool={"Ranges": [{"StartMacAddress": "00-15-5D-00-00-FF", "EndMacAddress": "00-15-5D-00-00-00"}]}), (2, 'is above EndMacAddress'))
j('hns-lb-vip-999.json', {"FrontendVIPs": ["10.96.0.999"], "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}], "SchemaVersion": {"Major": 2, "Minor": 0}}, (2, 'FrontendVIPs: expected an IP address, found "10.96.0.999" (a create returns HCN_E_INVALID_IP'))
j('hns-lb-internal-port-0.json', {"FrontendVIPs": ["10.96.0.10"], "PortMappings": [{"Protocol": 6, "InternalPort": 0, "ExternalPort": 80}]}, (2, 'InternalPort must be non-zero'))
j('hns-lb-endpoint-guid-bad.json', {"HostComputeEndpoints": ["not-a-guid"], "FrontendVIPs": ["10.96.0.10"], "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]}, (2, 'expected a GUID'))
j('hns-endpoint-mac-bad.json', ep(MacAddress="00-15-5D-00-00"), (2, 'MacAddress'))
j('hns-endpoint-network-guid-bad.json', ep(HostComputeNetwork="cbr0"), (2, 'expected a GUID'))
j('hns-endpoint-ip-bad.json', ep(IpConfigurations=[{"IpAddress": "10.244.1.300", "PrefixLength": 24}]), (2, '$.IpConfigurations[0]: IpAddress: expected an IP address, found "10.244.1.300"'))
j('hns-endpoint-prefixlength-33.json', ep(IpConfigurations=[{"IpAddress": "10.244.1.3", "PrefixLength": 33}]), (2, 'prefix length 33 > 32'))
j('hns-endpoint-acl-alow.json', ep(Policies=[{"Type": "ACL", "Settings": {"Action": "Alow", "Direction": "In", "Priority": 100}}]), (2, '$.Policies[0]: ACL: Action must be Allow, Block or Pass, found "Alow" (a create returns HCN_E_INVALID_POLICY'))
j('hns-endpoint-acl-protocol-bad.json', ep(Policies=[{"Type": "ACL", "Settings": {"Action": "Allow", "Direction": "In", "Protocols": "6,x"}}]), (2, 'Protocols must be protocol numbers, found "x"'))
j('hns-endpoint-portmapping-protocol.json', ep(Policies=[{"Type": "PortMapping", "Settings": {"Protocol": 1, "InternalPort": 80, "ExternalPort": 8080}}]), (2, 'Protocol must be 6 (TCP) or 17 (UDP), found 1'))
j('hns-endpoint-policy-unknown.json', ep(Policies=[{"Type": "Firewall", "Settings": {}}]), (2, 'unknown endpoint policy type "Firewall" (a create returns HCN_E_INVALID_POLICY_TYPE'))
j('hns-route-nexthop-bad.json', {"HostComputeEndpoints": [], "Routes": [{"DestinationPrefix": "10.0.0.0/8", "NextHop": "gw"}]}, (2, 'NextHop must be an IP address'))
j('hns-acl-remoteaddress-typo.json', ep(Policies=[{"Type": "ACL", "Settings": {"Action": "Block", "Direction": "In", "RemoteAddress": "10.0.0.1", "Priority": 100}}]),
  (0, 'warning: '), )
manifest.append(('hns-acl-remoteaddress-typo.json', 'hns validate', 0, '$.Policies[0].Settings.RemoteAddress: unknown key `RemoteAddress` in ACL settings; HNS ignores it; did you mean `RemoteAddresses`?'))
manifest.append(('hns-acl-remoteaddress-typo.json', 'hns validate --strict', 2, 'error: '))
j('hns-externalprt-typo.json', ep(Policies=[{"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPrt": 8080}}]), (0, 'did you mean `ExternalPort`?'))
j('hns-tpye-typo.json', net(Tpye="Overlay"), (0, '$.Tpye: unknown key `Tpye` in a network'))
j('hns-duplicate-key.json', None, (2, ':4:8: malformed JSON: expected each key once, found `Name` twice'), raw='{\n  "Name": "a",\n  "Type": "NAT",\n  "Name": "b"\n}\n')
j('hns-duplicate-key-case.json', None, (2, 'found `Type` and `type`'), raw='{"Name": "a", "Type": "NAT", "type": "L2Bridge"}\n')
j('hns-malformed.json', None, (2, ':3:3: malformed JSON'), raw='{\n  "Name": "a"\n  "Type": "NAT"\n}\n')
j('hns-empty.json', None, (2, 'malformed JSON: EOF'), raw='')
j('hns-truncated.json', None, (2, 'malformed JSON: EOF while parsing'), raw='{"Name": "a", "Ipams": [')
j('hns-deep-nesting.json', None, (2, 'recursion limit exceeded'), raw='['*1000 + ']'*1000)
j('hns-not-an-object.json', None, (2, 'at $: expected an HNS document (a JSON object) or an array of them, found 42'), raw='42\n')
j('hns-latin1.json', None, (2, ':1:14: expected UTF-8 text'), raw=b'{"Name": "caf\xe9"}\n')
j('hns-utf16-unpaired.json', None, (2, 'expected UTF-16LE text (by its byte-order mark), found an invalid code unit at offset 4'), raw=b'\xff\xfe{\x00\x00\xd8}\x00')
j('hns-array-bad-element.json', None, (2, '$[1]'), raw='[' + json.dumps(GOODNET) + ', ' + json.dumps(net(Type="Bridged")) + ']\n')
j('hns-ipam-type-bad.json', net(Ipams=[{"Type": "Dynamic", "Subnets": []}]), (2, 'Ipams[0].Type must be Static or Dhcp, found "Dynamic"'))
# ---- Windows-saved files: accepted (exit 0) ----
good_yaml = BASE_HEAD + OK_STEPS
put('ok-utf8-bom.yaml', b'\xef\xbb\xbf' + good_yaml.encode(), ('check', 0, ''))
put('ok-utf16le-bom.yaml', b'\xff\xfe' + good_yaml.encode('utf-16-le'), ('check', 0, ''))
put('ok-utf16be-bom.yaml', b'\xfe\xff' + good_yaml.encode('utf-16-be'), ('check', 0, ''))
put('ok-utf8-bom.json', b'\xef\xbb\xbf' + json.dumps(GOODNET).encode(), ('hns validate', 0, ''))
put('ok-utf16le-bom.json', b'\xff\xfe' + json.dumps(GOODNET, indent=2).replace('\n', '\r\n').encode('utf-16-le'), ('hns validate', 0, ''))
with open('MANIFEST', 'w') as f:
    f.write("# One expectation per line: FILE <TAB> COMMAND (FILE goes last) <TAB> EXIT <TAB> text stderr must contain.\n")
    f.write("# Checked by tests/bad_inputs.rs: every file here has at least one line; no panic anywhere.\n")
    for name, cmd, code, sub in manifest:
        f.write(f"{name}\t{cmd}\t{code}\t{sub}\n")
print(len(set(m[0] for m in manifest)), 'files', len(manifest), 'expectations')
