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
use tokio::sync::oneshot;

use super::AppState;
use super::connection::{End, Reader, Stops, Who, next_message, reply};
use super::upgrade::Socket;
use crate::input_slot::InputSlot;
use crate::link::Link;
use crate::outbox::Outbox;
use crate::session::ConnId;
use crate::ticker::{Command, PairOutcome};

/// Wrong codes a connection may present before it is closed.
pub(super) const MAX_PAIR_FAILURES: u32 = 5;

/// How long a wrong code is answered after: a guesser's tries per minute.
const PAIR_FAILURE_DELAY: Duration = Duration::from_millis(500);

/// Pairs the connection, then reads its inputs until it ends.
pub(super) async fn pair(
    conn: ConnId,
    mut code: String,
    mut outbox: Outbox,
    state: &AppState,
    link: &Link,
    socket: &mut Socket,
    stops: &mut Stops,
) -> End {
    let mut failures = 0;
    let input = Arc::new(InputSlot::default());
    loop {
        let (answer_to, answer) = oneshot::channel();
        state.command(Command::Pair {
            conn,
            code,
            outbox,
            input: input.clone(),
            reply: answer_to,
        });
        let Ok(outcome) = answer.await else {
            return End::Shutdown;
        };
        match outcome {
            PairOutcome::Paired { session } => {
                tracing::debug!(conn, %session, "controller paired");
                let reader = Reader {
                    conn,
                    state,
                    link,
                    input: &input,
                    who: Who::Controller,
                };
                let end = reader.read_inputs(socket, stops).await;
                state.command(Command::Leave { conn, session });
                return end;
            }
            PairOutcome::Refused {
                reason,
                outbox: back,
            } => {
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
                reply(link, &ServerMessage::PairRefused(PairRefused { reason }));
                code = loop {
                    match next_message(socket, stops).await {
                        Ok(ClientMessage::Pair(pair)) => break pair.code,
                        Ok(ClientMessage::Ping(ping)) => {
                            reply(
                                link,
                                &ServerMessage::Pong(Pong {
                                    client_time: ping.client_time,
                                }),
                            );
                        }
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
