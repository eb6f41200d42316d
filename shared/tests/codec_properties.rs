//! Properties of the codec over generated messages and bytes: whatever a client sends,
//! decoding returns a message or an error, never a panic; every valid client message
//! survives a round trip; the bots' skim of a delta agrees with the decoder.

use std::borrow::Cow;

use arena_shared::codec::{decode_client, encode_client, encode_server};
use arena_shared::protocol::{
    Ack, ClientMessage, Delta, EntityId, EntityKind, EntityState, GameEvent, Hello, Move, Pair,
    Ping, Role, Say, Score, ServerMessage, Spawn, Tick,
};
use arena_shared::skim::{Skim, skim_server};
use proptest::prelude::*;

fn client_message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        (
            "[a-zA-Z0-9 éß]{0,24}",
            proptest::option::of("[A-Za-z0-9_-]{0,16}"),
            any::<bool>(),
            proptest::option::of("[0-9a-f]{32}")
        )
            .prop_map(
                |(name, session, spectator, reconnect)| ClientMessage::Hello(Hello {
                    name,
                    session,
                    role: if spectator {
                        Role::Spectator
                    } else {
                        Role::Player
                    },
                    reconnect,
                })
            ),
        (any::<u32>(), -127i8..=127, -127i8..=127)
            .prop_map(|(seq, dx, dy)| ClientMessage::Move(Move { seq, dx, dy })),
        any::<u32>().prop_map(|client_time| ClientMessage::Ping(Ping { client_time })),
        Just(ClientMessage::RequestPairCode),
        Just(ClientMessage::Leave),
        "[A-Z2-9]{6}".prop_map(|code| ClientMessage::Pair(Pair { code })),
        ".{0,200}".prop_map(|text| ClientMessage::Chat(Say { text })),
    ]
}

proptest! {
    #[test]
    fn every_valid_client_message_round_trips(message in client_message()) {
        let bytes = encode_client(&message).expect("encodes");
        prop_assert_eq!(decode_client(&bytes).expect("decodes"), message);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_client(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic_the_decoder(
        message in client_message(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = encode_client(&message).expect("encodes");
        for (at, value) in flips {
            let len = bytes.len();
            bytes[at % len] = value;
        }
        let _ = decode_client(&bytes);
    }
}

fn entity_state() -> impl Strategy<Value = EntityState> {
    (
        any::<u32>(),
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
    )
        .prop_map(|(id, x, y, vx, vy)| EntityState {
            id: EntityId(id),
            x,
            y,
            vx,
            vy,
        })
}

fn delta() -> impl Strategy<Value = Delta> {
    (
        any::<u32>(),
        proptest::collection::vec(
            (any::<u32>(), any::<bool>(), any::<i32>(), "[a-z]{0,40}"),
            0..5,
        ),
        proptest::collection::vec(entity_state(), 0..300),
        proptest::collection::vec(any::<u32>(), 0..5),
        proptest::collection::vec((any::<u32>(), any::<u32>()), 0..40),
        proptest::collection::vec((any::<u32>(), any::<u32>()), 0..5),
        proptest::collection::vec((any::<u32>(), "[a-zß]{0,300}"), 0..4),
    )
        .prop_map(
            |(tick, spawned, moved, removed, acks, scores, joins)| Delta {
                tick: Tick(tick),
                spawned: spawned
                    .into_iter()
                    .map(|(id, player, radius, name)| Spawn {
                        id: EntityId(id),
                        kind: if player {
                            EntityKind::Player
                        } else {
                            EntityKind::Ball
                        },
                        radius,
                        name,
                    })
                    .collect(),
                moved,
                removed: removed.into_iter().map(EntityId).collect(),
                acks: acks
                    .into_iter()
                    .map(|(id, seq)| Ack {
                        id: EntityId(id),
                        seq,
                    })
                    .collect(),
                scores: scores
                    .into_iter()
                    .map(|(id, points)| Score {
                        id: EntityId(id),
                        points,
                    })
                    .collect(),
                events: joins
                    .into_iter()
                    .map(|(id, name)| GameEvent::PlayerJoined {
                        id: EntityId(id),
                        name,
                    })
                    .chain([GameEvent::RoundEnded {
                        number: 3,
                        scores: vec![],
                    }])
                    .collect(),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The bots' quick read of a delta agrees with the full decoder on every delta,
    /// whatever sizes its numbers and lists take on the wire.
    #[test]
    fn skimming_a_delta_reads_what_decoding_it_reads(delta in delta()) {
        let mut bytes = Vec::new();
        let message = ServerMessage::Delta(Cow::Borrowed(&delta));
        encode_server(&message, &mut bytes).expect("encodes");
        let skimmed = skim_server(&bytes).expect("skims");
        prop_assert_eq!(skimmed, Skim::Delta { tick: delta.tick, acks: delta.acks.clone() });
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            prop_assert!(skim_server(&bytes[..cut]).is_err(), "a cut delta is refused");
        }
    }
}
