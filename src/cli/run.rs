use std::path::PathBuf;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Scenario files or folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value = "text")]
    pub format: String,
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub pcap: Option<PathBuf>,
    #[arg(long)]
    pub check_determinism: bool,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(clap::Args)]
pub struct TraceArgs {
    pub scenario: PathBuf,
    #[arg(long)]
    pub from: String,
    #[arg(long)]
    pub to: String,
    #[arg(long, default_value = "tcp")]
    pub proto: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(clap::Args)]
pub struct GraphArgs {
    pub scenario: PathBuf,
    #[arg(long, default_value = "dot")]
    pub format: String,
}

pub fn run(_a: RunArgs) -> u8 {
    super::invalid("run: not implemented yet")
}
pub fn check(_a: CheckArgs) -> u8 {
    super::invalid("check: not implemented yet")
}
pub fn trace(_a: TraceArgs) -> u8 {
    super::invalid("trace: not implemented yet")
}
pub fn graph(_a: GraphArgs) -> u8 {
    super::invalid("graph: not implemented yet")
}
