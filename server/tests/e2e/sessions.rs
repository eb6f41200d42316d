//! Joining sessions: who sees whom.

use arena_shared::limits::{DEFAULT_SESSION, close_code};
use arena_shared::protocol::{EntityKind, GameEvent, Role};

use super::common::{Client, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_players_in_one_session_see_each_other_join_and_exist() {
    let server = TestServer::start("[balls]\ncount = 4\n").await;
    let mut ada = Client::join(&server, "ada", Some("room1"), Role::Player).await;
    let mut bob = Client::join(&server, "bob", Some("room1"), Role::Player).await;
    let (a, b) = (ada.me(), bob.me());
    assert_ne!(a, b);

    ada.until("ada sees bob join", |c| c.mirror.spawn(b).is_some())
        .await;
    assert!(
        ada.seen(
            |e| matches!(e, GameEvent::PlayerJoined { id, name } if *id == b && name == "bob")
        )
        .len()
            == 1,
        "ada gets one PlayerJoined for bob"
    );
    let spawn = ada.mirror.spawn(b).expect("bob is in ada's world");
    assert_eq!(
        (spawn.kind, spawn.name.as_str()),
        (EntityKind::Player, "bob")
    );
    assert!(ada.mirror.state(b).is_some(), "and ada knows where bob is");
    assert_eq!(ada.mirror.len(), 6, "four balls and two players");

    // Bob joined after ada: he learns of her from his Welcome's snapshot.
    assert_eq!(bob.mirror.spawn(a).map(|s| s.name.as_str()), Some("ada"));
    bob.ticks(3).await;
    assert_eq!(bob.mirror.len(), 6);
    assert_eq!(bob.gaps, 0, "deltas arrive in tick order without gaps");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_in_another_session_sees_none_of_it() {
    let server = TestServer::start("[balls]\ncount = 2\n").await;
    let mut ada = Client::join(&server, "ada", Some("red"), Role::Player).await;
    let mut eve = Client::join(&server, "eve", Some("blue"), Role::Player).await;
    let _bob = Client::join(&server, "bob", Some("red"), Role::Player).await;
    ada.until("ada sees bob", |c| c.mirror.len() == 4).await;
    ada.steer(1.0, 0.0).await;
    ada.ticks(10).await;
    eve.ticks(20).await;
    assert_eq!(eve.session, "blue");
    assert_eq!(eve.mirror.len(), 3, "eve's session holds two balls and eve");
    assert!(
        eve.seen(|e| matches!(e, GameEvent::PlayerJoined { .. }))
            .is_empty(),
        "nobody joined eve's session after her: {:?}",
        eve.events
    );
    let names: Vec<String> = eve
        .mirror
        .ids()
        .filter_map(|id| eve.mirror.spawn(id))
        .map(|s| s.name.clone())
        .collect();
    assert!(!names.iter().any(|n| n == "ada" || n == "bob"), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_code_joins_the_default_session() {
    let server = TestServer::start("").await;
    let mut ada = Client::join(&server, "ada", None, Role::Player).await;
    let bob = Client::join(&server, "bob", Some(""), Role::Player).await;
    assert_eq!(ada.session, DEFAULT_SESSION);
    assert_eq!(bob.session, DEFAULT_SESSION);
    let b = bob.me();
    ada.until("ada sees bob", |c| c.mirror.spawn(b).is_some())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_session_refuses_a_player_but_takes_a_spectator() {
    let server = TestServer::start("[players]\nmax_per_session = 2\n").await;
    let _a = Client::join(&server, "a", Some("tiny"), Role::Player).await;
    let _b = Client::join(&server, "b", Some("tiny"), Role::Player).await;
    let mut c = super::common::open(server.addr, None).await;
    use futures_util::{SinkExt, StreamExt};
    let hello = arena_shared::codec::encode_client(&arena_shared::ClientMessage::Hello(
        arena_shared::protocol::Hello {
            name: "c".into(),
            session: Some("tiny".into()),
            role: Role::Player,
            reconnect: None,
        },
    ))
    .expect("encodes");
    c.send(tokio_tungstenite::tungstenite::Message::Binary(
        hello.into(),
    ))
    .await
    .expect("sent");
    let frame = tokio::time::timeout(super::common::PATIENCE, c.next())
        .await
        .expect("the server answers")
        .expect("with a frame")
        .expect("not an error");
    let tokio_tungstenite::tungstenite::Message::Close(Some(close)) = frame else {
        panic!("a third player is refused with a close frame, got {frame:?}")
    };
    assert_eq!(u16::from(close.code), close_code::SESSION_FULL);
    assert_eq!(close.reason.as_str(), "session tiny is full (2 players)");
    drop(c);
    let deadline = tokio::time::Instant::now() + super::common::PATIENCE;
    while server.stats().connections != 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the refused connection ends: {:?}",
            server.stats()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let mut watcher = Client::join(&server, "w", Some("tiny"), Role::Spectator).await;
    assert_eq!(watcher.you, None, "a spectator owns no entity");
    watcher.ticks(3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_session_is_dropped_after_its_timeout() {
    let server =
        TestServer::start("[sessions]\nempty_timeout_s = 0.2\nreconnect_grace_s = 0\n").await;
    let mut ada = Client::join(&server, "ada", Some("brief"), Role::Player).await;
    ada.ticks(2).await;
    assert_eq!(server.stats().sessions, 1);
    drop(ada);
    let deadline = tokio::time::Instant::now() + super::common::PATIENCE;
    while server.stats().sessions != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the empty session is dropped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
