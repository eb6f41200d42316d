//! The load ladder: for each client count, a fresh release server with a scenario (the
//! benchmark scenario by default; `--scenario assets/scenarios/big-world.toml` for
//! the big world) and a separate `arena-bots` process (so that the server's CPU is its own),
//! results written as JSON, then one chart of them all.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::report::Report;

/// What the ladder runs.
#[derive(Debug, Clone)]
pub struct LadderConfig {
    /// Client counts, in order.
    pub steps: Vec<usize>,
    /// Each run's ramp.
    pub ramp: Duration,
    /// Each run's measurement window.
    pub duration: Duration,
    /// Where results go.
    pub out_dir: PathBuf,
    /// The loopback port the server listens on.
    pub port: u16,
    /// The workspace root (for the scenario file and the build).
    pub workspace: PathBuf,
    /// The server's scenario file, relative to the workspace or absolute.
    pub scenario: PathBuf,
    /// How often each bot turns.
    pub move_every: Duration,
}

/// Why the ladder stopped.
#[derive(Debug, thiserror::Error)]
pub enum LadderError {
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// `cargo build --release` failed.
    #[error("building the release binaries failed ({0})")]
    Build(std::process::ExitStatus),
    /// The server never accepted connections.
    #[error(
        "the server did not start listening on {0} within 30 s (see its log in the results folder)"
    )]
    ServerDidNotStart(SocketAddr),
    /// arena-bots failed or printed no report.
    #[error("arena-bots with {clients} clients failed: {detail}")]
    Bots {
        /// The step.
        clients: usize,
        /// What went wrong.
        detail: String,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> LadderError {
    let context = context.into();
    move |source| LadderError::Io { context, source }
}

/// Builds the binaries, runs every step, and writes `clients-N.json` and `ladder.json`.
pub fn run_ladder(config: &LadderConfig) -> Result<Vec<Report>, LadderError> {
    std::fs::create_dir_all(&config.out_dir)
        .map_err(io(format!("cannot create {}", config.out_dir.display())))?;
    let bin_dir = build(&config.workspace)?;
    let mut reports = Vec::new();
    for &clients in &config.steps {
        eprintln!("ladder: {clients} clients");
        let report = run_step(config, &bin_dir, clients)?;
        eprint!("{}", report.table());
        let path = config.out_dir.join(format!("clients-{clients}.json"));
        std::fs::write(&path, report.json() + "\n")
            .map_err(io(format!("cannot write {}", path.display())))?;
        reports.push(report);
    }
    let all = serde_json::to_string_pretty(&reports).unwrap_or_default();
    let path = config.out_dir.join("ladder.json");
    std::fs::write(&path, all + "\n").map_err(io(format!("cannot write {}", path.display())))?;
    Ok(reports)
}

/// `cargo build --release` of the server and the bots; returns their folder.
fn build(workspace: &Path) -> Result<PathBuf, LadderError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "-p",
            "arena-server",
            "-p",
            "arena-bench",
            "--bins",
        ])
        .status()
        .map_err(io("cannot run cargo"))?;
    if !status.success() {
        return Err(LadderError::Build(status));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    Ok(target.join("release"))
}

fn run_step(config: &LadderConfig, bin_dir: &Path, clients: usize) -> Result<Report, LadderError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], config.port));
    let log_path = config.out_dir.join(format!("server-{clients}.log"));
    let log = std::fs::File::create(&log_path)
        .map_err(io(format!("cannot create {}", log_path.display())))?;
    let log_err = log.try_clone().map_err(io("cannot share the server log"))?;
    let scenario = config.workspace.join(&config.scenario);
    let server = Command::new(bin_dir.join("arena-server"))
        .args(["--addr", &addr.to_string(), "--config"])
        .arg(&scenario)
        .env("RUST_LOG", "warn")
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(io("cannot start arena-server"))?;
    let mut server = KillOnDrop(server);
    wait_for_listener(addr)?;

    let mut bots = Command::new(bin_dir.join("arena-bots"))
        .args([
            "--url",
            &format!("ws://{addr}/ws"),
            "--clients",
            &clients.to_string(),
        ])
        .args([
            "--ramp",
            &humantime::format_duration(config.ramp).to_string(),
        ])
        .args([
            "--duration",
            &humantime::format_duration(config.duration).to_string(),
        ])
        .args([
            "--move-every",
            &humantime::format_duration(config.move_every).to_string(),
        ])
        .args(["--session", "bench", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(io("cannot start arena-bots"))?;
    let mut stdout = String::new();
    if let Some(mut out) = bots.stdout.take() {
        out.read_to_string(&mut stdout)
            .map_err(io("cannot read arena-bots' output"))?;
    }
    let status = bots.wait().map_err(io("arena-bots did not finish"))?;
    stop(&mut server.0);
    if !status.success() {
        return Err(LadderError::Bots {
            clients,
            detail: format!("exit status {status}"),
        });
    }
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|err| LadderError::Bots {
        clients,
        detail: format!("unreadable report {line:?}: {err}"),
    })
}

fn wait_for_listener(addr: SocketAddr) -> Result<(), LadderError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(LadderError::ServerDidNotStart(addr))
}

/// Stops the server like an operator would (SIGTERM: it closes every socket with 1001),
/// and kills it if it has not exited after a few seconds.
fn stop(server: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(8);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = server.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// A server process that cannot outlive the ladder, even when a step fails.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
