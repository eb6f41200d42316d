//! The server as a value: bind, run until a shutdown future completes, stop cleanly.
//!
//! Shutdown is passed in, so the binary passes Ctrl-C/SIGTERM and tests pass their own.
//! Stopping goes: stop accepting, every socket gets close 1001, connections get a
//! bounded time to finish, then the tick workers stop.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::{Cluster, ClusterConfig};
use crate::config::Tunables;
use crate::handover::Notes;
use crate::net::{Admin, AppState, Site, router};
use crate::results::Results;
use crate::stats::Stats;
use crate::worker::TickWorkers;

/// Pending connections the kernel holds for us: tokio's default of 1024 overflows
/// when a thousand bots connect at once.
const LISTEN_BACKLOG: u32 = 4096;

/// How long connections get to close after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding the address, starting the tick workers, or serving failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServerError {
    let context = context.into();
    move |source| ServerError::Io { context, source }
}

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    tunables: Tunables,
    stats: Arc<Stats>,
    echo: bool,
    tick_threads: usize,
    /// Where round results are kept (none: not kept).
    data_dir: Option<PathBuf>,
    /// The operator's token for `/admin` (none: the page is off).
    admin_token: Option<String>,
    /// Cluster mode's Redis and public URL (none: a single server).
    cluster: Option<ClusterConfig>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr, tunables: Tunables) -> Result<Server, ServerError> {
        let context = format!("cannot listen on {addr}");
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(io(&context))?;
        socket.set_reuseaddr(true).map_err(io(&context))?;
        socket.bind(addr).map_err(io(&context))?;
        let listener = socket.listen(LISTEN_BACKLOG).map_err(io(&context))?;
        // Before any metric handle is taken, or they would record nowhere.
        crate::telemetry::telemetry();
        Ok(Server {
            listener,
            tunables,
            stats: Arc::default(),
            echo: false,
            tick_threads: default_tick_threads(),
            data_dir: None,
            admin_token: None,
            cluster: None,
        })
    }

    /// Serves `/echo` too, for the WebSocket conformance suite.
    pub fn with_echo(mut self, echo: bool) -> Server {
        self.echo = echo;
        self
    }

    /// Runs `threads` tick workers (at least one); the default is one per core.
    pub fn with_tick_threads(mut self, threads: usize) -> Server {
        self.tick_threads = threads.max(1);
        self
    }

    /// Keeps every finished round in a database in `dir` (made if missing), for the
    /// leaderboard; `None` (the default) keeps nothing.
    pub fn with_data_dir(mut self, dir: Option<PathBuf>) -> Server {
        self.data_dir = dir;
        self
    }

    /// Turns `/admin` on, for whoever logs in with `token`; `None` (the default) or an
    /// empty token keeps it off.
    pub fn with_admin_token(mut self, token: Option<String>) -> Server {
        self.admin_token = token;
        self
    }

    /// Makes this server a node of the cluster `config` names; `None` (the default)
    /// keeps it alone.
    pub fn with_cluster(mut self, config: Option<ClusterConfig>) -> Server {
        self.cluster = config;
        self
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener
            .local_addr()
            .map_err(io("cannot read the bound address"))
    }

    /// Where phones on the local network can reach this server (`http://IP:PORT`), if
    /// it listens beyond loopback and the machine has a LAN address.
    pub fn lan_url(&self) -> Option<String> {
        let addr = self.listener.local_addr().ok()?;
        let ip = if addr.ip().is_unspecified() {
            local_ip_address::local_ip().ok()?
        } else if addr.ip().is_loopback() {
            return None;
        } else {
            addr.ip()
        };
        Some(match ip {
            std::net::IpAddr::V4(v4) => format!("http://{v4}:{}", addr.port()),
            std::net::IpAddr::V6(v6) => format!("http://[{v6}]:{}", addr.port()),
        })
    }

    /// The server's live counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Serves until `shutdown` completes, then closes every connection and stops.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let lan_url = self.lan_url();
        let Server {
            listener,
            tunables,
            stats,
            echo,
            tick_threads,
            data_dir,
            admin_token,
            cluster,
        } = self;
        let replays = crate::replay::Keep {
            bytes: u64::from(tunables.replays.keep_mb) * 1024 * 1024,
            files: tunables.replays.keep_files as usize,
        };
        let results =
            tokio::task::spawn_blocking(move || Results::open(data_dir.as_deref(), replays))
                .await
                .map_err(|err| {
                    io("cannot open the results database")(std::io::Error::other(err))
                })?;
        let (notes, notes_rx) = match cluster {
            Some(_) => {
                let (notes, receiver) = Notes::channel();
                (notes, Some(receiver))
            }
            None => (Notes::default(), None),
        };
        let workers = TickWorkers::spawn(
            tick_threads,
            tunables.clone(),
            stats.clone(),
            lan_url.clone(),
            results.sink(),
            notes,
        )
        .map_err(io("cannot start the tick workers"))?;
        let cancel = CancellationToken::new();
        let cluster = match (cluster, notes_rx) {
            (Some(config), Some(notes_rx)) => {
                let node = Cluster::new(&config, workers.sessions(), stats.clone(), &tunables)
                    .map_err(|err| io("cannot join the cluster")(std::io::Error::other(err)))?;
                let node = Arc::new(node);
                tracing::info!(node = node.id(), url = %node.url().ws, redis = %config.redis_url, "cluster node");
                let stop = CancellationToken::new();
                let task = tokio::spawn(crate::cluster::run(node.clone(), notes_rx, stop.clone()));
                Some((node, stop, task))
            }
            _ => None,
        };
        let connections = TaskTracker::new();
        let state = AppState::new(
            workers.sessions(),
            tunables.network.max_owed_bytes,
            tunables.limits.clone(),
            cancel.clone(),
            connections.clone(),
            stats,
            Site {
                lan_url,
                leaderboard: results.leaderboard(),
                results_status: results.status().to_owned(),
                admin: Admin::new(admin_token),
                cluster: cluster.as_ref().map(|(node, _, _)| node.clone()),
                replays: results
                    .replays_dir()
                    .filter(|_| tunables.replays.keep_mb > 0 && tunables.replays.keep_files > 0),
            },
        );
        let send_buffer = tunables.network.send_buffer_bytes as usize;
        let upkeep = tokio::spawn(upkeep(cancel.clone()));
        let router = router(state, echo);
        let requests = TaskTracker::new();
        let stopping = cancel.clone();
        tokio::pin!(shutdown);
        let served = loop {
            let (tcp, peer) = tokio::select! {
                () = &mut shutdown => {
                    tracing::info!("shutting down: closing every connection");
                    break Ok(());
                }
                () = stopping.cancelled() => break Ok(()),
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: the listener is fine, try again shortly.
                    Err(err) if is_transient(&err) => {
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                    Err(err) => break Err(err),
                },
            };
            tune(&tcp, send_buffer);
            requests.spawn(serve_http(tcp, peer, router.clone(), cancel.clone()));
        };
        // Stop accepting; idle HTTP connections close, upgraded ones are told to.
        drop(listener);
        // A cluster node first hands its sessions to the others, players and all.
        if let Some((node, stop, task)) = cluster {
            if tokio::time::timeout(SHUTDOWN_GRACE, node.hand_over_all())
                .await
                .is_err()
            {
                tracing::warn!("handing the sessions over took too long");
            }
            stop.cancel();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, task).await;
        }
        // Whatever ended serving, connections are told to close.
        cancel.cancel();
        requests.close();
        connections.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = connections.len(),
                "connections still open after the grace period"
            );
        }
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, requests.wait()).await;
        workers.stop();
        // The workers are gone: the rounds they finished are all in the channel.
        let _ = tokio::task::spawn_blocking(move || results.close()).await;
        upkeep.abort();
        served.map_err(io("serving failed"))
    }
}

/// One tick worker per core.
pub fn default_tick_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Socket options for every accepted connection.
fn tune(tcp: &TcpStream, send_buffer: usize) {
    // Deltas are far smaller than a segment; Nagle would hold them back a tick.
    if let Err(err) = tcp.set_nodelay(true) {
        tracing::warn!(%err, "cannot set TCP_NODELAY");
    }
    if send_buffer > 0
        && let Err(err) = socket2::SockRef::from(tcp).set_send_buffer_size(send_buffer)
    {
        tracing::warn!(%err, "cannot set SO_SNDBUF");
    }
}

/// Serves HTTP/1.1 on one connection until it closes, upgrades, or the server stops.
///
/// hyper is driven directly rather than through `axum::serve` so that an upgraded
/// connection's socket can be taken back as the `TcpStream` it is: the game writes to
/// it from a tick worker (see [`crate::link`]).
async fn serve_http(
    tcp: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    stop: CancellationToken,
) {
    use tower_service::Service;
    let service =
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().call(request)
        });
    let mut http = hyper::server::conn::http1::Builder::new();
    // A client gets this long to send its request's headers (slowloris).
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    let connection = http
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        served = &mut connection => {
            if let Err(err) = served {
                tracing::debug!(%err, "an HTTP connection failed");
            }
        }
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}

/// Accept errors that say nothing about the listener itself.
fn is_transient(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted};
    matches!(
        err.kind(),
        ConnectionAborted | ConnectionReset | Interrupted
    ) || err
        .raw_os_error()
        .is_some_and(|code| code == 24 || code == 23)
}

/// Keeps the metrics recorder's histograms drained until shutdown.
async fn upkeep(stop: CancellationToken) {
    let Some(telemetry) = crate::telemetry::telemetry() else {
        return;
    };
    let mut every = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => telemetry.upkeep(),
        }
    }
}
