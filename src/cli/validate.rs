//! `hnsim hns validate FILE`: read one HNS document or an array (v2, v1, or a v1 reply), print the
//! normal v2 form; exit 2 with file, JSON path, expected and found on a bad document.

use hnsim_model::document::{decode_any_value, encode_document};
use hnsim_sim::scenario::locate::Pos;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The HNS JSON document.
    pub file: PathBuf,
}

pub fn validate(a: ValidateArgs) -> u8 {
    let file = a.file.display();
    let bytes = match std::fs::read(&a.file) {
        Ok(b) => b,
        Err(e) => return super::invalid(format!("{file}: cannot read: {e}")),
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            return super::invalid(format!(
                "{file}:{}: expected UTF-8 JSON, found the invalid byte 0x{:02X} (offset {at})",
                Pos::of_offset(e.as_bytes(), at),
                e.as_bytes()[at]
            ));
        }
    };
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            // serde_json's message ends in "at line L column C"; lead with file:line:col.
            let msg = e.to_string();
            let msg = msg
                .rsplit_once(" at line ")
                .map(|(m, _)| m.to_string())
                .unwrap_or(msg);
            return super::invalid(format!(
                "{file}:{}:{}: malformed JSON: {msg}",
                e.line(),
                e.column()
            ));
        }
    };
    let docs = match decode_any_value(&value) {
        Ok(d) => d,
        Err(e) => return super::invalid(format!("{file}: {e}")),
    };
    let out = if docs.len() == 1 && !value.is_array() {
        encode_document(&docs[0])
    } else {
        serde_json::Value::Array(docs.iter().map(encode_document).collect())
    };
    match serde_json::to_string_pretty(&out) {
        Ok(s) => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{s}");
            0
        }
        Err(e) => super::invalid(format!("{file}: cannot print: {e}")),
    }
}
