//! A player whose connection drops comes back as itself: same entity, same score, and
//! the session sees only a connection-state change.

use arena_shared::limits::close_code;
use arena_shared::protocol::{ClientMessage, EntityId, GameEvent, Role};
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

use super::common::{Client, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_player_reconnects_as_itself_and_nobody_sees_it_leave() {
    let server =
        TestServer::start("[balls]\ncount = 0\n[arena]\nwidth = 500\nheight = 400\n").await;
    let mut ada = Client::join(&server, "ada", Some("wifi"), Role::Player).await;
    let mut bob = Client::join(&server, "bob", Some("wifi"), Role::Player).await;
    let me = ada.me();
    let them = bob.me();
    ada.until("ada sees bob", |c| c.mirror.state(them).is_some())
        .await;
    // Ram bob once, so that there is a score to keep.
    let (a, b) = (
        ada.mirror.state(me).expect("ada"),
        ada.mirror.state(bob.me()).expect("bob"),
    );
    ada.steer((b.x - a.x) as f32, (b.y - a.y) as f32).await;
    bob.until("ada scores", |c| c.mirror.score(me) == Some(2))
        .await;
    ada.steer(0.0, 0.0).await;
    ada.ticks(2).await;
    let token = ada.token.clone();

    drop(ada); // The Wi-Fi blinks.
    bob.until("bob sees ada's connection drop", |c| {
        !c.seen(|e| {
            *e == GameEvent::Connection {
                id: me,
                connected: false,
            }
        })
        .is_empty()
    })
    .await;
    let watcher = Client::join(&server, "tv", Some("wifi"), Role::Spectator).await;
    assert_eq!(watcher.away, vec![me], "a late joiner sees ada away");
    let back = Client::rejoin(&server, "ada", Some("wifi"), &token).await;
    assert!(back.resumed, "the Welcome says ada is back");
    assert_eq!(back.you, Some(me), "the same entity");
    assert_eq!(back.mirror.score(me), Some(2), "with the same score");
    assert_ne!(back.token, token, "and a fresh token");
    bob.until("bob sees ada back", |c| {
        !c.seen(|e| {
            *e == GameEvent::Connection {
                id: me,
                connected: true,
            }
        })
        .is_empty()
    })
    .await;
    let joins_and_leaves = bob.seen(|e| {
        matches!(e, GameEvent::PlayerLeft { id } | GameEvent::PlayerJoined { id, .. } if *id == me)
    });
    assert!(
        joins_and_leaves.is_empty(),
        "no leave, no join: {joins_and_leaves:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_grace_period_the_player_is_gone_for_good() {
    let server = TestServer::start("[sessions]\nreconnect_grace_s = 0.3\n").await;
    let ada = Client::join(&server, "ada", Some("gone"), Role::Player).await;
    let mut bob = Client::join(&server, "bob", Some("gone"), Role::Player).await;
    let (me, token) = (ada.me(), ada.token.clone());
    drop(ada);
    bob.until("ada leaves", |c| {
        !c.seen(|e| *e == GameEvent::PlayerLeft { id: me })
            .is_empty()
    })
    .await;
    let late = Client::rejoin(&server, "ada", Some("gone"), &token).await;
    assert_ne!(late.you, Some(me), "too late: a new player");
    assert!(!late.resumed, "and the Welcome says so");
}

/// Whether `client` has seen `id` leave, and seen its connection drop.
fn left_and_dropped(client: &Client, id: EntityId) -> (bool, bool) {
    let left = !client
        .seen(|e| *e == GameEvent::PlayerLeft { id })
        .is_empty();
    let dropped = !client
        .seen(|e| {
            *e == GameEvent::Connection {
                id,
                connected: false,
            }
        })
        .is_empty();
    (left, dropped)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_says_goodbye_leaves_at_once_and_a_lost_one_keeps_its_seat() {
    // A grace period far longer than the test: only a goodbye can make a player leave.
    let server = TestServer::start("[sessions]\nreconnect_grace_s = 600\n").await;
    let mut bob = Client::join(&server, "bob", Some("bye"), Role::Player).await;

    let mut ada = Client::join(&server, "ada", Some("bye"), Role::Player).await;
    let ada_id = ada.me();
    ada.send(&ClientMessage::Leave).await;
    let (code, _) = ada.closed().await;
    assert_eq!(code, 1000, "a Leave is answered with a normal close");

    let mut cy = Client::join(&server, "cy", Some("bye"), Role::Player).await;
    let cy_id = cy.me();
    // What a browser sends for a closed tab.
    cy.ws
        .close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "".into(),
        }))
        .await
        .expect("closes");

    let mut dee = Client::join(&server, "dee", Some("bye"), Role::Player).await;
    let dee_id = dee.me();
    dee.ws
        .close(Some(CloseFrame {
            code: CloseCode::Library(4000),
            reason: "network drop".into(),
        }))
        .await
        .expect("closes");

    bob.until("ada and cy leave, dee drops", |c| {
        left_and_dropped(c, ada_id).0
            && left_and_dropped(c, cy_id).0
            && left_and_dropped(c, dee_id).1
    })
    .await;
    assert_eq!(
        left_and_dropped(&bob, ada_id),
        (true, false),
        "Leave: gone at once"
    );
    assert_eq!(
        left_and_dropped(&bob, cy_id),
        (true, false),
        "1001: gone at once"
    );
    assert_eq!(
        left_and_dropped(&bob, dee_id),
        (false, true),
        "another code: the seat is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_replaces_a_half_open_connection() {
    let server = TestServer::start("").await;
    let mut old = Client::join(&server, "ada", Some("half"), Role::Player).await;
    let new = Client::rejoin(&server, "ada", Some("half"), &old.token.clone()).await;
    assert_eq!(new.you, old.you);
    let (code, reason) = old.closed().await;
    assert_eq!(code, close_code::REPLACED, "{reason}");
}
