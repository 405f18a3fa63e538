//! `blink`: the Blink command-line tool.
//!
//! Subcommands:
//! - `blink devnet`: brings up the local stack and writes its manifest.
//! - `blink bench`: a load generator for any Ethereum JSON-RPC endpoint (the Blink
//!   sequencer, anvil, ...). See `docs/bench.md`.
//! - `blink osp-coverage`: the fault-proof machine and `OneStepProver` against revm and
//!   each other, opcode × outcome, ending with the coverage line. See
//!   `docs/fault-proofs.md` 7.
//!
//! The binary is thin: it parses arguments, initialises tracing (`RUST_LOG`) and
//! dispatches to the subcommand's module.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod bench;
mod devnet;
mod osp_coverage;

use clap::{Parser, Subcommand};

/// Blink command-line tool.
#[derive(Debug, Parser)]
#[command(name = "blink", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bring up the local Blink stack and write its manifest.
    Devnet(devnet::DevnetArgs),
    /// Load-test an Ethereum JSON-RPC endpoint (Blink sequencer, anvil, ...).
    Bench(bench::BenchArgs),
    /// Check the fault-proof machine and `OneStepProver` against revm, opcode × outcome.
    OspCoverage(osp_coverage::OspCoverageArgs),
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Devnet(args) => devnet::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        // CPU-bound and alone in the process: running it on the runtime's thread is fine.
        Command::OspCoverage(args) => osp_coverage::run(args),
    }
}
