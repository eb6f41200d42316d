//! Tick workers: sessions are spread over them, each keeps its own cadence, and what
//! crosses them (the session cap, pairing codes) works as it does with one.

use arena_shared::limits::close_code;
use arena_shared::protocol::{Role, ServerMessage};

use super::common::{Client, PATIENCE, TestServer, refused_join};
use super::controllers::{Phone, code_for};

const SETUP: &str = "[balls]\ncount = 3\n[sessions]\nempty_timeout_s = 0.2\n";

/// Sessions per worker, once each worker has counted its sessions since they were
/// created: `live` in all.
async fn sessions_per_worker(server: &TestServer, live: usize) -> Vec<usize> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let counts = server.stats.worker_sessions();
        if counts.iter().sum::<usize>() == live || tokio::time::Instant::now() > deadline {
            return counts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_sessions_go_to_both_workers_and_each_session_keeps_every_tick() {
    let server = TestServer::start_with_workers(SETUP, 2).await;
    let mut players = Vec::new();
    for n in 0..4 {
        let code = format!("spread-{n}");
        players.push(Client::join(&server, "p", Some(&code), Role::Player).await);
    }
    for player in &mut players {
        player.ticks(20).await;
        assert_eq!(
            player.gaps, 0,
            "a worker steps each of its sessions every tick"
        );
    }
    let per_worker = sessions_per_worker(&server, 4).await;
    assert_eq!(per_worker.iter().sum::<usize>(), 4, "{per_worker:?}");
    assert!(
        per_worker.len() == 2 && per_worker.iter().all(|&n| n >= 1),
        "new sessions are spread over the two workers: {per_worker:?}"
    );
    assert_eq!(server.stats().sessions, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cap_holds_across_workers_and_frees_with_an_expired_session() {
    let server =
        TestServer::start_with_workers(&format!("{SETUP}[limits]\nmax_sessions = 2\n"), 2).await;
    let _ada = Client::join(&server, "ada", Some("cap-a"), Role::Player).await;
    let bob = Client::join(&server, "bob", Some("cap-b"), Role::Player).await;
    assert_eq!(sessions_per_worker(&server, 2).await, [1, 1]);
    let (code, _) = refused_join(&server, "cap-c").await;
    assert_eq!(code, close_code::TOO_MANY_SESSIONS, "two workers, one cap");

    drop(bob);
    while server.stats().sessions != 1 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut eve = Client::join(&server, "eve", Some("cap-c"), Role::Player).await;
    eve.ticks(3).await;
    assert_eq!(server.stats().sessions, 2, "the freed place is taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_codes_reach_players_on_either_worker() {
    let server = TestServer::start_with_workers(SETUP, 2).await;
    let mut ada = Client::join(&server, "ada", Some("pair-a"), Role::Player).await;
    let mut bob = Client::join(&server, "bob", Some("pair-b"), Role::Player).await;
    assert_eq!(
        sessions_per_worker(&server, 2).await,
        [1, 1],
        "ada and bob play on different workers"
    );
    for (page, name) in [(&mut ada, "ada"), (&mut bob, "bob")] {
        let code = code_for(page).await;
        let mut phone = Phone::connect(&server).await;
        match phone.pair(&code).await {
            ServerMessage::Paired(paired) => {
                assert_eq!(paired.player, page.me());
                assert_eq!(paired.name, name);
            }
            other => panic!("the phone pairs with {name}: {other:?}"),
        }
    }
}
