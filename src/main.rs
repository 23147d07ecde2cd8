//! The `hnsim` command line. The contract (commands, flags, exit codes) is in docs/ARCHITECTURE.md
//! "The command line": 0 = success, 1 = expectations failed / packet dropped, 2 = invalid input.
//! One module per command family in `cli/`: `run` (run, check, trace, graph), `validate`
//! (hns validate), `adapter` (serve, conform), `bench`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cli;

#[derive(Parser)]
#[command(
    name = "hnsim",
    version,
    about = "Deterministic simulator and test harness for Windows container networking (HNS/HCN)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenario files or folders and check their expectations.
    Run(cli::run::RunArgs),
    /// Parse and validate scenarios without running them.
    Check(cli::run::CheckArgs),
    /// Set a scenario up, send one packet, print its hops.
    Trace(cli::run::TraceArgs),
    /// Print a scenario's topology as a graph.
    Graph(cli::run::GraphArgs),
    /// Every header class after a scenario's set-up: which (protocol, ports) get through.
    Reach(cli::reach::ReachArgs),
    /// What-if: the header classes whose outcome differs between two set-ups.
    Diff(cli::reach::DiffArgs),
    /// Work with HNS documents.
    Hns {
        #[command(subcommand)]
        command: HnsCommand,
    },
    /// Serve the adapter protocol from the model.
    Serve(cli::adapter::ServeArgs),
    /// Run the conformance suite against a backend.
    Conform(cli::adapter::ConformArgs),
    /// Check a node's HNS state (dump folder, dump files or scenario) for known problems.
    Doctor(cli::doctor::DoctorArgs),
    /// Offline work on a live node's dumps (import as a scenario, diff).
    Node {
        #[command(subcommand)]
        command: cli::node::NodeCommand,
    },
    /// Headline performance figures for this machine.
    Bench(cli::bench::BenchArgs),
    /// Kubernetes: what the node components would send to HNS.
    K8s {
        #[command(subcommand)]
        command: K8sCommand,
    },
    /// Work with run reports.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

#[derive(Subcommand)]
enum K8sCommand {
    /// Print, per Windows node, the HCN calls flannel, the CNI and kube-proxy would make, in order.
    Render(cli::k8s::RenderArgs),
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Merge JSON reports of `hnsim run --shard I/N` into one.
    Merge(cli::merge::MergeArgs),
}

#[derive(Subcommand)]
enum HnsCommand {
    /// Validate one HNS document (v2, v1, or a v1 reply) or an array of them; print the v2 form.
    Validate(cli::validate::ValidateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(a) => cli::run::run(a),
        Command::Check(a) => cli::run::check(a),
        Command::Trace(a) => cli::run::trace(a),
        Command::Graph(a) => cli::run::graph(a),
        Command::Reach(a) => cli::reach::reach(a),
        Command::Diff(a) => cli::reach::diff(a),
        Command::Hns {
            command: HnsCommand::Validate(a),
        } => cli::validate::validate(a),
        Command::Serve(a) => cli::adapter::serve(a),
        Command::Conform(a) => cli::adapter::conform(a),
        Command::Bench(a) => cli::bench::bench(a),
        Command::Node { command } => cli::node::run(command),
        Command::Doctor(a) => cli::doctor::doctor(a),
        Command::K8s {
            command: K8sCommand::Render(a),
        } => cli::k8s::render(a),
        Command::Report {
            command: ReportCommand::Merge(a),
        } => cli::merge::merge(a),
    };
    ExitCode::from(code)
}
