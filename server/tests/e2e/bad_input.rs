//! Bad input gets a precise close, and disturbs nobody else.

use arena_shared::limits::{MAX_CLIENT_MESSAGE_BYTES, SUBPROTOCOL, close_code};
use arena_shared::protocol::Role;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::common::{Client, TestServer};

async fn assert_closed_with(server: &TestServer, frame: Message, code: u16, reason_has: &str) {
    let mut client = Client::join(server, "rude", Some("bad"), Role::Player).await;
    client.send_raw(frame).await;
    let (got, reason) = client.closed().await;
    assert_eq!(got, code, "close code (reason: {reason})");
    assert!(
        reason.contains(reason_has),
        "the reason says what was wrong: {reason:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_message_gets_1007_while_the_others_keep_receiving() {
    let server = TestServer::start("").await;
    let mut polite = Client::join(&server, "polite", Some("bad"), Role::Player).await;
    assert_closed_with(
        &server,
        Message::Binary(vec![0xc1, 0x00, 0x13].into()),
        close_code::INVALID_PAYLOAD,
        "not a valid message",
    )
    .await;
    let before = polite.mirror.tick();
    polite.ticks(30).await;
    assert_eq!(polite.gaps, 0, "the other client missed no tick");
    assert_eq!(polite.mirror.tick().since(before), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_frame_gets_1003() {
    let server = TestServer::start("").await;
    assert_closed_with(
        &server,
        Message::Text("{\"move\": 1}".into()),
        close_code::UNSUPPORTED_DATA,
        "binary",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_gets_1009() {
    let server = TestServer::start("").await;
    let big = vec![0x90; MAX_CLIENT_MESSAGE_BYTES + 1];
    assert_closed_with(
        &server,
        Message::Binary(big.into()),
        close_code::MESSAGE_TOO_BIG,
        "limit",
    )
    .await;
    // Far over the limit: refused by the WebSocket layer before it is buffered whole.
    let huge = vec![0x90; 64 * 1024];
    assert_closed_with(
        &server,
        Message::Binary(huge.into()),
        close_code::MESSAGE_TOO_BIG,
        "limit",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_before_hello_gets_1008() {
    let server = TestServer::start("").await;
    let mut ws = super::common::open(server.addr, None).await;
    use futures_util::{SinkExt, StreamExt};
    let step = arena_shared::codec::encode_client(&arena_shared::ClientMessage::Move(
        arena_shared::protocol::Move {
            seq: 1,
            dx: 1,
            dy: 0,
        },
    ))
    .expect("encodes");
    ws.send(Message::Binary(step.into())).await.expect("sent");
    let frame = tokio::time::timeout(super::common::PATIENCE, ws.next())
        .await
        .expect("answered");
    let Some(Ok(Message::Close(Some(close)))) = frame else {
        panic!("closed, got {frame:?}")
    };
    assert_eq!(u16::from(close.code), close_code::POLICY_VIOLATION);
    assert!(close.reason.contains("Hello"), "{}", close.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_the_subprotocol_is_refused_with_http_400() {
    let server = TestServer::start("").await;
    let request = format!("ws://{}/ws", server.addr)
        .into_client_request()
        .expect("valid");
    match tokio_tungstenite::connect_async(request).await {
        Err(WsError::Http(response)) => {
            assert_eq!(response.status().as_u16(), 400);
            let body =
                String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).to_string();
            assert!(
                body.contains(SUBPROTOCOL),
                "the refusal names the subprotocol: {body}"
            );
        }
        other => panic!("expected an HTTP 400 refusal, got {other:?}"),
    }
}
