//! A joined connection's reader: `Move`s into the input slot, pings answered, pairing
//! codes asked for, all under a per-connection message rate limit.

use std::time::Duration;

use arena_shared::limits::close_code;
use arena_shared::protocol::{ClientMessage, Pong, Role, ServerMessage};

use super::connection::{Connection, End};
use crate::input_slot::InputSlot;

/// Whose inputs a reader reads.
pub(super) enum Who<'a> {
    /// A game page or spectator, joined to `session`.
    Page { role: Role, session: &'a str },
    /// A phone controller, paired with a player.
    Controller,
}

/// Reads `Move`s, `Ping`s and pairing requests into `input` until the connection ends.
pub(super) async fn read_inputs(
    connection: &mut Connection,
    input: &InputSlot,
    who: Who<'_>,
) -> End {
    let refuse = |why: &str| End::Refuse(close_code::POLICY_VIOLATION, why.to_owned());
    let state = connection.state.clone();
    let mut rate = RateLimit::new(state.0.limits.messages_per_s);
    let mut chat = ChatRate::default();
    loop {
        let message = connection.next_message().await;
        if message.is_ok() {
            state.0.stats.monitor().input();
            match rate.admit(std::time::Instant::now()) {
                Admit::Yes => {}
                Admit::Drop => {
                    state.0.stats.input_dropped();
                    continue;
                }
                Admit::Close => {
                    crate::telemetry::protocol_error("rate");
                    return End::Refuse(close_code::POLICY_VIOLATION, "too many messages".into());
                }
            }
        }
        match message {
            Err(end) => return end,
            Ok(ClientMessage::Move(steer)) => match who {
                Who::Page {
                    role: Role::Spectator,
                    ..
                } => return refuse("spectators cannot move"),
                _ => {
                    state.0.stats.input();
                    input.store(steer);
                }
            },
            Ok(ClientMessage::Ping(ping)) => {
                let pong = ServerMessage::Pong(Pong {
                    client_time: ping.client_time,
                });
                // A client whose socket is full is not reading: its pong can wait for
                // the next ping.
                let _ = connection.reply(&pong);
            }
            Ok(ClientMessage::RequestPairCode) => match who {
                Who::Page {
                    role: Role::Player,
                    session,
                } => state
                    .0
                    .sessions
                    .request_pair_code(connection.id, session.to_owned()),
                _ => return refuse("only a player's page can ask for a pairing code"),
            },
            Ok(ClientMessage::Leave) => return End::Leaving,
            Ok(ClientMessage::Chat(say)) => match who {
                Who::Page { session, .. } => {
                    if chat.admit(std::time::Instant::now()) {
                        state.0.sessions.say(connection.id, session, say.text);
                    } else {
                        state.0.stats.chat_dropped();
                    }
                }
                Who::Controller => return refuse("a phone controller cannot chat"),
            },
            Ok(ClientMessage::Look(look)) => match who {
                Who::Page {
                    role: Role::Spectator,
                    session,
                } => state.0.sessions.look(connection.id, session, look),
                _ => return refuse("only a spectator chooses what it watches"),
            },
            Ok(ClientMessage::Hello(_) | ClientMessage::Pair(_)) => {
                return refuse("already joined: Hello or Pair is sent once");
            }
        }
    }
}

/// Chat lines a connection may say: one a second, with a burst of three (a token
/// bucket); the excess is dropped and counted, the connection kept.
struct ChatRate {
    tokens: f64,
    at: Option<std::time::Instant>,
}

/// Lines a connection may say at once after a quiet while.
const CHAT_BURST: f64 = 3.0;

impl Default for ChatRate {
    fn default() -> ChatRate {
        ChatRate {
            tokens: CHAT_BURST,
            at: None,
        }
    }
}

impl ChatRate {
    fn admit(&mut self, now: std::time::Instant) -> bool {
        if let Some(at) = self.at {
            self.tokens = (self.tokens + now.duration_since(at).as_secs_f64()).min(CHAT_BURST);
        }
        self.at = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What to do with a message under the rate limit.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    Yes,
    /// Over the limit this second: ignore it.
    Drop,
    /// Over twice the limit this second: that is not a game, close.
    Close,
}

/// Messages per one-second window: a game sends at most one `Move` a tick and a ping
/// now and then, so a few times the tick rate is generous and anything far beyond is a
/// flood.
struct RateLimit {
    per_second: u32,
    window: Option<std::time::Instant>,
    count: u32,
}

impl RateLimit {
    fn new(per_second: u32) -> RateLimit {
        RateLimit {
            per_second: per_second.max(1),
            window: None,
            count: 0,
        }
    }

    fn admit(&mut self, now: std::time::Instant) -> Admit {
        match self.window {
            Some(start) if now.duration_since(start) < Duration::from_secs(1) => self.count += 1,
            _ => {
                self.window = Some(now);
                self.count = 1;
            }
        }
        if self.count <= self.per_second {
            Admit::Yes
        } else if self.count <= 2 * self.per_second {
            Admit::Drop
        } else {
            Admit::Close
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_is_one_line_a_second_with_a_burst_of_three() {
        let start = std::time::Instant::now();
        let mut chat = ChatRate::default();
        let burst: Vec<bool> = (0..5).map(|_| chat.admit(start)).collect();
        assert_eq!(burst, [true, true, true, false, false]);
        assert!(
            !chat.admit(start + Duration::from_millis(500)),
            "half a second: not yet"
        );
        assert!(
            chat.admit(start + Duration::from_millis(1001)),
            "a second later: one more"
        );
    }

    #[test]
    fn a_flood_is_dropped_then_closed_and_a_new_second_starts_afresh() {
        let start = std::time::Instant::now();
        let mut rate = RateLimit::new(3);
        let verdicts: Vec<Admit> = (0..7).map(|_| rate.admit(start)).collect();
        use Admit::{Close, Drop, Yes};
        assert_eq!(verdicts, [Yes, Yes, Yes, Drop, Drop, Drop, Close]);
        assert_eq!(
            rate.admit(start + Duration::from_millis(1001)),
            Yes,
            "a new window"
        );
    }
}
