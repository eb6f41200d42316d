//! Faults: after each, the server keeps ticking, the other clients miss no more than a
//! few ticks, and what the fault opened is cleaned up.

use std::time::Duration;

use arena_shared::protocol::{GameEvent, Role};
use tokio::io::AsyncWriteExt;

use super::common::{Client, HALF_A_FRAME, TestServer, open, upgrade_by_hand};

/// Waits until the server counts `n` open connections.
async fn connections_become(server: &TestServer, n: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while server.stats().connections != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "connections back to {n}: {:?}",
            server.stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_mid_frame_disturbs_nobody_and_is_cleaned_up() {
    let server = TestServer::start("").await;
    let mut watcher = Client::join(&server, "watcher", Some("f"), Role::Spectator).await;
    // A hand-made handshake, then half of a masked binary frame, then the socket dies.
    let mut tcp = upgrade_by_hand(server.addr).await;
    connections_become(&server, 2).await;
    tcp.write_all(&HALF_A_FRAME).await.expect("writes");
    drop(tcp);

    let before = watcher.mirror.tick();
    watcher.ticks(20).await;
    assert_eq!(watcher.gaps, 0);
    assert_eq!(watcher.mirror.tick().since(before), 20);
    connections_become(&server, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_connections_opened_and_dropped_at_once() {
    let server = TestServer::start("").await;
    let mut watcher = Client::join(&server, "watcher", Some("crowd"), Role::Player).await;
    let mut crowd = Vec::with_capacity(1000);
    for _ in 0..10 {
        let opened =
            futures_util::future::join_all((0..100).map(|_| open(server.addr, None))).await;
        crowd.extend(opened);
    }
    connections_become(&server, 1001).await;
    let ticks_before = server.stats().ticks;
    drop(crowd);
    let before = watcher.mirror.tick();
    watcher.ticks(30).await;
    assert_eq!(watcher.gaps, 0, "the watcher missed no tick");
    assert_eq!(watcher.mirror.tick().since(before), 30);
    connections_become(&server, 1).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while server.stats().ticks < ticks_before + 30 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the tick loop keeps going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_session_reconnecting_at_once_comes_back_whole() {
    // The watcher reads nothing while everybody joins; its socket buffer holds every
    // delta meanwhile, so it misses none: then "nobody left" is a fact, not a guess.
    let server =
        TestServer::start("[balls]\ncount = 0\n[arena]\nwidth = 2000\nheight = 2000\n").await;
    let mut watcher = Client::join(&server, "watcher", Some("blink"), Role::Spectator).await;
    let mut players = Vec::new();
    for i in 0..20 {
        players.push(Client::join(&server, &format!("p{i}"), Some("blink"), Role::Player).await);
    }
    let before: Vec<(arena_shared::protocol::EntityId, String)> =
        players.iter().map(|p| (p.me(), p.token.clone())).collect();
    drop(players); // Everybody's Wi-Fi blinks at once...
    let back = futures_util::future::join_all(before.iter().enumerate().map(|(i, (_, token))| {
        let name = format!("p{i}");
        let server = &server;
        async move { Client::rejoin(server, &name, Some("blink"), token).await }
    }))
    .await; // ...and everybody comes back at once.
    for (client, (id, _)) in back.iter().zip(&before) {
        assert_eq!(client.you, Some(*id), "every player is itself again");
    }
    watcher
        .until("all twenty are in the world", |c| c.mirror.len() == 20)
        .await;
    watcher.ticks(10).await;
    assert_eq!(watcher.gaps, 0, "the watcher saw every tick");
    let left = watcher.seen(|e| matches!(e, GameEvent::PlayerLeft { .. }));
    assert!(left.is_empty(), "nobody left: {left:?}");
    let lost = watcher
        .seen(|e| {
            matches!(
                e,
                GameEvent::Connection {
                    connected: false,
                    ..
                }
            )
        })
        .len();
    let back = watcher
        .seen(|e| {
            matches!(
                e,
                GameEvent::Connection {
                    connected: true,
                    ..
                }
            )
        })
        .len();
    assert_eq!(
        (lost, back),
        (20, 20),
        "twenty connections lost and twenty back"
    );
}
