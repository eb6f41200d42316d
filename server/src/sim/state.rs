//! The components and resources that several systems share.
//!
//! A system's own bookkeeping lives beside that system (`Contacts` in `collision`,
//! `Replica` in `replication`); what is here is the game state everyone reads.

use arena_shared::protocol::{EntityId, GameEvent, Tick};
use bevy_ecs::prelude::*;
use glam::Vec2;

use crate::config::Tunables;

/// The id clients know this entity by.
#[derive(Component, Debug, Clone, Copy)]
pub(crate) struct NetId(pub EntityId);

/// Centre of the body, in units; (0, 0) is the arena's top-left corner.
#[derive(Component, Debug, Clone, Copy, Default)]
pub(crate) struct Position(pub Vec2);

/// Units per second.
#[derive(Component, Debug, Clone, Copy, Default)]
pub(crate) struct Velocity(pub Vec2);

/// A circle that collides.
#[derive(Component, Debug, Clone, Copy)]
pub(crate) struct Body {
    /// Radius in units.
    pub radius: f32,
    /// 1 / mass: how much of a collision's push this body takes.
    pub inv_mass: f32,
}

/// A body steered by a connection.
#[derive(Component, Debug, Clone)]
pub(crate) struct Player {
    /// Display name.
    pub name: String,
}

/// A player whose connection is lost, waiting to be taken back: a ghost that stands
/// still and touches nothing, so that nobody scores by ramming a player who cannot
/// dodge, and nobody is blocked by one.
#[derive(Component, Debug, Clone, Copy)]
pub(crate) struct Away;

/// An NPC ball.
#[derive(Component, Debug, Clone, Copy)]
pub(crate) struct Ball;

/// A player's latest input: the server takes only a direction from a client.
#[derive(Component, Debug, Clone, Copy, Default)]
pub(crate) struct Steering {
    /// Length at most 1.
    pub dir: Vec2,
    /// The sequence number of the input that set `dir`.
    pub seq: u32,
}

/// Points this round.
#[derive(Component, Debug, Clone, Copy, Default)]
pub(crate) struct Score(pub u32);

/// Whether a player moved last tick, to notice when it stops.
#[derive(Component, Debug, Clone, Copy, Default)]
pub(crate) struct Motion {
    /// It moved during the last tick.
    pub moving: bool,
}

/// The tunables a simulation runs by, converted once into the units systems use.
#[derive(Resource, Debug, Clone)]
pub(crate) struct Rules {
    /// Ticks per second.
    pub tick_hz: u16,
    /// Ticks from one delta to the next.
    pub send_every: u32,
    /// Seconds per tick.
    pub dt: f32,
    /// Arena size in units.
    pub arena: Vec2,
    /// Player radius.
    pub player_radius: f32,
    /// Player speed at full input, units per second.
    pub player_speed: f32,
    /// Balls per session.
    pub ball_count: u32,
    /// Ball radius.
    pub ball_radius: f32,
    /// Slowest ball speed.
    pub ball_min_speed: f32,
    /// Fastest ball speed.
    pub ball_max_speed: f32,
    /// Ticks of play in a round.
    pub round_ticks: u32,
    /// Ticks between rounds.
    pub intermission_ticks: u32,
    /// Interest management's cells and view, if the world has them.
    pub view: Option<arena_shared::protocol::ViewInfo>,
}

impl Rules {
    /// Converts tunables into rules.
    pub(crate) fn from_tunables(t: &Tunables) -> Rules {
        Rules {
            tick_hz: t.tick_hz,
            send_every: t.send_every(),
            dt: t.tick_seconds(),
            arena: Vec2::new(t.arena.width, t.arena.height),
            player_radius: t.players.radius,
            player_speed: t.players.speed,
            ball_count: t.balls.count,
            ball_radius: t.balls.radius,
            ball_min_speed: t.balls.min_speed,
            ball_max_speed: t.balls.max_speed,
            round_ticks: t.ticks(t.round.length_s),
            intermission_ticks: t.ticks(t.round.intermission_s),
            view: t.view_info(),
        }
    }
}

/// The current tick. Systems read time only from here, never from a wall clock, so
/// that a simulation replays identically.
#[derive(Resource, Debug, Clone, Copy, Default)]
pub(crate) struct Clock {
    /// The tick being computed (or last computed, between steps).
    pub tick: Tick,
}

/// What happened this tick; `collect_events` moves it on to wait for the next delta
/// (and each cohort's next send). Joins and leaves between ticks land here too, so
/// they reach the next ones.
#[derive(Resource, Debug, Default)]
pub(crate) struct TickEvents(pub Vec<GameEvent>);

/// The session's random numbers: seeded, so the same seed replays the same game.
#[derive(Resource, Debug)]
pub(crate) struct SimRng(pub fastrand::Rng);
