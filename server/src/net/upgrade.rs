//! The WebSocket handshake on `/ws`: origin and per-address checks, the subprotocol,
//! and socket limits. Refusals here are HTTP answers, before any WebSocket exists.

use std::net::{IpAddr, SocketAddr};

use arena_shared::limits::{MAX_CLIENT_MESSAGE_BYTES, SUBPROTOCOL};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::connection;

/// tungstenite's own frame limit. Client messages over [`MAX_CLIENT_MESSAGE_BYTES`]
/// are refused by the decoder with close 1009 once read; this larger bound only stops
/// a client from making the server buffer megabytes before that check can run.
const FRAME_LIMIT: usize = 16 * 1024;

/// Read buffer per socket: client messages are tiny, the 128 KiB default is waste.
const READ_BUFFER: usize = 4 * 1024;

/// Writes are batched per tick and flushed; the buffer only has to hold one batch.
const WRITE_BUFFER: usize = 8 * 1024;

/// The most a socket's write buffer may hold (a large snapshot plus a delta).
const MAX_WRITE_BUFFER: usize = 8 * 1024 * 1024;

/// Upgrades `/ws` to a WebSocket speaking [`SUBPROTOCOL`], or refuses the request.
pub(super) async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = check_origin(&state, &headers) {
        crate::telemetry::protocol_error("origin");
        return (StatusCode::FORBIDDEN, refusal).into_response();
    }
    let ws = ws.protocols([SUBPROTOCOL]);
    if ws.selected_protocol().is_none() {
        let message = format!(
            "this endpoint speaks the WebSocket subprotocol {SUBPROTOCOL}: offer it in Sec-WebSocket-Protocol\n"
        );
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    let Some(slot) = AddressSlot::take(&state, peer.ip()) else {
        crate::telemetry::protocol_error("connections_per_ip");
        let message = format!(
            "too many connections from {} (at most {})\n",
            peer.ip(),
            state.0.limits.connections_per_ip
        );
        return (StatusCode::TOO_MANY_REQUESTS, message).into_response();
    };
    let tracker = state.0.connections.clone();
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(FRAME_LIMIT.max(MAX_CLIENT_MESSAGE_BYTES))
        .max_frame_size(FRAME_LIMIT.max(MAX_CLIENT_MESSAGE_BYTES))
        .on_upgrade(move |socket| {
            tracker.track_future(async move {
                connection::serve(socket, state).await;
                drop(slot);
            })
        })
}

/// Browsers send the page's origin with every WebSocket handshake; a page from another
/// site must not be able to drive sockets here with its visitors' browsers.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), String> {
    let limits = &state.0.limits;
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return if limits.require_origin {
            Err("an Origin header is required\n".into())
        } else {
            Ok(())
        };
    };
    let origin = origin.trim_end_matches('/');
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let same_origin = origin
        .split_once("://")
        .is_some_and(|(_, authority)| !host.is_empty() && authority.eq_ignore_ascii_case(host));
    let allowed = limits
        .allowed_origins
        .iter()
        .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin));
    if same_origin || allowed {
        Ok(())
    } else {
        Err(format!("origin {origin} is not allowed to connect\n"))
    }
}

/// One connection's place in its address's count; given back when dropped.
struct AddressSlot {
    state: AppState,
    ip: IpAddr,
    counted: bool,
}

impl AddressSlot {
    /// Takes a place for `ip`, or `None` if the address is at its limit.
    fn take(state: &AppState, ip: IpAddr) -> Option<AddressSlot> {
        let limits = &state.0.limits;
        let counted = limits.connections_per_ip > 0 && (limits.limit_loopback || !ip.is_loopback());
        if counted {
            let mut per_ip = state.0.per_ip.lock();
            let open = per_ip.entry(ip).or_insert(0);
            if *open >= limits.connections_per_ip {
                return None;
            }
            *open += 1;
        }
        Some(AddressSlot {
            state: state.clone(),
            ip,
            counted,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let mut per_ip = self.state.0.per_ip.lock();
        if let Some(open) = per_ip.get_mut(&self.ip) {
            *open -= 1;
            if *open == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}
