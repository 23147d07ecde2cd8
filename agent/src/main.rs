//! hnsim-agent: serves the hnsim adapter line protocol (docs/adapter-protocol.md) on stdin/stdout
//! by calling the real Host Networking Service through computenetwork.dll.
//!
//! std only, Rust 2021, compiles with rustc 1.63 (CI type-checks it for x86_64-pc-windows-gnu
//! with Debian's rustc: .ci/windows-typecheck.sh). On other systems it only says it needs Windows.
//! Modules: `wire` (the frame, escapes, GUIDs — no Windows, tested everywhere) and `hcn` (the
//! computenetwork.dll calls, Windows only). Layers: docs/ARCHITECTURE.md.

mod wire;

#[cfg(windows)]
mod hcn;

#[cfg(windows)]
fn main() {
    std::process::exit(hcn::run());
}

#[cfg(not(windows))]
fn main() {
    eprintln!(
        "hnsim-agent needs Windows: it serves the hnsim adapter protocol by calling the Host \
         Networking Service (computenetwork.dll). Build it on a Windows host and run \
         `hnsim conform --backend exec:\"ssh HOST hnsim-agent.exe\"` from here."
    );
    std::process::exit(2);
}
