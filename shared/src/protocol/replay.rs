//! What the replay page plays, served over HTTP (`GET /api/replays/ID`), not the
//! WebSocket: the messages the players of a round were sent.

use serde::{Deserialize, Serialize};

use super::{ArenaInfo, Delta, Snapshot};

/// A recorded round re-played on the server: the world at the round's start and every
/// delta after it, the same messages its players were sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ReplayFrames {
    /// The session's code.
    pub session: String,
    /// The round's number.
    pub round: u32,
    /// Ticks per second.
    pub tick_hz: u16,
    /// Deltas per second: one every `tick_hz / send_hz` ticks.
    pub send_hz: u16,
    /// The arena.
    pub arena: ArenaInfo,
    /// The world at the round's start.
    pub snapshot: Snapshot,
    /// Every delta of the round, in order.
    pub deltas: Vec<Delta>,
}
