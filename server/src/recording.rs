//! A round as it was played, in the form a replay re-plays it: the game at the round's
//! start (a [`Checkpoint`] without reconnect tokens), then what went into the
//! simulation at each tick (joins, leaves, steering, players going away and coming
//! back), and a hash of the game's state every second to check a re-play against.
//!
//! The simulation reads no clock and takes its random numbers from its own seeded
//! generator (kept in the checkpoint), so these inputs are all a re-play needs.

use serde::{Deserialize, Serialize};

use crate::checkpoint::Checkpoint;

/// Something that went into the simulation between two steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// A player's steering (`Simulation::steer`).
    Steer {
        /// The player's id.
        id: u32,
        /// The input's sequence number.
        seq: u32,
        /// Direction, wire units.
        dx: i8,
        /// See `dx`.
        dy: i8,
    },
    /// A player joined (`Simulation::spawn_player`); its id is the next one.
    Join {
        /// Its name.
        name: String,
    },
    /// A player left (`Simulation::remove_player`).
    Leave {
        /// Its id.
        id: u32,
    },
    /// A player's connection was lost, or it came back (`Simulation::set_away`).
    Away {
        /// Its id.
        id: u32,
        /// Lost (true) or back.
        away: bool,
    },
}

/// The inputs applied before one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickInputs {
    /// The tick they were applied before.
    pub tick: u32,
    /// In the order they were applied.
    pub inputs: Vec<Input>,
}

/// The game's state hash at one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateHash {
    /// The tick.
    pub tick: u32,
    /// xxh3 of the state's checkpoint bytes.
    pub hash: u64,
}

/// One round from its first tick to its last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// The game at the round's start.
    pub keyframe: Checkpoint,
    /// The ticks that had inputs, in order.
    pub ticks: Vec<TickInputs>,
    /// A hash every second.
    pub hashes: Vec<StateHash>,
    /// The round's last tick (its `RoundEnded`).
    pub end_tick: u32,
}

/// The hash a recording keeps of a game state (`checkpoint` without tokens or chat).
pub fn state_hash(checkpoint: &Checkpoint) -> u64 {
    xxhash_rust::xxh3::xxh3_64(&rmp_serde::to_vec(checkpoint).unwrap_or_default())
}
