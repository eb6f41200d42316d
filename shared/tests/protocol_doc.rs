//! docs/PROTOCOL.md shows every message as hex and states the size of a 100-entity
//! delta. This test encodes the same messages and fails if the document disagrees, so
//! the document cannot drift from the code. Run with `ARENA_PRINT_DOC=1` and
//! `--nocapture` to print the blocks it expects.

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
    }
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
            "Welcome",
            hex_block(&server(&ServerMessage::Welcome(Welcome {
                you: Some(EntityId(13)),
                session: Cow::Borrowed("room1"),
                tick_hz: 30,
                arena: ArenaInfo {
                    width: 12800,
                    height: 7200,
                    round_ticks: 2700,
                    intermission_ticks: 150,
                },
                reconnect_token: Cow::Borrowed("7f3a9c0e5b2d41f8a6c3e9d07b1f2a64"),
                snapshot: Cow::Borrowed(&snapshot),
            }))),
        ),
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
