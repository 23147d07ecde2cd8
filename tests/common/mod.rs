//! What the command-line tests share: running the built `hnsim` binary.
#![allow(dead_code)] // each test crate uses a subset

use std::process::{Command, Output};

/// Run `hnsim ARGS…` from the repository root.
pub fn hnsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hnsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

/// Run `hnsim ARGS…`: exit code (-1 when killed by a signal), standard output, standard error.
pub fn hnsim_parts(args: &[&str]) -> (i32, String, String) {
    let o = hnsim(args);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
