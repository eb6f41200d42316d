//! Results kept: a round played through real sockets is on the leaderboard after a
//! restart on the same data directory; a database that is garbage leaves the game
//! playing and says why nothing is kept.

use std::path::PathBuf;

use arena_shared::protocol::{GameEvent, Role};

use super::common::{Client, TestServer, get};

/// A short round in a small arena full of balls: a player moving scores soon.
const SHORT_ROUNDS: &str = "[round]\nlength_s = 2\nintermission_s = 1\n\
    [arena]\nwidth = 300\nheight = 300\n[balls]\ncount = 40\n";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("arena-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_played_is_on_the_leaderboard_after_a_restart() {
    let dir = scratch("leaderboard");
    let server = TestServer::start_keeping(SHORT_ROUNDS, &dir).await;
    let mut ada = Client::join(&server, "ada", Some("cup"), Role::Player).await;
    ada.steer_to_the_middle_for(10).await;
    ada.until("the round ends", |c| {
        !c.seen(|e| matches!(e, GameEvent::RoundEnded { .. }))
            .is_empty()
    })
    .await;
    let points = ada
        .seen(|e| matches!(e, GameEvent::RoundEnded { .. }))
        .into_iter()
        .find_map(|e| match e {
            GameEvent::RoundEnded { scores, .. } => scores.first().map(|s| s.points),
            _ => None,
        })
        .expect("ada is on the round's scoreboard");
    let (_, health) = get(&server, "/healthz").await;
    assert!(health.contains("results on ("), "{health}");
    drop(ada);
    server.stop().await; // a clean shutdown writes every round that ended

    let server = TestServer::start_keeping(SHORT_ROUNDS, &dir).await;
    let (status, body) = get(&server, "/api/leaderboard?period=all&session=cup").await;
    assert_eq!(status, 200, "{body}");
    let board: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let first = &board["by_points"][0];
    assert_eq!(first["name"], "ada", "{body}");
    assert_eq!(
        first["points"],
        i64::from(points),
        "the points of the round: {body}"
    );
    assert_eq!(board["recent"][0]["session"], "cup", "{body}");
    assert_eq!(board["recent"][0]["number"], 1, "{body}");

    let (status, body) = get(&server, "/api/leaderboard?period=year").await;
    assert_eq!(
        (status, body.trim()),
        (400, "period must be day, week or all")
    );
    let (status, body) = get(&server, "/api/leaderboard?session=no%20way!").await;
    assert_eq!(status, 400, "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_database_leaves_the_game_playing_and_says_why() {
    let dir = scratch("garbage");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    std::fs::write(dir.join("results.sqlite3"), vec![0x5a; 8192]).expect("writes");
    let server = TestServer::start_keeping(SHORT_ROUNDS, &dir).await;
    let mut ada = Client::join(&server, "ada", Some("cup"), Role::Player).await;
    ada.ticks(10).await;
    let (_, health) = get(&server, "/healthz").await;
    assert!(health.contains("results off ("), "{health}");
    assert!(health.contains("not a database"), "{health}");
    let (status, body) = get(&server, "/api/leaderboard").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("results are not kept"), "{body}");
    server.stop().await;
}
