//! Cluster mode's HTTP routes: `/match/CODE`, where a client should connect to play a
//! session, and `/cluster`, the nodes and who owns which session.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use crate::cluster::Route;

/// What `/match/CODE` answers.
#[derive(Debug, Serialize)]
struct Match {
    /// The session's code.
    session: String,
    /// The WebSocket URL to play it on.
    url: String,
    /// Whether that is the node that answered.
    here: bool,
}

/// `GET /match/CODE`: the WebSocket URL of the node that runs `code`, or will (a new
/// session is placed on the least-loaded node). A single server answers with itself.
pub(super) async fn find_match(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Response {
    if !arena_shared::limits::is_session_code(&code) {
        let reason = "a session code is 1 to 16 letters, digits, '-' or '_'";
        return (StatusCode::BAD_REQUEST, reason).into_response();
    }
    let Some(cluster) = &state.0.site.cluster else {
        return (
            StatusCode::NOT_FOUND,
            "not a cluster node: connect to /ws here\n",
        )
            .into_response();
    };
    let (url, here) = match cluster.route(&code).await {
        Route::Here => (cluster.url().ws.clone(), true),
        Route::Moved(url) => (url, false),
        Route::Unavailable => {
            let reason = "the cluster directory (Redis) is unreachable: try again shortly\n";
            return (StatusCode::SERVICE_UNAVAILABLE, reason).into_response();
        }
    };
    Json(Match {
        session: code,
        url,
        here,
    })
    .into_response()
}

/// `GET /cluster`: every live node (with its public URL and load) and every session
/// with its owner, as JSON.
pub(super) async fn status(State(state): State<AppState>) -> Response {
    let Some(cluster) = &state.0.site.cluster else {
        return (StatusCode::NOT_FOUND, "not a cluster node\n").into_response();
    };
    match cluster.status().await {
        Ok(status) => Json(status).into_response(),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason).into_response(),
    }
}
