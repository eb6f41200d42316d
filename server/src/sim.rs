//! The game simulation: one bevy_ecs `World` and `Schedule` per session.
//!
//! Nothing here does I/O or reads a clock: the caller steps the simulation at its tick
//! rate and passes inputs in, so a simulation with the same seed and inputs replays
//! the same game (the test below checks it). Systems run in the order of [`TickSet`].

mod broad_phase;
mod collision;
mod interest;
mod journal;
mod movement;
mod replication;
mod restore;
mod round;
mod spawn;
mod state;
mod steering;
mod still;
#[cfg(test)]
mod test_world;

use std::collections::HashMap;

use arena_shared::cells::CellGrid;
use arena_shared::protocol::{
    ArenaInfo, Delta, EntityId, GameEvent, RoundState, Snapshot, Tick, ViewInfo,
};
use arena_shared::quantize::{direction_from_wire, position_to_wire};
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{ScheduleLabel, SingleThreadedExecutor};
use glam::Vec2;

pub use broad_phase::UniformGrid;
pub use replication::DRIFT_QUANTA;

use collision::Contacts;
pub(crate) use interest::Cells;
use interest::Cohorts;
use replication::{Outbound, Replica, Replicated};
use round::Round;
use state::{
    Away, Ball, Body, Clock, Motion, NetId, Player, Position, Rules, Score, SimRng, Steering,
    TickEvents, Velocity,
};

use crate::config::Tunables;
use crate::recording::Input;

/// The stages of a tick, in the order they run.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TickSet {
    /// Inputs become velocities.
    Input,
    /// Bodies move and are kept inside the arena.
    Simulate,
    /// Stopped players, then touching bodies: response and `Collided` events.
    Detect,
    /// New contacts score; rounds end and start.
    Score,
    /// On a send tick (every `tick_hz / send_hz` ticks), the delta is built from what
    /// changed since the last one; with interest management, every tick brings one
    /// cohort's cells up to date.
    Replicate,
}

#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
struct TickSchedule;

/// Players weigh four balls: they push balls around more than balls push them.
const PLAYER_INV_MASS: f32 = 0.25;
const BALL_INV_MASS: f32 = 1.0;

/// One session's game.
pub struct Simulation {
    world: World,
    schedule: Schedule,
    /// Network id to ECS entity, for inputs and removals.
    index: HashMap<EntityId, Entity>,
    players: usize,
    next_id: u32,
    snapshot_query: QueryState<(Replicated, &'static Replica)>,
    /// The round recorder, when rounds are recorded for replays.
    journal: Option<journal::Journal>,
}

impl Simulation {
    /// A new game with its balls placed and round 1 started.
    pub fn new(tunables: &Tunables, seed: u64) -> Simulation {
        let rules = Rules::from_tunables(tunables);
        let mut world = World::new();
        let mut rng = fastrand::Rng::with_seed(seed);
        let round = Round {
            number: 1,
            phase: arena_shared::protocol::RoundPhase::Playing,
            ends_at: Tick(rules.round_ticks),
        };
        let mut events = TickEvents::default();
        events.0.push(GameEvent::RoundStarted {
            number: 1,
            ends_at: round.ends_at,
        });

        let mut index = HashMap::new();
        let mut placed: Vec<(Vec2, f32)> = Vec::with_capacity(rules.ball_count as usize);
        for n in 0..rules.ball_count {
            let id = EntityId(n + 1);
            let at = spawn::free_spot(&mut rng, &rules, rules.ball_radius, placed.iter().copied());
            placed.push((at, rules.ball_radius));
            let velocity = spawn::ball_velocity(&mut rng, &rules);
            let entity = world.spawn(ball(id, at, velocity, &rules)).id();
            index.insert(id, entity);
        }
        world.insert_resource(Clock::default());
        world.insert_resource(round);
        world.insert_resource(events);
        world.insert_resource(SimRng(rng));
        world.insert_resource(Contacts::default());
        Simulation::assemble(world, rules, index, 0, tunables.balls.count + 1)
    }

    /// Adds what every game has to a world whose bodies, clock, round, events, random
    /// generator and contacts are in place: the rules, the outbound delta, the schedule.
    fn assemble(
        mut world: World,
        rules: Rules,
        index: HashMap<EntityId, Entity>,
        players: usize,
        next_id: u32,
    ) -> Simulation {
        if let Some(grid) = rules
            .view
            .and_then(|view| CellGrid::new(&view, &arena_info(&rules)))
        {
            world.insert_resource(Cohorts::new(grid, rules.send_every));
        }
        world.insert_resource(rules);
        world.insert_resource(Outbound::default());

        let mut schedule = Schedule::new(TickSchedule);
        schedule.set_executor(SingleThreadedExecutor::new());
        schedule.configure_sets(
            (
                TickSet::Input,
                TickSet::Simulate,
                TickSet::Detect,
                TickSet::Score,
                TickSet::Replicate,
            )
                .chain(),
        );
        schedule.add_systems((
            steering::steer_players.in_set(TickSet::Input),
            (movement::integrate, movement::confine_to_arena)
                .chain()
                .in_set(TickSet::Simulate),
            (
                still::detect_still,
                collision::resolve_collisions,
                movement::snap_velocities,
            )
                .chain()
                .in_set(TickSet::Detect),
            (round::score_contacts, round::run_round)
                .chain()
                .in_set(TickSet::Score),
            (
                replication::collect_events,
                interest::sort_into_cells.run_if(resource_exists::<Cohorts>),
                replication::build_delta.run_if(replication::is_send_tick),
            )
                .chain()
                .in_set(TickSet::Replicate),
        ));
        let snapshot_query = world.query();

        Simulation {
            world,
            schedule,
            index,
            players,
            next_id,
            snapshot_query,
            journal: None,
        }
    }

    /// The last computed tick (0 before the first step).
    pub fn tick(&self) -> Tick {
        self.world.resource::<Clock>().tick
    }

    /// The arena's fixed facts, as clients get them in `Welcome`.
    pub fn arena_info(&self) -> ArenaInfo {
        arena_info(self.rules())
    }

    /// What clients are told of interest management: `None` when they see everything.
    pub fn view_info(&self) -> Option<ViewInfo> {
        self.cells().and(self.rules().view)
    }

    /// The cells and their news of the cohort sent at the last tick, with interest
    /// management.
    pub(crate) fn cells(&self) -> Option<&Cells> {
        self.world.get_resource::<Cohorts>().map(Cohorts::cells)
    }

    /// The cohort of viewers sent at the last tick, and how many there are, with
    /// interest management: a viewer of cohort `c` is sent on the ticks that are `c`
    /// modulo their count.
    pub(crate) fn cohort_due(&self) -> Option<(u32, u32)> {
        let cohorts = self.world.get_resource::<Cohorts>()?;
        Some((cohorts.due(), cohorts.count()))
    }

    /// The cells, when the session has interest management.
    pub fn grid(&self) -> Option<CellGrid> {
        self.world.get_resource::<Cohorts>().map(Cohorts::grid)
    }

    /// The cell clients were last told an entity is in (with interest management).
    #[cfg(test)]
    pub(crate) fn cell_of(&self, id: EntityId) -> Option<u32> {
        self.cells()?.cell_of(id)
    }

    /// Where an entity is at the last send, in position quanta (with interest
    /// management): what a view around it is around.
    #[cfg(test)]
    pub(crate) fn position_of(&self, id: EntityId) -> Option<(i32, i32)> {
        self.cells()?.position_of(id)
    }

    /// Writes a cell in full into `out`: every entity in it entered, with its fixed
    /// facts and its motion as clients that followed every send believe it, and the
    /// cell's events this send.
    #[cfg(test)]
    pub(crate) fn write_cell(&self, cell: u32, out: &mut arena_shared::protocol::CellNews) {
        match self.cells() {
            Some(cells) => cells.write_full(cell, out),
            None => out.clear(),
        }
    }

    /// The entities whose true position is in `cell`, as the ECS has them (motion in
    /// wire quanta, fixed facts, points), not from what the cells keep: what tests hold
    /// the cells of the cohort sent at the last tick to. Its clients hold each of these
    /// within [`DRIFT_QUANTA`] of this motion.
    #[cfg(test)]
    pub(crate) fn cell_as_the_world_has_it(
        &mut self,
        cell: u32,
    ) -> Vec<(
        arena_shared::protocol::EntityState,
        arena_shared::protocol::Spawn,
        u32,
    )> {
        let Some(grid) = self.grid() else {
            return Vec::new();
        };
        let tick_hz = self.rules().tick_hz;
        self.snapshot_query
            .iter(&self.world)
            .filter_map(|((id, position, velocity, body, player, _, score), _)| {
                let now = replication::wire_state(id.0, position, velocity, tick_hz);
                (grid.cell_at(now.x, now.y) == cell).then(|| {
                    let spawn = replication::spawn_of(id.0, body, player);
                    (now, spawn, score.map_or(0, |s| s.0))
                })
            })
            .collect()
    }

    fn rules(&self) -> &Rules {
        self.world.resource::<Rules>()
    }

    /// How many entities are in the game.
    pub fn entity_count(&self) -> usize {
        self.index.len()
    }

    /// How many players are in the game.
    pub fn player_count(&self) -> usize {
        self.players
    }

    fn allocate_id(&mut self) -> EntityId {
        let id = EntityId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Adds a player at a free spot; it appears (with a `PlayerJoined` event) in the
    /// next delta.
    pub fn spawn_player(&mut self, name: &str) -> EntityId {
        self.note(|| Input::Join {
            name: name.to_owned(),
        });
        let id = self.allocate_id();
        let rules = self.rules().clone();
        let mut occupied = self.world.query::<(&Position, &Body)>();
        let spots: Vec<(Vec2, f32)> = occupied
            .iter(&self.world)
            .map(|(p, b)| (p.0, b.radius))
            .collect();
        let at = {
            let mut rng = self.world.resource_mut::<SimRng>();
            spawn::free_spot(&mut rng.0, &rules, rules.player_radius, spots.into_iter())
        };
        let entity = self
            .world
            .spawn(player(id, name, at, Vec2::ZERO, 0, &rules))
            .id();
        self.index.insert(id, entity);
        self.players += 1;
        self.world
            .resource_mut::<TickEvents>()
            .0
            .push(GameEvent::PlayerJoined {
                id,
                name: name.to_owned(),
            });
        id
    }

    /// Removes a player; it disappears (with a `PlayerLeft` event) in the next delta.
    /// Returns false if there was no such player.
    pub fn remove_player(&mut self, id: EntityId) -> bool {
        self.note(|| Input::Leave { id: id.0 });
        let Some(&entity) = self.index.get(&id) else {
            return false;
        };
        if self.world.get::<Player>(entity).is_none() {
            return false;
        }
        self.index.remove(&id);
        self.players -= 1;
        self.world.despawn(entity);
        self.world.resource_mut::<Outbound>().removed.push(id);
        if let Some(mut cohorts) = self.world.get_resource_mut::<Cohorts>() {
            cohorts.remove(id);
        }
        self.world
            .resource_mut::<TickEvents>()
            .0
            .push(GameEvent::PlayerLeft { id });
        true
    }

    /// Makes a player a ghost while its connection is lost (`away`), or brings it back.
    /// A ghost stops and touches nothing: see [`Away`].
    pub fn set_away(&mut self, id: EntityId, away: bool) {
        self.note(|| Input::Away { id: id.0, away });
        let Some(&entity) = self.index.get(&id) else {
            return;
        };
        let mut player = self.world.entity_mut(entity);
        if away {
            player.insert(Away);
            if let Some(mut steering) = player.get_mut::<Steering>() {
                steering.dir = Vec2::ZERO;
            }
            if let Some(mut velocity) = player.get_mut::<Velocity>() {
                velocity.0 = Vec2::ZERO;
            }
        } else {
            player.remove::<Away>();
        }
    }

    /// Adds an event from outside the simulation (a connection lost or back) to the
    /// next delta.
    pub fn announce(&mut self, event: GameEvent) {
        self.world.resource_mut::<TickEvents>().0.push(event);
    }

    /// Sets a player's steering from a wire `Move`; it takes effect at the next step.
    pub fn steer(&mut self, id: EntityId, seq: u32, dx: i8, dy: i8) {
        self.note(|| Input::Steer {
            id: id.0,
            seq,
            dx,
            dy,
        });
        let Some(&entity) = self.index.get(&id) else {
            return;
        };
        if let Some(mut steering) = self.world.get_mut::<Steering>(entity) {
            let (x, y) = direction_from_wire(dx, dy);
            *steering = Steering {
                dir: Vec2::new(x, y),
                seq,
            };
        }
    }

    /// Computes the next tick and returns its delta.
    pub fn step(&mut self) -> &Delta {
        let before = self.round_state().phase;
        let mut clock = self.world.resource_mut::<Clock>();
        clock.tick = clock.tick.next();
        self.schedule.run(&mut self.world);
        self.journal_step(before);
        self.delta()
    }

    /// Whether the last step built a delta: deltas go out every
    /// `tick_hz / send_hz` ticks.
    pub fn is_send_tick(&self) -> bool {
        self.tick().0.is_multiple_of(self.rules().send_every)
    }

    /// The last delta built (on the last send tick).
    pub fn delta(&self) -> &Delta {
        &self.world.resource::<Outbound>().delta
    }

    /// A player's score this round.
    pub fn score_of(&self, id: EntityId) -> Option<u32> {
        let entity = *self.index.get(&id)?;
        self.world.get::<Score>(entity).map(|s| s.0)
    }

    /// A player's display name.
    pub fn name_of(&self, id: EntityId) -> Option<String> {
        let entity = *self.index.get(&id)?;
        self.world.get::<Player>(entity).map(|p| p.name.clone())
    }

    /// Every player's name and score.
    pub fn scoreboard(&mut self) -> Vec<(String, u32)> {
        let mut players = self.world.query::<(&Player, &Score)>();
        players
            .iter(&self.world)
            .map(|(p, s)| (p.name.clone(), s.0))
            .collect()
    }

    /// Whether a player in the game goes by `name` (ignoring case): two players who
    /// look alike on the scoreboard are one too many.
    pub fn name_taken(&mut self, name: &str) -> bool {
        // Every join asks this of every player: compared char by char, not by
        // lowering a copy of each name.
        let wanted: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
        let mut players = self.world.query::<&Player>();
        players.iter(&self.world).any(|p| {
            p.name
                .chars()
                .flat_map(char::to_lowercase)
                .eq(wanted.iter().copied())
        })
    }

    /// Where the round stands.
    pub fn round_state(&self) -> RoundState {
        let round = *self.world.resource::<Round>();
        RoundState {
            number: round.number,
            phase: round.phase,
            ends_at: round.ends_at,
        }
    }

    /// Writes what a joiner of a world with interest management is welcomed with: the
    /// tick, the round and the scores that are not zero, no entity (its first view
    /// brings those near it).
    pub fn write_view_snapshot(&mut self, out: &mut Snapshot) {
        out.tick = self.tick();
        out.spawns.clear();
        out.states.clear();
        out.acks.clear();
        out.scores.clear();
        let mut scores = self.world.query::<(&NetId, &Score)>();
        out.scores.extend(
            scores
                .iter(&self.world)
                .filter(|(_, s)| s.0 > 0)
                .map(|(id, s)| arena_shared::protocol::Score {
                    id: id.0,
                    points: s.0,
                }),
        );
        out.round = self.round_state();
    }

    /// Writes the whole world at the last computed tick into `out`.
    pub fn write_snapshot(&mut self, out: &mut Snapshot) {
        replication::write_snapshot(&mut self.world, &mut self.snapshot_query, out);
        out.round = self.round_state();
    }
}

/// The arena's fixed facts as clients get them.
fn arena_info(rules: &Rules) -> ArenaInfo {
    ArenaInfo {
        width: position_to_wire(rules.arena.x),
        height: position_to_wire(rules.arena.y),
        round_ticks: rules.round_ticks,
        intermission_ticks: rules.intermission_ticks,
        player_speed: position_to_wire(rules.player_speed),
    }
}

/// A ball's components.
fn ball(id: EntityId, at: Vec2, velocity: Vec2, rules: &Rules) -> impl Bundle + use<> {
    (
        NetId(id),
        Position(at),
        Velocity(velocity),
        Body {
            radius: rules.ball_radius,
            inv_mass: BALL_INV_MASS,
        },
        Ball,
        Replica::default(),
    )
}

/// A player's components.
fn player(
    id: EntityId,
    name: &str,
    at: Vec2,
    velocity: Vec2,
    score: u32,
    rules: &Rules,
) -> impl Bundle + use<> {
    (
        NetId(id),
        Position(at),
        Velocity(velocity),
        Body {
            radius: rules.player_radius,
            inv_mass: PLAYER_INV_MASS,
        },
        Player {
            name: name.to_owned(),
        },
        Steering::default(),
        Score(score),
        Motion::default(),
        Replica::default(),
    )
}

#[cfg(test)]
mod tests;
