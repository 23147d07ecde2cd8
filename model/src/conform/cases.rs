//! The conformance cases. Each one creates what it needs under unique names, observes only
//! through HCN calls, and leaves nothing behind. Expected HRESULTs cite hns-schema.md.

use super::ctx::{default_query, ensure, filter_query, same_guid, Ctx, Step, Stop, GONE};
use crate::backend::{HcnOp, ObjectKind, Verb};
use crate::hresult::HResult;
use crate::ids::Guid;
use serde_json::{json, Value};

use ObjectKind::{Endpoint, LoadBalancer, Namespace, Network, SdnRoute};

pub type CaseFn = fn(&mut Ctx) -> Step<()>;

/// (name, what it checks, function), in run order.
pub const CASES: &[(&str, &str, CaseFn)] = &[
    (
        "suite.preclean",
        "networks left by an earlier, interrupted run with this tag are removed",
        preclean,
    ),
    (
        "service.version",
        "GetServiceVersion answers {Major, Minor}",
        service_version,
    ),
    (
        "network.create_query_delete",
        "create, query, enumerate by ID and Name, delete, then gone",
        network_lifecycle,
    ),
    (
        "network.caller_chosen_id",
        "a caller-chosen GUID is kept (§6.2)",
        network_caller_id,
    ),
    (
        "network.duplicate_name",
        "a second network with the same name is HCN_E_NETWORK_ALREADY_EXISTS (§4.7, §6.1)",
        network_duplicate_name,
    ),
    (
        "network.invalid_json",
        "a document that is not JSON is HCN_E_INVALID_JSON (§4.7)",
        network_invalid_json,
    ),
    (
        "network.invalid_type",
        "an unknown network Type is HCN_E_INVALID_NETWORK_TYPE (§4.7)",
        network_invalid_type,
    ),
    (
        "network.policy_add_remove",
        "modify Policy Add then Remove; re-query shows it, then not (§4.3, §6.6)",
        network_policy,
    ),
    (
        "open.unknown_is_not_found",
        "HcnOpen* of an unknown GUID is ERROR_NOT_FOUND for every object (§6.1)",
        open_unknown,
    ),
    (
        "query.filters",
        "enumerate filters: ID, Name, VirtualNetwork, no match, empty filter (§4.4)",
        query_filters,
    ),
    (
        "endpoint.create_query_delete",
        "explicit IP round-trips; network, MAC; delete; gone",
        endpoint_lifecycle,
    ),
    (
        "endpoint.ipam_allocates",
        "endpoints without IP get distinct addresses in the subnet and distinct MACs (§6.2)",
        endpoint_ipam,
    ),
    (
        "endpoint.ip_outside_subnet",
        "an IP outside every subnet is HCN_E_INVALID_IP (§4.7, §6.1)",
        endpoint_ip_outside,
    ),
    (
        "endpoint.unknown_network",
        "an endpoint on an unknown network fails with not-found",
        endpoint_unknown_network,
    ),
    (
        "endpoint.duplicate_port_mapping",
        "the same PortMapping on a second endpoint is HCN_E_PORT_ALREADY_EXISTS (§6.1)",
        endpoint_duplicate_port,
    ),
    (
        "endpoint.policy_add_remove",
        "modify Policy Add/Remove of an ACL; re-query shows it, then not (§6.6)",
        endpoint_policy,
    ),
    (
        "namespace.create_query_delete",
        "create a Host namespace, query, enumerate, delete, gone",
        namespace_lifecycle,
    ),
    (
        "namespace.attach_detach",
        "attach lists the endpoint in Resources and on the endpoint; detach removes it (§4.5)",
        namespace_attach,
    ),
    (
        "namespace.one_namespace_per_endpoint",
        "attaching to a second namespace is HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS (§4.5, inferred)",
        namespace_exclusive,
    ),
    (
        "loadbalancer.create_query_delete",
        "VIPs, port mappings and backends round-trip; delete; gone",
        lb_lifecycle,
    ),
    (
        "loadbalancer.update",
        "HcnModifyLoadBalancer with the whole document adds a backend (HNS ≥ 15.4, §6.6)",
        lb_update,
    ),
    (
        "sdnroute.create_query_delete",
        "an SDN route round-trips its endpoints and prefix; delete; gone",
        route_lifecycle,
    ),
    (
        "persistence.restart",
        "after an HNS restart an EnableNonPersistent network and its endpoints are gone (P11)",
        persistence,
    ),
];

fn op(verb: Verb, kind: ObjectKind) -> HcnOp {
    HcnOp::Object(verb, kind)
}

fn schema() -> Value {
    json!({"Major": 2, "Minor": 0})
}

fn contains(ids: &[Guid], id: &str) -> bool {
    ids.iter().any(|g| same_guid(&g.to_string(), id))
}

/// A member for messages: its JSON, or "absent".
fn shown(v: &Value, key: &str) -> String {
    v.get(key).map_or_else(|| "absent".to_string(), Value::to_string)
}

fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// The object is gone: open fails with ERROR_NOT_FOUND and enumerate by ID is empty.
fn gone(ctx: &mut Ctx, kind: ObjectKind, id: &str) -> Step<()> {
    ctx.fails(&[HResult::ERROR_NOT_FOUND], op(Verb::Open, kind), id, "")?;
    let ids = ctx.enumerate(kind, &filter_query(json!({"ID": id})))?;
    ensure!(ids.is_empty(), "deleted {kind:?} {id} is still enumerated");
    Ok(())
}

/// An interrupted run (a killed agent, a lost ssh link) cannot clean up; its networks would make
/// this run's creates fail with HCN_E_NETWORK_ALREADY_EXISTS. Remove them (endpoints first).
fn preclean(ctx: &mut Ctx) -> Step<()> {
    let prefix = format!("{}-", ctx.tag());
    for net in ctx.enumerate(Network, &default_query())? {
        let id = net.to_string();
        let q = ctx.query(Network, &id)?;
        if !str_of(&q, "Name").is_some_and(|n| n.starts_with(&prefix)) {
            continue;
        }
        for ep in ctx.enumerate(Endpoint, &filter_query(json!({"VirtualNetwork": id})))? {
            ctx.ok(op(Verb::Delete, Endpoint), &ep.to_string(), "")?;
        }
        ctx.ok(op(Verb::Delete, Network), &id, "")?;
    }
    Ok(())
}

fn service_version(ctx: &mut Ctx) -> Step<()> {
    let (major, _minor) = ctx.service_version()?;
    // v2 (HCN) needs HNS ≥ 9.2 (§4.6).
    ensure!(major >= 9, "HNS version {major}.x is too old for the v2 API");
    Ok(())
}

fn network_lifecycle(ctx: &mut Ctx) -> Step<()> {
    let (id, created, name, prefix) = ctx.nat_network()?;
    ensure!(
        str_of(&created, "Name") == Some(name.as_str()),
        "create reply Name is {}, expected {name:?}",
        shown(&created, "Name")
    );
    let q = ctx.query(Network, &id)?;
    ensure!(
        str_of(&q, "Name") == Some(name.as_str()),
        "queried Name {}",
        shown(&q, "Name")
    );
    // §6.2: Type is omitted in v2 output when NAT.
    let ty = str_of(&q, "Type").unwrap_or("NAT");
    ensure!(
        ty.eq_ignore_ascii_case("NAT"),
        "queried Type {ty:?}, expected NAT"
    );
    let prefixes: Vec<&str> = items(&q, "Ipams")
        .flat_map(|i| items(i, "Subnets"))
        .filter_map(|s| str_of(s, "IpAddressPrefix"))
        .collect();
    ensure!(
        prefixes.contains(&prefix.as_str()),
        "queried subnets {prefixes:?} lack {prefix}"
    );
    ctx.ok(op(Verb::Open, Network), &id, "")?;
    let by_id = ctx.enumerate(Network, &filter_query(json!({"ID": id})))?;
    ensure!(
        by_id.len() == 1 && contains(&by_id, &id),
        "enumerate by ID gave {by_id:?}"
    );
    let by_name = ctx.enumerate(Network, &filter_query(json!({"Name": name})))?;
    ensure!(
        by_name.len() == 1 && contains(&by_name, &id),
        "enumerate by Name gave {by_name:?}"
    );
    ctx.delete(Network, &id)?;
    gone(ctx, Network, &id)?;
    ctx.fails(GONE, op(Verb::Query, Network), &id, &default_query())?;
    Ok(())
}

fn network_caller_id(ctx: &mut Ctx) -> Step<()> {
    // A fixed GUID derived from the run's subnet counter keeps replays deterministic.
    let (prefix, gw) = ctx.subnet();
    let octet: u128 = prefix.split('.').nth(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let want = Guid(0x6E53_1A00_C0DE_4000_8000_0000_0000_0000 | octet).to_string();
    let doc = json!({
        "Name": ctx.name(), "Type": "NAT", "SchemaVersion": schema(),
        "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
            "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}]}]}]
    });
    let (id, _) = ctx.create(Network, &want, &doc)?;
    ensure!(same_guid(&id, &want), "created ID {id}, asked for {want}");
    ctx.query(Network, &want)?;
    Ok(())
}

fn network_duplicate_name(ctx: &mut Ctx) -> Step<()> {
    let (_, _, name, _) = ctx.nat_network()?;
    let (prefix, gw) = ctx.subnet();
    let doc = json!({
        "Name": name, "Type": "NAT", "SchemaVersion": schema(),
        "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
            "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}]}]}]
    });
    if let Err(stop) = ctx.fails(
        &[HResult::HCN_E_NETWORK_ALREADY_EXISTS],
        op(Verb::Create, Network),
        "",
        &doc.to_string(),
    ) {
        // If it was created anyway, make sure cleanup finds it.
        let ids = ctx.enumerate(Network, &filter_query(json!({"Name": name})))?;
        for g in ids {
            let _ = ctx.call(op(Verb::Delete, Network), &g.to_string(), "")?;
        }
        return Err(stop);
    }
    Ok(())
}

fn network_invalid_json(ctx: &mut Ctx) -> Step<()> {
    let doc = format!("{{\"Name\":\"{}\",\"Type\":\"NAT\"", ctx.name());
    ctx.fails(
        &[HResult::HCN_E_INVALID_JSON],
        op(Verb::Create, Network),
        "",
        &doc,
    )?;
    Ok(())
}

fn network_invalid_type(ctx: &mut Ctx) -> Step<()> {
    let doc = json!({"Name": ctx.name(), "Type": "NoSuchNetworkType", "SchemaVersion": schema()});
    ctx.fails(
        &[HResult::HCN_E_INVALID_NETWORK_TYPE],
        op(Verb::Create, Network),
        "",
        &doc.to_string(),
    )?;
    Ok(())
}

/// The items of the array `v[key]` (none when it is absent or not an array).
fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v[key].as_array().into_iter().flatten()
}

fn policy_types(v: &Value) -> Vec<String> {
    items(v, "Policies")
        .filter_map(|p| str_of(p, "Type").map(str::to_string))
        .collect()
}

fn network_policy(ctx: &mut Ctx) -> Step<()> {
    let (id, ..) = ctx.nat_network()?;
    let policy = json!({"Type": "AutomaticDNS", "Settings": {"Enable": true}});
    let req =
        |rt: &str| json!({"ResourceType": "Policy", "RequestType": rt, "Settings": {"Policies": [policy]}});
    ctx.modify(Network, &id, &req("Add"))?;
    let q = ctx.query(Network, &id)?;
    let types = policy_types(&q);
    ensure!(
        types.iter().any(|t| t == "AutomaticDNS"),
        "after Add, policies are {types:?}"
    );
    ctx.modify(Network, &id, &req("Remove"))?;
    let q = ctx.query(Network, &id)?;
    let types = policy_types(&q);
    ensure!(
        !types.iter().any(|t| t == "AutomaticDNS"),
        "after Remove, policies are {types:?}"
    );
    Ok(())
}

fn open_unknown(ctx: &mut Ctx) -> Step<()> {
    // A GUID nobody creates (random-looking, fixed for replay).
    let unknown = "5B0C7E2A-93D4-4F61-A8B2-0D6E1F3C9A47";
    for kind in ObjectKind::ALL {
        ctx.fails(&[HResult::ERROR_NOT_FOUND], op(Verb::Open, kind), unknown, "")?;
    }
    Ok(())
}

fn query_filters(ctx: &mut Ctx) -> Step<()> {
    let (net_a, _, name_a, _) = ctx.nat_network()?;
    let (net_b, ..) = ctx.nat_network()?;
    let (ep_a, _) = ctx.endpoint(&net_a, None)?;
    let (ep_b, _) = ctx.endpoint(&net_b, None)?;

    let by_name = ctx.enumerate(Network, &filter_query(json!({"Name": name_a})))?;
    ensure!(
        by_name.len() == 1 && contains(&by_name, &net_a),
        "Name filter gave {by_name:?}"
    );
    let none = ctx.enumerate(Network, &filter_query(json!({"Name": format!("{name_a}-none")})))?;
    ensure!(none.is_empty(), "a Name nobody has matched {none:?}");
    let all = ctx.enumerate(Network, &default_query())?;
    ensure!(
        contains(&all, &net_a) && contains(&all, &net_b),
        "the unfiltered enumerate lacks this run's networks"
    );
    // §4.4: endpoints of a network filter on the v1 name VirtualNetwork.
    let of_a = ctx.enumerate(Endpoint, &filter_query(json!({"VirtualNetwork": net_a})))?;
    ensure!(
        of_a.len() == 1 && contains(&of_a, &ep_a),
        "VirtualNetwork filter gave {of_a:?}"
    );
    let by_id = ctx.enumerate(Endpoint, &filter_query(json!({"ID": ep_b})))?;
    ensure!(
        by_id.len() == 1 && contains(&by_id, &ep_b),
        "endpoint ID filter gave {by_id:?}"
    );
    let all_eps = ctx.enumerate(Endpoint, &default_query())?;
    ensure!(
        contains(&all_eps, &ep_a) && contains(&all_eps, &ep_b),
        "the unfiltered endpoint enumerate lacks this run's endpoints"
    );
    Ok(())
}

fn ip_configs(v: &Value) -> Vec<String> {
    items(v, "IpConfigurations")
        .filter_map(|c| str_of(c, "IpAddress").map(str::to_string))
        .collect()
}

fn endpoint_lifecycle(ctx: &mut Ctx) -> Step<()> {
    let (net, _, _, prefix) = ctx.nat_network()?;
    let ip = prefix.replace(".0/24", ".10");
    let (ep, created) = ctx.endpoint(&net, Some(&ip))?;
    ensure!(
        ip_configs(&created) == [ip.clone()],
        "create reply IPs {:?}",
        ip_configs(&created)
    );
    let q = ctx.query(Endpoint, &ep)?;
    ensure!(
        ip_configs(&q) == [ip.clone()],
        "queried IPs {:?}, expected [{ip}]",
        ip_configs(&q)
    );
    ensure!(
        str_of(&q, "HostComputeNetwork").is_some_and(|n| same_guid(n, &net)),
        "queried HostComputeNetwork {}, expected {net}",
        shown(&q, "HostComputeNetwork")
    );
    let mac = str_of(&q, "MacAddress").unwrap_or("");
    ensure!(
        mac.parse::<crate::ids::Mac>().is_ok(),
        "queried MacAddress {mac:?} is not a MAC"
    );
    ctx.delete(Endpoint, &ep)?;
    gone(ctx, Endpoint, &ep)?;
    Ok(())
}

fn endpoint_ipam(ctx: &mut Ctx) -> Step<()> {
    let (net, _, _, prefix) = ctx.nat_network()?;
    let subnet: ipnet::Ipv4Net = prefix.parse().map_err(|e| Stop::Fail(format!("{prefix}: {e}")))?;
    let gateway = prefix.replace(".0/24", ".1");
    let mut seen_ips = Vec::new();
    let mut seen_macs = Vec::new();
    for _ in 0..3 {
        let (ep, _) = ctx.endpoint(&net, None)?;
        let q = ctx.query(Endpoint, &ep)?;
        let ips = ip_configs(&q);
        ensure!(
            ips.len() == 1,
            "endpoint {ep} has IPs {ips:?}, expected one allocated"
        );
        let ip: std::net::Ipv4Addr = ips[0]
            .parse()
            .map_err(|e| Stop::Fail(format!("allocated IP {:?}: {e}", ips[0])))?;
        ensure!(subnet.contains(&ip), "allocated {ip} is outside {subnet}");
        ensure!(ip.to_string() != gateway, "allocated the gateway {ip}");
        ensure!(
            ip != subnet.network() && ip != subnet.broadcast(),
            "allocated {ip}"
        );
        ensure!(!seen_ips.contains(&ip), "allocated {ip} twice");
        seen_ips.push(ip);
        let mac = str_of(&q, "MacAddress").unwrap_or("").to_string();
        ensure!(mac.parse::<crate::ids::Mac>().is_ok(), "MacAddress {mac:?}");
        ensure!(!seen_macs.contains(&mac), "MAC {mac} given twice");
        seen_macs.push(mac);
    }
    Ok(())
}

fn endpoint_ip_outside(ctx: &mut Ctx) -> Step<()> {
    let (net, ..) = ctx.nat_network()?;
    let doc = json!({
        "Name": ctx.name(), "HostComputeNetwork": net, "SchemaVersion": schema(),
        "IpConfigurations": [{"IpAddress": "192.0.2.77", "PrefixLength": 24}]
    });
    ctx.fails(
        &[HResult::HCN_E_INVALID_IP],
        op(Verb::Create, Endpoint),
        "",
        &doc.to_string(),
    )?;
    Ok(())
}

fn endpoint_unknown_network(ctx: &mut Ctx) -> Step<()> {
    let doc = json!({
        "Name": ctx.name(), "SchemaVersion": schema(),
        "HostComputeNetwork": "0D1B2C3A-4E5F-4A6B-9C7D-8E9FA0B1C2D3"
    });
    // The native call takes a network handle, so the failure surfaces either from
    // HcnOpenNetwork (ERROR_NOT_FOUND) or from HNS (HCN_E_NETWORK_NOT_FOUND).
    ctx.fails(
        &[HResult::ERROR_NOT_FOUND, HResult::HCN_E_NETWORK_NOT_FOUND],
        op(Verb::Create, Endpoint),
        "",
        &doc.to_string(),
    )?;
    Ok(())
}

fn endpoint_duplicate_port(ctx: &mut Ctx) -> Step<()> {
    let (net, ..) = ctx.nat_network()?;
    let mapping = json!([{"Type": "PortMapping",
        "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 18080}}]);
    let mut doc = json!({
        "Name": ctx.name(), "HostComputeNetwork": net, "SchemaVersion": schema(),
        "Policies": mapping
    });
    ctx.create(Endpoint, "", &doc)?;
    doc["Name"] = json!(ctx.name());
    ctx.fails(
        &[HResult::HCN_E_PORT_ALREADY_EXISTS],
        op(Verb::Create, Endpoint),
        "",
        &doc.to_string(),
    )?;
    Ok(())
}

fn endpoint_policy(ctx: &mut Ctx) -> Step<()> {
    let (net, ..) = ctx.nat_network()?;
    let (ep, _) = ctx.endpoint(&net, None)?;
    let acl = json!({"Type": "ACL", "Settings": {"Protocols": "6", "Action": "Block",
        "Direction": "In", "RemoteAddresses": "192.0.2.0/24", "LocalPorts": "80",
        "RuleType": "Switch", "Priority": 200}});
    let req =
        |rt: &str| json!({"ResourceType": "Policy", "RequestType": rt, "Settings": {"Policies": [acl]}});
    ctx.modify(Endpoint, &ep, &req("Add"))?;
    let types = policy_types(&ctx.query(Endpoint, &ep)?);
    ensure!(
        types.iter().filter(|t| *t == "ACL").count() == 1,
        "after Add, policies {types:?}"
    );
    ctx.modify(Endpoint, &ep, &req("Remove"))?;
    let types = policy_types(&ctx.query(Endpoint, &ep)?);
    ensure!(
        !types.iter().any(|t| t == "ACL"),
        "after Remove, policies {types:?}"
    );
    Ok(())
}

fn host_namespace(ctx: &mut Ctx) -> Step<String> {
    let doc = json!({"Type": "Host", "SchemaVersion": schema()});
    Ok(ctx.create(Namespace, "", &doc)?.0)
}

fn namespace_lifecycle(ctx: &mut Ctx) -> Step<()> {
    let ns = host_namespace(ctx)?;
    let q = ctx.query(Namespace, &ns)?;
    ensure!(
        str_of(&q, "Type").is_none_or(|t| t == "Host"),
        "queried Type {}, expected Host",
        shown(&q, "Type")
    );
    let listed = ctx.enumerate(Namespace, &default_query())?;
    ensure!(contains(&listed, &ns), "enumerate lacks namespace {ns}");
    ctx.delete(Namespace, &ns)?;
    gone(ctx, Namespace, &ns)?;
    Ok(())
}

fn resource_endpoints(ns: &Value) -> Vec<String> {
    items(ns, "Resources")
        .filter(|r| str_of(r, "Type") == Some("Endpoint"))
        .filter_map(|r| str_of(&r["Data"], "ID").map(str::to_string))
        .collect()
}

fn attach_req(rt: &str, ep: &str) -> Value {
    json!({"ResourceType": "Endpoint", "RequestType": rt, "Settings": {"EndpointId": ep}})
}

fn namespace_attach(ctx: &mut Ctx) -> Step<()> {
    let (net, ..) = ctx.nat_network()?;
    let (ep, _) = ctx.endpoint(&net, None)?;
    let ns = host_namespace(ctx)?;
    ctx.modify(Namespace, &ns, &attach_req("Add", &ep))?;
    let listed = resource_endpoints(&ctx.query(Namespace, &ns)?);
    ensure!(
        listed.len() == 1 && same_guid(&listed[0], &ep),
        "after attach, namespace endpoints are {listed:?}"
    );
    let q = ctx.query(Endpoint, &ep)?;
    ensure!(
        str_of(&q, "HostComputeNamespace").is_some_and(|n| same_guid(n, &ns)),
        "after attach, endpoint HostComputeNamespace is {}",
        shown(&q, "HostComputeNamespace")
    );
    ctx.modify(Namespace, &ns, &attach_req("Remove", &ep))?;
    let listed = resource_endpoints(&ctx.query(Namespace, &ns)?);
    ensure!(
        listed.is_empty(),
        "after detach, namespace endpoints are {listed:?}"
    );
    Ok(())
}

fn namespace_exclusive(ctx: &mut Ctx) -> Step<()> {
    let (net, ..) = ctx.nat_network()?;
    let (ep, _) = ctx.endpoint(&net, None)?;
    let ns1 = host_namespace(ctx)?;
    let ns2 = host_namespace(ctx)?;
    ctx.modify(Namespace, &ns1, &attach_req("Add", &ep))?;
    ctx.fails(
        &[HResult::HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS],
        op(Verb::Modify, Namespace),
        &ns2,
        &attach_req("Add", &ep).to_string(),
    )?;
    let listed = resource_endpoints(&ctx.query(Namespace, &ns2)?);
    ensure!(
        listed.is_empty(),
        "the refused attach left {listed:?} in the second namespace"
    );
    ctx.modify(Namespace, &ns1, &attach_req("Remove", &ep))?;
    Ok(())
}

fn lb_doc(backends: &[&str], vip: &str) -> Value {
    json!({
        "HostComputeEndpoints": backends, "SourceVIP": "172.30.250.1", "FrontendVIPs": [vip],
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}],
        "Flags": 0, "SchemaVersion": schema()
    })
}

fn lb_backends(v: &Value) -> Vec<String> {
    items(v, "HostComputeEndpoints")
        .filter_map(|e| e.as_str().map(str::to_string))
        .collect()
}

fn lb_lifecycle(ctx: &mut Ctx) -> Step<()> {
    let (net, ..) = ctx.nat_network()?;
    let (ep, _) = ctx.endpoint(&net, None)?;
    let (lb, _) = ctx.create(LoadBalancer, "", &lb_doc(&[&ep], "10.96.77.10"))?;
    let q = ctx.query(LoadBalancer, &lb)?;
    let backends = lb_backends(&q);
    ensure!(
        backends.len() == 1 && same_guid(&backends[0], &ep),
        "queried backends {backends:?}"
    );
    ensure!(
        q["FrontendVIPs"] == json!(["10.96.77.10"]),
        "queried FrontendVIPs {}",
        q["FrontendVIPs"]
    );
    let pm = &q["PortMappings"][0];
    ensure!(
        pm["Protocol"] == 6 && pm["InternalPort"] == 8080 && pm["ExternalPort"] == 80,
        "queried PortMappings {}",
        q["PortMappings"]
    );
    let listed = ctx.enumerate(LoadBalancer, &filter_query(json!({"ID": lb})))?;
    ensure!(
        listed.len() == 1 && contains(&listed, &lb),
        "enumerate by ID gave {listed:?}"
    );
    ctx.delete(LoadBalancer, &lb)?;
    gone(ctx, LoadBalancer, &lb)?;
    Ok(())
}

fn lb_update(ctx: &mut Ctx) -> Step<()> {
    let (major, minor) = ctx.service_version()?;
    if (major, minor) < (15, 4) {
        return Err(Stop::Skip(format!(
            "HNS {major}.{minor} predates ModifyLoadbalancer (15.4)"
        )));
    }
    let (net, ..) = ctx.nat_network()?;
    let (ep1, _) = ctx.endpoint(&net, None)?;
    let (ep2, _) = ctx.endpoint(&net, None)?;
    let (lb, _) = ctx.create(LoadBalancer, "", &lb_doc(&[&ep1], "10.96.77.11"))?;
    ctx.modify(LoadBalancer, &lb, &lb_doc(&[&ep1, &ep2], "10.96.77.11"))?;
    let backends = lb_backends(&ctx.query(LoadBalancer, &lb)?);
    ensure!(backends.len() == 2, "after update, backends {backends:?}");
    ctx.modify(LoadBalancer, &lb, &lb_doc(&[&ep2], "10.96.77.11"))?;
    let backends = lb_backends(&ctx.query(LoadBalancer, &lb)?);
    ensure!(
        backends.len() == 1 && same_guid(&backends[0], &ep2),
        "after removing a backend, backends {backends:?}"
    );
    Ok(())
}

fn route_lifecycle(ctx: &mut Ctx) -> Step<()> {
    let (net, ..) = ctx.nat_network()?;
    let (ep, _) = ctx.endpoint(&net, None)?;
    let doc = json!({
        "HostComputeEndpoints": [ep], "SchemaVersion": schema(),
        "Routes": [{"DestinationPrefix": "198.51.100.0/24", "NextHop": "172.30.250.254", "NeedEncap": false}]
    });
    let (route, _) = ctx.create(SdnRoute, "", &doc)?;
    let q = ctx.query(SdnRoute, &route)?;
    // §2.6: hcsshim names the list Setting, the schema Routes; accept either in output.
    let list = q
        .get("Routes")
        .or_else(|| q.get("Setting"))
        .cloned()
        .unwrap_or(Value::Null);
    ensure!(
        list[0]["DestinationPrefix"] == "198.51.100.0/24",
        "queried routes {list}"
    );
    let eps = lb_backends(&q);
    ensure!(
        eps.len() == 1 && same_guid(&eps[0], &ep),
        "queried endpoints {eps:?}"
    );
    ctx.delete(SdnRoute, &route)?;
    gone(ctx, SdnRoute, &route)?;
    Ok(())
}

fn persistence(ctx: &mut Ctx) -> Step<()> {
    let (prefix, gw) = ctx.subnet();
    // NetworkFlags 8 = EnableNonPersistent (§2.2): such a network and its endpoints do not
    // survive an HNS restart (consumers.md P11).
    let doc = json!({
        "Name": ctx.name(), "Type": "NAT", "Flags": 8, "SchemaVersion": schema(),
        "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
            "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}]}]}]
    });
    let (net, _) = ctx.create(Network, "", &doc)?;
    let (ep, _) = ctx.endpoint(&net, None)?;
    let flags = ctx.query(Network, &net)?["Flags"].as_u64().unwrap_or(0);
    ensure!(
        flags & 8 == 8,
        "queried Flags {flags} lost EnableNonPersistent (8)"
    );
    match ctx.call(HcnOp::RestartService, "", "")? {
        Ok(_) => {}
        Err(e) if e.code == HResult::E_NOTIMPL => {
            return Err(Stop::Skip(format!("the backend cannot restart HNS: {e}")))
        }
        Err(e) => return Err(Stop::Fail(format!("{} failed: {e}", HcnOp::RestartService))),
    }
    ctx.service_version()?;
    gone(ctx, Network, &net)?;
    gone(ctx, Endpoint, &ep)?;
    Ok(())
}
