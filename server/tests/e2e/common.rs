//! The test harness: a server on an ephemeral port and clients that speak the protocol.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arena_server::stats::{Stats, StatsSnapshot};
use arena_server::{Server, Tunables};
use arena_shared::cells::CellGrid;
use arena_shared::codec::{decode_server, encode_client};
use arena_shared::limits::SUBPROTOCOL;
use arena_shared::mirror::Mirror;
use arena_shared::protocol::{
    ClientMessage, Delta, EntityId, GameEvent, Hello, Move, Role, ServerMessage, Tick,
};
use arena_shared::quantize::{direction_to_wire, position_from_wire};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// How long any single wait in a test may take before the test fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// A running server.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) stats: Arc<Stats>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), arena_server::ServerError>>>,
}

impl TestServer {
    /// Starts a server with the built-in tunables and `overrides` (TOML) merged over them.
    pub(crate) async fn start(overrides: &str) -> TestServer {
        TestServer::start_with_workers(overrides, arena_server::server::default_tick_threads())
            .await
    }

    /// Starts a server with `workers` tick workers.
    pub(crate) async fn start_with_workers(overrides: &str, workers: usize) -> TestServer {
        TestServer::start_with(overrides, workers, None, None).await
    }

    /// Starts a server whose `/admin` takes `token`.
    pub(crate) async fn start_admin(overrides: &str, token: &str) -> TestServer {
        let workers = arena_server::server::default_tick_threads();
        TestServer::start_with(overrides, workers, None, Some(token.to_owned())).await
    }

    /// Starts a server that keeps its round results in `dir`.
    pub(crate) async fn start_keeping(overrides: &str, dir: &std::path::Path) -> TestServer {
        let workers = arena_server::server::default_tick_threads();
        TestServer::start_with(overrides, workers, Some(dir.to_owned()), None).await
    }

    async fn start_with(
        overrides: &str,
        workers: usize,
        data_dir: Option<std::path::PathBuf>,
        admin_token: Option<String>,
    ) -> TestServer {
        let tunables = Tunables::merged(overrides, "test").expect("test tunables are valid");
        let server = Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)), tunables)
            .await
            .expect("binding 127.0.0.1:0 works")
            .with_tick_threads(workers)
            .with_data_dir(data_dir)
            .with_admin_token(admin_token);
        let addr = server.local_addr().expect("a bound server has an address");
        let stats = server.stats();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            stats,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub(crate) fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Begins shutdown and waits for the server to finish.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let result = timeout(PATIENCE, task)
                .await
                .expect("the server stops within the grace period");
            result
                .expect("the server task does not panic")
                .expect("the server stops cleanly");
        }
    }

    /// Begins shutdown without waiting.
    pub(crate) fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What a client received.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "a test reads one message at a time; boxing would cost every match a deref"
)]
pub(crate) enum Incoming {
    Message(ServerMessage<'static>),
    Closed { code: u16, reason: String },
}

/// A protocol client with its own mirror of the world.
pub(crate) struct Client {
    pub(crate) ws: WebSocketStream<TcpStream>,
    pub(crate) you: Option<EntityId>,
    pub(crate) session: String,
    /// The Welcome's reconnect token.
    pub(crate) token: String,
    /// The Welcome said the reconnect token brought the player back.
    pub(crate) resumed: bool,
    /// The Welcome's players away (connection lost).
    pub(crate) away: Vec<EntityId>,
    pub(crate) mirror: Mirror,
    /// Every event received, with its tick.
    pub(crate) events: Vec<(Tick, GameEvent)>,
    /// Deltas received.
    pub(crate) deltas: u64,
    /// Deltas that did not follow the previous tick.
    pub(crate) gaps: u64,
    /// Snapshots received after the Welcome.
    pub(crate) snapshots: u64,
    /// Chat lines received, oldest first.
    pub(crate) chat: Vec<arena_shared::protocol::ChatLine>,
    seq: u32,
}

/// Opens a WebSocket to the server offering the subprotocol; `recv_buffer` shrinks
/// the client's socket receive buffer (to make a slow reader fill up quickly).
pub(crate) async fn open(addr: SocketAddr, recv_buffer: Option<u32>) -> WebSocketStream<TcpStream> {
    let socket = TcpSocket::new_v4().expect("a socket");
    if let Some(size) = recv_buffer {
        socket
            .set_recv_buffer_size(size)
            .expect("SO_RCVBUF can be set");
    }
    let stream = socket
        .connect(addr)
        .await
        .expect("the server accepts connections");
    stream.set_nodelay(true).expect("TCP_NODELAY can be set");
    let mut request = format!("ws://{addr}/ws")
        .into_client_request()
        .expect("a valid URL");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let (ws, response) = tokio_tungstenite::client_async(request, stream)
        .await
        .expect("the WebSocket handshake succeeds");
    assert_eq!(
        response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .map(|v| v.as_bytes()),
        Some(SUBPROTOCOL.as_bytes()),
        "the server selects the arena subprotocol"
    );
    ws
}

impl Client {
    /// Connects, says Hello, and waits for the Welcome.
    pub(crate) async fn join(
        server: &TestServer,
        name: &str,
        session: Option<&str>,
        role: Role,
    ) -> Client {
        Client::join_with(server, name, session, role, None, None).await
    }

    /// Connects with the reconnect token of an earlier connection.
    pub(crate) async fn rejoin(
        server: &TestServer,
        name: &str,
        session: Option<&str>,
        token: &str,
    ) -> Client {
        Client::join_with(server, name, session, Role::Player, None, Some(token)).await
    }

    pub(crate) async fn join_with(
        server: &TestServer,
        name: &str,
        session: Option<&str>,
        role: Role,
        recv_buffer: Option<u32>,
        token: Option<&str>,
    ) -> Client {
        let ws = open(server.addr, recv_buffer).await;
        let mut client = Client {
            ws,
            you: None,
            session: String::new(),
            token: String::new(),
            resumed: false,
            away: Vec::new(),
            mirror: Mirror::default(),
            events: Vec::new(),
            deltas: 0,
            gaps: 0,
            snapshots: 0,
            chat: Vec::new(),
            seq: 0,
        };
        client
            .send(&ClientMessage::Hello(Hello {
                name: name.into(),
                session: session.map(Into::into),
                role,
                reconnect: token.map(Into::into),
            }))
            .await;
        match client.recv().await {
            Incoming::Message(ServerMessage::Welcome(welcome)) => {
                client.you = welcome.you;
                client.session = welcome.session.into_owned();
                client.token = welcome.reconnect_token.into_owned();
                client.resumed = welcome.resumed;
                client.away = welcome.snapshot.away.clone();
                client.mirror = Mirror::from_snapshot(&welcome.snapshot);
                let cells = welcome.view.and_then(|v| CellGrid::new(&v, &welcome.arena));
                client.mirror.set_cells(cells);
                client
                    .mirror
                    .set_step(u32::from(welcome.tick_hz / welcome.send_hz.max(1)));
            }
            other => panic!("{name} expected a Welcome, got {other:?}"),
        }
        client
    }

    pub(crate) fn me(&self) -> EntityId {
        self.you.expect("this client is a player")
    }

    pub(crate) async fn send(&mut self, message: &ClientMessage) {
        let bytes = encode_client(message).expect("client messages encode");
        self.send_raw(Message::Binary(bytes.into())).await;
    }

    pub(crate) async fn send_raw(&mut self, message: Message) {
        timeout(PATIENCE, self.ws.send(message))
            .await
            .expect("sending does not stall")
            .expect("the socket is open");
    }

    /// Steers towards (x, y) (any length; clamped to 1). Returns the input's seq.
    pub(crate) async fn steer(&mut self, x: f32, y: f32) -> u32 {
        self.seq += 1;
        let (dx, dy) = direction_to_wire(x, y);
        let seq = self.seq;
        self.send(&ClientMessage::Move(Move { seq, dx, dy })).await;
        seq
    }

    /// Steers the player horizontally towards the arena's middle (so no wall is in the
    /// way), waits for the move's acknowledgement, then for `deltas` more deltas: the
    /// direction (+1 or -1) and how far the player moved along x, in units.
    pub(crate) async fn steer_to_the_middle_for(&mut self, deltas: usize) -> (f32, f32) {
        let me = self.me();
        let start = self
            .mirror
            .state(me)
            .expect("the player is in its own world");
        let towards = if position_from_wire(start.x) < 800.0 {
            1.0
        } else {
            -1.0
        };
        let seq = self.steer(towards, 0.0).await;
        self.until("the move is acknowledged", |c| {
            c.mirror.ack(me) == Some(seq)
        })
        .await;
        self.ticks(deltas).await;
        let now = self.mirror.state(me).expect("the player is still there");
        (
            towards,
            position_from_wire(now.x) - position_from_wire(start.x),
        )
    }

    /// The next server message (or the close), applied to the mirror. The server's
    /// WebSocket pings (it measures a player's round trip) are answered by tungstenite
    /// and skipped here.
    pub(crate) async fn recv(&mut self) -> Incoming {
        let frame = loop {
            let frame = timeout(PATIENCE, self.ws.next())
                .await
                .expect("the server keeps talking");
            if !matches!(frame, Some(Ok(Message::Ping(_) | Message::Pong(_)))) {
                break frame;
            }
        };
        let message = match frame {
            None => {
                return Incoming::Closed {
                    code: 1006,
                    reason: "no close frame".into(),
                };
            }
            Some(Err(err)) => {
                return Incoming::Closed {
                    code: 1006,
                    reason: err.to_string(),
                };
            }
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((1005, String::new()));
                return Incoming::Closed { code, reason };
            }
            Some(Ok(Message::Binary(bytes))) => {
                decode_server(&bytes).expect("server messages decode")
            }
            Some(Ok(other)) => panic!("unexpected frame {other:?}"),
        };
        match &message {
            ServerMessage::Delta(delta) => {
                self.deltas += 1;
                if self.mirror.apply(delta).is_err() {
                    self.gaps += 1;
                }
                self.events
                    .extend(delta.events.iter().map(|e| (delta.tick, e.clone())));
            }
            ServerMessage::Snapshot(snapshot) => {
                self.snapshots += 1;
                self.mirror.reset(snapshot);
            }
            ServerMessage::View(view) => {
                self.deltas += 1;
                if self.mirror.apply_view(view).is_err() {
                    self.gaps += 1;
                }
                let events = view.cells.iter().flatten().flat_map(|c| c.events());
                self.events.extend(
                    events
                        .chain(view.world.events.iter().cloned())
                        .map(|e| (view.tick, e)),
                );
            }
            ServerMessage::Chat(chat) => self.chat.extend(chat.lines.iter().cloned()),
            _ => {}
        }
        Incoming::Message(message)
    }

    /// The next delta.
    pub(crate) async fn next_delta(&mut self) -> Delta {
        loop {
            match self.recv().await {
                Incoming::Message(ServerMessage::Delta(delta)) => return delta.into_owned(),
                Incoming::Message(_) => continue,
                Incoming::Closed { code, reason } => {
                    panic!("closed ({code} {reason}) while waiting for a delta")
                }
            }
        }
    }

    /// Receives `n` deltas.
    pub(crate) async fn ticks(&mut self, n: usize) {
        for _ in 0..n {
            self.next_delta().await;
        }
    }

    /// Receives deltas until `done` holds, or fails after [`PATIENCE`].
    pub(crate) async fn until(&mut self, what: &str, mut done: impl FnMut(&Client) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(self) {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            self.next_delta().await;
        }
    }

    /// Reads until the server closes the socket; returns its close code and reason.
    pub(crate) async fn closed(&mut self) -> (u16, String) {
        loop {
            if let Incoming::Closed { code, reason } = self.recv().await {
                return (code, reason);
            }
        }
    }

    /// Events of this kind seen so far.
    pub(crate) fn seen(&self, matches: impl Fn(&GameEvent) -> bool) -> Vec<GameEvent> {
        self.events
            .iter()
            .filter(|(_, e)| matches(e))
            .map(|(_, e)| e.clone())
            .collect()
    }
}

/// The first half of a masked binary frame announcing 100 bytes: what a client killed
/// mid-frame leaves behind.
pub(crate) const HALF_A_FRAME: [u8; 11] = [0x82, 0x80 | 100, 1, 2, 3, 4, 9, 9, 9, 9, 9];

/// Upgrades a raw TCP connection to `/ws` by hand, so a test can then write anything.
pub(crate) async fn upgrade_by_hand(addr: SocketAddr) -> TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = TcpStream::connect(addr).await.expect("connects");
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {}\r\n\r\n",
        arena_shared::limits::SUBPROTOCOL
    );
    tcp.write_all(request.as_bytes()).await.expect("writes");
    let mut response = vec![0u8; 1024];
    let n = tcp.read(&mut response).await.expect("reads");
    assert!(
        String::from_utf8_lossy(&response[..n]).starts_with("HTTP/1.1 101"),
        "upgraded"
    );
    tcp
}

/// GETs `path` from the server: its status and body.
pub(crate) async fn get(server: &TestServer, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{}{path}", server.addr))
        .await
        .expect("HTTP answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a text body"))
}

/// The value of a sample line `name value` (labels included in `name`).
pub(crate) fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .and_then(|value| value.trim().parse().ok())
}

/// The sum of a metric's samples over all its label sets, if it has any.
pub(crate) fn total(text: &str, name: &str) -> Option<f64> {
    let values: Vec<f64> = text
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?;
            let value = match rest.strip_prefix('{') {
                Some(labelled) => labelled.split_once("} ")?.1,
                None => rest.strip_prefix(' ')?,
            };
            value.trim().parse().ok()
        })
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

/// Says Hello as a player of `session` and expects to be refused: the close code and
/// reason.
pub(crate) async fn refused_join(server: &TestServer, session: &str) -> (u16, String) {
    let mut ws = open(server.addr, None).await;
    let hello = encode_client(&ClientMessage::Hello(Hello {
        name: "refused".into(),
        session: Some(session.into()),
        role: Role::Player,
        reconnect: None,
    }))
    .expect("encodes");
    ws.send(Message::Binary(hello.into())).await.expect("sent");
    loop {
        match timeout(PATIENCE, ws.next()).await.expect("answered") {
            Some(Ok(Message::Close(Some(close)))) => {
                return (u16::from(close.code), close.reason.to_string());
            }
            Some(Ok(Message::Binary(bytes))) => {
                panic!("expected a refusal, got {:?}", decode_server(&bytes))
            }
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}
