//! Backends for [`HnsBackend`] besides the in-process model (docs/adapter-protocol.md):
//!
//! * `exec:CMD` — a child process speaking the line protocol ([`protocol`], [`exec`]); on
//!   Windows that child is `hnsim-agent`, calling the real HNS;
//! * `record:FILE:SPEC` — any backend, with every call written to a transcript ([`transcript`]);
//! * `replay:FILE` — answers from a transcript, failing at the first call that differs;
//! * `sim` — the model, built by a factory the caller passes, so this module does not depend on
//!   the state machine's internals.
//!
//! [`serve()`] serves the protocol from any backend (`hnsim serve --stdio`).

pub mod exec;
pub mod protocol;
pub mod serve;
pub mod transcript;

pub use exec::{ExecBackend, ExecOptions};
pub use serve::serve;
pub use transcript::{Recorder, Replay};

use crate::backend::HnsBackend;
use crate::hresult::{HResult, HcnError};
use std::path::Path;

/// HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE): the child is gone (an adapter fault, not HNS's answer).
pub const BROKEN_PIPE: HResult = HResult(0x8007_006D);
/// HRESULT_FROM_WIN32(ERROR_TIMEOUT): no reply in time.
pub const TIMEOUT: HResult = HResult(0x8007_05B4);
/// E_UNEXPECTED: a protocol violation, a transcript that cannot be written, a replay that diverged.
pub const E_UNEXPECTED: HResult = HResult(0x8000_FFFF);

/// True when an error comes from the adapter itself (dead child, timeout, protocol violation,
/// replay divergence) rather than from HNS. Such errors end a conformance run at once.
pub fn is_adapter_fault(e: &HcnError) -> bool {
    [BROKEN_PIPE, TIMEOUT, E_UNEXPECTED, HResult::E_INVALIDARG].contains(&e.code)
        && e.message.starts_with("adapter: ")
}

/// Opening a backend failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdapterError {
    #[error("backend spec {spec:?}: expected sim, exec:CMD, replay:FILE or record:FILE:SPEC")]
    BadSpec { spec: String },
    #[error("exec `{command}`: could not start it: {reason}")]
    Spawn { command: String, reason: String },
    #[error("exec `{command}`: no valid hello line: {reason}")]
    Hello { command: String, reason: String },
    #[error("transcript {path}:{line}: {reason}")]
    Transcript {
        path: String,
        line: usize,
        reason: String,
    },
}

/// Options for [`open_backend_with`].
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    pub exec: ExecOptions,
}

/// Open a backend from its spec: `sim`, `exec:CMD`, `replay:FILE` or `record:FILE:SPEC`.
/// `sim` builds the in-process model with `sim_factory`.
pub fn open_backend(
    spec: &str,
    sim_factory: impl FnOnce() -> Box<dyn HnsBackend>,
) -> Result<Box<dyn HnsBackend>, AdapterError> {
    open_backend_with(spec, &OpenOptions::default(), sim_factory)
}

/// [`open_backend`] with explicit timeouts.
pub fn open_backend_with(
    spec: &str,
    options: &OpenOptions,
    sim_factory: impl FnOnce() -> Box<dyn HnsBackend>,
) -> Result<Box<dyn HnsBackend>, AdapterError> {
    let bad = || AdapterError::BadSpec {
        spec: spec.to_string(),
    };
    if spec == "sim" {
        return Ok(sim_factory());
    }
    if let Some(cmd) = spec.strip_prefix("exec:") {
        if cmd.trim().is_empty() {
            return Err(bad());
        }
        return Ok(Box::new(ExecBackend::spawn(cmd, options.exec.clone())?));
    }
    if let Some(file) = spec.strip_prefix("replay:") {
        if file.is_empty() {
            return Err(bad());
        }
        return Ok(Box::new(Replay::open(Path::new(file))?));
    }
    if let Some(rest) = spec.strip_prefix("record:") {
        // FILE may itself hold ':' (C:\…), so split before the inner spec's own prefix.
        let split = [":sim", ":exec:", ":replay:", ":record:"]
            .iter()
            .filter_map(|p| {
                rest.find(p)
                    .filter(|&i| *p != ":sim" || rest.len() == i + p.len())
            })
            .min();
        let Some(i) = split else { return Err(bad()) };
        let (file, inner) = (&rest[..i], &rest[i + 1..]);
        if file.is_empty() {
            return Err(bad());
        }
        let inner = open_backend_with(inner, options, sim_factory)?;
        return Ok(Box::new(Recorder::create(Path::new(file), inner)?));
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{HcnCall, HcnOp, ObjectKind, Verb};
    use crate::hresult::HcnResult;

    /// A tiny fake: remembers network names, rejects duplicates.
    struct Fake(Vec<String>);
    impl HnsBackend for Fake {
        fn call(&mut self, call: &HcnCall) -> HcnResult<String> {
            match call.op {
                HcnOp::Object(Verb::Create, ObjectKind::Network) => {
                    if self.0.contains(&call.document) {
                        return Err(HcnError::new(
                            HResult::HCN_E_NETWORK_ALREADY_EXISTS,
                            "exists\twith a tab",
                        ));
                    }
                    self.0.push(call.document.clone());
                    Ok(format!("{{\"N\":{}}}", self.0.len()))
                }
                op => Err(crate::backend::not_implemented(op)),
            }
        }
        fn describe(&self) -> String {
            "fake".into()
        }
    }

    fn fake() -> Box<dyn HnsBackend> {
        Box::new(Fake(Vec::new()))
    }

    #[test]
    fn specs_parse() {
        assert_eq!(open_backend("sim", fake).unwrap().describe(), "fake");
        for bad in ["", "simulator", "exec:", "replay:", "record:x", "record::sim"] {
            assert!(
                matches!(open_backend(bad, fake), Err(AdapterError::BadSpec { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            open_backend("replay:/nonexistent/t.jsonl", fake),
            Err(AdapterError::Transcript { .. })
        ));
    }

    #[test]
    fn serve_answers_each_line_and_survives_garbage() {
        let input = "HcnCreateNetwork\t\t{\"a\":1}\nHcnCreateNetwork\t\t{\"a\":1}\nnonsense\nHcnFrob\t\t\n";
        let mut out = Vec::new();
        let mut b = fake();
        let n = serve(input.as_bytes(), &mut out, &mut b).unwrap();
        assert_eq!(n, 4);
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "HNSIM-ADAPTER\t1\tfake");
        assert_eq!(lines[1], "OK\t{\"N\":1}");
        assert!(lines[2].starts_with("ERR\t0x803B0010\texists\\twith a tab\t{"));
        assert!(lines[3].starts_with("ERR\t0x80070057\tmalformed request line"));
        assert!(lines[4].starts_with("ERR\t0x80004001\tunknown HCN call"));

        // A line that is not UTF-8 is one more malformed request; the next one is still served.
        let input: &[u8] = b"HcnCreateNetwork\t\t{\"a\":\"\xff\"}\r\nHcnCreateNetwork\t\t{\"b\":1}\n";
        let mut out = Vec::new();
        assert_eq!(serve(input, &mut out, &mut fake()).unwrap(), 2);
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[1].starts_with("ERR\t0x80070057\tmalformed request line: not UTF-8"),
            "{out}"
        );
        assert_eq!(lines[2], "OK\t{\"N\":1}");
    }

    #[test]
    fn record_then_replay_and_divergence() {
        let dir = std::env::temp_dir().join(format!("hnsim-adapter-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("t.jsonl");
        let spec = format!("record:{}:sim", file.display());
        let mut rec = open_backend(&spec, fake).unwrap();
        let create = |d: &str| HcnCall::new(HcnOp::Object(Verb::Create, ObjectKind::Network), "", d);
        assert!(rec.call(&create("{\"a\":1}")).is_ok());
        let e1 = rec.call(&create("{\"a\":1}")).unwrap_err();
        drop(rec);

        let mut rp = open_backend(&format!("replay:{}", file.display()), fake).unwrap();
        assert_eq!(rp.call(&create("{ \"a\" : 1 }")).unwrap(), "{\"N\":1}");
        assert_eq!(rp.call(&create("{\"a\":1}")).unwrap_err(), e1);
        let past = rp.call(&create("{}")).unwrap_err();
        assert!(past.message.contains("call 3 (HcnCreateNetwork)"), "{past}");
        assert!(is_adapter_fault(&past));

        let mut rp = open_backend(&format!("replay:{}", file.display()), fake).unwrap();
        let e = rp.call(&create("{\"a\":2}")).unwrap_err();
        assert!(e.message.contains("call 1 (HcnCreateNetwork) differs"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
