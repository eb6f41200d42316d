//! The whole per-connection input path with arbitrary frames: the strict decoder, the
//! dispatch a connection's reader does, the player's input slot, and a session ticking
//! with what arrives. Nothing may panic, and the session must keep producing deltas.
#![no_main]

use std::sync::Arc;

use arena_server::Tunables;
use arena_server::commands::JoinRequest;
use arena_server::fanout::FanoutPool;
use arena_server::input_slot::InputSlot;
use arena_server::link::{Link, MemoryWire};
use arena_server::outbox::Outbox;
use arena_server::session::Session;
use arena_shared::codec::decode_client;
use arena_shared::protocol::{ClientMessage, Hello, Role};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tunables = Tunables::merged(
        "[balls]\ncount = 3\n[arena]\nwidth = 300\nheight = 200\n",
        "fuzz",
    )
    .expect("valid tunables");
    let mut session = Session::new("fuzz".into(), &tunables, 1);
    let fanout = FanoutPool::inline();
    let input = Arc::new(InputSlot::default());
    let frames = MemoryWire::new(usize::MAX / 2);
    let (link, _close) = Link::new(frames.clone(), 1 << 20, Arc::default());
    let outbox = Outbox::new(link);
    let hello = Hello {
        name: "f".into(),
        session: Some("fuzz".into()),
        role: Role::Player,
        reconnect: None,
    };
    session.join(JoinRequest {
        conn: 1,
        session: "fuzz".into(),
        hello,
        outbox,
        input: input.clone(),
    });
    // Frames: a length byte, then that many bytes, as many times as the data allows.
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        match decode_client(frame) {
            Ok(ClientMessage::Move(steer)) => input.store(steer),
            // A second Hello, a Ping, a pairing request or a Pair: the reader answers
            // or refuses them without touching the game.
            Ok(_) | Err(_) => {}
        }
        session.tick(&fanout);
        frames.take();
    }
    session.tick(&fanout);
    assert!(
        !frames.take().is_empty(),
        "the session still sends its deltas"
    );
});
