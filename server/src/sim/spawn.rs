//! Where new bodies appear and how balls start moving, from the session's seeded RNG.

use glam::Vec2;

use super::state::Rules;

/// Attempts at finding a free spot before settling for an occupied one.
const PLACEMENT_TRIES: usize = 16;

/// A spot for a body of `radius` that overlaps none of `occupied` (centre, radius) if
/// one is found in a few tries; a crowded arena gets an overlapping spot, which the
/// collision system then resolves.
pub(crate) fn free_spot(
    rng: &mut fastrand::Rng,
    rules: &Rules,
    radius: f32,
    occupied: impl Iterator<Item = (Vec2, f32)> + Clone,
) -> Vec2 {
    let mut spot = random_spot(rng, rules, radius);
    for _ in 0..PLACEMENT_TRIES {
        let clear = occupied
            .clone()
            .all(|(centre, r)| centre.distance_squared(spot) > (r + radius) * (r + radius));
        if clear {
            break;
        }
        spot = random_spot(rng, rules, radius);
    }
    spot
}

fn random_spot(rng: &mut fastrand::Rng, rules: &Rules, radius: f32) -> Vec2 {
    Vec2::new(
        radius + rng.f32() * (rules.arena.x - 2.0 * radius),
        radius + rng.f32() * (rules.arena.y - 2.0 * radius),
    )
}

/// A ball's starting velocity: a random direction at a random allowed speed.
pub(crate) fn ball_velocity(rng: &mut fastrand::Rng, rules: &Rules) -> Vec2 {
    let angle = rng.f32() * std::f32::consts::TAU;
    let speed = rules.ball_min_speed + rng.f32() * (rules.ball_max_speed - rules.ball_min_speed);
    Vec2::from_angle(angle) * speed
}
