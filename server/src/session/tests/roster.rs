//! Who is in a session, without sockets: controllers, reconnects within the grace
//! period, half-open connections replaced.

use super::*;
use arena_shared::limits::MAX_NAME_CHARS;

#[test]
fn a_controller_steers_through_its_players_slot_and_is_closed_when_the_page_leaves() {
    let mut session = Session::new(
        "t".into(),
        &tunables("[balls]\ncount = 0\n[sessions]\nreconnect_grace_s = 0\n"),
        1,
    );
    let (mut page, _) = join(&mut session, 1, Role::Player, ROOMY);
    session.tick(&FanoutPool::inline());
    decoded(&mut page);
    let player = session.player_of(1).expect("the page has a player");
    let (mut phone, _) = attach_phone(&mut session, 2, player);
    assert!(matches!(decoded(&mut phone)[0], ServerMessage::Paired(_)));
    assert!(
        matches!(
            decoded(&mut page)[0],
            ServerMessage::Controller(ControllerStatus { attached: true })
        ),
        "the page is told a phone steers its player"
    );

    assert!(session.leave(1, Departure::Lost));
    assert_eq!(
        phone.closed_with(),
        Some(close_code::PLAYER_LEFT),
        "the phone of a player whose page left is closed"
    );
    assert!(
        !session.leave(2, Departure::Lost),
        "and it is no longer a member"
    );
}

#[test]
fn a_controller_for_a_player_that_is_gone_is_refused() {
    let mut session = Session::new("t".into(), &tunables(""), 1);
    let (outbox, _phone) = Client::pair(ROOMY);
    assert!(matches!(
        session.attach_controller(2, EntityId(999), outbox, Arc::default()),
        Err((crate::pairing::Refusal::PlayerLeft, _))
    ));
}

fn reconnecting(session: &mut Session, conn: ConnId, token: &str) -> (Client, Arc<InputSlot>) {
    join_with_token(session, conn, Role::Player, ROOMY, Some(token))
}

/// A session with reconnect grace `grace_s`, a welcomed player (conn 1) and a spectator
/// watching (conn 2, a long queue): the player's entity and reconnect token.
fn player_and_watcher(grace_s: &str) -> (Session, Client, Client, EntityId, String) {
    let overrides = format!("[balls]\ncount = 0\n[sessions]\nreconnect_grace_s = {grace_s}\n");
    let mut session = Session::new("t".into(), &tunables(&overrides), 1);
    let (mut player, _) = join(&mut session, 1, Role::Player, ROOMY);
    let (mut watcher, _) = join(&mut session, 2, Role::Spectator, ROOMY);
    session.tick(&FanoutPool::inline());
    let (me, token) = welcome(&mut player);
    decoded(&mut watcher);
    (session, player, watcher, me, token)
}

fn welcome(rx: &mut Client) -> (EntityId, String) {
    match decoded(rx).into_iter().next() {
        Some(ServerMessage::Welcome(w)) => {
            (w.you.expect("a player"), w.reconnect_token.into_owned())
        }
        other => panic!("expected a Welcome, got {other:?}"),
    }
}

#[test]
fn a_dropped_player_comes_back_as_itself_within_the_grace_period() {
    let (mut session, _player, mut watcher, me, token) = player_and_watcher("1");

    session.leave(1, Departure::Lost);
    for _ in 0..10 {
        session.tick(&FanoutPool::inline());
    }
    let (mut back, _) = reconnecting(&mut session, 3, &token);
    session.tick(&FanoutPool::inline());
    let (again, new_token) = welcome(&mut back);
    assert_eq!(again, me, "the same entity");
    assert_ne!(new_token, token, "with a fresh token");
    let events = deltas_events(&mut watcher);
    assert!(events.contains(&GameEvent::Connection {
        id: me,
        connected: false
    }));
    assert!(events.contains(&GameEvent::Connection {
        id: me,
        connected: true
    }));
    assert!(
        !events.iter().any(|e| matches!(
            e,
            GameEvent::PlayerLeft { .. } | GameEvent::PlayerJoined { .. }
        )),
        "nobody left and nobody joined: {events:?}"
    );
    let (mut stale, _) = reconnecting(&mut session, 4, &token);
    session.tick(&FanoutPool::inline());
    let (other, _) = welcome(&mut stale);
    assert_ne!(
        other, me,
        "a used token no longer reclaims anything: a new player"
    );
}

#[test]
fn a_dropped_player_leaves_when_the_grace_period_ends() {
    let (mut session, _player, mut watcher, me, token) = player_and_watcher("0.2");
    session.leave(1, Departure::Lost);
    for _ in 0..8 {
        session.tick(&FanoutPool::inline());
    }
    let left = decoded(&mut watcher).into_iter().any(|m| {
        matches!(m, ServerMessage::Delta(d) if d.events.contains(&GameEvent::PlayerLeft { id: me }))
    });
    assert!(
        left,
        "0.2 s at 30 Hz is 6 ticks: then the player leaves for good"
    );
    let (mut late, _) = reconnecting(&mut session, 3, &token);
    session.tick(&FanoutPool::inline());
    assert_ne!(welcome(&mut late).0, me, "too late: a new player");
}

#[test]
fn a_reconnect_on_a_new_connection_replaces_a_half_open_one() {
    let mut session = Session::new("t".into(), &tunables("[balls]\ncount = 0\n"), 1);
    let (mut old, _) = join(&mut session, 1, Role::Player, ROOMY);
    session.tick(&FanoutPool::inline());
    let (me, token) = welcome(&mut old);
    let (mut new, _) = reconnecting(&mut session, 2, &token);
    session.tick(&FanoutPool::inline());
    assert_eq!(welcome(&mut new).0, me);
    assert_eq!(
        old.closed_with(),
        Some(close_code::REPLACED),
        "the old connection is told it was replaced"
    );
}

#[test]
fn a_phone_keeps_steering_when_its_players_page_reconnects() {
    let mut session = Session::new("t".into(), &tunables("[balls]\ncount = 0\n"), 1);
    let (mut page, _) = join(&mut session, 1, Role::Player, ROOMY);
    session.tick(&FanoutPool::inline());
    let (player, token) = welcome(&mut page);
    let (_phone, phone_input) = attach_phone(&mut session, 2, player);

    // The page's connection drops and comes back with its token.
    session.leave(1, Departure::Lost);
    session.tick(&FanoutPool::inline());
    let (mut back, _) = reconnecting(&mut session, 3, &token);
    session.tick(&FanoutPool::inline());
    assert_eq!(welcome(&mut back).0, player);

    phone_input.store(Move {
        seq: 9,
        dx: 127,
        dy: 0,
    });
    session.tick(&FanoutPool::inline());
    let steered = decoded(&mut back).into_iter().any(|m| {
        matches!(m, ServerMessage::Delta(d) if d.acks.iter().any(|a| a.id == player && a.seq == 9))
    });
    assert!(steered, "the phone's input still reaches the player");
}

/// The acknowledgements of `player` in what `rx` was sent.
fn acks_of(rx: &mut Client, player: EntityId) -> Vec<u32> {
    deltas(rx)
        .into_iter()
        .flat_map(|d| d.acks)
        .filter(|a| a.id == player)
        .map(|a| a.seq)
        .collect()
}

#[test]
fn a_phone_s_input_wins_over_its_page_s_and_a_page_gone_steers_nobody() {
    let overrides = "[balls]\ncount = 0\n[sessions]\nreconnect_grace_s = 5\n";
    let mut session = Session::new("t".into(), &tunables(overrides), 1);
    let (mut page, page_input) = join(&mut session, 1, Role::Player, ROOMY);
    let (mut watcher, _) = join(&mut session, 3, Role::Spectator, ROOMY);
    session.tick(&FanoutPool::inline());
    let (player, _) = welcome(&mut page);
    decoded(&mut watcher);
    let (_phone, phone_input) = attach_phone(&mut session, 2, player);

    // In one tick the phone steers left and then the page right: the phone wins.
    phone_input.store(Move {
        seq: 2,
        dx: -127,
        dy: 0,
    });
    page_input.store(Move {
        seq: 1,
        dx: 127,
        dy: 0,
    });
    session.tick(&FanoutPool::inline());
    assert_eq!(acks_of(&mut watcher, player), [2]);

    // The page leaves an input and its connection drops before the next tick: its
    // player waits for it (the grace period), and nobody steers it with that input.
    page_input.store(Move {
        seq: 3,
        dx: 0,
        dy: 127,
    });
    session.leave(1, Departure::Lost);
    for _ in 0..3 {
        session.tick(&FanoutPool::inline());
    }
    assert_eq!(acks_of(&mut watcher, player), [] as [u32; 0]);
    phone_input.store(Move {
        seq: 4,
        dx: 0,
        dy: -127,
    });
    session.tick(&FanoutPool::inline());
    assert_eq!(acks_of(&mut watcher, player), [4], "the phone still steers");
}

#[test]
fn a_spectator_cannot_take_a_player_with_its_token() {
    let mut session = Session::new("t".into(), &tunables("[balls]\ncount = 0\n"), 1);
    let (mut page, _) = join(&mut session, 1, Role::Player, ROOMY);
    session.tick(&FanoutPool::inline());
    let (_, token) = welcome(&mut page);
    session.leave(1, Departure::Lost);
    let (outbox, mut rx) = Client::pair(ROOMY);
    session.join(JoinRequest {
        conn: 2,
        session: "t".into(),
        hello: Hello {
            name: "eye".into(),
            session: Some("t".into()),
            role: Role::Spectator,
            reconnect: Some(token),
        },
        outbox,
        input: Arc::default(),
    });
    session.tick(&FanoutPool::inline());
    match decoded(&mut rx).into_iter().next() {
        Some(ServerMessage::Welcome(w)) => assert_eq!(w.you, None, "a spectator owns no player"),
        other => panic!("expected a Welcome, got {other:?}"),
    }
}

/// The `Welcome` a client got, whole.
fn welcome_message(rx: &mut Client) -> Welcome<'static> {
    match decoded(rx).into_iter().next() {
        Some(ServerMessage::Welcome(w)) => w,
        other => panic!("expected a Welcome, got {other:?}"),
    }
}

/// The deltas `rx` was sent, whole.
fn deltas(rx: &mut Client) -> Vec<arena_shared::protocol::Delta> {
    decoded(rx)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Delta(d) => Some(d.into_owned()),
            _ => None,
        })
        .collect()
}

fn deltas_events(rx: &mut Client) -> Vec<GameEvent> {
    deltas(rx).into_iter().flat_map(|d| d.events).collect()
}

#[test]
fn a_player_who_says_goodbye_leaves_at_once_despite_the_grace_period() {
    let (mut session, _player, mut watcher, me, token) = player_and_watcher("15");
    session.leave(1, Departure::Deliberate);
    session.tick(&FanoutPool::inline());
    let events = deltas_events(&mut watcher);
    assert!(
        events.contains(&GameEvent::PlayerLeft { id: me }),
        "gone with the next delta: {events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, GameEvent::Connection { .. })),
        "no 'lost connection' for a goodbye: {events:?}"
    );
    let (mut back, _) = reconnecting(&mut session, 3, &token);
    session.tick(&FanoutPool::inline());
    let welcome = welcome_message(&mut back);
    assert!(!welcome.resumed, "nothing to come back to");
    assert_ne!(welcome.you, Some(me));
}

#[test]
fn the_welcome_says_whether_the_token_brought_the_player_back() {
    let (mut session, _player, _watcher, me, token) = player_and_watcher("1");
    session.leave(1, Departure::Lost);
    session.tick(&FanoutPool::inline());

    // A late joiner sees the lost player as away in its snapshot.
    let (mut late, _) = join(&mut session, 5, Role::Spectator, ROOMY);
    session.tick(&FanoutPool::inline());
    assert_eq!(welcome_message(&mut late).snapshot.away, vec![me]);

    let (mut back, _) = reconnecting(&mut session, 3, &token);
    session.tick(&FanoutPool::inline());
    let welcome = welcome_message(&mut back);
    assert!(welcome.resumed, "taken back within the grace period");
    assert_eq!(welcome.you, Some(me));
    assert_eq!(welcome.snapshot.away, vec![], "and no longer away");

    let (mut fresh, _) = join(&mut session, 4, Role::Player, ROOMY);
    session.tick(&FanoutPool::inline());
    assert!(
        !welcome_message(&mut fresh).resumed,
        "no token: a new player"
    );
}

/// Joins as a player named `name`; the name the session gave it.
fn named(session: &mut Session, conn: ConnId, name: &str) -> String {
    let (outbox, mut rx) = Client::pair(ROOMY);
    session.join(JoinRequest {
        conn,
        session: "t".into(),
        hello: Hello {
            name: name.into(),
            session: Some("t".into()),
            role: Role::Player,
            reconnect: None,
        },
        outbox,
        input: Arc::new(InputSlot::default()),
    });
    session.tick(&FanoutPool::inline());
    let welcome = welcome_message(&mut rx);
    let you = welcome.you.expect("a player");
    let spawn = welcome.snapshot.spawns.iter().find(|s| s.id == you);
    spawn.expect("you are in your snapshot").name.clone()
}

#[test]
fn two_players_never_share_a_name() {
    let mut session = Session::new("t".into(), &tunables("[balls]\ncount = 0\n"), 1);
    assert_eq!(named(&mut session, 1, "Bob"), "Bob");
    assert_eq!(
        named(&mut session, 2, "bob"),
        "bob 2",
        "names differ in more than case"
    );
    assert_eq!(named(&mut session, 3, "Bob"), "Bob 3");
    assert_eq!(named(&mut session, 4, ""), "player");
    assert_eq!(named(&mut session, 5, "  "), "player 2");
    let long = "x".repeat(MAX_NAME_CHARS);
    assert_eq!(named(&mut session, 6, &long), long);
    let second = named(&mut session, 7, &long);
    assert_eq!(second, format!("{} 2", "x".repeat(MAX_NAME_CHARS - 2)));
    assert_eq!(
        second.chars().count(),
        MAX_NAME_CHARS,
        "the suffix fits the limit"
    );
}

#[test]
fn a_session_resumed_from_its_checkpoint_takes_its_players_back_by_their_tokens() {
    let overrides = "[balls]\ncount = 5\n[sessions]\nreconnect_grace_s = 5\n";
    let mut session = Session::new("t".into(), &tunables(overrides), 1);
    let (mut player, input) = join(&mut session, 1, Role::Player, ROOMY);
    session.tick(&FanoutPool::inline());
    let (me, token) = welcome(&mut player);
    input.store(Move {
        seq: 1,
        dx: 127,
        dy: 0,
    });
    for _ in 0..20 {
        session.tick(&FanoutPool::inline());
    }
    session.say(1, "before the move");
    let saved = session.checkpoint();
    let bytes = saved.encode().expect("a checkpoint encodes");
    let saved = crate::checkpoint::Checkpoint::decode(&bytes).expect("and decodes");

    // On another node: the same session, its player a ghost until it comes back.
    let mut resumed = Session::resume(&tunables(overrides), &saved);
    assert_eq!(resumed.code(), "t");
    let (mut back, _) = reconnecting(&mut resumed, 7, &token);
    resumed.tick(&FanoutPool::inline());
    let messages = decoded(&mut back);
    let Some(ServerMessage::Welcome(welcome)) = messages.first() else {
        panic!("a Welcome first: {messages:?}");
    };
    assert!(
        welcome.resumed,
        "the token of the old node takes the player back"
    );
    assert_eq!(welcome.you, Some(me), "as the same entity");
    assert_eq!(
        welcome.snapshot.tick.0,
        saved.tick + 1,
        "from the checkpoint's tick on"
    );
    assert_eq!(
        welcome.snapshot.states.len(),
        6,
        "five balls and the player"
    );
    assert!(
        messages.iter().any(|m| matches!(m, ServerMessage::Chat(c) if c.lines.iter().any(|l| l.text == "before the move"))),
        "the chat came along: {messages:?}"
    );
    let now = resumed.checkpoint();
    assert_eq!(now.players.len(), 1);
    assert_eq!(
        (now.players[0].id, now.players[0].score),
        (me.0, saved.players[0].score)
    );
    assert_ne!(
        now.players[0].token, token,
        "a fresh token for the new connection"
    );
}
