//! The scenario engine: the YAML format ([`format`]), parsing with located errors ([`parse`],
//! [`locate`]; [`yaml_subset`] reads plain YAML fast), semantic validation ([`validate`]), `${…}` expressions ([`interp`]), the runner
//! and the reports ([`report`]; [`html`] draws a run's topology and packet paths with
//! `crate::view`). The format is documented in docs/scenario-format.md.

pub mod doclint;
pub mod expect_lint;
pub mod followon;
pub mod format;
pub mod html;
pub mod interp;
pub mod locate;
pub mod parse;
pub mod report;
pub mod restore;
pub mod runner;
pub mod sanity;
pub mod synth;
pub mod topology;
pub mod validate;
pub mod yaml_subset;

pub use format::Scenario;
pub use parse::{parse_file, parse_str, Loaded, ScenarioError};
pub use runner::kubernetes;

/// Parse and validate scenario text: every error, in file order.
pub fn load_str(file: &str, text: &str) -> Result<Loaded, Vec<ScenarioError>> {
    let l = parse_str(file, text).map_err(|e| vec![e])?;
    validate::validate(&l)?;
    Ok(l)
}

/// Read, parse and validate one file.
pub fn load_file(path: &std::path::Path) -> Result<Loaded, Vec<ScenarioError>> {
    let l = parse_file(path).map_err(|e| vec![e])?;
    validate::validate(&l)?;
    Ok(l)
}
