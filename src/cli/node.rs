//! `hnsim node import PATH…` (a node dump → a scenario) and `hnsim node diff A B`, and the
//! input reading `hnsim doctor` shares (docs/reference/node-dumps.md).

use hnsim_model::dump::{read_files, InputFile, NodeDump};
use hnsim_sim::scenario::restore::{scenario_from_dump, NodeFacts};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum NodeCommand {
    /// Read a collectlogs.ps1 folder or HNS dump files; write a scenario holding that state.
    Import(ImportArgs),
    /// Compare two HNS states (dump folders, files or scenarios): what one holds that the other
    /// does not, flags that differ, remote endpoints on a different PA. Exit 1 when they differ.
    Diff(super::doctor::DiffArgs),
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// Dump folders and files (any mix).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write the scenario here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The host's name in the scenario.
    #[arg(long, default_value = "node")]
    pub name: String,
    /// The node's underlay address (default: the dump's ManagementIP / ProviderAddress, else 10.0.0.4).
    #[arg(long)]
    pub node_ip: Option<std::net::IpAddr>,
    /// The node's uplink MAC (default: chosen by the simulator).
    #[arg(long)]
    pub node_mac: Option<hnsim_model::Mac>,
    /// The underlay segment (default: the node IP's /24).
    #[arg(long)]
    pub underlay: Option<ipnet::IpNet>,
    /// The node's default gateway on the underlay.
    #[arg(long)]
    pub gateway: Option<std::net::IpAddr>,
}

pub fn run(c: NodeCommand) -> u8 {
    match c {
        NodeCommand::Import(a) => import(a),
        NodeCommand::Diff(a) => super::doctor::diff(a),
    }
}

/// Files bigger than this are not read. Larger than the cap on other inputs
/// (`hnsim_model::text::MAX_INPUT_BYTES`): a node dump is pretty-printed UTF-16, twice the bytes
/// of its text, and a 20,000-endpoint node's endpoint.txt alone passes 30 MiB.
const MAX_FILE: u64 = 256 << 20;

/// Every file under `paths` (folders walked in name order), with its bytes. A path that does not
/// exist is an error; an unreadable or oversized file is skipped with a message.
pub fn read_inputs(paths: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            walk(p, &mut files)?;
        } else {
            files.push(p.clone());
        }
    }
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let name = f.display().to_string();
        match read_capped(&f) {
            Ok(b) => out.push((name, b)),
            Err(e) => eprintln!("warning: {name}: {e}; skipped"),
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if hnsim_model::text::is_regular_file(&p) {
            out.push(p);
        }
    }
    Ok(())
}

fn read_capped(p: &Path) -> Result<Vec<u8>, String> {
    let f = std::fs::File::open(p).map_err(|e| e.to_string())?;
    let mut b = Vec::new();
    f.take(MAX_FILE + 1)
        .read_to_end(&mut b)
        .map_err(|e| e.to_string())?;
    if b.len() as u64 > MAX_FILE {
        return Err(format!("larger than {} MiB", MAX_FILE >> 20));
    }
    Ok(b)
}

/// Read dump paths into one node; `Err` (exit code 2) when a path is missing or nothing in them
/// is an HNS object. The reader's notes go to standard error.
pub fn load_dump(paths: &[PathBuf]) -> Result<NodeDump, u8> {
    let files = read_inputs(paths).map_err(super::invalid)?;
    let inputs: Vec<InputFile<'_>> = files
        .iter()
        .map(|(n, b)| InputFile { name: n, bytes: b })
        .collect();
    let dump = read_files(&inputs);
    for n in &dump.notes {
        eprintln!("{n}");
    }
    if dump.docs.is_empty() {
        return Err(super::invalid(format!(
            "no HNS objects in {} (expected ConvertTo-Json output of Get-HnsNetwork / \
             Get-HnsEndpoint / Get-HnsLoadBalancer / Get-HnsNamespace, or a collectlogs.ps1 folder)",
            describe(paths)
        )));
    }
    Ok(dump)
}

pub fn describe(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn import(a: ImportArgs) -> u8 {
    let dump = match load_dump(&a.paths) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let facts = NodeFacts {
        name: Some(a.name.clone()),
        ip: a.node_ip,
        mac: a.node_mac,
        underlay: a.underlay,
        gateway: a.gateway,
    };
    let text = match scenario_from_dump(&dump, &facts, &describe(&a.paths)) {
        Ok(t) => t,
        Err(e) => return super::invalid(e),
    };
    match &a.out {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &text) {
                return super::invalid(format!("{}: {e}", p.display()));
            }
            eprintln!("wrote {} ({} objects)", p.display(), dump.docs.len());
        }
        None => print!("{text}"),
    }
    0
}
