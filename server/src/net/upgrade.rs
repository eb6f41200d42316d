//! The WebSocket handshake on `/ws`: subprotocol check and socket limits.

use arena_shared::limits::{MAX_CLIENT_MESSAGE_BYTES, SUBPROTOCOL};
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::StatusCode;
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
pub(super) async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    let ws = ws.protocols([SUBPROTOCOL]);
    if ws.selected_protocol().is_none() {
        let message = format!(
            "this endpoint speaks the WebSocket subprotocol {SUBPROTOCOL}: offer it in Sec-WebSocket-Protocol\n"
        );
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    let tracker = state.0.connections.clone();
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(FRAME_LIMIT.max(MAX_CLIENT_MESSAGE_BYTES))
        .max_frame_size(FRAME_LIMIT.max(MAX_CLIENT_MESSAGE_BYTES))
        .on_upgrade(move |socket| tracker.track_future(connection::serve(socket, state)))
}
