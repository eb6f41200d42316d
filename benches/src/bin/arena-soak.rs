//! `arena-soak`: a bounded soak test. A release server runs while waves of arena-bots
//! connect, play and leave (churn); after each wave the server's RSS is read from its
//! `/metrics`. Memory must stay flat: the run fails if the second half's peak exceeds
//! the first half's by more than the allowed growth.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use arena_bench::run::{RunConfig, run};
use arena_bench::scrape::scrape;
use arena_bench::target::resolve;
use clap::Parser;

/// Soak the server: waves of bots joining and leaving, RSS sampled after each.
#[derive(Debug, Parser)]
struct Args {
    /// Total length of the soak (at most 2 hours).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Bots in each wave.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// How long each wave plays before its bots leave.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    wave: Duration,
    /// Allowed growth of peak RSS from the first half to the second, in percent.
    #[arg(long, default_value_t = 10.0)]
    max_growth_percent: f64,
    /// Loopback port for the server.
    #[arg(long, default_value_t = 18081)]
    port: u16,
    /// Results file.
    #[arg(long, default_value = "bench-results/soak.json")]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.duration > Duration::from_secs(7200) || args.duration < args.wave * 2 {
        bail!("--duration must cover at least two waves and at most 2 hours");
    }
    rlimit::increase_nofile_limit(u64::MAX).context("cannot raise the open-file limit")?;
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("inside the workspace")?
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .current_dir(&workspace)
        .args(["build", "--release", "-p", "arena-server"])
        .status()
        .context("cannot run cargo")?;
    anyhow::ensure!(built.success(), "building arena-server failed");
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let mut server = Command::new(target_dir.join("release/arena-server"))
        .args(["--addr", &addr.to_string(), "--config"])
        .arg(workspace.join("assets/scenarios/arena-bench.toml"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start arena-server")?;
    let outcome = soak(&args, addr);
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    outcome
}

fn soak(args: &Args, addr: SocketAddr) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let started = Instant::now();
        let target = loop {
            if let Ok(target) = resolve(&format!("ws://{addr}/ws"), false).await
                && tokio::net::TcpStream::connect(addr).await.is_ok()
            {
                break target;
            }
            anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "the server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let http = reqwest::Client::new();
        let mut samples: Vec<(f64, f64)> = Vec::new();
        let mut wave = 0u64;
        while started.elapsed() + args.wave <= args.duration {
            wave += 1;
            let config = RunConfig {
                clients: args.clients,
                ramp: Duration::from_secs(2),
                duration: args.wave.saturating_sub(Duration::from_secs(2)),
                session: Some(format!("soak{}", wave % 3)),
                sessions: 1,
                move_every: Duration::from_millis(250),
                chat_every: None,
                seed: wave,
                progress: false,
                idle: false,
                bare: false,
                also: Vec::new(),
                allow_remote: false,
            };
            let report = run(&target, &config).await;
            let rss = scrape(&http, &target.metrics_url).await?.rss_bytes.unwrap_or(0.0) / (1024.0 * 1024.0);
            let at = started.elapsed().as_secs_f64();
            eprintln!(
                "soak: {at:>6.0} s  wave {wave:>3}  RSS {rss:>6.1} MiB  deltas/s {:.1}  failures {}  closes {}",
                report.deltas_per_client_s, report.connect_failures, report.unexpected_closes
            );
            anyhow::ensure!(report.connect_failures == 0 && report.unexpected_closes == 0, "wave {wave}: {report:?}");
            samples.push((at, rss));
        }
        let half = samples.len() / 2;
        let peak = |s: &[(f64, f64)]| s.iter().map(|(_, r)| *r).fold(0.0, f64::max);
        let (first, second) = (peak(&samples[..half.max(1)]), peak(&samples[half..]));
        let growth = (second - first) / first.max(1e-9) * 100.0;
        let json = serde_json::json!({
            "duration_s": started.elapsed().as_secs_f64(), "waves": wave, "clients_per_wave": args.clients,
            "rss_mb": samples, "first_half_peak_mb": first, "second_half_peak_mb": second, "growth_percent": growth,
        });
        if let Some(dir) = args.out.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&args.out, serde_json::to_string_pretty(&json)? + "\n")?;
        eprintln!("soak: peak RSS {first:.1} MiB in the first half, {second:.1} MiB in the second ({growth:+.1} %)");
        anyhow::ensure!(growth <= args.max_growth_percent, "memory grew {growth:.1} % over the soak");
        Ok(())
    })
}
