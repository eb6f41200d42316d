//! A game written into a checkpoint and resumed from one: the simulation's half of
//! [`crate::checkpoint`] (the session adds its players' tokens and chat).
//!
//! What is written is exactly what the next tick reads: exact positions and
//! velocities, the round, the random generator's state and the contacts already
//! scored. So a resumed game steps on as the original would have, and the test below
//! holds it to that.

use std::collections::HashMap;

use arena_shared::protocol::{EntityId, RoundPhase, Tick};
use bevy_ecs::prelude::*;
use glam::Vec2;

use super::collision::Contacts;
use super::round::Round;
use super::state::{Clock, NetId, Player, Position, Rules, Score, SimRng, TickEvents, Velocity};
use super::{Simulation, ball, player};
use crate::checkpoint::{BodyState, Checkpoint, FORMAT, PlayerState};
use crate::config::Tunables;

impl Simulation {
    /// The game at the last computed tick, with each player's reconnect token from
    /// `token_of` (empty if it has none) and no chat.
    pub fn checkpoint(
        &mut self,
        session: &str,
        token_of: impl Fn(EntityId) -> Option<String>,
    ) -> Checkpoint {
        let round = *self.world.resource::<Round>();
        let mut bodies = Vec::with_capacity(self.index.len());
        let mut players = Vec::with_capacity(self.players);
        let mut query = self
            .world
            .query::<(&NetId, &Position, &Velocity, Option<(&Player, &Score)>)>();
        for (id, position, velocity, as_player) in query.iter(&self.world) {
            bodies.push(BodyState {
                id: id.0.0,
                position: position.0.to_array(),
                velocity: velocity.0.to_array(),
            });
            if let Some((who, score)) = as_player {
                players.push(PlayerState {
                    id: id.0.0,
                    name: who.name.clone(),
                    score: score.0,
                    token: token_of(id.0).unwrap_or_default(),
                });
            }
        }
        // Query order follows storage, which differs between a game and its resumed
        // copy: sorted, checkpoints of the same state are the same bytes.
        bodies.sort_unstable_by_key(|b| b.id);
        players.sort_unstable_by_key(|p| p.id);
        let contacts = self
            .world
            .resource::<Contacts>()
            .touching()
            .iter()
            .map(|(a, b)| (a.0, b.0))
            .collect();
        Checkpoint {
            format: FORMAT,
            session: session.to_owned(),
            tick: self.tick().0,
            round: round.number,
            playing: round.phase == RoundPhase::Playing,
            round_ends_at: round.ends_at.0,
            next_id: self.next_id,
            rng: self.world.resource::<SimRng>().0.get_seed(),
            bodies,
            players,
            contacts,
            chat: Vec::new(),
        }
    }

    /// The game of `checkpoint`, under today's `tunables`, at the checkpoint's tick.
    /// Its players are there with their scores; the caller decides whether they are
    /// connected.
    pub fn resume(tunables: &Tunables, checkpoint: &Checkpoint) -> Simulation {
        let rules = Rules::from_tunables(tunables);
        let mut world = World::new();
        let mut index = HashMap::with_capacity(checkpoint.bodies.len());
        let players: HashMap<u32, &PlayerState> =
            checkpoint.players.iter().map(|p| (p.id, p)).collect();
        for body in &checkpoint.bodies {
            let id = EntityId(body.id);
            let at = Vec2::from_array(body.position);
            let velocity = Vec2::from_array(body.velocity);
            let entity = match players.get(&body.id) {
                Some(p) => world.spawn(player(id, &p.name, at, velocity, p.score, &rules)),
                None => world.spawn(ball(id, at, velocity, &rules)),
            }
            .id();
            index.insert(id, entity);
        }
        world.insert_resource(Clock {
            tick: Tick(checkpoint.tick),
        });
        world.insert_resource(Round {
            number: checkpoint.round,
            phase: if checkpoint.playing {
                RoundPhase::Playing
            } else {
                RoundPhase::Intermission
            },
            ends_at: Tick(checkpoint.round_ends_at),
        });
        world.insert_resource(TickEvents::default());
        world.insert_resource(SimRng(fastrand::Rng::with_seed(checkpoint.rng)));
        let touching = checkpoint
            .contacts
            .iter()
            .map(|&(a, b)| (EntityId(a), EntityId(b)))
            .collect();
        world.insert_resource(Contacts::resumed(touching));
        let player_count = index
            .values()
            .filter(|&&e| world.get::<Player>(e).is_some())
            .count();
        Simulation::assemble(world, rules, index, player_count, checkpoint.next_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_game_steps_on_exactly_as_the_original() {
        let tunables = Tunables::merged("[balls]\ncount = 12\n", "test").expect("valid");
        let mut original = Simulation::new(&tunables, 7);
        // Steering is an input, not state: a resumed player waits for its client's next
        // one, so both games are steered on every tick here.
        let ann = original.spawn_player("Ann");
        let bob = original.spawn_player("Bob");
        for n in 0..200u32 {
            original.steer(ann, n, 127, (n % 7) as i8 * 18 - 54);
            original.steer(bob, n, -100, 60);
            original.step();
        }
        let saved = original.checkpoint("s", |id| Some(format!("token-{}", id.0)));
        assert!(saved.players.iter().any(|p| p.score > 0 || p.id == bob.0));
        assert_eq!(saved.players[0].token, format!("token-{}", ann.0));
        let mut resumed = Simulation::resume(&tunables, &saved);
        assert_eq!(
            resumed.checkpoint("s", |id| Some(format!("token-{}", id.0))),
            saved
        );

        for n in 200..500u32 {
            for sim in [&mut original, &mut resumed] {
                sim.steer(ann, n, (n % 5) as i8 * 30 - 60, 127);
                sim.steer(bob, n, 90, (n % 3) as i8 * -40);
                sim.step();
            }
        }
        assert_eq!(
            resumed.checkpoint("s", |_| None),
            original.checkpoint("s", |_| None),
            "300 ticks later, the same game"
        );
        let carl = resumed.spawn_player("Carl");
        assert!(carl.0 > ann.0.max(bob.0), "ids are never reused");
    }
}
