//! `/api/replays` (the newest rounds kept, JSON) and `/api/replays/ID` (one round
//! re-played on the server, MessagePack `ReplayFrames`). Files are read and rounds
//! re-played on a blocking thread, never on the runtime's.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::replay::{ReplayFile, list, path_of};

/// Rounds `/api/replays` lists.
const LISTED: usize = 50;

fn unavailable(state: &AppState) -> Response {
    let why = format!(
        "replays are not kept: results {} (replays need a data directory and replays.keep_mb above 0)\n",
        state.0.site.results_status
    );
    (StatusCode::SERVICE_UNAVAILABLE, why).into_response()
}

pub(super) async fn index(State(state): State<AppState>) -> Response {
    let Some(dir) = state.0.site.replays.clone() else {
        return unavailable(&state);
    };
    match tokio::task::spawn_blocking(move || list(&dir, LISTED)).await {
        Ok(listed) => Json(listed).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "listing failed\n").into_response(),
    }
}

pub(super) async fn frames(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(dir) = state.0.site.replays.clone() else {
        return unavailable(&state);
    };
    let Some(path) = path_of(&dir, &id) else {
        return (StatusCode::BAD_REQUEST, "not a replay id\n").into_response();
    };
    let played = tokio::task::spawn_blocking(move || {
        let file = ReplayFile::read(&path)?;
        let frames = file.frames()?;
        Ok::<_, crate::replay::ReplayError>(rmp_serde::to_vec(&frames)?)
    })
    .await;
    match played {
        Ok(Ok(bytes)) => ([(header::CONTENT_TYPE, "application/msgpack")], bytes).into_response(),
        Ok(Err(crate::replay::ReplayError::Io { .. })) => {
            (StatusCode::NOT_FOUND, "no such replay\n").into_response()
        }
        Ok(Err(err)) => {
            tracing::warn!(%id, %err, "a replay could not be played");
            (StatusCode::UNPROCESSABLE_ENTITY, format!("{err}\n")).into_response()
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "re-playing failed\n").into_response(),
    }
}
