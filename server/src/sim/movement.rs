//! Moves bodies by their velocity and keeps them inside the arena.
//!
//! Balls bounce off walls; players stop against them (the blocked component of their
//! velocity is zeroed, so a client extrapolating it does not walk through the wall).

use arena_shared::quantize::{velocity_from_wire, velocity_to_wire};
use bevy_ecs::prelude::*;
use glam::Vec2;

use super::state::{Ball, Body, Position, Rules, Velocity};

/// Advances every body by one tick of its velocity.
pub(crate) fn integrate(rules: Res<Rules>, mut bodies: Query<(&mut Position, &Velocity)>) {
    for (mut position, velocity) in &mut bodies {
        position.0 += velocity.0 * rules.dt;
    }
}

/// Keeps every velocity on the wire's grid (whole position quanta per tick). A client
/// extrapolates a body from its reported, quantized velocity; a true velocity between
/// two quanta drifts from it by up to half a quantum a tick, and the body would be
/// reported again every second or so for that alone. On the grid, straight motion is
/// extrapolated exactly and a body is reported only when it turns, bounces or collides.
/// The change is at most half a quantum per tick (1.9 units/s at 30 Hz).
pub(crate) fn snap_velocities(rules: Res<Rules>, mut bodies: Query<&mut Velocity>) {
    for mut velocity in &mut bodies {
        let snapped = on_grid(velocity.0, rules.tick_hz);
        if snapped != velocity.0 {
            velocity.0 = snapped;
        }
    }
}

/// The velocity on the wire's grid nearest to `velocity`: what a system that sets a
/// velocity before bodies move (steering) must give them, or they would move a tick
/// off the grid.
pub(crate) fn on_grid(velocity: Vec2, tick_hz: u16) -> Vec2 {
    let snap = |v: f32| velocity_from_wire(velocity_to_wire(v, tick_hz), tick_hz);
    Vec2::new(snap(velocity.x), snap(velocity.y))
}

/// Pushes bodies back inside the arena: balls bounce, players stop.
pub(crate) fn confine_to_arena(
    rules: Res<Rules>,
    mut bodies: Query<(&mut Position, &mut Velocity, &Body, Has<Ball>)>,
) {
    for (mut position, mut velocity, body, is_ball) in &mut bodies {
        for axis in 0..2 {
            let (low, high) = (body.radius, rules.arena[axis] - body.radius);
            let (p, v) = (&mut position.0[axis], &mut velocity.0[axis]);
            if *p < low {
                *p = low;
                *v = if is_ball { v.abs() } else { v.max(0.0) };
            } else if *p > high {
                *p = high;
                *v = if is_ball { -v.abs() } else { v.min(0.0) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use glam::Vec2;

    use crate::sim::test_world::TestSim;

    #[test]
    fn bodies_move_by_velocity_times_dt() {
        let mut sim = TestSim::empty();
        let id = sim.player_at("ada", Vec2::new(500.0, 400.0));
        sim.steer(id, 1, 0, 127);
        sim.step_n(30);
        let p = sim.position(id);
        // 200 units/s on the wire's grid is 53 quanta a tick: 198.75 units/s.
        assert!(
            (p.y - 598.75).abs() < 1e-2,
            "one second at 200 units/s moves 200 units, give or take the grid: {p}"
        );
        assert!((p.x - 500.0).abs() < 1e-3);
    }

    #[test]
    fn players_stop_at_walls_and_balls_bounce() {
        let mut sim = TestSim::empty();
        let player = sim.player_at("ada", Vec2::new(30.0, 400.0));
        let ball = sim.ball_at(Vec2::new(1590.0, 400.0), Vec2::new(150.0, 0.0));
        sim.steer(player, 1, -127, 0);
        sim.step_n(5);
        assert_eq!(
            sim.position(player).x,
            20.0,
            "the player rests against the left wall"
        );
        assert_eq!(
            sim.velocity(player).x,
            0.0,
            "and its blocked velocity is zeroed"
        );
        assert!(
            sim.velocity(ball).x < 0.0,
            "the ball bounced off the right wall"
        );
        assert!(sim.position(ball).x <= 1600.0 - 15.0);
    }
}
