//! `record` and `replay:FILE`: transcripts of HCN calls and their answers, as JSON lines.
//!
//! ```text
//! {"transcript":"hnsim-adapter","version":1,"backend":"exec:ssh host hnsim-agent.exe (…)"}
//! {"n":1,"op":"HcnCreateNetwork","id":"","document":"{…}","reply":"{…}"}
//! {"n":2,"op":"HcnOpenNetwork","id":"…","document":"","error":{"code":"0x80070490","message":"Element not found."}}
//! ```
//!
//! A transcript recorded on a real Windows host lets CI compare the model with real HNS without
//! Windows: replay answers from the file and stops at the first call that differs from it.

use super::{AdapterError, E_UNEXPECTED};
use crate::backend::{HcnCall, HcnOp, HnsBackend};
use crate::hresult::{HResult, HcnError, HcnResult};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The transcript's first line.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TranscriptHeader {
    pub transcript: String,
    pub version: u32,
    pub backend: String,
}

/// One recorded call and its answer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub n: u64,
    pub op: String,
    pub id: String,
    pub document: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EntryError>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EntryError {
    /// `0x803B0013`.
    pub code: String,
    pub message: String,
}

const MAGIC: &str = "hnsim-adapter";

fn hex(code: HResult) -> String {
    format!("0x{:08X}", code.0)
}

fn parse_hex(s: &str) -> Option<HResult> {
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    u32::from_str_radix(h, 16).ok().map(HResult)
}

/// Wraps a backend and writes every call and its answer to a transcript.
pub struct Recorder<B: HnsBackend> {
    inner: B,
    path: PathBuf,
    out: BufWriter<File>,
    n: u64,
    write_error: Option<String>,
}

impl<B: HnsBackend> Recorder<B> {
    pub fn create(path: &Path, inner: B) -> Result<Self, AdapterError> {
        let file = File::create(path).map_err(|e| AdapterError::Transcript {
            path: path.display().to_string(),
            line: 0,
            reason: format!("cannot create: {e}"),
        })?;
        let mut out = BufWriter::new(file);
        let header = TranscriptHeader {
            transcript: MAGIC.into(),
            version: 1,
            backend: inner.describe(),
        };
        let line = serde_json::to_string(&header).unwrap_or_default();
        writeln!(out, "{line}")
            .and_then(|_| out.flush())
            .map_err(|e| AdapterError::Transcript {
                path: path.display().to_string(),
                line: 1,
                reason: e.to_string(),
            })?;
        Ok(Recorder {
            inner,
            path: path.to_path_buf(),
            out,
            n: 0,
            write_error: None,
        })
    }

    /// The wrapped backend.
    pub fn inner(&mut self) -> &mut B {
        &mut self.inner
    }
}

impl<B: HnsBackend> HnsBackend for Recorder<B> {
    fn call(&mut self, call: &HcnCall) -> HcnResult<String> {
        let answer = self.inner.call(call);
        self.n += 1;
        let entry = Entry {
            n: self.n,
            op: call.op.to_string(),
            id: call.id.clone(),
            document: call.document.clone(),
            reply: answer.as_ref().ok().cloned(),
            error: answer.as_ref().err().map(|e| EntryError {
                code: hex(e.code),
                message: e.message.clone(),
            }),
        };
        if self.write_error.is_none() {
            let line = serde_json::to_string(&entry).unwrap_or_default();
            if let Err(e) = writeln!(self.out, "{line}").and_then(|_| self.out.flush()) {
                self.write_error = Some(e.to_string());
            }
        }
        if let Some(e) = &self.write_error {
            return Err(HcnError::new(
                E_UNEXPECTED,
                format!("adapter: writing transcript {}: {e}", self.path.display()),
            ));
        }
        answer
    }

    fn describe(&self) -> String {
        format!("record:{}:{}", self.path.display(), self.inner.describe())
    }
}

/// Answers from a transcript; fails at the first call that differs from it.
pub struct Replay {
    path: String,
    recorded_from: String,
    entries: Vec<Entry>,
    next: usize,
}

impl Replay {
    pub fn open(path: &Path) -> Result<Replay, AdapterError> {
        let shown = path.display().to_string();
        let err = |line: usize, reason: String| AdapterError::Transcript {
            path: shown.clone(),
            line,
            reason,
        };
        let file = File::open(path).map_err(|e| err(0, format!("cannot open: {e}")))?;
        let mut header: Option<TranscriptHeader> = None;
        let mut entries = Vec::new();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let lineno = i + 1;
            let line = line.map_err(|e| err(lineno, e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            let located = |e: serde_json::Error| err(lineno, format!("column {}: {e}", e.column()));
            if header.is_none() {
                let h: TranscriptHeader = serde_json::from_str(&line).map_err(|e| {
                    err(
                        lineno,
                        format!(
                            "expected the header {{\"transcript\":\"{MAGIC}\",\"version\":1,\"backend\":…}}: {e}"
                        ),
                    )
                })?;
                if h.transcript != MAGIC || h.version != 1 {
                    return Err(err(
                        lineno,
                        format!(
                            "expected transcript \"{MAGIC}\" version 1, found {:?} version {}",
                            h.transcript, h.version
                        ),
                    ));
                }
                header = Some(h);
                continue;
            }
            let e: Entry = serde_json::from_str(&line).map_err(located)?;
            if e.n != entries.len() as u64 + 1 {
                return Err(err(
                    lineno,
                    format!("expected call number {}, found {}", entries.len() + 1, e.n),
                ));
            }
            if e.op.parse::<HcnOp>().is_err() {
                return Err(err(lineno, format!("unknown HCN call {:?}", e.op)));
            }
            match (&e.reply, &e.error) {
                (Some(_), None) => {}
                (None, Some(er)) if parse_hex(&er.code).is_some() => {}
                (None, Some(er)) => {
                    return Err(err(
                        lineno,
                        format!("expected an HRESULT like 0x803B0013, found {:?}", er.code),
                    ))
                }
                _ => {
                    return Err(err(
                        lineno,
                        "expected exactly one of \"reply\" and \"error\"".into(),
                    ))
                }
            }
            entries.push(e);
        }
        let header = header.ok_or_else(|| err(1, "the transcript is empty".into()))?;
        Ok(Replay {
            path: shown,
            recorded_from: header.backend,
            entries,
            next: 0,
        })
    }

    /// Calls recorded but not yet replayed.
    pub fn remaining(&self) -> usize {
        self.entries.len() - self.next
    }

    fn diverged(&self, n: usize, call: &HcnCall, why: String) -> HcnError {
        HcnError::new(
            E_UNEXPECTED,
            format!(
                "adapter: replay {}: call {n} ({}) differs from the transcript: {why}",
                self.path, call.op
            ),
        )
    }
}

/// Documents are equal when they are the same JSON value (or the same text, if not JSON).
fn same_document(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

impl HnsBackend for Replay {
    fn call(&mut self, call: &HcnCall) -> HcnResult<String> {
        let n = self.next + 1;
        let Some(e) = self.entries.get(self.next) else {
            return Err(self.diverged(
                n,
                call,
                format!("the transcript ends after {} calls", self.entries.len()),
            ));
        };
        let op = call.op.to_string();
        let why = if e.op != op {
            Some(format!("recorded {}, called {op}", e.op))
        } else if e.id != call.id {
            Some(format!("recorded id {:?}, called with {:?}", e.id, call.id))
        } else if !same_document(&e.document, &call.document) {
            Some(format!(
                "recorded document {}, called with {}",
                super::protocol::truncate(&e.document, 300),
                super::protocol::truncate(&call.document, 300)
            ))
        } else {
            None
        };
        if let Some(why) = why {
            return Err(self.diverged(n, call, why));
        }
        self.next += 1;
        match (&e.reply, &e.error) {
            (Some(r), _) => Ok(r.clone()),
            (None, Some(er)) => Err(HcnError::new(
                parse_hex(&er.code).unwrap_or(E_UNEXPECTED),
                er.message.clone(),
            )),
            (None, None) => Ok(String::new()),
        }
    }

    fn describe(&self) -> String {
        format!("replay:{} (recorded from {})", self.path, self.recorded_from)
    }
}
