//! Real processes on loopback: a `redis-server` of the test's own on a free port, and
//! `arena-server` nodes started as the binary with `--cluster`, each stopped by its PID.
//! A player client that follows redirects as the browser page does.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arena_shared::codec::{decode_server, encode_client};
use arena_shared::limits::{SUBPROTOCOL, close_code};
use arena_shared::mirror::Mirror;
use arena_shared::protocol::{ClientMessage, EntityId, Hello, Role, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long anything that should happen soon may take before a test gives up.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// Cluster tests start processes and bots by the hundred: one at a time.
pub(crate) static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A `redis-server` of this test's own.
pub(crate) struct Redis {
    pub(crate) port: u16,
    child: Option<Child>,
}

impl Redis {
    pub(crate) fn start() -> Redis {
        let mut redis = Redis {
            port: free_port(),
            child: None,
        };
        redis.start_again();
        redis
    }

    /// Starts it (again) on its port, empty, and waits until it answers.
    pub(crate) fn start_again(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (.ci/test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it by its PID.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A connection for reading what the nodes wrote.
    pub(crate) async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .expect("a valid URL")
            .get_multiplexed_async_connection()
            .await
            .expect("Redis answers")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An `arena-server` process in the cluster.
pub(crate) struct Node {
    /// `127.0.0.1:PORT`.
    pub(crate) addr: String,
    child: Child,
}

impl Node {
    /// Starts a node of `redis`'s cluster on a free port, with `args` besides.
    pub(crate) fn start(redis: &Redis, args: &[&str]) -> Node {
        let (child, addr) = crate::launch::launch(
            crate::launch::server()
                .args(["--no-results", "--cluster", &redis.url()])
                .args(args)
                .env("RUST_LOG", "warn")
                .stderr(Stdio::inherit()),
        );
        Node { addr, child }
    }

    pub(crate) fn ws(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// kill -9.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM.
    pub(crate) fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "SIGTERM sent");
    }

    /// Waits for the process to end.
    pub(crate) async fn ended(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        while self.child.try_wait().ok().flatten().is_none() {
            assert!(Instant::now() < deadline, "the node stops after SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the process still runs.
    pub(crate) fn running(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }

    /// `GET path`: status and body.
    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        let response = reqwest::get(format!("http://{}{path}", self.addr))
            .await
            .expect("the node answers HTTP");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// `/cluster` as JSON.
    pub(crate) async fn cluster(&self) -> serde_json::Value {
        let (status, body) = self.get("/cluster").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `node`'s `/cluster` satisfies `done`.
pub(crate) async fn until_cluster(
    node: &Node,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, body) = node.get("/cluster").await;
        if status == 200
            && let Ok(json) = serde_json::from_str::<serde_json::Value>(&body)
            && done(&json)
        {
            return json;
        }
        assert!(Instant::now() < deadline, "{what}: last /cluster {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The owner's URL of `code` in a `/cluster` answer.
pub(crate) fn owner_url(cluster: &serde_json::Value, code: &str) -> Option<String> {
    cluster["sessions"]
        .as_array()?
        .iter()
        .find(|s| s["code"] == code)?["url"]
        .as_str()
        .map(str::to_owned)
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a game WebSocket to `url`.
pub(crate) async fn open(url: &str) -> Ws {
    try_open(url).await.expect("the node accepts the WebSocket")
}

async fn try_open(url: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

/// What a connection's next frame was.
#[expect(
    clippy::large_enum_variant,
    reason = "a test reads one message at a time; boxing would cost every match a deref"
)]
pub(crate) enum Next {
    Message(ServerMessage<'static>),
    Closed(u16, String),
}

pub(crate) async fn next(ws: &mut Ws) -> Next {
    loop {
        let frame = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("the server says something in time");
        match frame {
            Some(Ok(Message::Binary(bytes))) => {
                return Next::Message(decode_server(&bytes).expect("server frames decode"));
            }
            Some(Ok(Message::Close(close))) => {
                return match close {
                    Some(frame) => Next::Closed(frame.code.into(), frame.reason.to_string()),
                    None => Next::Closed(1005, String::new()),
                };
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Next::Closed(1006, String::new()),
        }
    }
}

/// A player, joined through some node and playing on its session's owner.
pub(crate) struct Player {
    pub(crate) ws: Ws,
    /// The node it plays on.
    pub(crate) url: String,
    pub(crate) you: EntityId,
    pub(crate) token: String,
    pub(crate) resumed: bool,
    pub(crate) mirror: Mirror,
    /// Redirects it followed to get there.
    pub(crate) redirects: u32,
}

impl Player {
    /// Says Hello to `entry` and follows redirects (close 4007) to the Welcome. A node
    /// it is sent to that does not answer (it just died, and the directory does not
    /// know yet) sends it back to `entry` after a pause, as the browser page does.
    pub(crate) async fn join(
        entry: &str,
        name: &str,
        session: &str,
        token: Option<&str>,
    ) -> Player {
        let deadline = Instant::now() + PATIENCE;
        let mut url = entry.to_owned();
        let mut redirects = 0;
        loop {
            assert!(Instant::now() < deadline, "{name} found no node to play on");
            let Ok(mut ws) = try_open(&url).await else {
                assert_ne!(url, entry, "the entry node answers");
                url = entry.to_owned();
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            };
            let hello = ClientMessage::Hello(Hello {
                name: name.into(),
                session: Some(session.into()),
                role: Role::Player,
                reconnect: token.map(Into::into),
            });
            send(&mut ws, &hello).await;
            loop {
                match next(&mut ws).await {
                    Next::Message(ServerMessage::Welcome(welcome)) => {
                        let mut mirror = Mirror::from_snapshot(&welcome.snapshot);
                        mirror.set_step(u32::from(welcome.tick_hz / welcome.send_hz.max(1)));
                        return Player {
                            ws,
                            url,
                            you: welcome.you.expect("a player"),
                            token: welcome.reconnect_token.into_owned(),
                            resumed: welcome.resumed,
                            mirror,
                            redirects,
                        };
                    }
                    Next::Message(_) => {}
                    Next::Closed(code, reason) if code == close_code::MOVED => {
                        redirects += 1;
                        url = reason;
                        break;
                    }
                    Next::Closed(code, reason) => panic!("{name} refused: {code} {reason}"),
                }
            }
        }
    }

    pub(crate) async fn send(&mut self, message: &ClientMessage) {
        send(&mut self.ws, message).await;
    }

    /// Reads until `done` holds of the mirror, applying deltas; panics on a close.
    pub(crate) async fn until(&mut self, what: &str, done: impl Fn(&Player) -> bool) {
        while !done(self) {
            match next(&mut self.ws).await {
                Next::Message(ServerMessage::Delta(delta)) => {
                    let _ = self.mirror.apply(&delta);
                }
                Next::Message(ServerMessage::Snapshot(snapshot)) => self.mirror.reset(&snapshot),
                Next::Message(_) => {}
                Next::Closed(code, reason) => panic!("closed {code} {reason} waiting for {what}"),
            }
        }
    }

    /// Reads until the server closes the connection.
    pub(crate) async fn closed(&mut self) -> (u16, String) {
        loop {
            match next(&mut self.ws).await {
                Next::Message(ServerMessage::Delta(delta)) => {
                    let _ = self.mirror.apply(&delta);
                }
                Next::Message(_) => {}
                Next::Closed(code, reason) => return (code, reason),
            }
        }
    }

    pub(crate) fn score(&self) -> u32 {
        self.mirror.score(self.you).unwrap_or(0)
    }
}

pub(crate) async fn send(ws: &mut Ws, message: &ClientMessage) {
    let bytes = encode_client(message).expect("encodes");
    ws.send(Message::Binary(bytes.into())).await.expect("sends");
}
