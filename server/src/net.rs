//! The HTTP and WebSocket side: routes, the upgrade, and one task per connection.
//! This layer reads; it talks to the game through the [`Sessions`] registry (which
//! routes each command to the tick worker of its session) and each player's input
//! slot, and the game writes to each socket through its link.
//!
//! Its modules form floors: [`connection`] (one socket, its link and its stop signals)
//! is below [`inputs`] (a joined connection's reader), below [`controller`] (pairing)
//! and [`play`] (`/ws`); [`upgrade`] makes connections and hands them to an endpoint.

mod admin;
mod cluster;
mod connection;
mod controller;
mod echo;
mod inputs;
mod leaderboard;
mod page;
mod play;
mod replays;
mod upgrade;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::Cluster;
use crate::commands::ConnId;
use crate::config::LimitTunables;
use crate::results::Leaderboard;
use crate::sessions::Sessions;
use crate::stats::Stats;
pub(crate) use admin::Admin;

/// What every request handler shares.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

struct Shared {
    sessions: Arc<Sessions>,
    next_conn: AtomicU64,
    max_owed_bytes: usize,
    limits: LimitTunables,
    /// Open connections per client address, for `limits.connections_per_ip`.
    per_ip: parking_lot::Mutex<HashMap<IpAddr, u32>>,
    shutdown: CancellationToken,
    /// Upgraded connections, which axum's graceful shutdown does not wait for.
    connections: TaskTracker,
    stats: Arc<Stats>,
    site: Site,
}

/// What the HTTP side serves beside the game.
pub(crate) struct Site {
    /// Where other devices on the network reach this server, if it listens beyond
    /// loopback: what `/lan` tells a page opened on loopback, for its invite links.
    pub(crate) lan_url: Option<String>,
    /// The leaderboard's reader, when results are kept.
    pub(crate) leaderboard: Option<Leaderboard>,
    /// Whether results are kept, and if not why: for `/healthz`.
    pub(crate) results_status: String,
    /// The operator's access to `/admin`, if an admin token is set.
    pub(crate) admin: Option<Admin>,
    /// This server as a cluster node, in cluster mode.
    pub(crate) cluster: Option<Arc<Cluster>>,
    /// The replays folder, when replays are kept.
    pub(crate) replays: Option<std::path::PathBuf>,
}

impl AppState {
    pub(crate) fn new(
        sessions: Arc<Sessions>,
        max_owed_bytes: usize,
        limits: LimitTunables,
        shutdown: CancellationToken,
        connections: TaskTracker,
        stats: Arc<Stats>,
        site: Site,
    ) -> AppState {
        AppState(Arc::new(Shared {
            sessions,
            next_conn: AtomicU64::new(1),
            max_owed_bytes,
            limits,
            per_ip: parking_lot::Mutex::new(HashMap::new()),
            shutdown,
            connections,
            stats,
            site,
        }))
    }

    fn next_conn(&self) -> ConnId {
        self.0.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}

/// The server's routes; `/echo` only if `echo` is set.
pub(crate) fn router(state: AppState, echo: bool) -> Router {
    let router = Router::new()
        .route("/ws", get(upgrade::upgrade))
        .route("/healthz", get(healthz))
        .route("/lan", get(lan))
        .route("/api/leaderboard", get(leaderboard::api))
        .route("/admin/login", post(admin::login))
        .route("/admin/api/me", get(admin::me))
        .route("/admin/api/events", get(admin::events))
        .route(
            "/admin/api/sessions/{code}/close",
            post(admin::close_session),
        )
        .route(
            "/admin/api/sessions/{code}/players/{id}/kick",
            post(admin::kick),
        )
        .route("/metrics", get(metrics))
        .route("/match/{code}", get(cluster::find_match))
        .route("/cluster", get(cluster::status))
        .route("/api/replays", get(replays::index))
        .route("/api/replays/{id}", get(replays::frames));
    let router = if echo {
        router.route("/echo", get(upgrade::echo))
    } else {
        router
    };
    router.fallback(get(page::file)).with_state(state)
}

/// Prometheus text exposition.
async fn metrics() -> axum::response::Response {
    use axum::response::IntoResponse;
    match crate::telemetry::telemetry() {
        Some(telemetry) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4",
            )],
            telemetry.render(),
        )
            .into_response(),
        None => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "metrics are recorded elsewhere in this process\n",
        )
            .into_response(),
    }
}

/// The server's LAN address (`http://IP:PORT`), or nothing: a page opened on loopback
/// puts it in the links and QR codes it shows, which other devices must be able to open.
async fn lan(State(state): State<AppState>) -> String {
    state.0.site.lan_url.clone().unwrap_or_default()
}

/// Liveness for load balancers and people: "ok" and the main counters.
async fn healthz(State(state): State<AppState>) -> String {
    let s = state.0.stats.snapshot();
    let list = |counts: Vec<usize>| {
        counts
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "ok\nconnections {}\nsessions {}\ntick_workers {}\nworker_sessions {}\nworker_connections {}\nticks {}\ntick_overruns {}\nlast_tick_us {}\nmax_tick_us {}\ndeltas_dropped {}\nresyncs {}\nresults {}\n",
        s.connections,
        s.sessions,
        state.0.sessions.worker_count(),
        list(state.0.stats.worker_sessions()),
        list(state.0.stats.worker_connections()),
        s.ticks,
        s.overruns,
        s.last_tick_ns / 1000,
        s.max_tick_ns / 1000,
        s.deltas_dropped,
        s.resyncs,
        state.0.site.results_status
    )
}
