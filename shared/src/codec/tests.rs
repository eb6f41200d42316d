//! Round trips of every message, golden bytes that pin the wire format, and sizes.

use std::borrow::Cow;

use super::*;
use crate::protocol::*;

fn sample_snapshot() -> Snapshot {
    Snapshot {
        tick: Tick(42),
        spawns: vec![
            Spawn {
                id: EntityId(1),
                kind: EntityKind::Ball,
                radius: 120,
                name: String::new(),
            },
            Spawn {
                id: EntityId(7),
                kind: EntityKind::Player,
                radius: 160,
                name: "ada".into(),
            },
        ],
        states: vec![
            EntityState {
                id: EntityId(1),
                x: 800,
                y: 640,
                vx: -13,
                vy: 40,
            },
            EntityState {
                id: EntityId(7),
                x: 16000,
                y: 9600,
                vx: 53,
                vy: 0,
            },
        ],
        acks: vec![Ack {
            id: EntityId(7),
            seq: 3,
        }],
        scores: vec![Score {
            id: EntityId(7),
            points: 2,
        }],
        round: RoundState {
            number: 1,
            phase: RoundPhase::Playing,
            ends_at: Tick(2700),
        },
        away: vec![],
    }
}

fn sample_delta(moving: u32) -> Delta {
    Delta {
        tick: Tick(43),
        spawned: vec![],
        moved: (0..moving)
            .map(|i| EntityState {
                id: EntityId(i + 1),
                x: 1000 + i as i32 * 300,
                y: 30000 - i as i32 * 250,
                vx: 53 - (i % 107) as i32,
                vy: -40 + (i % 81) as i32,
            })
            .collect(),
        removed: vec![],
        acks: vec![],
        scores: vec![],
        events: vec![],
    }
}

fn server_round_trip(message: ServerMessage<'_>) {
    let mut bytes = Vec::new();
    encode_server(&message, &mut bytes).expect("encoding into a Vec cannot fail");
    let back = decode_server(&bytes).expect("what we encode must decode");
    assert_eq!(back, message, "server message must survive a round trip");
}

fn client_round_trip(message: ClientMessage) {
    let bytes = encode_client(&message).expect("encoding into a Vec cannot fail");
    let back = decode_client(&bytes).expect("what we encode must decode");
    assert_eq!(back, message, "client message must survive a round trip");
}

#[test]
fn every_client_message_round_trips() {
    client_round_trip(ClientMessage::Hello(Hello {
        name: "Zoë".into(),
        session: Some("ABC-12".into()),
        role: Role::Player,
        reconnect: None,
    }));
    client_round_trip(ClientMessage::Hello(Hello {
        name: String::new(),
        session: None,
        role: Role::Spectator,
        reconnect: None,
    }));
    client_round_trip(ClientMessage::Move(Move {
        seq: u32::MAX,
        dx: -127,
        dy: 127,
    }));
    client_round_trip(ClientMessage::Ping(Ping {
        client_time: 123_456,
    }));
}

#[test]
fn every_server_message_round_trips() {
    let snapshot = sample_snapshot();
    server_round_trip(ServerMessage::Welcome(Welcome {
        you: Some(EntityId(7)),
        session: Cow::Borrowed("lobby"),
        tick_hz: 30,
        send_hz: 30,
        arena: ArenaInfo {
            width: 32000,
            height: 32000,
            round_ticks: 2700,
            intermission_ticks: 150,
            player_speed: 1600,
        },
        reconnect_token: Cow::Borrowed("00112233445566778899aabbccddeeff"),
        snapshot: Cow::Borrowed(&snapshot),
        resumed: false,
        view: None,
    }));
    server_round_trip(ServerMessage::Snapshot(Cow::Borrowed(&snapshot)));
    let mut delta = sample_delta(3);
    delta.spawned.push(Spawn {
        id: EntityId(9),
        kind: EntityKind::Player,
        radius: 160,
        name: "bo".into(),
    });
    delta.removed.push(EntityId(4));
    delta.acks.push(Ack {
        id: EntityId(7),
        seq: 9,
    });
    delta.scores.push(Score {
        id: EntityId(7),
        points: 3,
    });
    delta.events = vec![
        GameEvent::Collided {
            a: EntityId(1),
            b: EntityId(7),
        },
        GameEvent::Still { id: EntityId(7) },
        GameEvent::PlayerJoined {
            id: EntityId(9),
            name: "bo".into(),
        },
        GameEvent::PlayerLeft { id: EntityId(4) },
        GameEvent::RoundStarted {
            number: 2,
            ends_at: Tick(5000),
        },
        GameEvent::RoundEnded {
            number: 1,
            scores: vec![Score {
                id: EntityId(7),
                points: 3,
            }],
        },
    ];
    server_round_trip(ServerMessage::Delta(Cow::Borrowed(&delta)));
    server_round_trip(ServerMessage::Pong(Pong { client_time: 99 }));
}

/// These bytes are the contract with every client: change them only with a new
/// subprotocol version (`arena.v3`), and update docs/PROTOCOL.md with them.
#[test]
fn golden_bytes_pin_the_wire_format() {
    let cases: [(ClientMessage, &str); 3] = [
        (
            ClientMessage::Move(Move {
                seq: 1,
                dx: 127,
                dy: 0,
            }),
            "81a4 4d6f7665 93 01 7f 00",
        ),
        (
            ClientMessage::Ping(Ping { client_time: 1000 }),
            "81a4 50696e67 91 cd03e8",
        ),
        (
            ClientMessage::Hello(Hello {
                name: "ada".into(),
                session: None,
                role: Role::Player,
                reconnect: None,
            }),
            "81a5 48656c6c6f 94 a3616461 c0 a6506c61796572 c0",
        ),
    ];
    for (message, hex) in cases {
        let bytes = encode_client(&message).expect("encoding into a Vec cannot fail");
        assert_eq!(
            to_hex(&bytes),
            hex.replace(' ', ""),
            "wire bytes of {message:?}"
        );
    }
    let mut bytes = Vec::new();
    let pong = ServerMessage::Pong(Pong { client_time: 1000 });
    encode_server(&pong, &mut bytes).expect("encoding into a Vec cannot fail");
    assert_eq!(
        to_hex(&bytes),
        "81a4506f6e6791cd03e8",
        "wire bytes of {pong:?}"
    );
}

#[test]
fn a_delta_of_100_moving_entities_stays_under_1400_bytes() {
    let delta = sample_delta(100);
    let mut bytes = Vec::new();
    encode_server(&ServerMessage::Delta(Cow::Borrowed(&delta)), &mut bytes)
        .expect("encoding into a Vec cannot fail");
    // Each entity is [id, x, y, vx, vy]: 1 + 1..3 + 3 + 3 + 1..2 + 1..2 bytes.
    assert!(
        bytes.len() <= 1400,
        "100 moving entities took {} bytes",
        bytes.len()
    );
    let empty = Delta { ..Delta::default() };
    let mut bytes = Vec::new();
    encode_server(&ServerMessage::Delta(Cow::Borrowed(&empty)), &mut bytes)
        .expect("encoding into a Vec cannot fail");
    // {"Delta": [tick, [], [], [], [], [], []]}
    assert_eq!(bytes.len(), 15, "a quiet tick costs 15 bytes");
}

#[test]
fn garbage_is_malformed() {
    for frame in [
        &b"\xc1"[..],
        b"hello",
        b"",
        b"\x81\x09\x90",
        b"\x81\x01\x93\x01\xcc\xff\x00",
    ] {
        assert!(
            matches!(decode_client(frame), Err(DecodeError::Malformed(_))),
            "{frame:?} must be refused as malformed"
        );
    }
}

#[test]
fn one_message_per_frame() {
    let mut bytes = encode_client(&ClientMessage::Ping(Ping { client_time: 1 })).expect("encodes");
    bytes.push(0);
    assert!(matches!(
        decode_client(&bytes),
        Err(DecodeError::TrailingBytes(1))
    ));
}

#[test]
fn oversized_frames_are_refused_before_decoding() {
    let frame = vec![0u8; crate::limits::MAX_CLIENT_MESSAGE_BYTES + 1];
    assert!(matches!(
        decode_client(&frame),
        Err(DecodeError::TooLarge { .. })
    ));
}

#[test]
fn hello_fields_are_validated() {
    let hello = |name: &str, session: Option<&str>| {
        encode_client(&ClientMessage::Hello(Hello {
            name: name.into(),
            session: session.map(Into::into),
            role: Role::Player,
            reconnect: None,
        }))
        .expect("encodes")
    };
    assert!(decode_client(&hello("x".repeat(24).as_str(), Some("room_1-A"))).is_ok());
    for (frame, field) in [
        (hello(&"x".repeat(25), None), "name"),
        (hello("bad\u{7}", None), "name"),
        (hello("ok", Some("has space")), "session"),
        (hello("ok", Some(&"a".repeat(17))), "session"),
    ] {
        match decode_client(&frame) {
            Err(DecodeError::Invalid { field: got, .. }) => assert_eq!(got, field),
            other => panic!("expected an invalid {field}, got {other:?}"),
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_hello_without_a_reconnect_token_still_decodes() {
    // The three-field Hello of clients written before reconnecting existed.
    let frame: Vec<u8> = (0..40)
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&"81a548656c6c6f93a3616461c0a6506c61796572"[i..i + 2], 16)
                .expect("hex")
        })
        .collect();
    match decode_client(&frame) {
        Ok(ClientMessage::Hello(hello)) => {
            assert_eq!(hello.name, "ada");
            assert_eq!(hello.reconnect, None);
        }
        other => panic!("a three-field Hello decodes, got {other:?}"),
    }
}

mod view {
    use super::super::*;
    use crate::protocol::{
        Arrival, CellNews, CellPart, Contact, Correction, EntityId, EntityKind, GameEvent, Score,
        Spawn, ViewDelta, WorldNews,
    };

    /// A cell's news, with lists empty or not depending on `cell`: the trailing empty
    /// ones are left out of its array.
    fn news(cell: u32) -> CellNews {
        let id = EntityId(cell + 7);
        let some = |k: u32| (cell / 40).is_multiple_of(k);
        CellNews {
            moved: vec![
                Correction {
                    id,
                    vx: 2,
                    vy: -60,
                    turned: (cell / 40) % 4,
                    dx: if (cell / 40) % 3 == 1 { -3 } else { 0 },
                    dy: if (cell / 40) % 5 == 2 { 40 } else { 0 },
                };
                cell as usize % 3
            ],
            entered: [Arrival {
                id,
                x: 300,
                y: 4,
                vx: 2,
                vy: 0,
            }]
            .into_iter()
            .filter(|_| some(2))
            .collect(),
            left: [EntityId(99)].into_iter().filter(|_| some(3)).collect(),
            crossed: [EntityId(98)].into_iter().filter(|_| some(8)).collect(),
            collided: [Contact {
                a: id,
                b: EntityId(900),
            }]
            .into_iter()
            .filter(|_| some(4))
            .collect(),
            stopped: [id].into_iter().filter(|_| some(5)).collect(),
            scores: [Score { id, points: cell }]
                .into_iter()
                .filter(|_| some(6))
                .collect(),
            spawns: [Spawn {
                id,
                kind: EntityKind::Ball,
                radius: 120,
                name: String::new(),
            }]
            .into_iter()
            .filter(|_| some(2) && some(7))
            .collect(),
        }
    }

    #[test]
    fn a_cells_corrections_are_one_flat_list() {
        let turn = Correction {
            id: EntityId(8),
            vx: 2,
            vy: -60,
            turned: 3,
            dx: 0,
            dy: 0,
        };
        let stop = Correction {
            vx: 0,
            vy: 0,
            turned: 0,
            ..turn
        };
        let cases = [
            // A stop at the send's tick: 8, 0, 0, form 0.
            (vec![stop], vec![0x91, 0x94, 8, 0, 0, 0]),
            // A turn three ticks ago: 8, 2, -60, form 6.
            (vec![turn], vec![0x91, 0x94, 8, 2, 0xd0, 0xc4, 6]),
            // A push: form 7, then the offset (-3, 0).
            (
                vec![Correction { dx: -3, ..turn }],
                vec![0x91, 0x96, 8, 2, 0xd0, 0xc4, 7, 0xfd, 0],
            ),
            // A turn and a stop: eight numbers, one header.
            (
                vec![turn, stop],
                vec![0x91, 0x98, 8, 2, 0xd0, 0xc4, 6, 8, 0, 0, 0],
            ),
        ];
        for (moved, expected) in cases {
            let cell = CellNews {
                moved,
                ..CellNews::default()
            };
            let bytes = rmp_serde::to_vec(&cell).expect("encodes");
            assert_eq!(bytes, expected, "{:?}", cell.moved);
            assert_eq!(rmp_serde::from_slice::<CellNews>(&bytes).ok(), Some(cell));
        }
        // Cut short, or with a negative form: refused, not guessed at.
        for bad in [
            vec![0x91, 0x93, 8, 2, 0xd0],
            vec![0x91, 0x94, 8, 2, 3, 0xff],
        ] {
            assert!(rmp_serde::from_slice::<CellNews>(&bad).is_err(), "{bad:x?}");
        }
        let cell = CellNews {
            moved: vec![turn],
            ..CellNews::default()
        };
        let json = serde_json::to_value(&cell).expect("json");
        assert_eq!(
            json["moved"][0]["turned"], 3,
            "a struct with every field: {json}"
        );
        assert_eq!(serde_json::from_value::<CellNews>(json).ok(), Some(cell));
    }

    #[test]
    fn what_a_view_is_around_is_a_point_or_nothing_for_every_cell() {
        let cases = [
            (Around::Point { x: 5, y: -1 }, vec![0x92, 5, 0xff], "[5,-1]"),
            (
                Around::Point { x: 128_000, y: 0 },
                vec![0x92, 0xce, 0, 1, 0xf4, 0, 0],
                "[128000,0]",
            ),
            (Around::Everything, vec![0x90], "[]"),
        ];
        for (around, bytes, json) in cases {
            assert_eq!(rmp_serde::to_vec(&around).expect("encodes"), bytes);
            assert_eq!(rmp_serde::from_slice::<Around>(&bytes).ok(), Some(around));
            assert_eq!(serde_json::to_string(&around).expect("json"), json);
            assert_eq!(serde_json::from_str::<Around>(json).ok(), Some(around));
        }
        for wrong in ["[1]", "[1,2,3]", "7", "null"] {
            assert!(serde_json::from_str::<Around>(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn a_correction_names_the_turn_that_explains_it() {
        use crate::protocol::EntityState;
        let state = |x: i32, y: i32, vx: i32, vy: i32| EntityState {
            id: EntityId(5),
            x,
            y,
            vx,
            vy,
        };
        // Extrapolated to (130, 0) at (10, 0) a tick; it turned to (0, -7) two ticks
        // before the send, so it is at (110, -14).
        let predicted = state(130, 0, 10, 0);
        let now = state(110, -14, 0, -7);
        let correction = Correction::between(&predicted, &now, 3);
        assert_eq!((correction.turned, correction.dx, correction.dy), (2, 0, 0));
        assert_eq!(correction.applied_to(&predicted), now);
        // A bounce is not a straight turn: what the best turn leaves travels as an
        // offset, and the client lands on the truth all the same.
        let bounced = state(127, 3, -10, 1);
        let correction = Correction::between(&predicted, &bounced, 3);
        assert_eq!(correction.applied_to(&predicted), bounced);
        assert!(
            correction.dx.abs() + correction.dy.abs() < 10,
            "{correction:?}"
        );
        // A drift with the same velocity is a plain offset.
        let drifted = state(121, 0, 10, 0);
        let correction = Correction::between(&predicted, &drifted, 3);
        assert_eq!((correction.turned, correction.dx), (0, -9));
        // Nothing is looked for beyond the window.
        let correction = Correction::between(&predicted, &now, 1);
        assert_eq!(correction.turned, 1);
        assert_eq!(correction.applied_to(&predicted), now);
    }

    #[test]
    fn a_cell_leaves_out_its_trailing_empty_lists() {
        let moved_only = CellNews {
            moved: news(1).moved,
            ..CellNews::default()
        };
        let mut bytes = Vec::new();
        encode_view_part(&moved_only, &mut bytes).expect("encodes");
        // [[8, 2, -60, 0]]: one field, not eight.
        assert_eq!(bytes, [0x91, 0x94, 8, 2, 0xd0, 0xc4, 0]);
        assert_eq!(
            rmp_serde::from_slice::<CellNews>(&bytes).ok(),
            Some(moved_only)
        );
        for cell in (0..84).map(|c| c * 40) {
            let news = news(cell);
            let mut bytes = Vec::new();
            encode_view_part(&news, &mut bytes).expect("encodes");
            let back: CellNews = rmp_serde::from_slice(&bytes).expect("decodes");
            assert_eq!(back, news, "cell {cell}");
            // A part whose `moved` comes in two pieces encodes as the news they make.
            let (first, second) = news.moved.split_at(news.moved.len() / 2);
            let part = CellPart {
                moved: (first, second),
                ..news.part()
            };
            let mut pieces = Vec::new();
            encode_view_part(&part, &mut pieces).expect("encodes");
            assert_eq!(pieces, bytes, "cell {cell} from pieces");
        }
        // JSON (the golden samples, the browser's tests) has every field.
        let json = serde_json::to_value(CellNews::default()).expect("json");
        assert_eq!(json.as_object().map(|o| o.len()), Some(8));
    }

    #[test]
    fn a_head_then_the_shared_parts_are_the_whole_view_message() {
        let world = WorldNews {
            events: vec![GameEvent::PlayerLeft { id: EntityId(4) }],
        };
        // 0, 1 and 20 cells (every third without news): the array header's short and
        // 16-bit forms.
        for count in [0u32, 1, 20] {
            let cells: Vec<Option<CellNews>> = (0..count)
                .map(|c| (c % 3 != 2).then(|| news(c * 40)))
                .collect();
            let view = ViewDelta {
                tick: Tick(70_000),
                fresh: count == 1,
                acks: vec![Ack {
                    id: EntityId(1),
                    seq: 300,
                }],
                scores: vec![Score {
                    id: EntityId(1),
                    points: 3,
                }],
                around: match count {
                    0 => None,
                    1 => Some(Around::Everything),
                    _ => Some(Around::Point { x: 70_000, y: -3 }),
                },
                cells: cells.clone(),
                world: world.clone(),
            };
            let mut gathered = Vec::new();
            write_view_head(
                &mut gathered,
                view.tick,
                view.fresh,
                &view.acks,
                &view.scores,
                view.around,
                cells.len(),
            )
            .expect("a head encodes");
            for part in &cells {
                match part {
                    Some(news) => encode_view_part(news, &mut gathered).expect("a cell encodes"),
                    None => gathered.push(NO_NEWS),
                }
            }
            encode_view_part(&world, &mut gathered).expect("the world encodes");

            let mut whole = Vec::new();
            let message = ServerMessage::View(Box::new(view));
            encode_server(&message, &mut whole).expect("encodes");
            assert_eq!(gathered, whole, "{count} cells");
            assert_eq!(decode_server(&gathered).expect("decodes"), message);
        }
    }
}
