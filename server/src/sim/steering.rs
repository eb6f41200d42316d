//! Turns each player's latest input into its velocity.
//!
//! There is no inertia: a player moves at full speed in the input's direction the
//! tick the input arrives, which is what makes client-side prediction exact. The
//! velocity is on the wire's grid from that tick on, so a player holding a direction
//! moves exactly as clients extrapolate it, and one that turns is reported as a turn
//! (see [`arena_shared::protocol::Correction`]).

use bevy_ecs::prelude::*;

use super::movement::on_grid;
use super::state::{Player, Rules, Steering, Velocity};

/// Sets every player's velocity from its steering direction.
pub(crate) fn steer_players(
    rules: Res<Rules>,
    mut players: Query<(&Steering, &mut Velocity), With<Player>>,
) {
    for (steering, mut velocity) in &mut players {
        let wanted = steering.dir.clamp_length_max(1.0) * rules.player_speed;
        velocity.0 = on_grid(wanted, rules.tick_hz);
    }
}

#[cfg(test)]
mod tests {
    use glam::Vec2;

    use crate::sim::test_world::TestSim;

    #[test]
    fn input_sets_velocity_at_configured_speed_and_clamps_length() {
        let mut sim = TestSim::empty();
        let id = sim.player_at("ada", Vec2::new(500.0, 400.0));
        sim.steer(id, 1, 127, 0);
        sim.step();
        let v = sim.velocity(id);
        // Velocities sit on the wire's grid: within half a quantum (1.875 units/s at
        // 30 Hz) on each axis.
        assert!(
            (v.x - 200.0).abs() < 1.9 && v.y.abs() < 1e-3,
            "full right is 200 units/s: {v}"
        );
        sim.steer(id, 2, 127, 127);
        sim.step();
        let speed = sim.velocity(id).length();
        assert!(
            (speed - 200.0).abs() < 2.7,
            "a diagonal is no faster than a straight line: {speed}"
        );
    }
}
