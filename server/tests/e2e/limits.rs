//! Limits and checks: every refusal is clear, and counted.

use std::time::Duration;

use arena_shared::codec::encode_client;
use arena_shared::limits::{SUBPROTOCOL, close_code};
use arena_shared::protocol::{ClientMessage, Move, Role};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::common::{Client, TestServer, open};

/// The HTTP status of a handshake with these extra headers (101 when upgraded).
async fn handshake(server: &TestServer, headers: &[(&'static str, &str)]) -> u16 {
    let mut request = format!("ws://{}/ws", server.addr)
        .into_client_request()
        .expect("valid");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value).expect("a header value"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("handshake failed: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sites_pages_are_refused_and_the_servers_own_and_allowed_ones_accepted() {
    let server =
        TestServer::start("[limits]\nallowed_origins = [\"https://play.example.com\"]\n").await;
    let own = format!("http://{}", server.addr);
    assert_eq!(
        handshake(&server, &[("Origin", &own)]).await,
        101,
        "the server's own page"
    );
    assert_eq!(
        handshake(&server, &[("Origin", "https://play.example.com")]).await,
        101,
        "an allowed origin"
    );
    assert_eq!(
        handshake(&server, &[]).await,
        101,
        "a non-browser client without Origin"
    );
    assert_eq!(
        handshake(&server, &[("Origin", "https://evil.example")]).await,
        403,
        "another site"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_can_be_required() {
    let server = TestServer::start("[limits]\nrequire_origin = true\n").await;
    assert_eq!(handshake(&server, &[]).await, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_are_capped() {
    let server =
        TestServer::start("[limits]\nconnections_per_ip = 2\nlimit_loopback = true\n").await;
    let first = open(server.addr, None).await;
    let _second = open(server.addr, None).await;
    assert_eq!(
        handshake(&server, &[]).await,
        429,
        "a third connection from the same address"
    );
    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let status = handshake(&server, &[]).await;
        if status == 101 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a closed connection frees its place"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_messages_is_dropped_then_closed_while_others_play_on() {
    let server = TestServer::start("[limits]\nmessages_per_s = 50\n").await;
    let mut polite = Client::join(&server, "polite", Some("flood"), Role::Player).await;
    let mut flood = Client::join(&server, "flood", Some("flood"), Role::Player).await;
    for seq in 1..=200u32 {
        let bytes =
            encode_client(&ClientMessage::Move(Move { seq, dx: 1, dy: 0 })).expect("encodes");
        flood.send_raw(Message::Binary(bytes.into())).await;
    }
    let (code, reason) = flood.closed().await;
    assert_eq!(code, close_code::POLICY_VIOLATION);
    assert!(reason.contains("too many messages"), "{reason}");
    polite.ticks(15).await;
    assert_eq!(polite.gaps, 0, "the polite client missed nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_capped() {
    let server = TestServer::start("[limits]\nmax_sessions = 1\n").await;
    let _ada = Client::join(&server, "ada", Some("one"), Role::Player).await;
    let _bob = Client::join(&server, "bob", Some("one"), Role::Player).await;
    let (code, reason) = super::common::refused_join(&server, "two").await;
    assert_eq!(code, close_code::TOO_MANY_SESSIONS);
    assert!(reason.contains("maximum of 1 sessions"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_never_says_hello_is_closed() {
    let server = TestServer::start("[limits]\nhello_timeout_s = 0.3\n").await;
    let mut ws = open(server.addr, None).await;
    use futures_util::StreamExt;
    let frame = tokio::time::timeout(super::common::PATIENCE, ws.next())
        .await
        .expect("closed in time");
    let Some(Ok(Message::Close(Some(close)))) = frame else {
        panic!("closed, got {frame:?}")
    };
    assert_eq!(u16::from(close.code), close_code::POLICY_VIOLATION);
    assert!(
        close.reason.contains("no Hello within 0.3 seconds"),
        "{}",
        close.reason
    );
}
