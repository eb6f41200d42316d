//! `/admin`: the operator's live page, its login, its feed and its two actions.
//!
//! Off unless the server has an admin token (`--admin-token`). The page logs in by
//! POSTing the token to `/admin/login` (never in a URL, so never in a log); the answer
//! sets a random session cookie (`HttpOnly; SameSite=Strict; Path=/admin`). The feed
//! (`/admin/api/events`, server-sent events, one JSON state a second) and the actions
//! (close a session, kick a player) take that cookie only, and refuse a request whose
//! `Origin` is another site. A wrong token is answered 401 and counted.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use arena_shared::protocol::EntityId;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::monitor::{RefusalRecord, SessionReport};

/// The cookie that proves a login.
const COOKIE: &str = "arena_admin";

/// The operator's access: the token, and the cookies of the logins it granted.
pub(crate) struct Admin {
    token: String,
    logins: Mutex<HashSet<String>>,
}

impl Admin {
    /// Access by `token`; `None` (no token, or an empty one) keeps the page off.
    pub(crate) fn new(token: Option<String>) -> Option<Admin> {
        token.filter(|t| !t.is_empty()).map(|token| Admin {
            token,
            logins: Mutex::default(),
        })
    }
}

fn off() -> Response {
    let why = "the admin page is off: start the server with --admin-token (ARENA_ADMIN_TOKEN)\n";
    (StatusCode::NOT_FOUND, why).into_response()
}

/// Why a request may not use the admin API.
enum Refused {
    /// There is no admin token: the page is off.
    Off,
    /// Another site's page.
    CrossSite,
    /// No login cookie, or an unknown one.
    LoggedOut,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Off => off(),
            Refused::CrossSite => (
                StatusCode::FORBIDDEN,
                "another site's page cannot use the admin API\n",
            )
                .into_response(),
            Refused::LoggedOut => (StatusCode::UNAUTHORIZED, "log in first\n").into_response(),
        }
    }
}

/// The admin access, if the request may use it.
fn authorized<'a>(state: &'a AppState, headers: &HeaderMap) -> Result<&'a Admin, Refused> {
    let Some(admin) = state.0.site.admin.as_ref() else {
        return Err(Refused::Off);
    };
    if !same_origin(headers) {
        return Err(Refused::CrossSite);
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='));
    match cookie {
        Some(value) if admin.logins.lock().contains(value) => Ok(admin),
        _ => Err(Refused::LoggedOut),
    }
}

/// A request without `Origin` (not a browser's cross-site one), or from this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    host.is_some() && origin_host == host
}

#[derive(Deserialize)]
pub(super) struct Login {
    token: String,
}

/// `POST /admin/login` with `token=...`: 204 and a session cookie, or 401.
pub(super) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Login>,
) -> Response {
    let Some(admin) = state.0.site.admin.as_ref() else {
        return off();
    };
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "another site's page cannot log in here\n",
        )
            .into_response();
    }
    // Compared whole, in time that does not depend on where they first differ.
    let given = form.token.as_bytes();
    let wanted = admin.token.as_bytes();
    let same = given.len() == wanted.len()
        && given
            .iter()
            .zip(wanted)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        let refused = state.0.stats.monitor().admin_refused();
        tracing::warn!(refused, "an admin login with a wrong token");
        return (StatusCode::UNAUTHORIZED, "wrong token\n").into_response();
    }
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "no randomness for a session cookie\n",
        )
            .into_response();
    }
    let value: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    admin.logins.lock().insert(value.clone());
    let cookie = format!("{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/admin");
    (StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response()
}

/// `GET /admin/api/me`: 204 when logged in, 401 when not, 404 when the page is off.
pub(super) async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match authorized(&state, &headers) {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// The whole server as the page shows it, once a second.
#[derive(Serialize)]
struct AdminState {
    server: ServerFigures,
    sessions: Vec<SessionReport>,
    refusals: Vec<RefusalRecord>,
}

#[derive(Serialize)]
struct ServerFigures {
    uptime_s: u64,
    connections: u64,
    sessions: u64,
    players: usize,
    spectators: usize,
    controllers: usize,
    messages_in_per_s: f64,
    bytes_out_per_s: f64,
    cpu_s_per_s: f64,
    rss_bytes: u64,
    tick_p50_us: u32,
    tick_p99_us: u32,
    results: String,
    admin_logins_refused: u64,
}

/// Rates between two looks at the counters.
struct Rates {
    at: std::time::Instant,
    traffic: (u64, u64),
    cpu: Option<cpu_time::ProcessTime>,
}

fn figures(state: &AppState, rates: &mut Rates) -> AdminState {
    let stats = &state.0.stats;
    let monitor = stats.monitor();
    let s = stats.snapshot();
    let workers = monitor.workers();
    let sessions: Vec<SessionReport> = workers
        .iter()
        .flat_map(|w| w.sessions.iter().cloned())
        .collect();
    let now = std::time::Instant::now();
    let seconds = now.duration_since(rates.at).as_secs_f64().max(1e-3);
    let traffic = monitor.traffic();
    let cpu = cpu_time::ProcessTime::try_now().ok();
    let cpu_s = match (rates.cpu, cpu) {
        (Some(before), Some(now)) => now
            .as_duration()
            .saturating_sub(before.as_duration())
            .as_secs_f64(),
        _ => 0.0,
    };
    let figures = ServerFigures {
        uptime_s: monitor.uptime_s(),
        connections: s.connections,
        sessions: s.sessions,
        players: sessions.iter().map(|s| s.players.len()).sum(),
        spectators: sessions.iter().map(|s| s.spectators).sum(),
        controllers: sessions.iter().map(|s| s.controllers).sum(),
        messages_in_per_s: (traffic.0 - rates.traffic.0) as f64 / seconds,
        bytes_out_per_s: (traffic.1 - rates.traffic.1) as f64 / seconds,
        cpu_s_per_s: cpu_s / seconds,
        rss_bytes: resident_bytes().unwrap_or(0),
        tick_p50_us: workers.iter().map(|w| w.tick_p50_us).max().unwrap_or(0),
        tick_p99_us: workers.iter().map(|w| w.tick_p99_us).max().unwrap_or(0),
        results: state.0.site.results_status.clone(),
        admin_logins_refused: monitor.admin_refusals(),
    };
    *rates = Rates {
        at: now,
        traffic,
        cpu,
    };
    AdminState {
        server: figures,
        sessions,
        refusals: monitor.refusals(),
    }
}

/// The process's resident memory (Linux: `VmRSS` of /proc/self/status).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `GET /admin/api/events`: the state as server-sent events, one a second, until the
/// page goes or the server stops.
pub(super) async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refusal) = authorized(&state, &headers) {
        return refusal.into_response();
    }
    let stop = state.0.shutdown.clone().cancelled_owned();
    let rates = Rates {
        at: std::time::Instant::now(),
        traffic: state.0.stats.monitor().traffic(),
        cpu: cpu_time::ProcessTime::try_now().ok(),
    };
    let every = tokio::time::interval(Duration::from_secs(1));
    let stream = futures_util::stream::unfold(
        (state, rates, every),
        |(state, mut rates, mut every)| async move {
            every.tick().await;
            let body = serde_json::to_string(&figures(&state, &mut rates)).unwrap_or_default();
            Some((
                Ok::<Event, Infallible>(Event::default().data(body)),
                (state, rates, every),
            ))
        },
    )
    .take_until(stop);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// `POST /admin/api/sessions/{code}/close`: every connection closed with 4005.
pub(super) async fn close_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    if let Err(refusal) = authorized(&state, &headers) {
        return refusal.into_response();
    }
    tracing::info!(session = %code, "the operator closes a session");
    if state.0.sessions.close_session(&code) {
        StatusCode::ACCEPTED.into_response()
    } else {
        (StatusCode::NOT_FOUND, "no such session\n").into_response()
    }
}

/// `POST /admin/api/sessions/{code}/players/{id}/kick`: the player's connections closed
/// with 4006, the player gone at once.
pub(super) async fn kick(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((code, id)): Path<(String, u32)>,
) -> Response {
    if let Err(refusal) = authorized(&state, &headers) {
        return refusal.into_response();
    }
    tracing::info!(session = %code, player = id, "the operator kicks a player");
    if state.0.sessions.kick(&code, EntityId(id)) {
        StatusCode::ACCEPTED.into_response()
    } else {
        (StatusCode::NOT_FOUND, "no such session\n").into_response()
    }
}
