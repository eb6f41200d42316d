//! `/ws`: a game connection from its first message on. A `Hello` joins a session as a
//! player or spectator; a `Pair` makes the connection a phone controller.

use std::sync::Arc;
use std::time::Duration;

use arena_shared::limits::{DEFAULT_SESSION, close_code};
use arena_shared::protocol::{ClientMessage, Hello};
use tokio::time::timeout;

use super::connection::{Connection, End};
use super::inputs::{Who, read_inputs};
use crate::cluster::Route;
use crate::commands::JoinRequest;

/// Why a join is refused when the cluster's directory cannot be reached.
pub(super) const UNAVAILABLE: &str =
    "the cluster directory is unreachable: this session cannot be found now, try again shortly";
use crate::input_slot::InputSlot;

/// Serves one game connection until it ends.
pub(super) async fn serve(mut connection: Connection) {
    let limits = &connection.state.0.limits;
    let hello_timeout = Duration::from_secs_f32(limits.hello_timeout_s);
    let no_hello = format!("no Hello within {} seconds", limits.hello_timeout_s);
    let end = match timeout(hello_timeout, connection.next_message()).await {
        Err(_) => End::Refuse(close_code::POLICY_VIOLATION, no_hello),
        Ok(Err(end)) => end,
        Ok(Ok(ClientMessage::Hello(hello))) => join(&mut connection, hello).await,
        Ok(Ok(ClientMessage::Pair(pair))) => {
            super::controller::pair(&mut connection, pair.code).await
        }
        Ok(Ok(_)) => End::Refuse(
            close_code::POLICY_VIOLATION,
            "the first message must be Hello (or Pair, from a controller)".into(),
        ),
    };
    connection.finish(end).await;
}

/// Joins the session the client named and reads its inputs until the connection ends.
async fn join(connection: &mut Connection, hello: Hello) -> End {
    let session = session_code(&hello);
    let role = hello.role;
    let conn = connection.id;
    tracing::debug!(conn, %session, name = %hello.name, ?role, "joining");
    let input = Arc::new(InputSlot::default());
    if role == arena_shared::protocol::Role::Player {
        connection.measure_round_trip(input.clone());
    }
    if let Some(cluster) = connection.state.0.site.cluster.clone() {
        match cluster.route(&session).await {
            Route::Here => {}
            Route::Moved(url) => {
                tracing::debug!(conn, %session, %url, "session is on another node");
                return End::Refuse(close_code::MOVED, url);
            }
            Route::Unavailable => {
                return End::Refuse(close_code::TRY_AGAIN_LATER, UNAVAILABLE.into());
            }
        }
    }
    let sessions = connection.state.0.sessions.clone();
    sessions.join(JoinRequest {
        conn,
        session: session.clone(),
        hello,
        outbox: connection.outbox(),
        input: input.clone(),
    });
    let who = Who::Page {
        role,
        session: &session,
    };
    let end = read_inputs(connection, &input, who).await;
    sessions.leave(conn, session, end.departure());
    end
}

fn session_code(hello: &Hello) -> String {
    match hello.session.as_deref() {
        None | Some("") => DEFAULT_SESSION.to_owned(),
        Some(code) => code.to_owned(),
    }
}
