//! `hnsim serve --stdio` and `hnsim conform` (docs/adapter-protocol.md).

use hnsim_model::adapter::{self, ExecOptions, OpenOptions, Recorder};
use hnsim_model::backend::HnsBackend;
use hnsim_model::conform::{self, SuiteOptions};
use hnsim_model::state::{Hns, HostSettings};
use std::path::Path;
use std::time::Duration;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Speak the protocol on stdin/stdout (the only transport).
    #[arg(long)]
    pub stdio: bool,
    /// Seed of the model's RNG (GUIDs, MACs, allocated addresses).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(clap::Args)]
pub struct ConformArgs {
    /// sim | exec:CMD | replay:FILE | record:FILE:SPEC
    #[arg(long, default_value = "sim")]
    pub backend: String,
    /// text | junit
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Also write a transcript of every call and answer to FILE (replay it with replay:FILE).
    #[arg(long, value_name = "FILE")]
    pub record: Option<String>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
    /// Seconds to wait for one line from an exec: backend, the first (`hello`) line included
    /// [default: 5 per reply, 20 for the first line].
    #[arg(long)]
    pub timeout: Option<f64>,
    /// Prefix of every object name the suite creates.
    #[arg(long, default_value = "hnsim-conform")]
    pub tag: String,
    /// Only run cases whose name contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// Seed of the model when the backend is sim.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The in-process model as a backend (default host settings).
pub fn sim_backend(seed: u64) -> Box<dyn HnsBackend> {
    Box::new(Hns::new(HostSettings::default(), seed))
}

pub fn serve(a: ServeArgs) -> u8 {
    if !a.stdio {
        return super::invalid("serve: only --stdio is supported");
    }
    let mut backend = sim_backend(a.seed);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    match adapter::serve(stdin.lock(), stdout.lock(), &mut backend) {
        Ok(_) => 0,
        // The client hung up mid-reply: nothing more to say to it.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: serve: {e}");
            1
        }
    }
}

pub fn conform(a: ConformArgs) -> u8 {
    let junit = match a.format.as_str() {
        "text" => false,
        "junit" => true,
        other => return super::invalid(format!("--format: expected text or junit, found {other:?}")),
    };
    let exec = match a.timeout {
        None => ExecOptions::default(),
        Some(t) if t.is_finite() && t > 0.0 && t <= 86_400.0 => ExecOptions {
            call_timeout: Duration::from_secs_f64(t),
            // Given explicitly, the limit holds for the first line too: a backend that never
            // says hello fails after --timeout, not after the default 20 s.
            hello_timeout: Duration::from_secs_f64(t),
        },
        Some(t) => {
            return super::invalid(format!(
                "--timeout: expected a number of seconds above 0 and at most 86400, found {t}"
            ))
        }
    };
    let options = OpenOptions { exec };
    let seed = a.seed;
    let backend = match adapter::open_backend_with(&a.backend, &options, || sim_backend(seed)) {
        Ok(b) => b,
        Err(e) => return super::invalid(format!("--backend: {e}")),
    };
    let mut backend: Box<dyn HnsBackend> = match &a.record {
        None => backend,
        Some(file) => match Recorder::create(Path::new(file), backend) {
            Ok(r) => Box::new(r),
            Err(e) => return super::invalid(format!("--record: {e}")),
        },
    };
    let suite = SuiteOptions {
        tag: a.tag,
        filter: a.filter,
    };
    let report = conform::run(&mut backend, &suite);
    drop(backend);
    let text = if junit {
        report.to_junit()
    } else {
        report.to_text()
    };
    let written = match &a.out {
        Some(file) => std::fs::write(file, &text).map_err(|e| super::invalid(format!("--out {file}: {e}"))),
        None => super::out::print(&text),
    };
    if let Err(code) = written {
        return code;
    }
    if let Some(why) = &report.aborted {
        eprintln!("error: the run was aborted: {why}");
    }
    if report.passed() {
        0
    } else {
        1
    }
}
