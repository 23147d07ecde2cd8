//! The Windows side: computenetwork.dll calls behind the line protocol.
//!
//! Each request maps onto HCN's own call pattern (hns-schema.md §4.1): create → default query →
//! close; open → modify/query → close; delete and enumerate by themselves. Strings HCN returns
//! (results and error records) are freed with CoTaskMemFree, as HCN requires. A non-empty error
//! record is a failure even when the HRESULT is success (hcsshim does the same).

use crate::wire::{self, GuidParts, Verb};
use std::ffi::c_void;
use std::io::{BufRead, Write};
use std::ptr;

type Hresult = i32;
type Handle = *mut c_void;
type Pcwstr = *const u16;
type Pwstr = *mut u16;

/// The Windows `GUID` struct.
#[repr(C)]
#[derive(Clone, Copy)]
struct Guid {
    data1: u32,
    data2: u16,
    data3: u16,
    data4: [u8; 8],
}

impl From<GuidParts> for Guid {
    fn from(p: GuidParts) -> Guid {
        Guid {
            data1: p.data1,
            data2: p.data2,
            data3: p.data3,
            data4: p.data4,
        }
    }
}

type EnumerateFn = unsafe extern "system" fn(Pcwstr, *mut Pwstr, *mut Pwstr) -> Hresult;
type CreateFn = unsafe extern "system" fn(*const Guid, Pcwstr, *mut Handle, *mut Pwstr) -> Hresult;
type OpenFn = unsafe extern "system" fn(*const Guid, *mut Handle, *mut Pwstr) -> Hresult;
type ModifyFn = unsafe extern "system" fn(Handle, Pcwstr, *mut Pwstr) -> Hresult;
type QueryFn = unsafe extern "system" fn(Handle, Pcwstr, *mut Pwstr, *mut Pwstr) -> Hresult;
type DeleteFn = unsafe extern "system" fn(*const Guid, *mut Pwstr) -> Hresult;
type CloseFn = unsafe extern "system" fn(Handle) -> Hresult;

#[link(name = "computenetwork")]
extern "system" {
    fn HcnEnumerateNetworks(query: Pcwstr, networks: *mut Pwstr, error_record: *mut Pwstr) -> Hresult;
    fn HcnCreateNetwork(
        id: *const Guid,
        settings: Pcwstr,
        network: *mut Handle,
        error_record: *mut Pwstr,
    ) -> Hresult;
    fn HcnOpenNetwork(id: *const Guid, network: *mut Handle, error_record: *mut Pwstr) -> Hresult;
    fn HcnModifyNetwork(network: Handle, settings: Pcwstr, error_record: *mut Pwstr) -> Hresult;
    fn HcnQueryNetworkProperties(
        network: Handle,
        query: Pcwstr,
        properties: *mut Pwstr,
        error_record: *mut Pwstr,
    ) -> Hresult;
    fn HcnDeleteNetwork(id: *const Guid, error_record: *mut Pwstr) -> Hresult;
    fn HcnCloseNetwork(network: Handle) -> Hresult;

    fn HcnEnumerateEndpoints(query: Pcwstr, endpoints: *mut Pwstr, error_record: *mut Pwstr) -> Hresult;
    fn HcnCreateEndpoint(
        network: Handle,
        id: *const Guid,
        settings: Pcwstr,
        endpoint: *mut Handle,
        error_record: *mut Pwstr,
    ) -> Hresult;
    fn HcnOpenEndpoint(id: *const Guid, endpoint: *mut Handle, error_record: *mut Pwstr) -> Hresult;
    fn HcnModifyEndpoint(endpoint: Handle, settings: Pcwstr, error_record: *mut Pwstr) -> Hresult;
    fn HcnQueryEndpointProperties(
        endpoint: Handle,
        query: Pcwstr,
        properties: *mut Pwstr,
        error_record: *mut Pwstr,
    ) -> Hresult;
    fn HcnDeleteEndpoint(id: *const Guid, error_record: *mut Pwstr) -> Hresult;
    fn HcnCloseEndpoint(endpoint: Handle) -> Hresult;

    fn HcnEnumerateNamespaces(query: Pcwstr, namespaces: *mut Pwstr, error_record: *mut Pwstr) -> Hresult;
    fn HcnCreateNamespace(
        id: *const Guid,
        settings: Pcwstr,
        namespace: *mut Handle,
        error_record: *mut Pwstr,
    ) -> Hresult;
    fn HcnOpenNamespace(id: *const Guid, namespace: *mut Handle, error_record: *mut Pwstr) -> Hresult;
    fn HcnModifyNamespace(namespace: Handle, settings: Pcwstr, error_record: *mut Pwstr) -> Hresult;
    fn HcnQueryNamespaceProperties(
        namespace: Handle,
        query: Pcwstr,
        properties: *mut Pwstr,
        error_record: *mut Pwstr,
    ) -> Hresult;
    fn HcnDeleteNamespace(id: *const Guid, error_record: *mut Pwstr) -> Hresult;
    fn HcnCloseNamespace(namespace: Handle) -> Hresult;

    fn HcnEnumerateLoadBalancers(
        query: Pcwstr,
        load_balancers: *mut Pwstr,
        error_record: *mut Pwstr,
    ) -> Hresult;
    fn HcnCreateLoadBalancer(
        id: *const Guid,
        settings: Pcwstr,
        load_balancer: *mut Handle,
        error_record: *mut Pwstr,
    ) -> Hresult;
    fn HcnOpenLoadBalancer(id: *const Guid, load_balancer: *mut Handle, error_record: *mut Pwstr) -> Hresult;
    fn HcnModifyLoadBalancer(load_balancer: Handle, settings: Pcwstr, error_record: *mut Pwstr) -> Hresult;
    fn HcnQueryLoadBalancerProperties(
        load_balancer: Handle,
        query: Pcwstr,
        properties: *mut Pwstr,
        error_record: *mut Pwstr,
    ) -> Hresult;
    fn HcnDeleteLoadBalancer(id: *const Guid, error_record: *mut Pwstr) -> Hresult;
    fn HcnCloseLoadBalancer(load_balancer: Handle) -> Hresult;

    fn HcnEnumerateSdnRoutes(query: Pcwstr, routes: *mut Pwstr, error_record: *mut Pwstr) -> Hresult;
    fn HcnCreateSdnRoute(
        id: *const Guid,
        settings: Pcwstr,
        route: *mut Handle,
        error_record: *mut Pwstr,
    ) -> Hresult;
    fn HcnOpenSdnRoute(id: *const Guid, route: *mut Handle, error_record: *mut Pwstr) -> Hresult;
    fn HcnModifySdnRoute(route: Handle, settings: Pcwstr, error_record: *mut Pwstr) -> Hresult;
    fn HcnQuerySdnRouteProperties(
        route: Handle,
        query: Pcwstr,
        properties: *mut Pwstr,
        error_record: *mut Pwstr,
    ) -> Hresult;
    fn HcnDeleteSdnRoute(id: *const Guid, error_record: *mut Pwstr) -> Hresult;
    fn HcnCloseSdnRoute(route: Handle) -> Hresult;
}

#[link(name = "ole32")]
extern "system" {
    fn CoTaskMemFree(pv: *mut c_void);
}

#[link(name = "kernel32")]
extern "system" {
    fn LoadLibraryW(name: Pcwstr) -> *mut c_void;
    fn GetProcAddress(module: *mut c_void, name: *const u8) -> *mut c_void;
    fn FormatMessageW(
        flags: u32,
        source: *const c_void,
        message_id: u32,
        language_id: u32,
        buffer: Pwstr,
        size: u32,
        arguments: *mut c_void,
    ) -> u32;
}

/// vmcompute.dll's undocumented v1 entry point (hcsshim loads it dynamically too).
type HnsCallFn = unsafe extern "system" fn(Pcwstr, Pcwstr, Pcwstr, *mut Pwstr) -> Hresult;

/// One object's HCN entry points.
struct Api {
    name: &'static str,
    enumerate: EnumerateFn,
    create: Option<CreateFn>,
    open: OpenFn,
    modify: ModifyFn,
    query: QueryFn,
    delete: DeleteFn,
    close: CloseFn,
}

fn api(kind: &str) -> Option<Api> {
    let a = match kind {
        "Network" => Api {
            name: "Network",
            enumerate: HcnEnumerateNetworks,
            create: Some(HcnCreateNetwork),
            open: HcnOpenNetwork,
            modify: HcnModifyNetwork,
            query: HcnQueryNetworkProperties,
            delete: HcnDeleteNetwork,
            close: HcnCloseNetwork,
        },
        "Endpoint" => Api {
            name: "Endpoint",
            enumerate: HcnEnumerateEndpoints,
            create: None, // takes the network handle: see create_endpoint
            open: HcnOpenEndpoint,
            modify: HcnModifyEndpoint,
            query: HcnQueryEndpointProperties,
            delete: HcnDeleteEndpoint,
            close: HcnCloseEndpoint,
        },
        "Namespace" => Api {
            name: "Namespace",
            enumerate: HcnEnumerateNamespaces,
            create: Some(HcnCreateNamespace),
            open: HcnOpenNamespace,
            modify: HcnModifyNamespace,
            query: HcnQueryNamespaceProperties,
            delete: HcnDeleteNamespace,
            close: HcnCloseNamespace,
        },
        "LoadBalancer" => Api {
            name: "LoadBalancer",
            enumerate: HcnEnumerateLoadBalancers,
            create: Some(HcnCreateLoadBalancer),
            open: HcnOpenLoadBalancer,
            modify: HcnModifyLoadBalancer,
            query: HcnQueryLoadBalancerProperties,
            delete: HcnDeleteLoadBalancer,
            close: HcnCloseLoadBalancer,
        },
        "SdnRoute" => Api {
            name: "SdnRoute",
            enumerate: HcnEnumerateSdnRoutes,
            create: Some(HcnCreateSdnRoute),
            open: HcnOpenSdnRoute,
            modify: HcnModifySdnRoute,
            query: HcnQuerySdnRouteProperties,
            delete: HcnDeleteSdnRoute,
            close: HcnCloseSdnRoute,
        },
        _ => return None,
    };
    Some(a)
}

/// A failed call: HRESULT, message, HNS's error record (JSON, may be empty).
struct Failure {
    code: u32,
    message: String,
    record: String,
}

type Reply = Result<String, Failure>;

/// A NUL-terminated UTF-16 copy of `s`.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Take ownership of a string HCN returned: copy it out and free it with CoTaskMemFree.
fn take_string(p: Pwstr) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: HCN returns a NUL-terminated UTF-16 string allocated with CoTaskMemAlloc; it is
    // read up to its NUL and freed exactly once here.
    unsafe {
        let mut len = 0usize;
        while *p.add(len) != 0 {
            len += 1;
        }
        let s = String::from_utf16_lossy(std::slice::from_raw_parts(p, len));
        CoTaskMemFree(p as *mut c_void);
        s
    }
}

/// The system's text for an HRESULT, if it has one.
fn system_message(code: u32) -> String {
    const FROM_SYSTEM: u32 = 0x0000_1000;
    const IGNORE_INSERTS: u32 = 0x0000_0200;
    let mut buf = [0u16; 512];
    // SAFETY: the buffer and its length are valid; no inserts are read.
    let n = unsafe {
        FormatMessageW(
            FROM_SYSTEM | IGNORE_INSERTS,
            ptr::null(),
            code,
            0,
            buf.as_mut_ptr(),
            buf.len() as u32,
            ptr::null_mut(),
        )
    };
    String::from_utf16_lossy(&buf[..n as usize]).trim().to_string()
}

/// Turn an HRESULT and an error record into a reply (the record wins, as in hcsshim).
fn check(function: &str, hr: Hresult, record: Pwstr) -> Result<(), Failure> {
    let record = take_string(record);
    if hr >= 0 && record.trim().is_empty() {
        return Ok(());
    }
    let code = if hr < 0 {
        hr as u32
    } else {
        wire::top_level_value(&record, "ErrorCode")
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|c| *c != 0)
            .unwrap_or(wire::E_FAIL)
    };
    let detail = wire::top_level_string(&record, "Error")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| system_message(code));
    Err(Failure {
        code,
        message: format!("{} failed: {} (0x{:08X})", function, detail, code),
        record,
    })
}

fn failure(code: u32, message: String) -> Failure {
    Failure {
        code,
        message,
        record: String::new(),
    }
}

fn guid_of(id: &str) -> Result<Guid, Failure> {
    match wire::parse_guid(id) {
        Some(p) => Ok(Guid::from(p)),
        None => Err(failure(
            wire::HCN_E_GUID_CONVERSION_FAILURE,
            format!("{:?} is not a GUID", id),
        )),
    }
}

fn or_default(query: &str) -> &str {
    if query.trim().is_empty() {
        wire::DEFAULT_QUERY
    } else {
        query
    }
}

/// An open HCN handle, closed on drop.
struct Open<'a> {
    api: &'a Api,
    handle: Handle,
}

impl<'a> Drop for Open<'a> {
    fn drop(&mut self) {
        // SAFETY: the handle came from HcnOpen*/HcnCreate* and is closed once.
        unsafe {
            (self.api.close)(self.handle);
        }
    }
}

fn open<'a>(api: &'a Api, id: &str) -> Result<Open<'a>, Failure> {
    let g = guid_of(id)?;
    let mut handle: Handle = ptr::null_mut();
    let mut record: Pwstr = ptr::null_mut();
    // SAFETY: valid GUID pointer and out-pointers.
    let hr = unsafe { (api.open)(&g, &mut handle, &mut record) };
    check(&format!("HcnOpen{}", api.name), hr, record)?;
    Ok(Open { api, handle })
}

fn query(h: &Open, q: &str) -> Reply {
    let q = wide(or_default(q));
    let mut props: Pwstr = ptr::null_mut();
    let mut record: Pwstr = ptr::null_mut();
    // SAFETY: open handle, NUL-terminated query, out-pointers.
    let hr = unsafe { (h.api.query)(h.handle, q.as_ptr(), &mut props, &mut record) };
    let props = take_string(props);
    check(&format!("HcnQuery{}Properties", h.api.name), hr, record)?;
    Ok(props)
}

fn create_endpoint(api: &Api, id: &str, settings: &str) -> Result<Handle, Failure> {
    let network_id = match wire::top_level_string(settings, "HostComputeNetwork") {
        Some(n) => n,
        None => {
            return Err(failure(
                wire::E_INVALIDARG,
                "HcnCreateEndpoint needs the document's HostComputeNetwork to open the network".to_string(),
            ))
        }
    };
    let networks = api_or_panic("Network");
    let network = open(&networks, &network_id)?;
    let g = guid_of(id)?;
    let s = wide(settings);
    let mut handle: Handle = ptr::null_mut();
    let mut record: Pwstr = ptr::null_mut();
    // SAFETY: open network handle, valid pointers.
    let hr = unsafe { HcnCreateEndpoint(network.handle, &g, s.as_ptr(), &mut handle, &mut record) };
    check(&format!("HcnCreate{}", api.name), hr, record)?;
    Ok(handle)
}

fn api_or_panic(kind: &str) -> Api {
    match api(kind) {
        Some(a) => a,
        None => unreachable!("{} is one of wire::KINDS", kind),
    }
}

fn object_call(verb: Verb, kind: &str, id: &str, document: &str) -> Reply {
    let api = api_or_panic(kind);
    match verb {
        Verb::Enumerate => {
            let q = wide(or_default(document));
            let mut list: Pwstr = ptr::null_mut();
            let mut record: Pwstr = ptr::null_mut();
            // SAFETY: NUL-terminated query, out-pointers.
            let hr = unsafe { (api.enumerate)(q.as_ptr(), &mut list, &mut record) };
            let list = take_string(list);
            check(&format!("HcnEnumerate{}s", api.name), hr, record)?;
            Ok(list)
        }
        Verb::Create => {
            let handle = match api.create {
                None => create_endpoint(&api, id, document)?,
                Some(create) => {
                    let g = guid_of(id)?;
                    let s = wide(document);
                    let mut handle: Handle = ptr::null_mut();
                    let mut record: Pwstr = ptr::null_mut();
                    // SAFETY: valid pointers; NUL-terminated settings.
                    let hr = unsafe { create(&g, s.as_ptr(), &mut handle, &mut record) };
                    check(&format!("HcnCreate{}", api.name), hr, record)?;
                    handle
                }
            };
            // Answer with the created object's properties, as a default query returns them.
            let h = Open { api: &api, handle };
            query(&h, "")
        }
        Verb::Open => open(&api, id).map(|_| String::new()),
        Verb::Modify => {
            let h = open(&api, id)?;
            let s = wide(document);
            let mut record: Pwstr = ptr::null_mut();
            // SAFETY: open handle, NUL-terminated settings.
            let hr = unsafe { (api.modify)(h.handle, s.as_ptr(), &mut record) };
            check(&format!("HcnModify{}", api.name), hr, record)?;
            Ok(String::new())
        }
        Verb::Query => {
            let h = open(&api, id)?;
            query(&h, document)
        }
        Verb::Delete => {
            let g = guid_of(id)?;
            let mut record: Pwstr = ptr::null_mut();
            // SAFETY: valid GUID and out-pointer.
            let hr = unsafe { (api.delete)(&g, &mut record) };
            check(&format!("HcnDelete{}", api.name), hr, record)?;
            Ok(String::new())
        }
    }
}

/// `GET /globals/version` through vmcompute's HNSCall: `{"Success":…,"Output":{"Major":…}}`.
fn service_version() -> Reply {
    let dll = wide("vmcompute.dll");
    // SAFETY: NUL-terminated names; the function pointer type matches HNSCall's signature
    // (method, path, request, response), which hcsshim also calls.
    unsafe {
        let module = LoadLibraryW(dll.as_ptr());
        if module.is_null() {
            return Err(failure(wire::E_NOTIMPL, "vmcompute.dll is not available".into()));
        }
        let proc_addr = GetProcAddress(module, b"HNSCall\0".as_ptr());
        if proc_addr.is_null() {
            return Err(failure(wire::E_NOTIMPL, "vmcompute.dll has no HNSCall".into()));
        }
        let hns_call: HnsCallFn = std::mem::transmute(proc_addr);
        let (m, p, r) = (wide("GET"), wide("/globals/version"), wide(""));
        let mut response: Pwstr = ptr::null_mut();
        let hr = hns_call(m.as_ptr(), p.as_ptr(), r.as_ptr(), &mut response);
        let response = take_string(response);
        if hr < 0 {
            return Err(failure(
                hr as u32,
                format!(
                    "HNSCall GET /globals/version failed: {}",
                    system_message(hr as u32)
                ),
            ));
        }
        match wire::top_level_value(&response, "Output") {
            Some(v) if wire::top_level_value(&response, "Success") == Some("true") => Ok(v.to_string()),
            _ => Err(Failure {
                code: wire::E_FAIL,
                message: wire::top_level_string(&response, "Error")
                    .unwrap_or_else(|| "HNSCall GET /globals/version failed".to_string()),
                record: response,
            }),
        }
    }
}

fn handle(line: &str) -> Reply {
    let req = match wire::parse_request(line) {
        Some(r) => r,
        None => {
            return Err(failure(
                wire::E_INVALIDARG,
                "malformed request line: expected OP<tab>ID<tab>DOCUMENT".to_string(),
            ))
        }
    };
    match req.op {
        "HnsGetServiceVersion" => service_version(),
        "HnsRestartService" => Err(failure(
            wire::E_NOTIMPL,
            "hnsim-agent does not restart HNS (that would disturb every container on the host)".to_string(),
        )),
        op => match wire::parse_op(op) {
            Some((verb, kind)) => object_call(verb, kind, req.id, req.document),
            None => Err(failure(wire::E_NOTIMPL, format!("unknown HCN call {:?}", op))),
        },
    }
}

/// Serve stdin/stdout until stdin ends. Returns the process exit code.
pub fn run() -> i32 {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let version = match service_version() {
        Ok(v) => format!("HNS {}", v),
        Err(_) => "HNS version unknown".to_string(),
    };
    let hello = wire::hello_line(&format!(
        "hnsim-agent {} ({})",
        option_env!("CARGO_PKG_VERSION").unwrap_or("(rustc build)"),
        version
    ));
    if writeln!(out, "{}", hello).and_then(|_| out.flush()).is_err() {
        return 1;
    }
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("hnsim-agent: reading stdin: {}", e);
                return 1;
            }
        };
        let line = line.strip_suffix('\r').unwrap_or(&line);
        let reply = match handle(line) {
            Ok(json) => wire::ok_line(&json),
            Err(f) => wire::err_line(f.code, &f.message, &f.record),
        };
        if writeln!(out, "{}", reply).and_then(|_| out.flush()).is_err() {
            return 1;
        }
    }
    0
}
