//! Notices players that stop.
//!
//! "Moving" is the player's own motion after steering and walls, before collisions:
//! a resting player nudged by a ball has not started and stopped moving, and a player
//! pushing straight into a wall has stopped.

use arena_shared::protocol::GameEvent;
use bevy_ecs::prelude::*;

use super::state::{Motion, NetId, Player, TickEvents, Velocity};

/// Below this speed (units per second) a player counts as still.
const STILL_SPEED: f32 = 1.0;

/// Emits `Still` for each player that moved last tick and does not now.
pub(crate) fn detect_still(
    mut events: ResMut<TickEvents>,
    mut players: Query<(&NetId, &Velocity, &mut Motion), With<Player>>,
) {
    for (id, velocity, mut motion) in &mut players {
        let moving = velocity.0.length_squared() > STILL_SPEED * STILL_SPEED;
        if motion.moving && !moving {
            events.0.push(GameEvent::Still { id: id.0 });
        }
        motion.moving = moving;
    }
}

#[cfg(test)]
mod tests {
    use arena_shared::protocol::GameEvent;
    use glam::Vec2;

    use crate::sim::test_world::TestSim;

    #[test]
    fn a_player_that_stops_is_still_once() {
        let mut sim = TestSim::empty();
        let id = sim.player_at("ada", Vec2::new(500.0, 400.0));
        let events = sim.step_n(3);
        assert!(
            !events.iter().any(|e| matches!(e, GameEvent::Still { .. })),
            "a player that never moved is not 'still' news: {events:?}"
        );
        sim.steer(id, 1, 127, 0);
        sim.step_n(3);
        sim.steer(id, 2, 0, 0);
        let events = sim.step_n(5);
        let stills = events
            .iter()
            .filter(|e| **e == GameEvent::Still { id })
            .count();
        assert_eq!(stills, 1, "stopping produces exactly one Still: {events:?}");
    }
}
