//! Any bytes a client can send: decoding returns a message or an error, never panics,
//! and whatever decodes encodes back to bytes that decode to the same message.
#![no_main]

use arena_shared::codec::{decode_client, encode_client};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|frame: &[u8]| {
    if let Ok(message) = decode_client(frame) {
        let again = encode_client(&message).expect("a decoded message encodes");
        assert_eq!(
            decode_client(&again).expect("re-encoded bytes decode"),
            message
        );
    }
});
