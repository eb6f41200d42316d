//! The messages between a phone controller, its player's page and the server: a page
//! asks for a pairing code, a phone presents it, and is then fed its player's score,
//! round and events instead of the whole world.

use serde::{Deserialize, Serialize};

use super::{EntityId, GameEvent, RoundState, Tick};

/// A pairing code for the requesting page's player.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PairCode {
    /// Six characters from an alphabet without look-alikes (no 0/O, 1/I/L).
    pub code: String,
    /// Seconds until the code expires; it works once.
    pub expires_in_s: u32,
    /// The controller page's address on the server's local network
    /// (`http://192.168.1.20:8080`), for a QR code a phone can reach, if known.
    pub lan_url: Option<String>,
}

/// A controller is paired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Paired {
    /// The player it steers.
    pub player: EntityId,
    /// That player's name.
    pub name: String,
    /// The session.
    pub session: String,
    /// Ticks per second (a feed's `tick` and `round.ends_at` count them).
    pub tick_hz: u16,
    /// Its current score.
    pub score: u32,
    /// Where the round stands.
    pub round: RoundState,
    /// The tick this was sent at: with `tick_hz`, the phone counts the round down
    /// between feeds, which come only when something happens to its player.
    pub tick: Tick,
}

/// Why a pairing code was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PairRefused {
    /// For the user: unknown, expired, already used, or the player left.
    pub reason: String,
}

/// A controller's view of a tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Feed {
    /// The tick.
    pub tick: Tick,
    /// The player's score.
    pub score: u32,
    /// Where the round stands.
    pub round: RoundState,
    /// Its player's collisions and stops, and round starts and ends.
    pub events: Vec<GameEvent>,
}

/// Whether a phone controller steers the page's player.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ControllerStatus {
    /// True while at least one controller is paired.
    pub attached: bool,
}
