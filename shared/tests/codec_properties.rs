//! Properties of the codec over generated messages and bytes: whatever a client sends,
//! decoding returns a message or an error, never a panic; every valid client message
//! survives a round trip.

use arena_shared::codec::{decode_client, encode_client};
use arena_shared::protocol::{ClientMessage, Hello, Move, Pair, Ping, Role};
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
        "[A-Z2-9]{6}".prop_map(|code| ClientMessage::Pair(Pair { code })),
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
