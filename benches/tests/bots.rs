//! arena-bots against a real server on loopback: the report must hold real figures.

use std::net::SocketAddr;
use std::time::Duration;

use arena_bench::run::{RunConfig, run};
use arena_bench::target::resolve;
use arena_server::{Server, ServerError, Tunables};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running in this process until `stop`.
struct Running {
    addr: SocketAddr,
    stats: std::sync::Arc<arena_server::stats::Stats>,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<Result<(), ServerError>>,
}

/// Starts a server on `addr` (port 0: any free port).
async fn start(tunables: Tunables, addr: SocketAddr) -> Running {
    let server = Server::bind(addr, tunables).await.expect("binds");
    let addr = server.local_addr().expect("bound");
    let stats = server.stats();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stats,
        stop,
        serving,
    }
}

impl Running {
    /// Stops the server and waits until it has.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.serving
            .await
            .expect("no panic")
            .expect("the server stops cleanly");
    }
}

/// A short run of `clients` bots in `session`, moving every 100 ms; tests name what
/// else differs.
fn short_run(clients: usize, session: &str, seed: u64) -> RunConfig {
    RunConfig {
        clients,
        ramp: Duration::from_millis(400),
        duration: Duration::from_secs(2),
        session: Some(session.into()),
        sessions: 1,
        move_every: Duration::from_millis(100),
        chat_every: None,
        seed,
        progress: false,
        idle: false,
        bare: false,
        also: Vec::new(),
        allow_remote: false,
    }
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_measures_deltas_latency_and_the_server() {
    let tunables = Tunables::merged("[balls]\ncount = 20\n", "test").expect("valid tunables");
    let server = start(tunables, any_port()).await;
    let addr = server.addr;

    let target = resolve(&format!("ws://{addr}/ws"), false)
        .await
        .expect("loopback target");
    let config = short_run(8, "bots-test", 3);
    let report = run(&target, &config).await;

    assert_eq!(report.clients, 8);
    assert_eq!(report.connect_failures, 0, "{report:?}");
    assert_eq!(report.unexpected_closes, 0, "{:?}", report.close_reasons);
    assert!(
        report.deltas_per_client_s_min > 25.0,
        "every bot receives (nearly) every one of 30 deltas a second: {report:?}"
    );
    assert!(report.bytes_per_client_s > 100.0, "{report:?}");
    assert!(
        report.latency_samples >= 8 * 10,
        "moves every 100 ms are acknowledged: {report:?}"
    );
    assert!(
        report.latency_p50_ms > 0.0 && report.latency_p99_ms < 1000.0,
        "{report:?}"
    );
    assert!(report.latency_p99_ms >= report.latency_p50_ms);
    assert!(
        report.server_tick_p99_ms.is_some(),
        "the tick histogram was scraped: {report:?}"
    );
    assert!(
        report.server_rss_mb.is_some_and(|mb| mb > 1.0),
        "{report:?}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&report.json()).expect("the JSON line parses");
    for key in [
        "clients",
        "duration_s",
        "deltas_per_client_s",
        "ticks_missed",
        "bytes_per_client_s",
        "latency_p50_ms",
        "latency_p99_ms",
        "latency_max_ms",
        "connect_failures",
        "unexpected_closes",
        "server_cpu_s_per_s",
        "server_tick_p99_ms",
        "server_rss_mb",
    ] {
        assert!(json.get(key).is_some(), "the JSON report has {key}");
    }

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_reconnect_when_the_server_restarts_under_them() {
    let tunables = Tunables::merged("[balls]\ncount = 5\n", "test").expect("valid tunables");
    let first = start(tunables.clone(), any_port()).await;
    let addr = first.addr;

    let target = resolve(&format!("ws://{addr}/ws"), false)
        .await
        .expect("loopback target");
    let config = RunConfig {
        ramp: Duration::from_millis(200),
        duration: Duration::from_secs(3),
        ..short_run(5, "restart", 5)
    };
    let run = tokio::spawn(async move { run(&target, &config).await });

    // A second into the window, the server restarts on the same address: every bot is
    // closed with 1001 (going away) and comes back to the new server by itself.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    first.stop().await;
    let second = start(tunables, addr).await;

    let report = run.await.expect("the run finishes");
    assert_eq!(
        report.reconnects, 5,
        "every bot reconnected once: {report:?}"
    );
    assert_eq!(report.unexpected_closes, 0, "{:?}", report.close_reasons);
    assert!(
        report.deltas_per_client_s > 10.0,
        "and kept receiving deltas: {report:?}"
    );
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_spread_over_as_many_sessions_as_asked() {
    let tunables = Tunables::merged("[balls]\ncount = 3\n", "test").expect("valid tunables");
    let server = start(tunables, any_port()).await;
    let target = resolve(&format!("ws://{}/ws", server.addr), false)
        .await
        .expect("loopback target");
    let config = RunConfig {
        ramp: Duration::from_millis(300),
        duration: Duration::from_secs(1),
        sessions: 4,
        ..short_run(12, "spread", 7)
    };
    let report = run(&target, &config).await;
    assert_eq!(report.connect_failures, 0, "{report:?}");
    assert_eq!(report.unexpected_closes, 0, "{:?}", report.close_reasons);
    assert_eq!(
        server.stats.snapshot().sessions,
        4,
        "twelve bots over four sessions, three each"
    );
    assert_eq!(report.ticks_missed, 0, "{report:?}");
    server.stop().await;
}

/// Watches `session` as a spectator until `stop`; the chat lines it was sent.
async fn chat_seen(addr: SocketAddr, session: &str, stop: oneshot::Receiver<()>) -> Vec<String> {
    use arena_shared::codec::{decode_server, encode_client};
    use arena_shared::protocol::{ClientMessage, Hello, Role, ServerMessage};
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let mut request = format!("ws://{addr}/ws")
        .into_client_request()
        .expect("a valid URL");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        arena_shared::limits::SUBPROTOCOL
            .parse()
            .expect("a header value"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the server accepts");
    let hello = ClientMessage::Hello(Hello {
        name: "watcher".into(),
        session: Some(session.into()),
        role: Role::Spectator,
        reconnect: None,
    });
    let bytes = encode_client(&hello).expect("encodes");
    ws.send(Message::Binary(bytes.into())).await.expect("sends");
    let mut lines = Vec::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return lines,
            frame = ws.next() => match frame {
                Some(Ok(Message::Binary(bytes))) => {
                    if let Ok(ServerMessage::Chat(chat)) = decode_server(&bytes) {
                        lines.extend(chat.lines.into_iter().map(|l| format!("{}: {}", l.from, l.text)));
                    }
                }
                Some(Ok(_)) => {}
                _ => return lines,
            },
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_chat_only_when_asked() {
    let tunables = Tunables::merged("[balls]\ncount = 3\n", "test").expect("valid tunables");
    let server = start(tunables, any_port()).await;
    let target = resolve(&format!("ws://{}/ws", server.addr), false)
        .await
        .expect("loopback target");
    for (session, chat_every) in [
        ("quiet", None),
        ("chatty", Some(Duration::from_millis(400))),
    ] {
        let (stop, stopped) = oneshot::channel();
        let watcher = tokio::spawn(chat_seen(server.addr, session, stopped));
        let config = RunConfig {
            chat_every,
            ..short_run(4, session, 9)
        };
        let report = run(&target, &config).await;
        assert_eq!(report.unexpected_closes, 0, "{:?}", report.close_reasons);
        let _ = stop.send(());
        let lines = watcher.await.expect("the watcher ends");
        match chat_every {
            None => assert_eq!(lines, Vec::<String>::new(), "bots never chat unless asked"),
            Some(_) => {
                let said = lines.iter().filter(|l| l.contains(": bot line ")).count();
                assert!(
                    said >= 4 * 3,
                    "four bots, a line every 400 ms for 2 s: {lines:?}"
                );
            }
        }
    }
    server.stop().await;
}
