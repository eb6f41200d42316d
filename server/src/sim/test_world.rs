//! A simulation harness for the systems' unit tests: place bodies exactly, steer,
//! step, and read back positions and events.

use arena_shared::protocol::{Delta, EntityId, GameEvent, Snapshot};
use glam::Vec2;

use super::Simulation;
use super::round::Round;
use super::state::{Ball, Body, NetId, Position, Score, Velocity};
use crate::config::Tunables;

pub(crate) struct TestSim {
    pub(crate) sim: Simulation,
}

impl TestSim {
    /// The default tunables without balls: only what the test places.
    pub(crate) fn empty() -> TestSim {
        TestSim::with("[balls]\ncount = 0\n")
    }

    pub(crate) fn with(overrides: &str) -> TestSim {
        let tunables = Tunables::merged(overrides, "test").expect("test tunables are valid");
        TestSim {
            sim: Simulation::new(&tunables, 1),
        }
    }

    pub(crate) fn player_at(&mut self, name: &str, at: Vec2) -> EntityId {
        let id = self.sim.spawn_player(name);
        self.set_position(id, at);
        id
    }

    pub(crate) fn ball_at(&mut self, at: Vec2, velocity: Vec2) -> EntityId {
        let id = self.sim.allocate_id();
        let radius = self.sim.rules().ball_radius;
        let entity = self
            .sim
            .world
            .spawn((
                NetId(id),
                Position(at),
                Velocity(velocity),
                Body {
                    radius,
                    inv_mass: 1.0,
                },
                Ball,
                super::replication::Replica::default(),
            ))
            .id();
        self.sim.index.insert(id, entity);
        id
    }

    fn set_position(&mut self, id: EntityId, at: Vec2) {
        let entity = self.sim.index[&id];
        self.sim
            .world
            .get_mut::<Position>(entity)
            .expect("placed entities have a position")
            .0 = at;
    }

    pub(crate) fn steer(&mut self, id: EntityId, seq: u32, dx: i8, dy: i8) {
        self.sim.steer(id, seq, dx, dy);
    }

    pub(crate) fn remove_player(&mut self, id: EntityId) -> bool {
        self.sim.remove_player(id)
    }

    pub(crate) fn step(&mut self) -> &Delta {
        self.sim.step()
    }

    /// Steps `n` ticks and returns every event of them, in order.
    pub(crate) fn step_n(&mut self, n: usize) -> Vec<GameEvent> {
        let mut events = Vec::new();
        for _ in 0..n {
            events.extend(self.sim.step().events.iter().cloned());
        }
        events
    }

    pub(crate) fn snapshot(&mut self) -> Snapshot {
        let mut snapshot = Snapshot::default();
        self.sim.write_snapshot(&mut snapshot);
        snapshot
    }

    pub(crate) fn position(&self, id: EntityId) -> Vec2 {
        self.component::<Position>(id).0
    }

    pub(crate) fn velocity(&self, id: EntityId) -> Vec2 {
        self.component::<Velocity>(id).0
    }

    pub(crate) fn score(&self, id: EntityId) -> u32 {
        self.component::<Score>(id).0
    }

    pub(crate) fn round(&self) -> Round {
        *self.sim.world.resource::<Round>()
    }

    fn component<C: bevy_ecs::component::Component>(&self, id: EntityId) -> &C {
        let entity = self.sim.index[&id];
        self.sim
            .world
            .get::<C>(entity)
            .expect("test entities have the component")
    }
}
