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
