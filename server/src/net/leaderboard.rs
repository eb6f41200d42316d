//! `/api/leaderboard?period=day|week|all&session=CODE`: the standings as JSON, read
//! from the results database on a blocking thread, never on the runtime's.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use crate::results::Period;

/// The query string, as given.
#[derive(Debug, Deserialize)]
pub(super) struct Asked {
    period: Option<String>,
    session: Option<String>,
}

fn bad(reason: &str) -> Response {
    (StatusCode::BAD_REQUEST, format!("{reason}\n")).into_response()
}

pub(super) async fn api(
    State(state): State<AppState>,
    asked: Result<Query<Asked>, QueryRejection>,
) -> Response {
    let Ok(Query(asked)) = asked else {
        return bad("the query is period=day|week|all and, optionally, session=CODE");
    };
    let Some(period) = Period::parse(asked.period.as_deref().unwrap_or("all")) else {
        return bad("period must be day, week or all");
    };
    let session = asked.session.filter(|s| !s.is_empty());
    if let Some(code) = &session
        && !arena_shared::limits::is_session_code(code)
    {
        return bad("session must be a session code: letters, digits, - and _, at most 16");
    }
    let Some(board) = state.0.site.leaderboard.clone() else {
        let why = format!("results are not kept: {}", state.0.site.results_status);
        return (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response();
    };
    let now_ms = crate::results::unix_ms();
    let read =
        tokio::task::spawn_blocking(move || board.read(period, session.as_deref(), now_ms)).await;
    match read {
        Ok(Ok(standings)) => Json(standings).into_response(),
        Ok(Err(err)) => {
            tracing::error!(%err, "the leaderboard could not be read");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the leaderboard could not be read\n",
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the leaderboard reader failed\n",
        )
            .into_response(),
    }
}
