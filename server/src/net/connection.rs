//! One upgraded WebSocket connection: the socket its task reads, the link the game
//! writes to, and what else can end it (shutdown, or the game asking to close).
//!
//! The game writes to the socket itself, through the connection's [`Link`]; the
//! connection's task never waits on the game. Every way a connection can end goes
//! through [`Connection::finish`]: send or complete the close handshake, then flush
//! what is owed, within bounded time.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arena_shared::codec::{DecodeError, decode_client};
use arena_shared::limits::close_code;
use arena_shared::protocol::{ClientMessage, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::oneshot;
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::WaitForCancellationFutureOwned;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;

use super::AppState;
use crate::commands::{ConnId, Departure};
use crate::input_slot::InputSlot;
use crate::link::{CloseRequest, Link, LinkIo, Sent};
use crate::outbox::Outbox;

/// How long a close handshake, or the last flush, may take.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How often a player's connection is pinged to measure its round trip.
const PING_EVERY: Duration = Duration::from_secs(3);

/// A WebSocket close reason is limited to 123 bytes.
const MAX_CLOSE_REASON: usize = 123;

/// A WebSocket as the connection's task holds it: reads from the TCP socket, writes
/// through the link.
pub(super) type Socket = WebSocketStream<LinkIo>;

/// How a connection ended, as far as its task knows.
pub(super) enum End {
    /// The client sent a close frame (with this code, if any): complete the handshake.
    PeerClosed(Option<u16>),
    /// The client said `Leave`: close normally.
    Leaving,
    /// The socket failed or hit EOF without a close frame.
    PeerVanished,
    /// The client broke the protocol: close with this code and reason.
    Refuse(u16, String),
    /// The server is shutting down: close with 1001.
    Shutdown,
    /// The game asked to close (a full session, a replaced connection...).
    Closed(CloseRequest),
}

impl End {
    /// Whether the client meant to go: it said `Leave`, or closed with 1000 (normal)
    /// or 1001 (going away, as a browser does for a closed tab). Anything else,
    /// including a close with another code, is a connection lost.
    pub(super) fn departure(&self) -> Departure {
        match self {
            End::Leaving | End::PeerClosed(Some(1000 | 1001)) => Departure::Deliberate,
            _ => Departure::Lost,
        }
    }
}

/// An upgraded connection, owned by its task.
pub(super) struct Connection {
    /// Its id across the server.
    pub(super) id: ConnId,
    pub(super) state: AppState,
    /// The client's address, for the admin page's list of refusals.
    peer: std::net::SocketAddr,
    /// Where the round trip of the server's WebSocket pings goes, once a player joined.
    round_trip: Option<Arc<InputSlot>>,
    /// When the connection began: ping payloads are microseconds since then.
    began: std::time::Instant,
    socket: Socket,
    link: Arc<Link>,
    stops: Stops,
    /// Counts the connection as open for as long as it lives.
    _open: OpenConnection,
}

/// What ends a wait for the next message besides the client itself. The futures are
/// made once per connection: making them per message would register and deregister
/// with the token's notifier every time.
struct Stops {
    /// The server is shutting down.
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    /// The game asked to close the connection.
    close_requested: oneshot::Receiver<CloseRequest>,
    /// When to send the next WebSocket ping (only while the round trip is measured).
    ping: tokio::time::Interval,
}

impl Connection {
    /// A connection over `socket`, whose writes go through `link`; the game's close
    /// request arrives on `close_requested`.
    pub(super) fn new(
        state: AppState,
        peer: std::net::SocketAddr,
        socket: Socket,
        link: Arc<Link>,
        close_requested: oneshot::Receiver<CloseRequest>,
    ) -> Connection {
        Connection {
            peer,
            round_trip: None,
            began: std::time::Instant::now(),
            id: state.next_conn(),
            stops: Stops {
                shutdown: Box::pin(state.0.shutdown.clone().cancelled_owned()),
                close_requested,
                ping: {
                    let mut ping = tokio::time::interval_at(
                        tokio::time::Instant::now() + PING_EVERY,
                        PING_EVERY,
                    );
                    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    ping
                },
            },
            _open: OpenConnection::new(&state),
            state,
            socket,
            link,
        }
    }

    /// The game's end of this connection.
    pub(super) fn outbox(&self) -> Outbox {
        Outbox::new(self.link.clone())
    }

    /// From now on, measures the connection's round trip with a WebSocket ping every few
    /// seconds (a browser answers by itself) and leaves it in `slot`.
    pub(super) fn measure_round_trip(&mut self, slot: Arc<InputSlot>) {
        self.round_trip = Some(slot);
    }

    /// The next client message, or how the connection ended.
    pub(super) async fn next_message(&mut self) -> Result<ClientMessage, End> {
        loop {
            let measuring = self.round_trip.is_some();
            let frame = tokio::select! {
                biased;
                // A close the game asked for says more than the shutdown (a cluster
                // node hands its sessions over, each connection told where to go).
                Ok(request) = &mut self.stops.close_requested => return Err(End::Closed(request)),
                () = &mut self.stops.shutdown => return Err(End::Shutdown),
                frame = self.socket.next() => frame,
                _ = self.stops.ping.tick(), if measuring => {
                    let sent = self.began.elapsed().as_micros() as u64;
                    let ping = Message::Ping(sent.to_be_bytes().to_vec().into());
                    if self.socket.send(ping).await.is_err() {
                        return Err(End::PeerVanished);
                    }
                    continue;
                }
            };
            return match frame {
                None => Err(End::PeerVanished),
                Some(Err(tungstenite::Error::Capacity(_))) => Err(too_big()),
                Some(Err(_)) => Err(End::PeerVanished),
                Some(Ok(Message::Binary(bytes))) => decode_client(&bytes).map_err(refusal),
                Some(Ok(Message::Text(_))) => Err(End::Refuse(
                    close_code::UNSUPPORTED_DATA,
                    "binary frames only: messages are MessagePack".into(),
                )),
                Some(Ok(Message::Close(frame))) => {
                    Err(End::PeerClosed(frame.map(|f| u16::from(f.code))))
                }
                Some(Ok(Message::Pong(payload))) => {
                    if let (Some(slot), Ok(sent)) =
                        (&self.round_trip, <[u8; 8]>::try_from(&payload[..]))
                    {
                        let took = (self.began.elapsed().as_micros() as u64)
                            .saturating_sub(u64::from_be_bytes(sent));
                        slot.set_round_trip_us(u32::try_from(took).unwrap_or(u32::MAX));
                    }
                    continue;
                }
                // WebSocket pings are answered by tungstenite itself.
                Some(Ok(Message::Ping(_) | Message::Frame(_))) => continue,
            };
        }
    }

    /// The next WebSocket message as it came, for the conformance echo.
    pub(super) async fn next_raw(&mut self) -> Result<Message, End> {
        match self.socket.next().await {
            Some(Ok(Message::Close(_))) => Err(End::PeerClosed(None)),
            Some(Ok(message)) => Ok(message),
            Some(Err(tungstenite::Error::Capacity(_))) => Err(too_big()),
            Some(Err(_)) | None => Err(End::PeerVanished),
        }
    }

    /// Sends a WebSocket message through tungstenite, for the conformance echo.
    pub(super) async fn send_raw(&mut self, message: Message) -> Result<(), End> {
        self.socket
            .send(message)
            .await
            .map_err(|_| End::PeerVanished)
    }

    /// Sends a message to this connection alone; false if it was not sent (the client
    /// is not reading, or the connection is closing).
    pub(super) fn reply(&self, message: &ServerMessage<'_>) -> bool {
        crate::frame::encode_alone(message)
            .is_some_and(|frame| matches!(self.link.send(&frame), Sent::Written | Sent::Owed))
    }

    /// Ends the connection the way `end` calls for, within bounded time.
    pub(super) async fn finish(mut self, end: End) {
        // Whatever the game sends from now on would follow the close frame.
        self.link.seal();
        match end {
            End::Refuse(code, reason) => {
                crate::telemetry::protocol_error(error_kind(code));
                let monitor = self.state.0.stats.monitor();
                monitor.refused(error_kind(code), self.peer.ip().to_string());
                tracing::debug!(code, %reason, "closing a connection that broke the protocol");
                self.close(code, reason).await;
                // What the client still sends cannot be trusted to parse (a frame over
                // the size limit is cut off mid-payload): read it as bytes, not frames.
                let _ = timeout(CLOSE_GRACE, self.link.flush()).await;
                let _ = timeout(CLOSE_GRACE, self.socket.get_ref().linger()).await;
                return;
            }
            End::Closed((code, reason)) => {
                self.close(code, reason).await;
                self.drain().await;
            }
            End::Shutdown => {
                let reason = "server shutting down".to_owned();
                self.close(close_code::GOING_AWAY, reason).await;
                self.drain().await;
            }
            End::Leaving => {
                self.close(1000, "goodbye".to_owned()).await;
                self.drain().await;
            }
            End::PeerClosed(_) => {
                // tungstenite has queued the answer to the client's close; the sink's
                // close sends it (`WebSocketStream::close` would refuse: the peer closed
                // first).
                let _ = timeout(CLOSE_GRACE, SinkExt::close(&mut self.socket)).await;
            }
            // Nothing can be sent on a broken socket.
            End::PeerVanished => return,
        }
        let _ = timeout(CLOSE_GRACE, self.link.flush()).await;
    }

    /// Reads and discards until the client's close frame (or a bounded wait), so that
    /// the server's close frame is not lost to a reset from unread data.
    async fn drain(&mut self) {
        let _ = timeout(CLOSE_GRACE, async {
            while let Some(Ok(message)) = self.socket.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }

    /// Sends a close frame with `code` and `reason` (cut to what a close frame holds).
    async fn close(&mut self, code: u16, mut reason: String) {
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
        let _ = timeout(CLOSE_GRACE, self.socket.send(Message::Close(Some(frame)))).await;
    }
}

fn too_big() -> End {
    End::Refuse(
        close_code::MESSAGE_TOO_BIG,
        "message over the size limit".into(),
    )
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
