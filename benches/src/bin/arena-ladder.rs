//! `arena-ladder`: runs the server and arena-bots at growing client counts and charts it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use arena_bench::chart::draw;
use arena_bench::ladder::{LadderConfig, run_ladder};
use clap::Parser;

/// Run the load ladder on this machine: a fresh server per step, bots on loopback.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Client counts.
    #[arg(long, value_delimiter = ',', default_value = "100,250,500,1000")]
    steps: Vec<usize>,
    /// Ramp of each run.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    ramp: Duration,
    /// Measurement window of each run.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Results folder.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
    /// Loopback port for the server.
    #[arg(long, default_value_t = 18080)]
    port: u16,
    /// The server's scenario (relative to the workspace): the big world with interest
    /// management is `assets/scenarios/big-world.toml`.
    #[arg(long, default_value = "assets/scenarios/arena-bench.toml")]
    scenario: PathBuf,
    /// How often each bot turns to a new direction.
    #[arg(long, default_value = "250ms", value_parser = humantime::parse_duration)]
    move_every: Duration,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("arena-bench lives inside the workspace")?
        .to_path_buf();
    let out_dir = if args.out.is_absolute() {
        args.out.clone()
    } else {
        workspace.join(&args.out)
    };
    let config = LadderConfig {
        steps: args.steps,
        ramp: args.ramp,
        duration: args.duration,
        out_dir: out_dir.clone(),
        port: args.port,
        workspace,
        scenario: args.scenario,
        move_every: args.move_every,
    };
    let reports = run_ladder(&config)?;
    let chart = out_dir.join("ladder.svg");
    draw(&reports, &chart)?;
    eprintln!(
        "results: {}/clients-N.json, ladder.json; chart: {}",
        out_dir.display(),
        chart.display()
    );
    Ok(())
}
