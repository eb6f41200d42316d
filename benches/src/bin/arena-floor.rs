//! `arena-floor`: the floor a game server's fan-out cannot beat, measured here.
//!
//! A bare axum server that speaks just enough of the Arena protocol for arena-bots (a
//! Welcome, then one delta per tick, encoded once and sent to every socket) and does
//! nothing else: no simulation, no input handling, no per-connection queue. Running the
//! same bots against it and against arena-server shows what Arena's own work costs on
//! top of sending the bytes.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use arena_shared::codec::encode_server;
use arena_shared::limits::SUBPROTOCOL;
use arena_shared::protocol::{
    ArenaInfo, Delta, EntityId, EntityState, ServerMessage, Snapshot, Tick, Welcome,
};
use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast;

/// A bare fan-out server for calibrating arena-bots' figures.
#[derive(Debug, Parser)]
struct Args {
    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1:18090")]
    addr: SocketAddr,
    /// Size of each tick's frame, in bytes (about what arena-server sends at 500 bots).
    #[arg(long, default_value_t = 2200)]
    bytes: usize,
    /// Ticks per second.
    #[arg(long, default_value_t = 30)]
    tick_hz: u32,
    /// Write pre-framed bytes from one plain thread instead of a task per socket.
    #[arg(long)]
    direct: bool,
}

/// A delta padded with entity states until it is about `bytes` long, like a real one.
fn padded_delta(tick: Tick, bytes: usize) -> Bytes {
    let state = EntityState {
        id: EntityId(200),
        x: 16000,
        y: 16000,
        vx: 53,
        vy: -40,
    };
    let delta = Delta {
        tick,
        moved: vec![state; bytes / 12],
        ..Delta::default()
    };
    frame(&ServerMessage::Delta(Cow::Owned(delta)))
}

/// The Welcome every bot gets: an empty world at `tick`.
fn welcome(tick: Tick) -> Bytes {
    frame(&ServerMessage::Welcome(Welcome {
        you: Some(EntityId(1)),
        session: Cow::Borrowed("floor"),
        tick_hz: 30,
        send_hz: 30,
        arena: ArenaInfo {
            width: 32000,
            height: 32000,
            round_ticks: 2700,
            intermission_ticks: 150,
            player_speed: 1600,
        },
        reconnect_token: Cow::Borrowed("0"),
        snapshot: Cow::Owned(Snapshot {
            tick,
            ..Snapshot::default()
        }),
        resumed: false,
        view: None,
    }))
}

fn frame(message: &ServerMessage<'_>) -> Bytes {
    let mut out = Vec::new();
    encode_server(message, &mut out).expect("encoding into a Vec cannot fail");
    out.into()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.addr.ip().is_loopback(),
        "arena-floor listens on loopback only"
    );
    rlimit::increase_nofile_limit(u64::MAX).context("cannot raise the open-file limit")?;
    if args.direct {
        return direct(args).await;
    }
    let (ticks, _) = broadcast::channel::<(Tick, Bytes)>(16);
    let sender = ticks.clone();
    let (bytes, hz) = (args.bytes, args.tick_hz);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(hz)));
        let mut tick = Tick(0);
        loop {
            every.tick().await;
            tick = tick.next();
            let _ = sender.send((tick, padded_delta(tick, bytes)));
        }
    });
    let app = Router::new().route("/ws", get(upgrade)).with_state(ticks);
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    eprintln!(
        "arena-floor on ws://{}/ws, {} bytes at {} Hz",
        args.addr, args.bytes, args.tick_hz
    );
    axum::serve(
        listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        }),
        app,
    )
    .await?;
    Ok(())
}

use axum::serve::ListenerExt;

async fn upgrade(
    ws: WebSocketUpgrade,
    State(ticks): State<broadcast::Sender<(Tick, Bytes)>>,
) -> Response {
    ws.protocols([SUBPROTOCOL])
        .read_buffer_size(4 * 1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| serve(socket, ticks.subscribe()))
}

async fn serve(socket: WebSocket, mut ticks: broadcast::Receiver<(Tick, Bytes)>) {
    let (mut sink, mut stream) = socket.split();
    // Wait for the Hello, then welcome with an empty world at the current tick.
    if !matches!(stream.next().await, Some(Ok(Message::Binary(_)))) {
        return;
    }
    let Ok((tick, _)) = ticks.recv().await else {
        return;
    };
    if sink.send(Message::Binary(welcome(tick))).await.is_err() {
        return;
    }
    tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    while let Ok((_, bytes)) = ticks.recv().await {
        if sink.send(Message::Binary(bytes)).await.is_err() {
            return;
        }
    }
}

/// A TCP socket shared by its connection task (through tungstenite) and the tick
/// thread (raw non-blocking writes of pre-framed bytes).
struct SharedIo(std::sync::Arc<tokio::net::TcpStream>);

impl tokio::io::AsyncRead for SharedIo {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        loop {
            std::task::ready!(self.0.poll_read_ready(cx))?;
            match self.0.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return std::task::Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return std::task::Poll::Ready(Err(e)),
            }
        }
    }
}

impl tokio::io::AsyncWrite for SharedIo {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        loop {
            std::task::ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_write(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                other => return std::task::Poll::Ready(other),
            }
        }
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

type Sockets = std::sync::Arc<parking_lot::Mutex<Vec<std::sync::Arc<tokio::net::TcpStream>>>>;

async fn direct(args: Args) -> anyhow::Result<()> {
    use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let sockets: Sockets = Default::default();
    let tick_now = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    {
        let sockets = sockets.clone();
        let tick_now = tick_now.clone();
        let (bytes, hz) = (args.bytes, args.tick_hz);
        std::thread::spawn(move || {
            let period = Duration::from_secs_f64(1.0 / f64::from(hz));
            let mut next = std::time::Instant::now();
            let mut tick = Tick(0);
            let mut out = Vec::new();
            let mut live = Vec::new();
            loop {
                next += period;
                if let Some(wait) = next.checked_duration_since(std::time::Instant::now()) {
                    std::thread::sleep(wait);
                }
                tick = tick.next();
                tick_now.store(u64::from(tick.0), std::sync::atomic::Ordering::Relaxed);
                let payload = padded_delta(tick, bytes);
                out.clear();
                let header = FrameHeader {
                    opcode: OpCode::Data(Data::Binary),
                    ..FrameHeader::default()
                };
                header.format(payload.len() as u64, &mut out).expect("vec");
                out.extend_from_slice(&payload);
                live.clear();
                live.extend(sockets.lock().iter().cloned());
                let mut dropped = Vec::new();
                for (i, s) in live.iter().enumerate() {
                    match s.try_write(&out) {
                        Ok(n) if n == out.len() => {}
                        _ => dropped.push(i),
                    }
                }
                if !dropped.is_empty() {
                    eprintln!(
                        "tick {}: {} partial or failed writes",
                        tick.0,
                        dropped.len()
                    );
                    let mut all = sockets.lock();
                    all.retain(|s| !dropped.iter().any(|&i| std::sync::Arc::ptr_eq(&live[i], s)));
                }
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    eprintln!(
        "arena-floor (direct) on ws://{}/ws, {} bytes at {} Hz",
        args.addr, args.bytes, args.tick_hz
    );
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let tcp = std::sync::Arc::new(tcp);
        let sockets = sockets.clone();
        let tick_now = tick_now.clone();
        tokio::spawn(async move {
            use tokio_tungstenite::tungstenite::handshake::server::{
                Request, Response as HsResponse,
            };
            // The error type is tungstenite's callback signature, not ours to shrink.
            #[allow(clippy::result_large_err)]
            let pick = |_: &Request, mut response: HsResponse| {
                response.headers_mut().insert(
                    "sec-websocket-protocol",
                    axum::http::HeaderValue::from_static(SUBPROTOCOL),
                );
                Ok(response)
            };
            let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                .read_buffer_size(4 * 1024)
                .write_buffer_size(0);
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async_with_config(
                SharedIo(tcp.clone()),
                pick,
                Some(config),
            )
            .await
            else {
                return;
            };
            if !matches!(
                ws.next().await,
                Some(Ok(tokio_tungstenite::tungstenite::Message::Binary(_)))
            ) {
                return;
            }
            let tick = Tick(
                u32::try_from(tick_now.load(std::sync::atomic::Ordering::Relaxed)).unwrap_or(0),
            );
            if ws
                .send(tokio_tungstenite::tungstenite::Message::Binary(welcome(
                    tick,
                )))
                .await
                .is_err()
            {
                return;
            }
            sockets.lock().push(tcp);
            while let Some(Ok(_)) = ws.next().await {}
        });
    }
}
