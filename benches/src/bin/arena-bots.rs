//! `arena-bots`: connects N headless players to an Arena server and measures it.

use std::time::Duration;

use anyhow::{Context, bail};
use arena_bench::run::{RunConfig, run};
use arena_bench::target::resolve;
use clap::Parser;

/// Load-test an Arena server with headless bot players.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The server's WebSocket endpoint. Repeat it for a cluster's nodes: bots are
    /// spread over them, move to the next when one fails, and follow redirects (close
    /// 4007) to the node that owns their session. `/metrics` is read from the first.
    #[arg(long = "url", default_value = "ws://127.0.0.1:8080/ws")]
    urls: Vec<String>,
    /// Bots to connect (at most 15000).
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Time over which the bots connect.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    ramp: Duration,
    /// Measurement window after the ramp (at most 1 hour).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Session code the bots join (empty: the default session); with `--sessions`, the
    /// stem of the codes.
    #[arg(long, default_value = "bench")]
    session: String,
    /// Spread the bots over this many sessions, `bench-0` ... `bench-K-1` (bot i joins
    /// `bench-(i mod K)`).
    #[arg(long, default_value_t = 1)]
    sessions: usize,
    /// How often each bot turns to a new random direction (one turn in ten is a stop).
    #[arg(long, default_value = "250ms", value_parser = humantime::parse_duration)]
    move_every: Duration,
    /// Have each bot say a chat line this often (by default bots never chat).
    #[arg(long, value_parser = humantime::parse_duration)]
    chat_every: Option<Duration>,
    /// Worker threads for the bots. They share the machine with the server; two keep
    /// the bots' own reading from adding to the latency they measure.
    #[arg(long, default_value_t = 2)]
    threads: usize,

    /// Seed of the bots' random directions.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Connect and hold the connections without joining (run the server with a long
    /// `limits.hello_timeout_s`): reports what idle connections cost the server.
    #[arg(long)]
    idle: bool,
    /// After the Welcome, read the stream and throw it away without parsing it (moves
    /// are still sent): what the same bytes cost a reader that does nothing, the floor
    /// the bots' own cost is measured against. Reports no deltas or latency.
    #[arg(long)]
    bare: bool,
    /// Print one final JSON line on stdout.
    #[arg(long)]
    json: bool,
    /// Allow a target that is not a loopback address.
    #[arg(long)]
    allow_remote: bool,
}

const MAX_CLIENTS: usize = 15_000;
const MAX_DURATION: Duration = Duration::from_secs(3600);

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.clients == 0 || args.clients > MAX_CLIENTS {
        bail!("--clients must be 1 to {MAX_CLIENTS}");
    }
    if args.duration.is_zero() || args.duration > MAX_DURATION || args.ramp > MAX_DURATION {
        bail!("--duration must be more than zero and, like --ramp, at most an hour");
    }
    if args.move_every < Duration::from_millis(10) {
        bail!("--move-every must be at least 10ms");
    }
    // Each bot is a socket; the default soft limit of 1024 would cap the run.
    rlimit::increase_nofile_limit(u64::MAX).context("cannot raise the open-file limit")?;
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    }
    .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let mut targets = Vec::with_capacity(args.urls.len());
        for url in &args.urls {
            targets.push(resolve(url, args.allow_remote).await?);
        }
        let target = targets.remove(0);
        let config = RunConfig {
            clients: args.clients,
            ramp: args.ramp,
            duration: args.duration,
            session: (!args.session.is_empty()).then(|| args.session.clone()),
            sessions: args.sessions.max(1),
            move_every: args.move_every,
            chat_every: args.chat_every,
            seed: args.seed,
            progress: !args.json,
            idle: args.idle,
            bare: args.bare,
            also: targets,
            allow_remote: args.allow_remote,
        };
        let report = run(&target, &config).await;
        eprint!("{}", report.table());
        if args.json {
            println!("{}", report.json());
        }
        Ok(())
    })
}
