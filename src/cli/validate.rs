//! `hnsim hns validate FILE`: read one HNS document or an array (v2, v1, or a v1 reply), run the
//! create-time checks HNS makes, warn about keys HNS ignores, print the normal v2 form. Exit 2
//! with file, JSON path (or line and column), the HRESULT a create would return, expected and
//! found (docs/inputs.md).

use super::input;
use hnsim_model::state::lint::check_text;
use hnsim_model::state::HostSettings;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The HNS JSON document (`-` reads standard input). UTF-8, or UTF-16 with a byte-order mark.
    pub file: PathBuf,
    /// Treat warnings (keys HNS does not define, which it ignores) as errors.
    #[arg(long)]
    pub strict: bool,
}

pub fn validate(a: ValidateArgs) -> u8 {
    let (name, text) = match input::read(&a.file) {
        Ok(x) => x,
        Err(msg) => return super::invalid(msg),
    };
    let (out, problems) = match check_text(&text, &HostSettings::default()) {
        Ok(x) => x,
        Err(msg) => return super::invalid(format!("{name}{msg}")),
    };
    let mut errors = 0;
    for p in &problems {
        if p.is_warning() && !a.strict {
            eprintln!("warning: {name}: {p}");
        } else {
            errors += 1;
            eprintln!("error: {name}: {p}");
        }
    }
    if errors > 0 {
        eprintln!("{name}: {errors} error(s); HNS would reject this document");
        return 2;
    }
    match serde_json::to_string_pretty(&out) {
        Ok(s) => super::out::finish(super::out::println(&s), 0),
        Err(e) => super::invalid(format!("{name}: cannot print: {e}")),
    }
}
