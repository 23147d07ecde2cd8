//! Reading a named input for a command: a file (UTF-8 with or without BOM, or UTF-16 with BOM,
//! at most `hnsim_model::text::MAX_INPUT_BYTES`), or standard input for `-`.

use hnsim_model::text::{read_text, read_text_file, ReadError, MAX_INPUT_BYTES};
use std::path::Path;

/// The name used in messages for standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// Whether a path argument means standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Read `path` (or standard input for `-`): its display name and text, or a located message.
pub fn read(path: &Path) -> Result<(String, String), String> {
    let (name, r) = if is_stdin(path) {
        (
            STDIN_NAME.to_string(),
            read_text(std::io::stdin().lock(), MAX_INPUT_BYTES),
        )
    } else {
        (path.display().to_string(), read_text_file(path, MAX_INPUT_BYTES))
    };
    r.map(|t| (name.clone(), t)).map_err(|e| located(&name, &e))
}

/// `file:line:col: message`, or `file: message` when the error has no position.
pub fn located(name: &str, e: &ReadError) -> String {
    match e.position() {
        Some((l, c)) => format!("{name}:{l}:{c}: {e}"),
        None => format!("{name}: {e}"),
    }
}
