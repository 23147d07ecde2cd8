#!/usr/bin/env bash
# Type-check the Windows agent (agent/src/main.rs) for x86_64-pc-windows-gnu with Debian's rustc
# and its Windows standard library. The agent is std-only Rust 2021 that compiles with rustc 1.63
# (bookworm ships 1.63), so this is exactly the compiler it promises to support.
# --emit=metadata stops before linking, so no MinGW linker or computenetwork.dll import library
# is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

RUSTC=/usr/bin/rustc
if [ ! -x "$RUSTC" ] || ! dpkg -s libstd-rust-dev-windows >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends rustc libstd-rust-dev-windows
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$RUSTC" --version
"$RUSTC" --edition 2021 --target x86_64-pc-windows-gnu --crate-type bin --crate-name hnsim_agent \
    --emit=metadata -D warnings -o "$out/hnsim_agent.rmeta" agent/src/main.rs
echo "agent type-checks for x86_64-pc-windows-gnu"
