//! One WebSocket connection: a reader that decodes client messages and a writer that
//! drains the connection's outbox, joined by a control channel for closing.
//!
//! The reader never waits on the game: inputs go into the player's [`InputSlot`], pings
//! are answered straight into the outbox. The writer batches whatever is queued into
//! one flush. Every way a connection can end goes through [`serve`]'s last lines: leave
//! the session, send or complete the close handshake, give the writer a bounded time.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arena_shared::codec::{DecodeError, decode_client, encode_server};
use arena_shared::limits::{DEFAULT_SESSION, close_code};
use arena_shared::protocol::{ClientMessage, Hello, Pong, Role, ServerMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::AppState;
use crate::input_slot::InputSlot;
use crate::outbox::{Outbox, Outgoing};
use crate::session::{ConnId, JoinRequest};
use crate::stats::Stats;
use crate::ticker::Command;

/// How long a close handshake, or a writer's last flush, may take.
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
    /// The server is shutting down: the writer sends close 1001.
    Shutdown,
    /// The writer stopped on its own (it sent a close the session asked for, such as a
    /// full session's refusal, or the socket failed): nothing more will be sent.
    WriterGone,
}

/// What the reader asks of the writer when the connection ends.
enum Control {
    /// Send this close frame and stop.
    Close(u16, String),
    /// The client closed: answer its close frame and stop.
    Finish,
}

/// Serves one upgraded connection until it ends.
pub(super) async fn serve(socket: WebSocket, state: AppState) {
    let conn = state.next_conn();
    let _open = OpenConnection::new(&state);
    let (sink, mut stream) = socket.split();
    let (outbox, outbox_rx) = Outbox::new(state.0.outbox_frames);
    let (control, control_rx) = oneshot::channel();
    let writer_done = CancellationToken::new();
    let writer = tokio::spawn(write_frames(
        sink,
        outbox_rx,
        control_rx,
        state.0.shutdown.clone(),
        writer_done.clone().drop_guard(),
        state.0.stats.clone(),
    ));
    let mut stops = Stops {
        shutdown: Box::pin(state.0.shutdown.clone().cancelled_owned()),
        writer_done: Box::pin(writer_done.cancelled_owned()),
    };
    let replies = outbox.sender();

    let hello_timeout = Duration::from_secs_f32(state.0.limits.hello_timeout_s);
    let end = match timeout(hello_timeout, next_message(&mut stream, &mut stops)).await {
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
                replies: &replies,
                input: &input,
                who: Who::Page {
                    role,
                    session: &session,
                },
            };
            let end = reader.read_inputs(&mut stream, &mut stops).await;
            state.command(Command::Leave { conn, session });
            end
        }
        Ok(Ok(ClientMessage::Pair(pair))) => {
            super::controller::pair(
                conn,
                pair.code,
                outbox,
                &state,
                &replies,
                &mut stream,
                &mut stops,
            )
            .await
        }
        Ok(Ok(_)) => End::Refuse(
            close_code::POLICY_VIOLATION,
            "the first message must be Hello (or Pair, from a controller)".into(),
        ),
    };
    drop(replies);

    match end {
        End::Refuse(code, reason) => {
            crate::telemetry::protocol_error(error_kind(code));
            tracing::debug!(conn, code, %reason, "closing a connection that broke the protocol");
            let _ = control.send(Control::Close(code, reason));
            drain(&mut stream).await;
        }
        End::PeerClosed => {
            let _ = control.send(Control::Finish);
        }
        End::Shutdown | End::WriterGone => drain(&mut stream).await,
        End::PeerVanished => {
            // Nothing can be sent on a broken socket.
            writer.abort();
            return;
        }
    }
    let abort = writer.abort_handle();
    if timeout(CLOSE_GRACE, writer).await.is_err() {
        abort.abort();
    }
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
    pub(super) replies: &'a mpsc::Sender<Outgoing>,
    pub(super) input: &'a InputSlot,
    pub(super) who: Who<'a>,
}

impl Reader<'_> {
    /// Reads `Move`s, `Ping`s and pairing requests until the connection ends.
    pub(super) async fn read_inputs(
        &self,
        stream: &mut SplitStream<WebSocket>,
        stops: &mut Stops,
    ) -> End {
        let refuse = |why: &str| End::Refuse(close_code::POLICY_VIOLATION, why.to_owned());
        let mut rate = RateLimit::new(self.state.0.limits.messages_per_s);
        loop {
            let message = next_message(stream, stops).await;
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
        reply(self.replies, message)
    }
}

/// Queues a message for one connection alone; false if its queue is full.
pub(super) fn reply(replies: &mpsc::Sender<Outgoing>, message: &ServerMessage<'_>) -> bool {
    let mut frame = Vec::with_capacity(32);
    encode_server(message, &mut frame).is_ok()
        && replies.try_send(Outgoing::Frame(frame.into())).is_ok()
}

/// What ends a reader's wait for the next message besides the client itself. The
/// futures are made once per connection: making them per message would register and
/// deregister with the token's notifier every time.
pub(super) struct Stops {
    /// The server is shutting down.
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    /// The writer task ended, whatever the reason.
    writer_done: Pin<Box<WaitForCancellationFutureOwned>>,
}

/// The next client message, or how the connection ended.
pub(super) async fn next_message(
    stream: &mut SplitStream<WebSocket>,
    stops: &mut Stops,
) -> Result<ClientMessage, End> {
    loop {
        let frame = tokio::select! {
            biased;
            () = &mut stops.shutdown => return Err(End::Shutdown),
            () = &mut stops.writer_done => return Err(End::WriterGone),
            frame = stream.next() => frame,
        };
        return match frame {
            None => Err(End::PeerVanished),
            Some(Err(err)) if is_too_big(&err) => Err(End::Refuse(
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
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
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

/// Whether tungstenite refused a frame for its size.
fn is_too_big(err: &axum::Error) -> bool {
    use std::error::Error;
    matches!(
        err.source()
            .and_then(|inner| inner.downcast_ref::<tungstenite::Error>()),
        Some(tungstenite::Error::Capacity(_))
    )
}

fn session_code(hello: &Hello) -> String {
    match hello.session.as_deref() {
        None | Some("") => DEFAULT_SESSION.to_owned(),
        Some(code) => code.to_owned(),
    }
}

/// Reads and discards until the client's close frame (or a bounded wait), so that the
/// server's close frame is not lost to a reset from unread data.
async fn drain(stream: &mut SplitStream<WebSocket>) {
    let _ = timeout(CLOSE_GRACE, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Why the writer stops.
enum Stop {
    /// The reader asked (or dropped the control channel).
    Control(Result<Control, oneshot::error::RecvError>),
    /// The server is shutting down.
    Shutdown,
    /// The queue closed, a queued close was sent, or the socket failed.
    Done,
}

/// Sends queued frames until the queue closes, a close is asked for, or the server
/// shuts down. A write stuck on a client that does not read can still be interrupted.
async fn write_frames(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Outgoing>,
    mut control: oneshot::Receiver<Control>,
    shutdown: CancellationToken,
    // Dropped when this task ends, which tells the reader.
    _done: tokio_util::sync::DropGuard,
    stats: Arc<Stats>,
) {
    // Made once: see `Stops`.
    let cancelled = shutdown.cancelled();
    tokio::pin!(cancelled);
    let stop = loop {
        let item = tokio::select! {
            biased;
            c = &mut control => break Stop::Control(c),
            () = &mut cancelled => break Stop::Shutdown,
            item = queue.recv() => item,
        };
        let Some(item) = item else { break Stop::Done };
        tokio::select! {
            biased;
            c = &mut control => break Stop::Control(c),
            () = &mut cancelled => break Stop::Shutdown,

            stop = write_batch(&mut sink, item, &mut queue, &stats) => if stop { break Stop::Done },
        }
    };
    match stop {
        Stop::Control(Ok(Control::Close(code, reason))) => {
            send_close(&mut sink, code, reason).await
        }
        Stop::Control(Ok(Control::Finish)) => {
            let _ = timeout(CLOSE_GRACE, sink.close()).await;
        }
        Stop::Shutdown => {
            send_close(
                &mut sink,
                close_code::GOING_AWAY,
                "server shutting down".into(),
            )
            .await;
        }
        Stop::Control(Err(_)) | Stop::Done => {}
    }
}

/// Feeds `first` and everything else already queued, then flushes once. Returns true
/// when the writer should stop.
async fn write_batch(
    sink: &mut SplitSink<WebSocket, Message>,
    first: Outgoing,
    queue: &mut mpsc::Receiver<Outgoing>,
    stats: &Stats,
) -> bool {
    let mut item = Some(first);
    while let Some(next) = item {
        match next {
            Outgoing::Frame(bytes) => {
                stats.sent(bytes.len());
                if sink.feed(Message::Binary(bytes)).await.is_err() {
                    return true;
                }
            }
            Outgoing::Close { code, reason } => {
                send_close(sink, code, reason).await;
                return true;
            }
        }
        item = queue.try_recv().ok();
    }
    sink.flush().await.is_err()
}

async fn send_close(sink: &mut SplitSink<WebSocket, Message>, code: u16, mut reason: String) {
    if reason.len() > MAX_CLOSE_REASON {
        let mut cut = MAX_CLOSE_REASON;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
    }
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = timeout(CLOSE_GRACE, sink.send(Message::Close(Some(frame)))).await;
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
