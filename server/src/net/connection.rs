//! One WebSocket connection: a reader that decodes client messages, beside a flusher
//! that writes whatever the socket owes.
//!
//! The game writes to the socket itself, through the connection's [`Link`]; this task
//! never waits on the game. Inputs go into the player's [`InputSlot`], pings are
//! answered through the link. Every way a connection can end goes through [`serve`]'s
//! last lines: leave the session, send or complete the close handshake, flush what is
//! owed within a bounded time.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arena_shared::codec::{DecodeError, decode_client};
use arena_shared::limits::{DEFAULT_SESSION, close_code};
use arena_shared::protocol::{ClientMessage, Hello, Pong, Role, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::oneshot;
use tokio::time::timeout;
use tokio_util::sync::WaitForCancellationFutureOwned;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;

use super::AppState;
use super::upgrade::{Socket, Upgraded};
use crate::input_slot::InputSlot;
use crate::link::{CloseRequest, Link};
use crate::outbox::Outbox;
use crate::session::{ConnId, JoinRequest};
use crate::ticker::Command;

/// How long a close handshake, or the last flush, may take.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// A WebSocket close reason is limited to 123 bytes.
const MAX_CLOSE_REASON: usize = 123;

/// How a connection ended, as far as the reader knows.
pub(super) enum End {
    /// The client sent a close frame: complete the handshake.
    PeerClosed,
    /// The socket failed or hit EOF without a close frame.
    PeerVanished,
    /// The client broke the protocol: close with this code and reason.
    Refuse(u16, String),
    /// The server is shutting down: close with 1001.
    Shutdown,
    /// The game asked to close (a full session, a replaced connection...).
    Closed(CloseRequest),
}

/// Serves one upgraded connection until it ends.
pub(super) async fn serve(upgraded: Upgraded, state: AppState) {
    let Upgraded {
        link,
        mut socket,
        close_requested,
    } = upgraded;
    let conn = state.next_conn();
    let _open = OpenConnection::new(&state);
    let mut stops = Stops::new(&state, close_requested);
    let outbox = Outbox::new(link.clone());

    let hello_timeout = Duration::from_secs_f32(state.0.limits.hello_timeout_s);
    let end = match timeout(hello_timeout, next_message(&mut socket, &mut stops)).await {
        Err(_) => End::Refuse(
            close_code::POLICY_VIOLATION,
            format!("no Hello within {} seconds", state.0.limits.hello_timeout_s),
        ),
        Ok(Err(end)) => end,
        Ok(Ok(ClientMessage::Hello(hello))) => {
            let session = session_code(&hello);
            let role = hello.role;
            tracing::debug!(conn, %session, name = %hello.name, ?role, "joining");
            let input = Arc::new(InputSlot::default());
            state.command(Command::Join(JoinRequest {
                conn,
                session: session.clone(),
                hello,
                outbox,
                input: input.clone(),
            }));
            let reader = Reader {
                conn,
                state: &state,
                link: &link,
                input: &input,
                who: Who::Page {
                    role,
                    session: &session,
                },
            };
            let end = reader.read_inputs(&mut socket, &mut stops).await;
            state.command(Command::Leave { conn, session });
            end
        }
        Ok(Ok(ClientMessage::Pair(pair))) => {
            super::controller::pair(
                conn,
                pair.code,
                outbox,
                &state,
                &link,
                &mut socket,
                &mut stops,
            )
            .await
        }
        Ok(Ok(_)) => End::Refuse(
            close_code::POLICY_VIOLATION,
            "the first message must be Hello (or Pair, from a controller)".into(),
        ),
    };
    finish(end, &link, &mut socket).await;
}

/// Ends a connection the way `end` calls for, within bounded time.
pub(super) async fn finish(end: End, link: &Link, socket: &mut Socket) {
    // Whatever the game sends from now on would follow the close frame.
    link.seal();
    match end {
        End::Refuse(code, reason) => {
            crate::telemetry::protocol_error(error_kind(code));
            tracing::debug!(code, %reason, "closing a connection that broke the protocol");
            close(socket, code, reason).await;
            drain(socket).await;
        }
        End::Closed((code, reason)) => {
            close(socket, code, reason).await;
            drain(socket).await;
        }
        End::Shutdown => {
            close(
                socket,
                close_code::GOING_AWAY,
                "server shutting down".into(),
            )
            .await;
            drain(socket).await;
        }
        End::PeerClosed => {
            // tungstenite has queued the answer to the client's close; the sink's close
            // sends it (`WebSocketStream::close` would refuse: the peer closed first).
            let _ = timeout(CLOSE_GRACE, SinkExt::close(socket)).await;
        }
        // Nothing can be sent on a broken socket.
        End::PeerVanished => return,
    }
    let _ = timeout(CLOSE_GRACE, link.flush()).await;
}

/// Whose inputs a reader reads.
pub(super) enum Who<'a> {
    /// A game page or spectator, joined to `session`.
    Page { role: Role, session: &'a str },
    /// A phone controller, paired with a player.
    Controller,
}

/// A connection's reader once it has joined (or paired).
pub(super) struct Reader<'a> {
    pub(super) conn: ConnId,
    pub(super) state: &'a AppState,
    pub(super) link: &'a Link,
    pub(super) input: &'a InputSlot,
    pub(super) who: Who<'a>,
}

impl Reader<'_> {
    /// Reads `Move`s, `Ping`s and pairing requests until the connection ends.
    pub(super) async fn read_inputs(&self, socket: &mut Socket, stops: &mut Stops) -> End {
        let refuse = |why: &str| End::Refuse(close_code::POLICY_VIOLATION, why.to_owned());
        let mut rate = RateLimit::new(self.state.0.limits.messages_per_s);
        loop {
            let message = next_message(socket, stops).await;
            if message.is_ok() {
                match rate.admit(std::time::Instant::now()) {
                    Admit::Yes => {}
                    Admit::Drop => {
                        self.state.0.stats.input_dropped();
                        continue;
                    }
                    Admit::Close => {
                        crate::telemetry::protocol_error("rate");
                        return End::Refuse(
                            close_code::POLICY_VIOLATION,
                            "too many messages".into(),
                        );
                    }
                }
            }
            match message {
                Err(end) => return end,
                Ok(ClientMessage::Move(steer)) => match self.who {
                    Who::Page {
                        role: Role::Spectator,
                        ..
                    } => return refuse("spectators cannot move"),
                    _ => {
                        self.state.0.stats.input();
                        self.input.store(steer);
                    }
                },
                Ok(ClientMessage::Ping(ping)) => {
                    let pong = ServerMessage::Pong(Pong {
                        client_time: ping.client_time,
                    });
                    // A full queue means the client is not reading: its pong can wait
                    // for the next ping.
                    let _ = self.reply(&pong);
                }
                Ok(ClientMessage::RequestPairCode) => match self.who {
                    Who::Page {
                        role: Role::Player,
                        session,
                    } => self.state.command(Command::RequestPairCode {
                        conn: self.conn,
                        session: session.to_owned(),
                    }),
                    _ => return refuse("only a player's page can ask for a pairing code"),
                },
                Ok(ClientMessage::Hello(_) | ClientMessage::Pair(_)) => {
                    return refuse("already joined: Hello or Pair is sent once");
                }
            }
        }
    }

    fn reply(&self, message: &ServerMessage<'_>) -> bool {
        reply(self.link, message)
    }
}

/// Sends a message to one connection alone; false if it was not sent.
pub(super) fn reply(link: &Link, message: &ServerMessage<'_>) -> bool {
    crate::frame::encode_alone(message).is_some_and(|frame| {
        matches!(
            link.send(&frame),
            crate::link::Sent::Written | crate::link::Sent::Owed
        )
    })
}

/// What ends a reader's wait for the next message besides the client itself. The
/// futures are made once per connection: making them per message would register and
/// deregister with the token's notifier every time.
pub(super) struct Stops {
    /// The server is shutting down.
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    /// The game asked to close the connection.
    close_requested: oneshot::Receiver<CloseRequest>,
}

impl Stops {
    pub(super) fn new(state: &AppState, close_requested: oneshot::Receiver<CloseRequest>) -> Stops {
        Stops {
            shutdown: Box::pin(state.0.shutdown.clone().cancelled_owned()),
            close_requested,
        }
    }
}

/// The next client message, or how the connection ended.
pub(super) async fn next_message(
    socket: &mut Socket,
    stops: &mut Stops,
) -> Result<ClientMessage, End> {
    loop {
        let frame = tokio::select! {
            biased;
            () = &mut stops.shutdown => return Err(End::Shutdown),
            Ok(request) = &mut stops.close_requested => return Err(End::Closed(request)),
            frame = socket.next() => frame,
        };
        return match frame {
            None => Err(End::PeerVanished),
            Some(Err(tungstenite::Error::Capacity(_))) => Err(End::Refuse(
                close_code::MESSAGE_TOO_BIG,
                "message over the size limit".into(),
            )),
            Some(Err(_)) => Err(End::PeerVanished),
            Some(Ok(Message::Binary(bytes))) => decode_client(&bytes).map_err(refusal),
            Some(Ok(Message::Text(_))) => Err(End::Refuse(
                close_code::UNSUPPORTED_DATA,
                "binary frames only: messages are MessagePack".into(),
            )),
            Some(Ok(Message::Close(_))) => Err(End::PeerClosed),
            // WebSocket pings are answered by tungstenite itself.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
        };
    }
}

/// The `kind` label of `arena_protocol_errors_total` for a refusal's close code.
fn error_kind(code: u16) -> &'static str {
    match code {
        close_code::UNSUPPORTED_DATA => "text_frame",
        close_code::INVALID_PAYLOAD => "malformed",
        close_code::MESSAGE_TOO_BIG => "too_big",
        _ => "out_of_order",
    }
}

fn refusal(err: DecodeError) -> End {
    let code = match err {
        DecodeError::TooLarge { .. } => close_code::MESSAGE_TOO_BIG,
        _ => close_code::INVALID_PAYLOAD,
    };
    End::Refuse(code, err.to_string())
}

fn session_code(hello: &Hello) -> String {
    match hello.session.as_deref() {
        None | Some("") => DEFAULT_SESSION.to_owned(),
        Some(code) => code.to_owned(),
    }
}

/// Reads and discards until the client's close frame (or a bounded wait), so that the
/// server's close frame is not lost to a reset from unread data.
pub(super) async fn drain(socket: &mut Socket) {
    let _ = timeout(CLOSE_GRACE, async {
        while let Some(Ok(message)) = socket.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Sends a close frame with `code` and `reason` (cut to what a close frame can hold).
pub(super) async fn close(socket: &mut Socket, code: u16, mut reason: String) {
    if reason.len() > MAX_CLOSE_REASON {
        let mut cut = MAX_CLOSE_REASON;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
    }
    let frame = CloseFrame {
        code: code.into(),
        reason: reason.into(),
    };
    let _ = timeout(CLOSE_GRACE, socket.send(Message::Close(Some(frame)))).await;
}

/// Counts the connection as open for as long as it lives.
struct OpenConnection(Arc<crate::stats::Stats>);

impl OpenConnection {
    fn new(state: &AppState) -> OpenConnection {
        state.0.stats.connection(true);
        OpenConnection(state.0.stats.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.connection(false);
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
