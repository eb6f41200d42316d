//! The browser client's message types, generated from the Rust types above by ts-rs and
//! checked in at `client-web/src/generated/protocol.ts`, where `protocol.ts` imports
//! them. The test fails when the checked-in file differs from what these types
//! generate: a field added, renamed or retyped here without regenerating.
//!
//! Regenerate with `ARENA_UPDATE_GENERATED=1 cargo test -p arena-shared generated`.

use std::path::PathBuf;

use ts_rs::{Config, TS};

use super::*;

const HEADER: &str = "// Generated from arena-shared's Rust message types (shared/src/protocol.rs) by ts-rs.\n\
// Do not edit: change the Rust types, then run\n\
//   ARENA_UPDATE_GENERATED=1 cargo test -p arena-shared generated\n\
// These are the messages as serde_json writes them; on the wire, structs are\n\
// MessagePack arrays in field order (see protocol.ts and docs/PROTOCOL.md).\n";

/// The file the client checks in.
fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../client-web/src/generated/protocol.ts")
}

/// Every message type, each exported, in reading order: client messages, then server
/// messages and what they hold.
fn render() -> String {
    let cfg = Config::new();
    let decls = [
        Tick::decl(&cfg),
        EntityId::decl(&cfg),
        Role::decl(&cfg),
        ClientMessage::decl(&cfg),
        Hello::decl(&cfg),
        Move::decl(&cfg),
        Ping::decl(&cfg),
        Pair::decl(&cfg),
        Say::decl(&cfg),
        Look::decl(&cfg),
        ServerMessage::decl(&cfg),
        Welcome::decl(&cfg),
        ArenaInfo::decl(&cfg),
        ViewInfo::decl(&cfg),
        Snapshot::decl(&cfg),
        Delta::decl(&cfg),
        ViewDelta::decl(&cfg),
        CellNews::decl(&cfg),
        Arrival::decl(&cfg),
        Correction::decl(&cfg),
        Contact::decl(&cfg),
        WorldNews::decl(&cfg),
        Spawn::decl(&cfg),
        EntityKind::decl(&cfg),
        EntityState::decl(&cfg),
        Ack::decl(&cfg),
        Score::decl(&cfg),
        RoundState::decl(&cfg),
        RoundPhase::decl(&cfg),
        GameEvent::decl(&cfg),
        Pong::decl(&cfg),
        PairCode::decl(&cfg),
        Paired::decl(&cfg),
        PairRefused::decl(&cfg),
        Feed::decl(&cfg),
        ControllerStatus::decl(&cfg),
        ChatLines::decl(&cfg),
        ChatLine::decl(&cfg),
        ReplayFrames::decl(&cfg),
    ];
    let mut out = String::from(HEADER);
    for decl in decls {
        out.push('\n');
        out.push_str("export ");
        out.push_str(&decl);
        out.push('\n');
    }
    out
}

/// Where `checked` and `generated` first differ, if they do.
fn drift(checked: &str, generated: &str) -> Result<(), String> {
    if checked == generated {
        return Ok(());
    }
    let line = checked
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| checked.lines().count().min(generated.lines().count()));
    Err(format!(
        "client-web/src/generated/protocol.ts is stale from line {}: the Rust types say {:?}, the file {:?}. \
         Regenerate: ARENA_UPDATE_GENERATED=1 cargo test -p arena-shared generated",
        line + 1,
        generated.lines().nth(line).unwrap_or("(end)"),
        checked.lines().nth(line).unwrap_or("(end)"),
    ))
}

#[test]
fn the_generated_client_types_are_those_of_the_rust_types() {
    let generated = render();
    let path = checked_in();
    if std::env::var_os("ARENA_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &generated).expect("the generated file can be written");
    }
    let checked = std::fs::read_to_string(&path).unwrap_or_default();
    if let Err(stale) = drift(&checked, &generated) {
        panic!("{stale}");
    }
}

#[test]
fn a_field_added_without_regenerating_is_caught() {
    let generated = render();
    // The checked-in file as it was before `Move` gained a field.
    let start = generated
        .find("export type Move")
        .expect("Move is generated");
    let end = start + generated[start..].find('}').expect("a struct body");
    let older = generated[..start].to_owned()
        + "export type Move = { seq: number, dx: number, }"
        + &generated[end + 1..];
    let stale = drift(&older, &generated).expect_err("a missing field is drift");
    assert!(stale.contains("stale from line"), "{stale}");
    assert!(drift(&generated, &generated).is_ok());
}
