//! A phone controller's connection: pair with a code, then steer that player.
//!
//! The first message is `Pair { code }` instead of `Hello`. A wrong code is answered
//! with `PairRefused` and may be followed by another try, but only after half a second and
//! only a few times per connection: with millions of possible codes alive for two
//! minutes, that makes guessing one hopeless.

use std::sync::Arc;
use std::time::Duration;

use arena_shared::limits::close_code;
use arena_shared::protocol::{ClientMessage, PairRefused, Pong, ServerMessage};

use super::connection::{Connection, End};
use super::inputs::{Who, read_inputs};
use crate::cluster::Route;
use crate::input_slot::InputSlot;

/// Wrong codes a connection may present before it is closed.
pub(super) const MAX_PAIR_FAILURES: u32 = 5;

/// How long a wrong code is answered after: a guesser's tries per minute.
const PAIR_FAILURE_DELAY: Duration = Duration::from_millis(500);

/// Pairs the connection, then reads its inputs until it ends.
pub(super) async fn pair(connection: &mut Connection, mut code: String) -> End {
    let mut failures = 0;
    let input = Arc::new(InputSlot::default());
    let sessions = connection.state.0.sessions.clone();
    let conn = connection.id;
    let mut outbox = connection.outbox();
    loop {
        if let Some(cluster) = connection.state.0.site.cluster.clone() {
            match cluster.route_pair(&code).await {
                Route::Here => {}
                Route::Moved(url) => return End::Refuse(close_code::MOVED, url),
                Route::Unavailable => {
                    return End::Refuse(
                        close_code::TRY_AGAIN_LATER,
                        super::play::UNAVAILABLE.into(),
                    );
                }
            }
        }
        match sessions.pair(conn, &code, outbox, input.clone()).await {
            Ok(session) => {
                tracing::debug!(conn, %session, "controller paired");
                let end = read_inputs(connection, &input, Who::Controller).await;
                sessions.leave(conn, session, end.departure());
                return end;
            }
            Err((refusal, back)) => {
                outbox = back;
                failures += 1;
                crate::telemetry::protocol_error("pairing_refused");
                if failures >= MAX_PAIR_FAILURES {
                    return End::Refuse(
                        close_code::POLICY_VIOLATION,
                        "too many wrong pairing codes".into(),
                    );
                }
                tokio::time::sleep(PAIR_FAILURE_DELAY).await;
                let reason = refusal.to_string();
                connection.reply(&ServerMessage::PairRefused(PairRefused { reason }));
                code = loop {
                    match connection.next_message().await {
                        Ok(ClientMessage::Pair(pair)) => break pair.code,
                        Ok(ClientMessage::Ping(ping)) => {
                            connection.reply(&ServerMessage::Pong(Pong {
                                client_time: ping.client_time,
                            }));
                        }
                        Ok(ClientMessage::Leave) => return End::Leaving,
                        Ok(_) => {
                            return End::Refuse(
                                close_code::POLICY_VIOLATION,
                                "pair with a code first".into(),
                            );
                        }
                        Err(end) => return end,
                    }
                };
            }
        }
    }
}
