//! The `arena-server` binary: command line, logging, signals.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use arena_server::cluster::{ClusterConfig, PublicUrl};
use arena_server::{Server, Tunables};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Arena: an authoritative multiplayer game state server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// What to do instead of serving.
    #[command(subcommand)]
    command: Option<Tool>,
    /// Address to listen on.
    #[arg(long, env = "ARENA_ADDR", default_value = "0.0.0.0:8080")]
    addr: SocketAddr,
    /// A TOML file merged over the built-in tunables (see assets/arena.toml).
    #[arg(long, env = "ARENA_CONFIG")]
    config: Option<PathBuf>,
    /// Simulation ticks per second.
    #[arg(long, env = "ARENA_TICK_HZ")]
    tick_hz: Option<u16>,
    /// Deltas per second (must divide the tick rate); default: one every tick.
    #[arg(long, env = "ARENA_SEND_HZ")]
    send_hz: Option<u16>,
    /// Players allowed in one session.
    #[arg(long, env = "ARENA_MAX_PLAYERS")]
    max_players: Option<u32>,
    /// NPC balls per session.
    #[arg(long, env = "ARENA_BALLS")]
    balls: Option<u32>,
    /// Seed of the per-session random numbers.
    #[arg(long, env = "ARENA_SEED")]
    seed: Option<u64>,
    /// Threads for socket I/O (the tick workers have their own); default: one per core.
    #[arg(long, env = "ARENA_IO_THREADS")]
    io_threads: Option<usize>,
    /// Tick workers: threads that each step their own sessions (and help send a big
    /// session's deltas); default: one per core.
    #[arg(long, env = "ARENA_TICK_THREADS")]
    tick_threads: Option<usize>,
    /// Where round results are kept (an SQLite database, for the leaderboard); an empty
    /// value keeps nothing.
    #[arg(long, env = "ARENA_DATA_DIR", default_value = "./arena-data")]
    data_dir: String,
    /// Keep no round results (the same as an empty `--data-dir`).
    #[arg(long, env = "ARENA_NO_RESULTS")]
    no_results: bool,
    /// The operator's token for the live page `/admin` (typed into its login form,
    /// never put in a URL); without one the page is off.
    #[arg(long, env = "ARENA_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Join a cluster whose directory is this Redis (`redis://HOST:PORT`): a join on
    /// any node lands on its session's owner, and a node's sessions survive its death.
    /// Without it the server runs alone and needs no Redis.
    #[arg(long, env = "ARENA_CLUSTER")]
    cluster: Option<String>,
    /// Cluster mode: where clients reach this node (`http://HOST:PORT`); default: the
    /// `--addr` it listens on, which must then be a specific address.
    #[arg(long, env = "ARENA_PUBLIC_URL")]
    public_url: Option<String>,
    /// Also serve `/echo`, which sends every WebSocket message back: for the Autobahn
    /// conformance suite (benches/autobahn/run.sh), not for production.
    #[arg(long, env = "ARENA_ECHO")]
    echo: bool,
}

/// The binary's other jobs.
#[derive(Debug, clap::Subcommand)]
enum Tool {
    /// Reads a replay file (from the data directory's replays/ folder): what round it
    /// is, and with `--verify` re-plays it and checks the state recorded every second.
    Replay {
        /// The file.
        file: PathBuf,
        /// Re-play the round and check it against its recorded state hashes; exits
        /// with 1 at the first second that differs.
        #[arg(long)]
        verify: bool,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if let Some(Tool::Replay { file, verify }) = &args.command {
        return replay(file, *verify);
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.io_threads {
        runtime.worker_threads(threads.max(1));
    }
    let runtime = runtime
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let tunables = tunables(&args)?;
    // Each client is a socket: lift the soft open-file limit (often 1024) to the hard one.
    if let Err(err) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(%err, "cannot raise the open-file limit");
    }

    let tick_threads = args
        .tick_threads
        .unwrap_or_else(arena_server::server::default_tick_threads);
    let server = Server::bind(args.addr, tunables.clone())
        .await?
        .with_echo(args.echo)
        .with_tick_threads(tick_threads)
        .with_data_dir(
            Some(PathBuf::from(&args.data_dir))
                .filter(|dir| !args.no_results && !dir.as_os_str().is_empty()),
        )
        .with_admin_token(args.admin_token.clone());
    let addr = server.local_addr()?;
    let cluster = match &args.cluster {
        Some(redis_url) => Some(ClusterConfig {
            redis_url: redis_url.clone(),
            public_url: public_url(args.public_url.as_deref(), addr)?,
        }),
        None => None,
    };
    let server = server.with_cluster(cluster.clone());
    let shown = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    tracing::info!(
        tick_hz = tunables.tick_hz,
        send_hz = tunables.send_hz(),
        balls = tunables.balls.count,
        max_players = tunables.players.max_per_session,
        tick_threads,
        "Arena is listening on {addr}"
    );
    println!("Arena is running: open http://{shown}/ to play");
    println!(
        "  WebSocket ws://{shown}/ws (subprotocol {}), health http://{shown}/healthz, metrics http://{shown}/metrics",
        arena_shared::limits::SUBPROTOCOL
    );

    if let Some(cluster) = &cluster {
        println!(
            "  cluster node: public URL {}, directory {}",
            cluster.public_url.origin, cluster.redis_url
        );
    }
    if let Some(lan) = server.lan_url() {
        println!("  phones on this network: open {lan}/controller to steer a player");
    }
    server.run(shutdown_signal()).await?;

    tracing::info!("stopped");
    Ok(())
}

/// `arena-server replay FILE [--verify]`.
fn replay(path: &std::path::Path, verify: bool) -> anyhow::Result<()> {
    use arena_server::replay::{ReplayFile, Verdict};
    let file = ReplayFile::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let recording = &file.recording;
    println!(
        "session {} round {}: ticks {} to {}, {} ticks with inputs, {} state hashes",
        file.session,
        file.round,
        recording.keyframe.tick,
        recording.end_tick,
        recording.ticks.len(),
        recording.hashes.len()
    );
    for (name, points) in &file.scores {
        println!("  {points:>4}  {name}");
    }
    if !verify {
        return Ok(());
    }
    match file.verify()? {
        Verdict::Same { seconds, ticks } => {
            println!(
                "verified: {ticks} ticks re-played, the state matched at all {seconds} seconds"
            );
            Ok(())
        }
        Verdict::Diverged { second, tick } => {
            anyhow::bail!("the re-play diverges at second {second} of the round (tick {tick})")
        }
    }
}

/// A cluster node's public URL: `--public-url`, or the address it listens on.
fn public_url(given: Option<&str>, addr: SocketAddr) -> anyhow::Result<PublicUrl> {
    if let Some(url) = given {
        return Ok(PublicUrl::parse(url)?);
    }
    if addr.ip().is_unspecified() {
        anyhow::bail!(
            "--addr {addr} listens on every interface, which is no address another node or a \
             client can reach: give this node's address with --public-url http://HOST:{}",
            addr.port()
        );
    }
    Ok(PublicUrl::parse(&format!("http://{addr}"))?)
}

fn tunables(args: &Args) -> anyhow::Result<Tunables> {
    let mut tunables = match &args.config {
        Some(path) => Tunables::load(path)?,
        None => Tunables::builtin().context("the built-in tunables are broken")?,
    };
    if let Some(hz) = args.tick_hz {
        tunables.tick_hz = hz;
    }
    if let Some(hz) = args.send_hz {
        tunables.network.send_hz = Some(hz);
    }
    if let Some(max) = args.max_players {
        tunables.players.max_per_session = max;
    }
    if let Some(balls) = args.balls {
        tunables.balls.count = balls;
    }
    if let Some(seed) = args.seed {
        tunables.seed = seed;
    }
    tunables.validate()?;
    Ok(tunables)
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
