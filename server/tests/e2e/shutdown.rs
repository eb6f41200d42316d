//! Stopping the server closes every socket with 1001.

use arena_shared::limits::close_code;
use arena_shared::protocol::Role;

use super::common::{Client, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sends_close_1001_to_every_socket_then_stops() {
    let mut server = TestServer::start("").await;
    let mut ada = Client::join(&server, "ada", Some("s"), Role::Player).await;
    let mut eye = Client::join(&server, "eye", Some("t"), Role::Spectator).await;
    ada.ticks(2).await;
    server.begin_stop();
    for client in [&mut ada, &mut eye] {
        let (code, reason) = client.closed().await;
        assert_eq!(code, close_code::GOING_AWAY, "{reason}");
        assert!(reason.contains("shutting down"), "{reason}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_closes_gets_the_closing_handshake_answered() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let server = TestServer::start("").await;
    let mut ada = Client::join(&server, "ada", Some("s"), Role::Player).await;
    ada.ticks(2).await;
    ada.ws.close(None).await.expect("the close frame goes out");
    // Deltas already on their way may come first; then the server's close frame, then
    // the end of the stream: a clean close, not a dropped TCP connection.
    let answer = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match ada.ws.next().await {
                Some(Ok(Message::Binary(_))) => continue,
                other => return other,
            }
        }
    })
    .await
    .expect("an answer within 5 s");
    assert!(
        matches!(answer, Some(Ok(Message::Close(_)))),
        "the server answers with its own close frame, got {answer:?}"
    );
    server.stop().await;
}
