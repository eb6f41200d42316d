//! The messages of a session with interest management: each client is sent only the
//! cells of the world near it.
//!
//! The world is cut into square cells. Each send, the server encodes each cell's news
//! once ([`CellNews`]) and the news of the whole world once ([`WorldNews`]); a client's
//! [`ViewDelta`] is a small head of its own (tick, its acknowledgement and score, the
//! cells it stopped seeing) followed by those shared parts. Its field order is chosen for that:
//! everything per client comes first, so a message is the head and then the shared
//! bytes, written with one vectored write (see [`crate::codec::write_view_head`]).

use serde::{Deserialize, Serialize};

use super::{Ack, EntityId, EntityState, GameEvent, Score, Spawn, Tick};

/// What a session with interest management tells a client in its `Welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ViewInfo {
    /// A cell's side, in position quanta. Cell `c` covers columns
    /// `c % cols` and rows `c / cols`, `cols = ceil(arena width / cell_size)`.
    pub cell_size: i32,
    /// How far a player sees, in position quanta: it is sent the
    /// `(2r + 1) × (2r + 1)` block of cells around its own, `r = ceil(view_radius /
    /// cell_size)`, which holds every point within `view_radius` of it.
    pub view_radius: i32,
    /// Whether a spectator may ask to see every cell ([`Look::Everything`]).
    pub see_all: bool,
}

/// What a spectator watches in a session with interest management (a player always
/// watches its own surroundings). Until it says, it watches the arena's centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Look {
    /// The cells around a point (position quanta).
    At {
        /// x (quanta).
        x: i32,
        /// y (quanta).
        y: i32,
    },
    /// The cells around a player, wherever it goes.
    Follow {
        /// The player.
        id: EntityId,
    },
    /// Every cell, if the session allows it ([`ViewInfo::see_all`]); ignored otherwise.
    Everything,
}

/// One send's news for a client that sees part of the world (sessions with interest
/// management send this instead of [`super::Delta`]).
///
/// Applying it: if `fresh`, forget every entity; forget the entities of `left_cells`;
/// then apply each cell's news, and finally forget each entity some cell's `left` named
/// unless another cell of this message has it in `entered` (it crossed between two cells
/// the client sees). So the client keeps, for each entity, the cell whose news last
/// named it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ViewDelta {
    /// The tick this message brings the client to.
    pub tick: Tick,
    /// Forget everything known: this message has every cell in view in full (the first
    /// after a `Welcome`, or after messages were skipped for a slow client). It need
    /// not follow the last tick by one step.
    pub fresh: bool,
    /// Your own player's last processed input, when it changed (always in a fresh one).
    pub acks: Vec<Ack>,
    /// Your own player's score, when it changed (always in a fresh one). Other players'
    /// scores come with the cells they are in.
    pub scores: Vec<Score>,
    /// Cells no longer in view: forget the entities in them.
    pub left_cells: Vec<u32>,
    /// The news of each cell in view that had any: in full (every entity in it as
    /// `entered`) for a cell that came into view, since the last message otherwise.
    pub cells: Vec<CellNews>,
    /// What everyone is told: scores, joins, leaves, rounds, connections.
    pub world: WorldNews,
}

/// One cell's news since the last send, the same bytes for every client that sees it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CellNews {
    /// The cell's index.
    pub cell: u32,
    /// Entities that are in this cell and were not (they moved in, or appeared), with
    /// their full state; every entity in it when the cell is sent in full.
    pub entered: Vec<Arrival>,
    /// Entities of this cell whose motion a client could no longer extrapolate.
    pub moved: Vec<EntityState>,
    /// Entities that were in this cell and are not any more (moved out, or gone).
    pub left: Vec<EntityId>,
    /// What happened in this cell: collisions (placed at the lower id's cell) and
    /// players coming to rest.
    pub events: Vec<GameEvent>,
    /// The scores of this cell's players that changed (every score above zero when
    /// the cell is sent in full).
    pub scores: Vec<Score>,
}

/// An entity as a client first sees it: its fixed facts and its motion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Arrival {
    /// Fixed facts.
    pub spawn: Spawn,
    /// Motion at the message's tick.
    pub state: EntityState,
}

/// The part of a send every client of the session gets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct WorldNews {
    /// Joins, leaves, connections lost and back, rounds started and ended (a round's
    /// end with the best [`MAX_ROUND_SCORES`] scores only).
    pub events: Vec<GameEvent>,
}

/// The final scores a `RoundEnded` of a world with interest management carries: the
/// best ones (each player is told its own in [`ViewDelta::scores`]).
pub const MAX_ROUND_SCORES: usize = 20;
