//! The wire samples, checked two ways so that neither the document nor the browser
//! client can drift from the code:
//! - docs/PROTOCOL.md shows every message as hex and states the size of a 100-entity
//!   delta; this test encodes the same messages and fails if the document disagrees
//!   (run with `ARENA_PRINT_DOC=1 -- --nocapture` to print the blocks it expects);
//! - client-web/test/golden.json holds each sample's bytes and its value, which the
//!   TypeScript tests decode and compare; this test fails if the file is stale (run
//!   with `ARENA_UPDATE_GOLDEN=1` to rewrite it after a deliberate protocol change).

use std::borrow::Cow;

use arena_shared::codec::{encode_client, encode_server};
use arena_shared::protocol::*;

fn hex_block(bytes: &[u8]) -> String {
    let lines: Vec<String> = bytes
        .chunks(16)
        .map(|chunk| {
            chunk
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    format!("```\n{}\n```\n({} bytes)", lines.join("\n"), bytes.len())
}

fn server(message: &ServerMessage<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    encode_server(message, &mut out).expect("encoding into a Vec cannot fail");
    out
}

fn event(e: &GameEvent) -> Vec<u8> {
    rmp_serde::to_vec(e).expect("events encode")
}

/// A replay of the example world: its snapshot, then one delta (no change).
fn replay_frames(snapshot: &Snapshot) -> Vec<u8> {
    let frames = ReplayFrames {
        session: "room1".into(),
        round: 2,
        tick_hz: 30,
        send_hz: 30,
        arena: ArenaInfo {
            width: 32000,
            height: 32000,
            round_ticks: 1800,
            intermission_ticks: 150,
            player_speed: 1600,
        },
        snapshot: snapshot.clone(),
        deltas: vec![Delta {
            tick: Tick(121),
            ..Delta::default()
        }],
    };
    rmp_serde::to_vec(&frames).expect("replay frames encode")
}

/// The example world the document uses: one ball and one player.
fn snapshot() -> Snapshot {
    Snapshot {
        tick: Tick(120),
        spawns: vec![
            Spawn {
                id: EntityId(1),
                kind: EntityKind::Ball,
                radius: 120,
                name: String::new(),
            },
            Spawn {
                id: EntityId(13),
                kind: EntityKind::Player,
                radius: 160,
                name: "ada".into(),
            },
        ],
        states: vec![
            EntityState {
                id: EntityId(1),
                x: 4000,
                y: 2400,
                vx: -13,
                vy: 30,
            },
            EntityState {
                id: EntityId(13),
                x: 6400,
                y: 3600,
                vx: 0,
                vy: 0,
            },
        ],
        acks: vec![Ack {
            id: EntityId(13),
            seq: 0,
        }],
        scores: vec![Score {
            id: EntityId(13),
            points: 0,
        }],
        round: RoundState {
            number: 1,
            phase: RoundPhase::Playing,
            ends_at: Tick(2700),
        },
        away: vec![],
    }
}

/// The example Welcome: player 13 joining `room1`.
fn welcome(snapshot: &Snapshot) -> ServerMessage<'_> {
    ServerMessage::Welcome(Welcome {
        you: Some(EntityId(13)),
        session: Cow::Borrowed("room1"),
        tick_hz: 30,
        send_hz: 30,
        arena: ArenaInfo {
            width: 12800,
            height: 7200,
            round_ticks: 2700,
            intermission_ticks: 150,
            player_speed: 1600,
        },
        reconnect_token: Cow::Borrowed("7f3a9c0e5b2d41f8a6c3e9d07b1f2a64"),
        snapshot: Cow::Borrowed(snapshot),
        resumed: false,
        view: None,
    })
}

/// A delta of `n` entities all moving at player speed across a 4000-unit arena.
fn moving_delta(n: u32) -> Delta {
    Delta {
        tick: Tick(1000),
        moved: (0..n)
            .map(|i| EntityState {
                id: EntityId(i + 1),
                x: 2000 + (i as i32 * 311) % 28000,
                y: 30000 - (i as i32 * 197) % 28000,
                vx: [53, -53, 37, -37, 0][i as usize % 5],
                vy: [0, 12, -37, 37, -53][i as usize % 5],
            })
            .collect(),
        ..Delta::default()
    }
}

/// The example chat line, as a client says it and as everyone reads it.
fn say() -> ClientMessage {
    ClientMessage::Chat(Say {
        text: "nice ram".into(),
    })
}

fn chat_lines() -> ServerMessage<'static> {
    ServerMessage::Chat(ChatLines {
        lines: vec![ChatLine {
            from: "ada".into(),
            text: "nice ram".into(),
        }],
    })
}

/// The document's view sample: a player of a big world that sees its 12 cells, with
/// news in cell 5 (ball 1 turned and hit the player, who scored; ball 7 came in from a
/// cell out of view, so in full with its spawn).
fn view() -> ServerMessage<'static> {
    ServerMessage::View(Box::new(ViewDelta {
        tick: Tick(123),
        fresh: false,
        acks: vec![Ack {
            id: EntityId(13),
            seq: 2,
        }],
        scores: vec![Score {
            id: EntityId(13),
            points: 1,
        }],
        around: None,
        cells: (0..12)
            .map(|cell| (cell == 5).then(the_cell_with_news))
            .collect(),
        world: WorldNews { events: vec![] },
    }))
}

/// Cell 5 of the view sample.
fn the_cell_with_news() -> CellNews {
    CellNews {
        moved: vec![Correction {
            id: EntityId(1),
            vx: -13,
            vy: -30,
            turned: 2,
            dx: -1,
            dy: 0,
        }],
        entered: vec![Arrival {
            id: EntityId(7),
            x: 20,
            y: 1300,
            vx: 20,
            vy: 0,
        }],
        left: vec![],
        crossed: vec![],
        collided: vec![Contact {
            a: EntityId(1),
            b: EntityId(13),
        }],
        stopped: vec![],
        scores: vec![Score {
            id: EntityId(13),
            points: 1,
        }],
        spawns: vec![Spawn {
            id: EntityId(7),
            kind: EntityKind::Ball,
            radius: 120,
            name: String::new(),
        }],
    }
}

/// A Welcome of a big world: interest management on, no entity in its snapshot.
fn big_welcome(snapshot: &Snapshot) -> ServerMessage<'_> {
    let ServerMessage::Welcome(welcome) = welcome(snapshot) else {
        unreachable!("welcome() makes a Welcome")
    };
    ServerMessage::Welcome(Welcome {
        view: Some(ViewInfo {
            cell_size: 3200,
            view_radius: 6400,
            see_all: true,
        }),
        ..welcome
    })
}

fn expected_blocks() -> Vec<(&'static str, String)> {
    let snapshot = snapshot();
    let mut blocks = vec![
        (
            "Hello",
            hex_block(
                &encode_client(&ClientMessage::Hello(Hello {
                    name: "ada".into(),
                    session: Some("room1".into()),
                    role: Role::Player,
                    reconnect: None,
                }))
                .expect("encodes"),
            ),
        ),
        (
            "Move",
            hex_block(
                &encode_client(&ClientMessage::Move(Move {
                    seq: 1,
                    dx: 127,
                    dy: 0,
                }))
                .expect("encodes"),
            ),
        ),
        (
            "Ping",
            hex_block(
                &encode_client(&ClientMessage::Ping(Ping { client_time: 1000 })).expect("encodes"),
            ),
        ),
        (
            "Leave",
            hex_block(&encode_client(&ClientMessage::Leave).expect("encodes")),
        ),
        (
            "Chat (client)",
            hex_block(&encode_client(&say()).expect("encodes")),
        ),
        ("Chat (server)", hex_block(&server(&chat_lines()))),
        ("ReplayFrames", hex_block(&replay_frames(&snapshot))),
        (
            "Look",
            hex_block(
                &encode_client(&ClientMessage::Look(Look::Follow { id: EntityId(13) }))
                    .expect("encodes"),
            ),
        ),
        ("View", hex_block(&server(&view()))),
        (
            "Welcome (big world)",
            hex_block(&server(&big_welcome(&Snapshot {
                spawns: vec![],
                states: vec![],
                acks: vec![],
                scores: vec![],
                ..snapshot.clone()
            }))),
        ),
        ("Welcome", hex_block(&server(&welcome(&snapshot)))),
        (
            "Snapshot",
            hex_block(&server(&ServerMessage::Snapshot(Cow::Borrowed(&snapshot)))),
        ),
        (
            "Delta",
            hex_block(&server(&ServerMessage::Delta(Cow::Owned(Delta {
                tick: Tick(121),
                spawned: vec![],
                moved: vec![EntityState {
                    id: EntityId(13),
                    x: 6453,
                    y: 3600,
                    vx: 53,
                    vy: 0,
                }],
                removed: vec![],
                acks: vec![Ack {
                    id: EntityId(13),
                    seq: 1,
                }],
                scores: vec![Score {
                    id: EntityId(13),
                    points: 1,
                }],
                events: vec![GameEvent::Collided {
                    a: EntityId(1),
                    b: EntityId(13),
                }],
            })))),
        ),
        (
            "Quiet delta",
            hex_block(&server(&ServerMessage::Delta(Cow::Owned(Delta {
                tick: Tick(122),
                ..Delta::default()
            })))),
        ),
        (
            "Pong",
            hex_block(&server(&ServerMessage::Pong(Pong { client_time: 1000 }))),
        ),
    ];
    let events = [
        (
            "Collided",
            GameEvent::Collided {
                a: EntityId(1),
                b: EntityId(13),
            },
        ),
        ("Still", GameEvent::Still { id: EntityId(13) }),
        (
            "PlayerJoined",
            GameEvent::PlayerJoined {
                id: EntityId(14),
                name: "bob".into(),
            },
        ),
        ("PlayerLeft", GameEvent::PlayerLeft { id: EntityId(14) }),
        (
            "RoundStarted",
            GameEvent::RoundStarted {
                number: 2,
                ends_at: Tick(5550),
            },
        ),
        (
            "RoundEnded",
            GameEvent::RoundEnded {
                number: 1,
                scores: vec![
                    Score {
                        id: EntityId(13),
                        points: 7,
                    },
                    Score {
                        id: EntityId(14),
                        points: 2,
                    },
                ],
            },
        ),
        (
            "Connection",
            GameEvent::Connection {
                id: EntityId(14),
                connected: false,
            },
        ),
    ];
    for (name, e) in events {
        blocks.push((name, hex_block(&event(&e))));
    }
    blocks
}

fn document() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md");
    std::fs::read_to_string(path).expect("docs/PROTOCOL.md exists")
}

#[test]
fn protocol_doc_shows_the_real_bytes() {
    let doc = document();
    let print = std::env::var_os("ARENA_PRINT_DOC").is_some();
    let mut missing = Vec::new();
    for (name, block) in expected_blocks() {
        if print {
            println!("#### {name}\n{block}\n");
        }
        if !doc.contains(&block) {
            missing.push(format!("#### {name}\n{block}"));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/PROTOCOL.md lacks or misstates:\n\n{}",
        missing.join("\n\n")
    );
}

#[test]
fn protocol_doc_states_the_size_of_a_100_entity_delta() {
    let bytes = server(&ServerMessage::Delta(Cow::Owned(moving_delta(100))));
    let claim = format!(
        "a delta in which 100 entities moved is **{} bytes**",
        bytes.len()
    );
    if std::env::var_os("ARENA_PRINT_DOC").is_some() {
        println!("{claim}");
    }
    assert!(
        document().contains(&claim),
        "docs/PROTOCOL.md must say: {claim}"
    );
}

/// Every sample message: its name, which side sends it, its bytes and its value.
fn golden_samples() -> Vec<serde_json::Value> {
    let snapshot = snapshot();
    let all_events = Delta {
        tick: Tick(2700),
        spawned: vec![Spawn {
            id: EntityId(14),
            kind: EntityKind::Player,
            radius: 160,
            name: "bob".into(),
        }],
        moved: vec![EntityState {
            id: EntityId(14),
            x: 100,
            y: 31900,
            vx: -53,
            vy: 0,
        }],
        removed: vec![EntityId(15)],
        acks: vec![Ack {
            id: EntityId(14),
            seq: 70_000,
        }],
        scores: vec![Score {
            id: EntityId(13),
            points: 0,
        }],
        events: vec![
            GameEvent::Collided {
                a: EntityId(1),
                b: EntityId(13),
            },
            GameEvent::Still { id: EntityId(13) },
            GameEvent::PlayerJoined {
                id: EntityId(14),
                name: "bob".into(),
            },
            GameEvent::PlayerLeft { id: EntityId(15) },
            GameEvent::RoundEnded {
                number: 1,
                scores: vec![
                    Score {
                        id: EntityId(13),
                        points: 7,
                    },
                    Score {
                        id: EntityId(14),
                        points: 2,
                    },
                ],
            },
            GameEvent::RoundStarted {
                number: 2,
                ends_at: Tick(5550),
            },
            GameEvent::Connection {
                id: EntityId(15),
                connected: false,
            },
        ],
    };
    let server_messages: Vec<(&str, ServerMessage<'_>)> = vec![
        ("Welcome", welcome(&snapshot)),
        ("Welcome (big world)", big_welcome(&snapshot)),
        ("View", view()),
        (
            "View (fresh, around a point)",
            ServerMessage::View(Box::new(ViewDelta {
                tick: Tick(126),
                fresh: true,
                around: Some(Around::Point { x: 1600, y: 1700 }),
                cells: vec![
                    None,
                    Some(CellNews {
                        left: vec![EntityId(9)],
                        ..CellNews::default()
                    }),
                    None,
                ],
                world: WorldNews {
                    events: vec![GameEvent::PlayerLeft { id: EntityId(9) }],
                },
                ..ViewDelta::default()
            })),
        ),
        (
            "Welcome (spectator)",
            ServerMessage::Welcome(Welcome {
                you: None,
                session: Cow::Borrowed("lobby"),
                tick_hz: 60,
                send_hz: 20,
                arena: ArenaInfo {
                    width: 32000,
                    height: 32000,
                    round_ticks: 5400,
                    intermission_ticks: 300,
                    player_speed: 1600,
                },
                reconnect_token: Cow::Borrowed("00000000000000000000000000000000"),
                snapshot: Cow::Owned(Snapshot::default()),
                resumed: false,
                view: None,
            }),
        ),
        (
            "Snapshot",
            ServerMessage::Snapshot(Cow::Borrowed(&snapshot)),
        ),
        (
            "Delta with every event",
            ServerMessage::Delta(Cow::Borrowed(&all_events)),
        ),
        (
            "Quiet delta",
            ServerMessage::Delta(Cow::Owned(Delta {
                tick: Tick(122),
                ..Delta::default()
            })),
        ),
        (
            "Pong",
            ServerMessage::Pong(Pong {
                client_time: 4_000_000_000,
            }),
        ),
        (
            "PairCode",
            ServerMessage::PairCode(PairCode {
                code: "K7MX4P".into(),
                expires_in_s: 120,
                lan_url: Some("http://192.168.1.20:8080".into()),
            }),
        ),
        (
            "Paired",
            ServerMessage::Paired(Paired {
                player: EntityId(13),
                name: "ada".into(),
                session: "room1".into(),
                tick_hz: 30,
                score: 3,
                round: RoundState {
                    number: 2,
                    phase: RoundPhase::Playing,
                    ends_at: Tick(5550),
                },
                tick: Tick(4000),
            }),
        ),
        (
            "PairRefused",
            ServerMessage::PairRefused(PairRefused {
                reason: "this code has expired".into(),
            }),
        ),
        (
            "Feed",
            ServerMessage::Feed(Feed {
                tick: Tick(3000),
                score: 4,
                round: RoundState {
                    number: 2,
                    phase: RoundPhase::Playing,
                    ends_at: Tick(5550),
                },
                events: vec![
                    GameEvent::Collided {
                        a: EntityId(1),
                        b: EntityId(13),
                    },
                    GameEvent::Still { id: EntityId(13) },
                ],
            }),
        ),
        (
            "Controller",
            ServerMessage::Controller(ControllerStatus { attached: true }),
        ),
        ("Chat", chat_lines()),
    ];
    let client_messages: Vec<(&str, ClientMessage)> = vec![
        (
            "Hello",
            ClientMessage::Hello(Hello {
                name: "ada".into(),
                session: Some("room1".into()),
                role: Role::Player,
                reconnect: None,
            }),
        ),
        (
            "Hello (spectator, default session)",
            ClientMessage::Hello(Hello {
                name: "Zoë".into(),
                session: None,
                role: Role::Spectator,
                reconnect: None,
            }),
        ),
        (
            "Move",
            ClientMessage::Move(Move {
                seq: 1,
                dx: 127,
                dy: 0,
            }),
        ),
        (
            "Move (diagonal, large seq)",
            ClientMessage::Move(Move {
                seq: 70_000,
                dx: -90,
                dy: 90,
            }),
        ),
        (
            "Move (stop)",
            ClientMessage::Move(Move {
                seq: 2,
                dx: 0,
                dy: 0,
            }),
        ),
        ("Ping", ClientMessage::Ping(Ping { client_time: 1000 })),
        (
            "Hello (reconnecting)",
            ClientMessage::Hello(Hello {
                name: "ada".into(),
                session: Some("room1".into()),
                role: Role::Player,
                reconnect: Some("7f3a9c0e5b2d41f8a6c3e9d07b1f2a64".into()),
            }),
        ),
        ("RequestPairCode", ClientMessage::RequestPairCode),
        ("Leave", ClientMessage::Leave),
        (
            "Look (at)",
            ClientMessage::Look(Look::At { x: 64000, y: -8 }),
        ),
        (
            "Look (follow)",
            ClientMessage::Look(Look::Follow { id: EntityId(13) }),
        ),
        ("Look (everything)", ClientMessage::Look(Look::Everything)),
        ("Chat", say()),
        (
            "Pair",
            ClientMessage::Pair(Pair {
                code: "K7MX4P".into(),
            }),
        ),
    ];
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut samples = Vec::new();
    for (name, message) in &server_messages {
        samples.push(serde_json::json!({
            "name": name, "side": "server", "hex": hex(&server(message)), "value": message,
        }));
    }
    for (name, message) in &client_messages {
        samples.push(serde_json::json!({
            "name": name, "side": "client", "hex": hex(&encode_client(message).expect("encodes")), "value": message,
        }));
    }
    samples
}

#[test]
fn the_browser_clients_golden_messages_are_current() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../client-web/test/golden.json"
    );
    let expected = serde_json::to_string_pretty(&golden_samples()).expect("serializes") + "\n";
    if std::env::var_os("ARENA_UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &expected).expect("client-web/test/golden.json is writable");
    }
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        current == expected,
        "client-web/test/golden.json is stale: the protocol changed. If that was deliberate, \
         run `ARENA_UPDATE_GOLDEN=1 cargo test -p arena-shared --test protocol_doc` and make \
         the TypeScript client agree (its tests decode these samples)."
    );
}
