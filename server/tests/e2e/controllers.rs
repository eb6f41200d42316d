//! Phone controllers: pairing by code, and steering the bound player and no other.

use std::time::Duration;

use arena_shared::codec::{decode_server, encode_client};
use arena_shared::limits::close_code;
use arena_shared::protocol::{ClientMessage, GameEvent, Move, Pair, Role, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::common::{Client, Incoming, PATIENCE, TestServer, open};

/// A phone: a raw protocol client that pairs instead of joining.
pub(super) struct Phone {
    ws: WebSocketStream<tokio::net::TcpStream>,
    seq: u32,
}

impl Phone {
    pub(super) async fn connect(server: &TestServer) -> Phone {
        Phone {
            ws: open(server.addr, None).await,
            seq: 0,
        }
    }

    async fn send(&mut self, message: &ClientMessage) {
        let bytes = encode_client(message).expect("encodes");
        self.ws
            .send(Message::Binary(bytes.into()))
            .await
            .expect("sent");
    }

    pub(super) async fn pair(&mut self, code: &str) -> ServerMessage<'static> {
        self.send(&ClientMessage::Pair(Pair { code: code.into() }))
            .await;
        self.next()
            .await
            .unwrap_or_else(|(c, r)| panic!("closed while pairing: {c} {r}"))
    }

    pub(super) async fn steer(&mut self, dx: i8, dy: i8) {
        self.seq += 1;
        let seq = self.seq;
        self.send(&ClientMessage::Move(Move { seq, dx, dy })).await;
    }

    /// The next message, or the close code and reason.
    async fn next(&mut self) -> Result<ServerMessage<'static>, (u16, String)> {
        loop {
            match tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("the server answers")
            {
                Some(Ok(Message::Binary(bytes))) => {
                    return Ok(decode_server(&bytes).expect("decodes"));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    }));
                }
                Some(Ok(_)) => continue,
                other => return Err((1006, format!("{other:?}"))),
            }
        }
    }
}

/// The page asks for a code and gets it.
pub(super) async fn code_for(page: &mut Client) -> String {
    page.send(&ClientMessage::RequestPairCode).await;
    loop {
        match page.recv().await {
            Incoming::Message(ServerMessage::PairCode(pc)) => {
                assert_eq!(pc.code.len(), 6);
                assert_eq!(
                    pc.lan_url, None,
                    "a server on loopback has no LAN address to offer"
                );
                return pc.code;
            }
            Incoming::Message(_) => continue,
            Incoming::Closed { code, reason } => panic!("page closed: {code} {reason}"),
        }
    }
}

/// The page's next `Controller` status.
async fn controller_status(page: &mut Client) -> bool {
    loop {
        match page.recv().await {
            Incoming::Message(ServerMessage::Controller(status)) => return status.attached,
            Incoming::Message(_) => continue,
            Incoming::Closed { code, reason } => panic!("page closed: {code} {reason}"),
        }
    }
}

const SETUP: &str =
    "[balls]\ncount = 0\n[arena]\nwidth = 600\nheight = 400\n[players]\nspeed = 300\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paired_phone_steers_its_player_and_no_other_and_hears_its_collisions() {
    let server = TestServer::start(SETUP).await;
    let mut page = Client::join(&server, "ada", Some("tv"), Role::Player).await;
    let mut other = Client::join(&server, "bob", Some("tv"), Role::Player).await;
    let (me, bob) = (page.me(), other.me());
    let code = code_for(&mut page).await;

    let mut phone = Phone::connect(&server).await;
    match phone.pair(&code).await {
        ServerMessage::Paired(paired) => {
            assert_eq!(
                (paired.player, paired.name.as_str(), paired.session.as_str()),
                (me, "ada", "tv")
            );
        }
        other => panic!("expected Paired, got {other:?}"),
    }
    assert!(
        controller_status(&mut page).await,
        "the page learns a phone steers its player"
    );

    // Steer ada towards bob with the phone.
    page.until("ada sees bob", |c| c.mirror.state(bob).is_some())
        .await;
    let (a, b) = (
        page.mirror.state(me).expect("ada"),
        page.mirror.state(bob).expect("bob"),
    );
    let (dx, dy) =
        arena_shared::quantize::direction_to_wire((b.x - a.x) as f32, (b.y - a.y) as f32);
    phone.steer(dx, dy).await;
    page.until("ada moves", |c| {
        c.mirror.state(me).is_some_and(|s| (s.vx, s.vy) != (0, 0))
    })
    .await;
    let moving = page.mirror.state(me).expect("ada");
    assert!(
        i64::from(moving.vx) * i64::from(dx) >= 0 && i64::from(moving.vy) * i64::from(dy) >= 0,
        "the way the phone tilts"
    );

    // The phone's feed reports ada's collision with bob.
    let collided = loop {
        match phone.next().await {
            Ok(ServerMessage::Feed(feed)) => {
                if let Some(e) = feed
                    .events
                    .iter()
                    .find(|e| matches!(e, GameEvent::Collided { .. }))
                {
                    break (e.clone(), feed.score);
                }
            }
            Ok(other) => panic!("a controller gets feeds, not {other:?}"),
            Err(close) => panic!("the phone was closed: {close:?}"),
        }
    };
    assert_eq!(
        collided.0,
        GameEvent::Collided {
            a: me.min(bob),
            b: me.max(bob)
        }
    );
    assert_eq!(
        collided.1, 2,
        "ada rammed bob: 2 points, in the phone's feed"
    );

    phone.steer(0, 0).await;
    other.ticks(5).await;
    let bob_after = other.mirror.state(bob).expect("bob");
    assert_eq!(
        (bob_after.vx, bob_after.vy),
        (0, 0),
        "bob was never steered by the phone"
    );
    assert_eq!(
        other.mirror.ack(bob).unwrap_or(0),
        0,
        "and no input of bob's was ever applied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_one_time_and_unknown_codes_are_refused() {
    let server = TestServer::start(SETUP).await;
    let mut page = Client::join(&server, "ada", Some("tv"), Role::Player).await;
    let code = code_for(&mut page).await;
    let mut first = Phone::connect(&server).await;
    assert!(matches!(first.pair(&code).await, ServerMessage::Paired(_)));

    let mut second = Phone::connect(&server).await;
    match second.pair(&code).await {
        ServerMessage::PairRefused(refused) => assert!(
            refused.reason.contains("already used"),
            "{}",
            refused.reason
        ),
        other => panic!("a second use is refused, got {other:?}"),
    }
    match second.pair("ZZZZZZ").await {
        ServerMessage::PairRefused(refused) => assert!(
            refused.reason.contains("no such code"),
            "{}",
            refused.reason
        ),
        other => panic!("an unknown code is refused, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_is_refused() {
    let server = TestServer::start(&format!("{SETUP}[controllers]\ncode_ttl_s = 0.2\n")).await;
    let mut page = Client::join(&server, "ada", Some("tv"), Role::Player).await;
    let code = code_for(&mut page).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut phone = Phone::connect(&server).await;
    match phone.pair(&code).await {
        ServerMessage::PairRefused(refused) => {
            assert!(refused.reason.contains("expired"), "{}", refused.reason)
        }
        other => panic!("an expired code is refused, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_are_rate_limited_per_connection() {
    let server = TestServer::start(SETUP).await;
    let mut phone = Phone::connect(&server).await;
    let started = tokio::time::Instant::now();
    for _ in 0..4 {
        assert!(matches!(
            phone.pair("ABCDEF").await,
            ServerMessage::PairRefused(_)
        ));
    }
    phone
        .send(&ClientMessage::Pair(Pair {
            code: "ABCDEF".into(),
        }))
        .await;
    let (code, reason) = phone
        .next()
        .await
        .expect_err("the fifth wrong code closes the connection");
    assert_eq!(code, close_code::POLICY_VIOLATION);
    assert!(reason.contains("too many"), "{reason}");
    assert!(
        started.elapsed() >= Duration::from_millis(2000),
        "each wrong code costs half a second"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_phone_leaves_the_player_stays_and_can_pair_again() {
    let server = TestServer::start(SETUP).await;
    let mut page = Client::join(&server, "ada", Some("tv"), Role::Player).await;
    let me = page.me();
    let code = code_for(&mut page).await;
    let mut phone = Phone::connect(&server).await;
    assert!(matches!(phone.pair(&code).await, ServerMessage::Paired(_)));
    assert!(controller_status(&mut page).await);
    drop(phone);
    assert!(
        !controller_status(&mut page).await,
        "the page learns the phone is gone"
    );
    page.ticks(3).await;
    assert!(
        page.mirror.state(me).is_some(),
        "the player is still in the game"
    );
    assert!(
        !page
            .seen(|e| *e == GameEvent::PlayerLeft { id: me })
            .iter()
            .any(|_| true)
    );

    let again = code_for(&mut page).await;
    let mut phone = Phone::connect(&server).await;
    assert!(matches!(phone.pair(&again).await, ServerMessage::Paired(p) if p.player == me));
    // Towards the middle, so no wall is in the way.
    let right = page.mirror.state(me).is_some_and(|s| s.x < 300 * 8);
    phone.steer(if right { 127 } else { -127 }, 0).await;
    page.until("the new phone steers ada", |c| {
        c.mirror
            .state(me)
            .is_some_and(|s| if right { s.vx > 0 } else { s.vx < 0 })
    })
    .await;
}
