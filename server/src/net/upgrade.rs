//! The WebSocket handshake on `/ws` (and `/echo`): origin and per-address checks, the
//! subprotocol, and socket limits. Refusals here are HTTP answers, before any WebSocket
//! exists.
//!
//! The upgrade is done here rather than by axum's `WebSocketUpgrade` because the game
//! needs the TCP socket itself, not an opaque upgraded stream: its tick worker writes
//! deltas straight into it (see [`crate::link`]). tungstenite still validates the
//! handshake and speaks the protocol.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use arena_shared::limits::SUBPROTOCOL;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::{Role, WebSocketConfig};

use super::AppState;
use super::connection::Connection;
use crate::link::{Link, LinkIo};

/// Read buffer per socket: client messages are tiny, the 128 KiB default is waste.
const READ_BUFFER: usize = 4 * 1024;

/// Upgrades `/ws` to a WebSocket speaking [`SUBPROTOCOL`], or refuses the request.
pub(super) async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    accept(state, peer, request, true, super::play::serve)
}

/// `/echo`, on only with `--echo`: sends every message back. It exists to run the
/// Autobahn conformance suite against exactly the WebSocket code and limits of `/ws`.
pub(super) async fn echo(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    accept(state, peer, request, false, super::echo::serve)
}

/// Checks the request, answers 101 and hands the socket to `serve` once upgraded.
fn accept<F>(
    state: AppState,
    peer: SocketAddr,
    mut request: Request,
    needs_subprotocol: bool,
    serve: impl FnOnce(Connection) -> F + Send + 'static,
) -> Response
where
    F: Future<Output = ()> + Send + 'static,
{
    if let Err(refusal) = check_origin(&state, request.headers()) {
        crate::telemetry::protocol_error("origin");
        return (StatusCode::FORBIDDEN, refusal).into_response();
    }
    let offered = offers_subprotocol(request.headers());
    if needs_subprotocol && !offered {
        let message = format!(
            "this endpoint speaks the WebSocket subprotocol {SUBPROTOCOL}: offer it in Sec-WebSocket-Protocol\n"
        );
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    let mut response =
        match tungstenite::handshake::server::create_response_with_body(&request, Body::empty) {
            Ok(response) => response,
            Err(err) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("not a WebSocket handshake: {err}\n"),
                )
                    .into_response();
            }
        };
    if offered {
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(SUBPROTOCOL),
        );
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
    let on_upgrade = hyper::upgrade::on(&mut request);
    let tracker = state.0.connections.clone();
    tracker.spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(err) => {
                tracing::debug!(%err, "the upgrade did not complete");
                return;
            }
        };
        // The server serves every connection over `TokioIo<TcpStream>` (see
        // `crate::server`), so this always finds the socket.
        let Ok(parts) = upgraded.downcast::<TokioIo<TcpStream>>() else {
            tracing::error!("an upgraded connection is not a TCP socket");
            return;
        };
        let tcp = Arc::new(parts.io.into_inner());
        let (link, close_requested) =
            Link::new(tcp.clone(), state.0.max_owed_bytes, state.0.stats.clone());
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            // Every frame goes to the link at once: it does its own buffering.
            .write_buffer_size(0)
            // tungstenite's own limit (`limits.max_message_bytes`). Client messages over
            // `MAX_CLIENT_MESSAGE_BYTES` are refused by the decoder with close 1009 once
            // read; this larger bound stops a client from making the server buffer
            // megabytes before that check can run.
            .max_message_size(Some(state.0.limits.max_message_bytes))
            .max_frame_size(Some(state.0.limits.max_message_bytes));
        let socket = WebSocketStream::from_partially_read(
            LinkIo::new(link.clone(), tcp),
            parts.read_buf.to_vec(),
            Role::Server,
            Some(config),
        )
        .await;
        // Every upgraded socket has a flusher for as long as it is served.
        let flusher = tokio::spawn({
            let link = link.clone();
            async move { link.flush_forever().await }
        });
        serve(Connection::new(state, peer, socket, link, close_requested)).await;
        flusher.abort();
        drop(slot);
    });
    response.into_response()
}

/// Whether the client offers [`SUBPROTOCOL`] in `Sec-WebSocket-Protocol`.
fn offers_subprotocol(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|protocol| protocol.trim() == SUBPROTOCOL)
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
    // In a cluster, a page served by one node plays on whichever node owns its session.
    let cluster_node = state
        .0
        .site
        .cluster
        .as_ref()
        .is_some_and(|cluster| cluster.knows_origin(origin));
    if same_origin || allowed || cluster_node {
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
