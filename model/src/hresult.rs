//! HNS error codes (HRESULTs) as HCN returns them (reference: hns-schema.md §4.7).

use std::fmt;

/// An HRESULT with its symbolic name. Values are the real ones HNS returns.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HResult(pub u32);

macro_rules! hresults {
    ($($name:ident = $val:expr, $msg:expr;)*) => {
        impl HResult {
            $(pub const $name: HResult = HResult($val);)*

            /// Every code this model knows, in declaration order.
            pub const ALL: &'static [HResult] = &[$(HResult::$name),*];

            /// The symbolic name (`HCN_E_NETWORK_NOT_FOUND`), if known.
            pub fn name(self) -> Option<&'static str> {
                match self.0 { $($val => Some(stringify!($name)),)* _ => None }
            }

            /// HNS's description of the code.
            pub fn description(self) -> &'static str {
                match self.0 { $($val => $msg,)* _ => "unknown error" }
            }

            /// Look a code up by its symbolic name (case-insensitive).
            pub fn from_name(name: &str) -> Option<HResult> {
                $(if name.eq_ignore_ascii_case(stringify!($name)) { return Some(HResult::$name); })*
                None
            }
        }
    };
}

hresults! {
    S_OK = 0x0000_0000, "Success.";
    HCN_E_NETWORK_NOT_FOUND = 0x803B_0001, "The network was not found.";
    HCN_E_ENDPOINT_NOT_FOUND = 0x803B_0002, "The endpoint was not found.";
    HCN_E_LAYER_NOT_FOUND = 0x803B_0003, "The network's underlying layer was not found.";
    HCN_E_SWITCH_NOT_FOUND = 0x803B_0004, "The virtual switch was not found.";
    HCN_E_SUBNET_NOT_FOUND = 0x803B_0005, "The network does not have a subnet for this endpoint.";
    HCN_E_ADAPTER_NOT_FOUND = 0x803B_0006, "An adapter was not found.";
    HCN_E_PORT_NOT_FOUND = 0x803B_0007, "The switch-port was not found.";
    HCN_E_POLICY_NOT_FOUND = 0x803B_0008, "An expected policy was not found.";
    HCN_E_VFP_PORTSETTING_NOT_FOUND = 0x803B_0009, "A required VFP port setting was not found.";
    HCN_E_INVALID_NETWORK = 0x803B_000A, "The provided network configuration is invalid or missing parameters.";
    HCN_E_INVALID_NETWORK_TYPE = 0x803B_000B, "Invalid network type.";
    HCN_E_INVALID_ENDPOINT = 0x803B_000C, "The provided endpoint configuration is invalid or missing parameters.";
    HCN_E_INVALID_POLICY = 0x803B_000D, "The provided policy configuration is invalid or missing parameters.";
    HCN_E_INVALID_POLICY_TYPE = 0x803B_000E, "Invalid policy type.";
    HCN_E_INVALID_REMOTE_ENDPOINT_OPERATION = 0x803B_000F, "This requested operation is invalid for a remote endpoint.";
    HCN_E_NETWORK_ALREADY_EXISTS = 0x803B_0010, "A network with this name already exists.";
    HCN_E_LAYER_ALREADY_EXISTS = 0x803B_0011, "A network with this name already exists.";
    HCN_E_POLICY_ALREADY_EXISTS = 0x803B_0012, "Policy information already exists on this object.";
    HCN_E_PORT_ALREADY_EXISTS = 0x803B_0013, "The specified port already exists.";
    HCN_E_ENDPOINT_ALREADY_ATTACHED = 0x803B_0014, "This endpoint is already attached to the switch.";
    HCN_E_REQUEST_UNSUPPORTED = 0x803B_0015, "The specified request is unsupported.";
    HCN_E_MAPPING_NOT_SUPPORTED = 0x803B_0016, "Port mapping is not supported on the given network.";
    HCN_E_DEGRADED_OPERATION = 0x803B_0017, "There was an operation attempted on a degraded object.";
    HCN_E_SHARED_SWITCH_MODIFICATION = 0x803B_0018, "Cannot modify a switch shared by multiple networks.";
    HCN_E_GUID_CONVERSION_FAILURE = 0x803B_0019, "Failed to interpret a parameter as a GUID.";
    HCN_E_REGKEY_FAILURE = 0x803B_001A, "Failed to process registry key.";
    HCN_E_INVALID_JSON = 0x803B_001B, "Invalid JSON document string.";
    HCN_E_INVALID_JSON_REFERENCE = 0x803B_001C, "The reference is invalid in the JSON document.";
    HCN_E_ENDPOINT_SHARING_DISABLED = 0x803B_001D, "Endpoint sharing is disabled.";
    HCN_E_INVALID_IP = 0x803B_001E, "IP address is either invalid or not part of any configured subnet(s).";
    HCN_E_SWITCH_EXTENSION_NOT_FOUND = 0x803B_001F, "The specified switch extension does not exist on this switch.";
    HCN_E_MANAGER_STOPPED = 0x803B_0020, "Operation cannot be performed while service is stopping.";
    GCN_E_DEFAULTNAMESPACE_EXISTS = 0x803B_0029, "Default Namespace already exists.";
    HCN_E_ICS_DISABLED = 0x803B_002A, "Internet Connection Sharing service (SharedAccess) is disabled and cannot be started.";
    HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS = 0x803B_002B, "This requested operation is invalid as endpoint is already part of a network namespace.";
    HCN_E_ENTITY_HAS_REFERENCES = 0x803B_002C, "The specified entity cannot be removed while it still has references.";
    HCN_E_INVALID_INTERNAL_PORT = 0x803B_002D, "The internal port must exist and cannot be zero.";
    HCN_E_NAMESPACE_ATTACH_FAILED = 0x803B_002E, "The requested operation for attach namespace failed.";
    HCN_E_ADDR_INVALID_OR_RESERVED = 0x803B_002F, "An address provided is invalid or reserved.";
    HCN_E_INVALID_PREFIX = 0x803B_0030, "The prefix provided is invalid.";
    HCN_E_OBJECT_USED_AFTER_UNLOAD = 0x803B_0031, "A call was performed against an object that was torn down.";
    HCN_E_INVALID_SUBNET = 0x803B_0032, "The provided subnet configuration is invalid or missing parameters.";
    HCN_E_INVALID_IP_SUBNET = 0x803B_0033, "The provided IP subnet configuration is invalid or missing parameters.";
    HCN_E_ENDPOINT_NOT_ATTACHED = 0x803B_0034, "The endpoint must be attached to complete the operation.";
    HCN_E_ENDPOINT_NOT_LOCAL = 0x803B_0035, "The endpoint must be local to complete the operation.";
    HCN_INTERFACEPARAMETERS_ALREADY_APPLIED = 0x803B_0036, "Cannot apply more than one InterfaceParameters policy.";
    HCN_E_VFP_NOT_ALLOWED = 0x803B_0037, "A network of this type can not be created because VFP is not available.";
    ERROR_NOT_FOUND = 0x8007_0490, "Element not found.";
    E_NOTIMPL = 0x8000_4001, "Not implemented.";
    E_INVALIDARG = 0x8007_0057, "The parameter is incorrect.";
}

impl fmt::Display for HResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} (0x{:08X})", self.0),
            None => write!(f, "0x{:08X}", self.0),
        }
    }
}

/// A failed HCN call: the HRESULT and the message HNS's error record would carry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct HcnError {
    pub code: HResult,
    pub message: String,
}

impl HcnError {
    pub fn new(code: HResult, message: impl Into<String>) -> Self {
        HcnError {
            code,
            message: message.into(),
        }
    }

    /// HNS's error record JSON: `{"Success":false,"Error":"…","ErrorCode":…}`.
    pub fn error_record(&self) -> serde_json::Value {
        serde_json::json!({"Success": false, "Error": self.message, "ErrorCode": self.code.0})
    }
}

pub type HcnResult<T> = Result<T, HcnError>;
