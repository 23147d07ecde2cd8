use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The HNS JSON document.
    pub file: PathBuf,
}

pub fn validate(_a: ValidateArgs) -> u8 {
    super::invalid("hns validate: not implemented yet")
}
