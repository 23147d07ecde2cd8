#[derive(clap::Args)]
pub struct BenchArgs {
    #[arg(long)]
    pub quick: bool,
    #[arg(long, default_value = "text")]
    pub format: String,
}

pub fn bench(_a: BenchArgs) -> u8 {
    super::invalid("bench: not implemented yet")
}
