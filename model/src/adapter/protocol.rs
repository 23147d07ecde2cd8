//! The adapter line protocol (docs/adapter-protocol.md): one request line, one reply line.
//!
//! ```text
//! server → client, once:  HNSIM-ADAPTER\t1\tSERVER-DESCRIPTION\n
//! client → server:        OP\tID\tDOCUMENT\n
//! server → client:        OK\tJSON\n
//!                      |  ERR\t0x803B0013\tMESSAGE\tERRORRECORD\n
//! ```
//!
//! JSON fields (DOCUMENT, JSON, ERRORRECORD) travel as they are: a JSON text never needs a raw tab,
//! CR or LF (inside strings they must be escaped; outside they are mere whitespace, which a sender
//! replaces by a space). MESSAGE is free text and is escaped (`\\`, `\t`, `\n`, `\r`). This keeps
//! the Windows agent free of any JSON parser.

use crate::backend::{HcnCall, HcnOp};
use crate::hresult::{HResult, HcnError};

/// The first field of the hello line.
pub const HELLO_MAGIC: &str = "HNSIM-ADAPTER";
/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The hello line a server writes first (without its newline).
pub fn hello_line(server: &str) -> String {
    format!("{HELLO_MAGIC}\t{PROTOCOL_VERSION}\t{}", escape_text(server))
}

/// Check a hello line; returns the server's description.
pub fn parse_hello(line: &str) -> Result<String, String> {
    let mut f = line.splitn(3, '\t');
    let magic = f.next().unwrap_or("");
    if magic != HELLO_MAGIC {
        return Err(format!(
            "expected the hello line \"{HELLO_MAGIC}\\t{PROTOCOL_VERSION}\\t…\", found {:?} \
             (is the command an hnsim adapter server?)",
            truncate(line, 120)
        ));
    }
    let version = f.next().unwrap_or("");
    if version != PROTOCOL_VERSION.to_string() {
        return Err(format!(
            "server speaks protocol version {version:?}, this client speaks {PROTOCOL_VERSION}"
        ));
    }
    Ok(unescape_text(f.next().unwrap_or("")))
}

/// Escape free text so it holds no tab, CR or LF.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// Undo [`escape_text`]. An unknown escape is kept as written.
pub fn unescape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn has_frame_chars(s: &str) -> bool {
    s.contains(['\t', '\n', '\r'])
}

/// Make a JSON field safe for the frame. A valid JSON text only holds tab/CR/LF as whitespace,
/// so it is re-serialised compactly; anything else holding them cannot be carried.
pub fn frame_json(field: &str, what: &str) -> Result<String, String> {
    if !has_frame_chars(field) {
        return Ok(field.to_string());
    }
    match serde_json::from_str::<serde_json::Value>(field) {
        Ok(v) => Ok(v.to_string()),
        Err(e) => Err(format!(
            "the {what} holds a raw tab or newline and is not valid JSON ({e}); \
             the adapter protocol cannot carry it"
        )),
    }
}

/// Encode a request line (without its newline).
pub fn encode_request(call: &HcnCall) -> Result<String, String> {
    if has_frame_chars(&call.id) {
        return Err(format!("the object id {:?} holds a tab or newline", call.id));
    }
    let doc = frame_json(&call.document, "document")?;
    Ok(format!("{}\t{}\t{}", call.op, call.id, doc))
}

/// Decode a request line (without its newline).
pub fn decode_request(line: &str) -> Result<HcnCall, HcnError> {
    let mut f = line.splitn(3, '\t');
    let (Some(op), Some(id), Some(doc)) = (f.next(), f.next(), f.next()) else {
        return Err(HcnError::new(
            HResult::E_INVALIDARG,
            format!(
                "malformed request line: expected OP<tab>ID<tab>DOCUMENT, found {:?}",
                truncate(line, 120)
            ),
        ));
    };
    let op: HcnOp = op
        .parse()
        .map_err(|e: String| HcnError::new(HResult::E_NOTIMPL, e))?;
    Ok(HcnCall::new(op, id, doc))
}

/// An error reply's fields, as carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError {
    pub code: HResult,
    pub message: String,
    /// HNS's error record JSON (may be empty).
    pub record: String,
}

impl WireError {
    pub fn from_hcn(e: &HcnError) -> Self {
        WireError {
            code: e.code,
            message: e.message.clone(),
            record: e.error_record().to_string(),
        }
    }

    /// The error the client reports: HNS's message from the error record's `Error` when it has
    /// one (that is what HNS said), else the MESSAGE field.
    pub fn into_hcn(self) -> HcnError {
        let from_record = serde_json::from_str::<serde_json::Value>(&self.record)
            .ok()
            .and_then(|v| v.get("Error").and_then(|e| e.as_str()).map(str::to_string))
            .filter(|s| !s.is_empty());
        HcnError::new(self.code, from_record.unwrap_or(self.message))
    }
}

/// Encode a reply line (without its newline).
pub fn encode_reply(reply: &Result<String, HcnError>) -> String {
    match reply {
        Ok(json) => match frame_json(json, "reply") {
            Ok(j) => format!("OK\t{j}"),
            Err(msg) => encode_error(&WireError {
                code: super::E_UNEXPECTED,
                message: msg,
                record: String::new(),
            }),
        },
        Err(e) => encode_error(&WireError::from_hcn(e)),
    }
}

fn encode_error(e: &WireError) -> String {
    let record = frame_json(&e.record, "error record").unwrap_or_else(|_| escape_text(&e.record));
    format!("ERR\t0x{:08X}\t{}\t{}", e.code.0, escape_text(&e.message), record)
}

/// Decode a reply line (without its newline).
pub fn decode_reply(line: &str) -> Result<Result<String, WireError>, String> {
    if let Some(json) = line.strip_prefix("OK\t") {
        return Ok(Ok(json.to_string()));
    }
    if line == "OK" {
        return Ok(Ok(String::new()));
    }
    if let Some(rest) = line.strip_prefix("ERR\t") {
        let mut f = rest.splitn(3, '\t');
        let code = f.next().unwrap_or("");
        let hex = code
            .strip_prefix("0x")
            .or_else(|| code.strip_prefix("0X"))
            .ok_or_else(|| format!("error reply: expected an HRESULT like 0x803B0013, found {code:?}"))?;
        let code = u32::from_str_radix(hex, 16)
            .map_err(|_| format!("error reply: expected an HRESULT like 0x803B0013, found {code:?}"))?;
        let message = unescape_text(f.next().unwrap_or(""));
        let record = f.next().unwrap_or("").to_string();
        return Ok(Err(WireError {
            code: HResult(code),
            message,
            record,
        }));
    }
    Err(format!(
        "expected a reply line starting with OK<tab> or ERR<tab>, found {:?}",
        truncate(line, 120)
    ))
}

/// At most `n` characters of `s`, for messages.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{ObjectKind, Verb};

    #[test]
    fn text_escape_round_trips() {
        for s in ["", "plain", "a\tb\nc\rd\\e", "\\t literal", "trailing\\"] {
            let e = escape_text(s);
            assert!(!has_frame_chars(&e), "{e:?}");
            assert_eq!(unescape_text(&e), s);
        }
    }

    #[test]
    fn request_round_trips_and_compacts_pretty_json() {
        let call = HcnCall::new(
            HcnOp::Object(Verb::Create, ObjectKind::Network),
            "",
            "{\n\t\"Name\": \"a\\tb\"\n}",
        );
        let line = encode_request(&call).unwrap();
        assert_eq!(line, "HcnCreateNetwork\t\t{\"Name\":\"a\\tb\"}");
        let back = decode_request(&line).unwrap();
        assert_eq!(back.op, call.op);
        assert_eq!(back.document, "{\"Name\":\"a\\tb\"}");
        assert!(encode_request(&HcnCall::new(call.op, "", "{\"x\n")).is_err());
        assert!(encode_request(&HcnCall::new(call.op, "a\tb", "")).is_err());
    }

    #[test]
    fn error_reply_carries_code_message_and_record() {
        let e = HcnError::new(HResult::HCN_E_PORT_ALREADY_EXISTS, "port\t8080\nin use");
        let line = encode_reply(&Err(e.clone()));
        assert!(line.starts_with("ERR\t0x803B0013\tport\\t8080\\nin use\t{"));
        let back = decode_reply(&line).unwrap().unwrap_err();
        assert_eq!(back.code, HResult::HCN_E_PORT_ALREADY_EXISTS);
        assert_eq!(back.into_hcn(), e);
        assert_eq!(decode_reply("OK\t").unwrap(), Ok(String::new()));
        assert!(decode_reply("ERR\tnope\tx\t").is_err());
        assert!(decode_reply("hello").is_err());
    }

    #[test]
    fn hello_detects_wrong_child() {
        assert_eq!(parse_hello(&hello_line("x y")).unwrap(), "x y");
        assert!(parse_hello("SSH-2.0-OpenSSH").unwrap_err().contains("hello line"));
        assert!(parse_hello("HNSIM-ADAPTER\t9\tx")
            .unwrap_err()
            .contains("version"));
    }
}
