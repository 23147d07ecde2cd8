#[derive(clap::Args)]
pub struct ServeArgs {
    /// Speak the protocol on stdin/stdout.
    #[arg(long)]
    pub stdio: bool,
}

#[derive(clap::Args)]
pub struct ConformArgs {
    /// sim | exec:CMD | replay:FILE
    #[arg(long, default_value = "sim")]
    pub backend: String,
    #[arg(long, default_value = "text")]
    pub format: String,
}

pub fn serve(_a: ServeArgs) -> u8 {
    super::invalid("serve: not implemented yet")
}

pub fn conform(_a: ConformArgs) -> u8 {
    super::invalid("conform: not implemented yet")
}
