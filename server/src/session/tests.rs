//! A session driven without sockets: join, tick, read what each member's link wrote.

use arena_shared::codec::decode_server;
use arena_shared::limits::close_code;
use arena_shared::protocol::{ControllerStatus, EntityId, GameEvent, Hello, Move, Role};
use tokio::sync::oneshot;

use super::*;
use crate::commands::{Departure, JoinRequest};
use crate::link::{CloseRequest, Link, MemoryWire};

/// Room enough in a client's socket for anything a test sends.
const ROOMY: usize = 1 << 20;

/// A member's far end: the bytes its socket took, and any close the session asked for.
struct Client {
    wire: Arc<MemoryWire>,
    link: Arc<Link>,
    close: oneshot::Receiver<CloseRequest>,
}

impl Client {
    /// An outbox whose socket takes `room` bytes before it blocks, and its far end.
    fn pair(room: usize) -> (Outbox, Client) {
        let wire = MemoryWire::new(room);
        let (link, close) = Link::new(wire.clone(), 64 * 1024, Arc::default());
        (Outbox::new(link.clone()), Client { wire, link, close })
    }

    /// The close the session asked for, if any.
    fn closed_with(&mut self) -> Option<u16> {
        self.close.try_recv().ok().map(|(code, _)| code)
    }

    /// Reads everything sent so far, freeing the socket for as much again.
    fn read(&mut self) -> Vec<u8> {
        let mut bytes = self.wire.take();
        self.wire.make_room(bytes.len());
        if self.link.try_flush().is_ok() {
            bytes.extend(self.wire.take());
        }
        bytes
    }
}

fn tunables(overrides: &str) -> Tunables {
    Tunables::merged(overrides, "test").expect("test tunables are valid")
}

fn join(session: &mut Session, conn: ConnId, role: Role, room: usize) -> (Client, Arc<InputSlot>) {
    join_with_token(session, conn, role, room, None)
}

/// A phone attached to `player` as controller `conn`: its far end and its input slot.
fn attach_phone(session: &mut Session, conn: ConnId, player: EntityId) -> (Client, Arc<InputSlot>) {
    let (outbox, phone) = Client::pair(ROOMY);
    let input = Arc::new(InputSlot::default());
    session
        .attach_controller(conn, player, outbox, input.clone())
        .unwrap_or_else(|_| panic!("the player exists"));
    (phone, input)
}

/// Joins session "t" as `p{conn}`, presenting `token` if given.
fn join_with_token(
    session: &mut Session,
    conn: ConnId,
    role: Role,
    room: usize,
    token: Option<&str>,
) -> (Client, Arc<InputSlot>) {
    let (outbox, rx) = Client::pair(room);
    let input = Arc::new(InputSlot::default());
    session.join(JoinRequest {
        conn,
        session: "t".into(),
        hello: Hello {
            name: format!("p{conn}"),
            session: Some("t".into()),
            role,
            reconnect: token.map(Into::into),
        },
        outbox,
        input: input.clone(),
    });
    (rx, input)
}

/// Every message the client has been sent since it last read.
fn decoded(client: &mut Client) -> Vec<ServerMessage<'static>> {
    if let Ok((code, reason)) = client.close.try_recv() {
        panic!("unexpected close {code}: {reason}");
    }
    let bytes = client.read();
    let mut rest = &bytes[..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (payload, after) = crate::frame::split_payload(rest).expect("whole binary frames");
        out.push(decode_server(payload).expect("server frames decode"));
        rest = after;
    }
    out
}

#[test]
fn a_joiner_is_welcomed_with_a_snapshot_then_gets_deltas() {
    let mut session = Session::new("t".into(), &tunables("[balls]\ncount = 3\n"), 1);
    let (mut rx, _) = join(&mut session, 1, Role::Player, ROOMY);
    session.tick(&FanoutPool::inline());
    session.tick(&FanoutPool::inline());
    let messages = decoded(&mut rx);
    let ServerMessage::Welcome(welcome) = &messages[0] else {
        panic!("first a Welcome: {messages:?}")
    };
    let you = welcome.you.expect("a player has an entity");
    assert_eq!(welcome.session, "t");
    assert_eq!(
        welcome.snapshot.states.len(),
        4,
        "three balls and the player"
    );
    assert!(
        welcome
            .snapshot
            .spawns
            .iter()
            .any(|s| s.id == you && s.name == "p1")
    );
    let ServerMessage::Delta(delta) = &messages[1] else {
        panic!("then deltas: {messages:?}")
    };
    assert_eq!(
        delta.tick,
        welcome.snapshot.tick.next(),
        "deltas follow the snapshot's tick"
    );
    assert_eq!(messages.len(), 2);
}

#[test]
fn every_member_gets_the_same_delta_bytes() {
    let mut session = Session::new("t".into(), &tunables("[balls]\ncount = 3\n"), 1);
    let (mut a, _) = join(&mut session, 1, Role::Player, ROOMY);
    let (mut b, _) = join(&mut session, 2, Role::Spectator, ROOMY);
    session.tick(&FanoutPool::inline());
    let (_, _) = (decoded(&mut a), decoded(&mut b));
    session.tick(&FanoutPool::inline());
    let (x, y) = (a.read(), b.read());
    assert!(!x.is_empty(), "both members get a delta");
    assert_eq!(x, y, "encoded once: the same bytes to each socket");
}

#[test]
fn inputs_reach_the_player_and_are_acknowledged() {
    let mut session = Session::new("t".into(), &tunables("[balls]\ncount = 0\n"), 1);
    let (mut rx, input) = join(&mut session, 1, Role::Player, ROOMY);
    session.tick(&FanoutPool::inline());
    decoded(&mut rx);
    input.store(Move {
        seq: 7,
        dx: 127,
        dy: 0,
    });
    session.tick(&FanoutPool::inline());
    let messages = decoded(&mut rx);
    let ServerMessage::Delta(delta) = &messages[0] else {
        panic!("{messages:?}")
    };
    assert_eq!(delta.acks.len(), 1);
    assert_eq!(delta.acks[0].seq, 7);
    assert!(delta.moved[0].vx > 0, "the player moves right");
}

#[test]
fn the_player_cap_refuses_with_a_close() {
    let mut session = Session::new("t".into(), &tunables("[players]\nmax_per_session = 1\n"), 1);
    let (_a, _) = join(&mut session, 1, Role::Player, ROOMY);
    let (mut b, _) = join(&mut session, 2, Role::Player, ROOMY);
    let (mut c, _) = join(&mut session, 3, Role::Spectator, ROOMY);
    match b.close.try_recv() {
        Ok((code, reason)) => {
            assert_eq!(code, close_code::SESSION_FULL);
            assert!(reason.contains("full"), "{reason}");
        }
        other => panic!("a second player is refused: {other:?}"),
    }
    session.tick(&FanoutPool::inline());
    assert!(
        matches!(decoded(&mut c)[0], ServerMessage::Welcome(_)),
        "spectators do not count"
    );
}

#[test]
fn a_slow_member_is_dropped_then_resynchronized() {
    let mut session = Session::new("t".into(), &tunables("[balls]\ncount = 5\n"), 1);
    // The slow client's socket takes the welcome and a few bytes, then blocks.
    let (mut slow, _) = join(&mut session, 1, Role::Player, 200);
    let (mut fast, _) = join(&mut session, 2, Role::Player, ROOMY);
    let mut dropped = 0;
    for _ in 0..10 {
        dropped += session.tick(&FanoutPool::inline()).dropped;
        decoded(&mut fast);
    }
    assert!(
        dropped >= 6,
        "a member that reads nothing loses deltas: {dropped}"
    );
    assert!(!slow.link.owes_nothing(), "it owes the rest of one frame");
    let stale = decoded(&mut slow);
    assert!(
        (1..=3).contains(&stale.len()),
        "the welcome and a delta or two, never a backlog: {stale:?}"
    );
    let report = session.tick(&FanoutPool::inline());
    assert_eq!(report.resyncs, 1);
    let messages = decoded(&mut slow);
    let ServerMessage::Snapshot(snapshot) = &messages[0] else {
        panic!("a snapshot: {messages:?}")
    };
    assert_eq!(snapshot.states.len(), 7);
    session.tick(&FanoutPool::inline());
    let messages = decoded(&mut slow);
    let ServerMessage::Delta(delta) = &messages[0] else {
        panic!("then deltas: {messages:?}")
    };
    assert_eq!(delta.tick, snapshot.tick.next());
}

#[test]
fn leaving_removes_the_player_for_everyone() {
    let mut session = Session::new(
        "t".into(),
        &tunables("[balls]\ncount = 0\n[sessions]\nreconnect_grace_s = 0\n"),
        1,
    );
    let (_a, _) = join(&mut session, 1, Role::Player, ROOMY);
    let (mut b, _) = join(&mut session, 2, Role::Player, ROOMY);
    session.tick(&FanoutPool::inline());
    decoded(&mut b);
    assert!(session.leave(1, Departure::Lost));
    assert!(
        !session.leave(1, Departure::Lost),
        "leaving twice is harmless"
    );
    session.tick(&FanoutPool::inline());
    let messages = decoded(&mut b);
    let ServerMessage::Delta(delta) = &messages[0] else {
        panic!("{messages:?}")
    };
    assert!(
        delta
            .events
            .iter()
            .any(|e| matches!(e, GameEvent::PlayerLeft { .. }))
    );
    assert_eq!(delta.removed.len(), 1);
}

#[test]
fn an_empty_session_expires_after_its_timeout() {
    let mut session = Session::new(
        "t".into(),
        &tunables("[sessions]\nempty_timeout_s = 0.1\nreconnect_grace_s = 0\n"),
        1,
    );
    let (_rx, _) = join(&mut session, 1, Role::Player, ROOMY);
    for _ in 0..10 {
        session.tick(&FanoutPool::inline());
    }
    assert!(!session.expired(), "a session with a member never expires");
    session.leave(1, Departure::Lost);
    session.tick(&FanoutPool::inline());
    assert!(!session.expired(), "not before the timeout");
    for _ in 0..3 {
        session.tick(&FanoutPool::inline());
    }
    assert!(session.expired(), "0.1 s at 30 Hz is 3 ticks");
}

mod roster;
mod views;
