//! Narrow phase and response: which candidate pairs really touch, pushing them apart,
//! and one `Collided` event when a contact begins.
//!
//! Bodies are copied into a dense buffer, resolved there, and written back, which
//! keeps the inner loop on contiguous memory. Contacts are remembered from one tick to
//! the next as a sorted list of id pairs, so a contact that lasts many ticks produces
//! one event, not one per tick.

use arena_shared::protocol::{EntityId, GameEvent};
use bevy_ecs::prelude::*;
use glam::Vec2;

use super::broad_phase::UniformGrid;
use super::state::{Away, Ball, Body, NetId, Position, Rules, TickEvents, Velocity};

/// Bodies this close (units) beyond touching still count as in contact, so that a
/// contact resolved to exactly touching does not flicker off and on.
const CONTACT_SLOP: f32 = 0.5;

/// Bounciness of collisions: 0 is dead, 1 is perfectly elastic.
const RESTITUTION: f32 = 0.8;

/// A contact that began this tick, for the systems that score it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewContact {
    /// The lower id's entity.
    pub a: Entity,
    /// The higher id's entity.
    pub b: Entity,
    /// How fast `a` was moving towards `b` (units per second, negative: away).
    pub a_closing: f32,
    /// How fast `b` was moving towards `a`.
    pub b_closing: f32,
}

/// Contact bookkeeping and reused buffers.
#[derive(Resource, Debug, Default)]
pub(crate) struct Contacts {
    /// Contacts that began this tick.
    pub new: Vec<NewContact>,
    /// Id pairs in contact last tick, sorted.
    previous: Vec<(EntityId, EntityId)>,
    /// Id pairs in contact this tick.
    current: Vec<(EntityId, EntityId)>,
    dense: Vec<Dense>,
    positions: Vec<Vec2>,
    pairs: Vec<(u32, u32)>,
    grid: UniformGrid,
}

impl Contacts {
    /// The id pairs in contact at the last tick, sorted: contacts already scored.
    pub(crate) fn touching(&self) -> &[(EntityId, EntityId)] {
        &self.previous
    }

    /// Contacts resumed from a checkpoint: these pairs, already scored, score no more
    /// until they part.
    pub(crate) fn resumed(mut touching: Vec<(EntityId, EntityId)>) -> Contacts {
        touching.sort_unstable();
        Contacts {
            previous: touching,
            ..Contacts::default()
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Dense {
    entity: Entity,
    id: EntityId,
    position: Vec2,
    velocity: Vec2,
    radius: f32,
    inv_mass: f32,
    is_ball: bool,
}

type BodyQuery<'w, 's> = Query<
    'w,
    's,
    (
        Entity,
        &'static NetId,
        &'static mut Position,
        &'static mut Velocity,
        &'static Body,
        Has<Ball>,
    ),
    Without<Away>,
>;

/// Finds touching bodies, separates them, exchanges momentum, and records new contacts.
pub(crate) fn resolve_collisions(
    rules: Res<Rules>,
    mut contacts: ResMut<Contacts>,
    mut events: ResMut<TickEvents>,
    mut bodies: BodyQuery,
) {
    let contacts = &mut *contacts;
    contacts.dense.clear();
    contacts.positions.clear();
    for (entity, id, position, velocity, body, is_ball) in &bodies {
        contacts.dense.push(Dense {
            entity,
            id: id.0,
            position: position.0,
            velocity: velocity.0,
            radius: body.radius,
            inv_mass: body.inv_mass,
            is_ball,
        });
        contacts.positions.push(position.0);
    }
    let reach = 2.0 * rules.player_radius.max(rules.ball_radius) + CONTACT_SLOP;
    contacts
        .grid
        .candidate_pairs(&contacts.positions, rules.arena, reach, &mut contacts.pairs);

    contacts.new.clear();
    contacts.current.clear();
    for &(i, j) in &contacts.pairs {
        let (i, j) = (i as usize, j as usize);
        if let Some(contact) = touch(&mut contacts.dense, i, j) {
            let (a, b) = (contacts.dense[i], contacts.dense[j]);
            let key = if a.id < b.id {
                (a.id, b.id)
            } else {
                (b.id, a.id)
            };
            contacts.current.push(key);
            if contacts.previous.binary_search(&key).is_err() {
                let (first, second, first_closing, second_closing) = if a.id < b.id {
                    (a, b, contact.0, contact.1)
                } else {
                    (b, a, contact.1, contact.0)
                };
                contacts.new.push(NewContact {
                    a: first.entity,
                    b: second.entity,
                    a_closing: first_closing,
                    b_closing: second_closing,
                });
                events.0.push(GameEvent::Collided { a: key.0, b: key.1 });
            }
        }
    }
    contacts.current.sort_unstable();
    std::mem::swap(&mut contacts.previous, &mut contacts.current);

    for dense in &mut contacts.dense {
        if dense.is_ball {
            dense.velocity =
                clamp_speed(dense.velocity, rules.ball_min_speed, rules.ball_max_speed);
        }
        // Separating a pair can push one of them into a wall: the wall wins.
        let r = Vec2::splat(dense.radius);
        dense.position = dense.position.clamp(r, rules.arena - r);
    }
    // Same query, no structural change since the first pass: the same order. A
    // player keeps its velocity: steering sets it again before the player next moves,
    // so the impulse would reach nothing but clients, as a velocity the player never
    // moves at, and cost a correction to take back at the next send.
    for ((_, _, mut position, mut velocity, _, _), dense) in
        bodies.iter_mut().zip(contacts.dense.iter())
    {
        position.0 = dense.position;
        if dense.is_ball {
            velocity.0 = dense.velocity;
        }
    }
}

/// If bodies `i` and `j` touch, resolves their overlap and approach and returns how
/// fast each was closing on the other before the response.
fn touch(dense: &mut [Dense], i: usize, j: usize) -> Option<(f32, f32)> {
    let (a, b) = (dense[i], dense[j]);
    let offset = b.position - a.position;
    let distance = offset.length();
    let touching = a.radius + b.radius;
    if distance > touching + CONTACT_SLOP {
        return None;
    }
    // Coincident centres have no direction; pick one, deterministically.
    let normal = if distance > 1e-6 {
        offset / distance
    } else {
        Vec2::X
    };
    let closing = (a.velocity.dot(normal), -b.velocity.dot(normal));
    let total_inv_mass = a.inv_mass + b.inv_mass;
    if total_inv_mass <= 0.0 {
        return Some(closing);
    }
    let overlap = touching - distance;
    if overlap > 0.0 {
        let push = normal * (overlap / total_inv_mass);
        dense[i].position -= push * a.inv_mass;
        dense[j].position += push * b.inv_mass;
    }
    let approach = (b.velocity - a.velocity).dot(normal);
    if approach < 0.0 {
        let impulse = -(1.0 + RESTITUTION) * approach / total_inv_mass;
        dense[i].velocity -= normal * (impulse * a.inv_mass);
        dense[j].velocity += normal * (impulse * b.inv_mass);
    }
    Some(closing)
}

/// Keeps a ball's speed within its allowed range, keeping its direction.
pub(crate) fn clamp_speed(velocity: Vec2, min: f32, max: f32) -> Vec2 {
    let speed = velocity.length();
    if speed < 1e-6 {
        return Vec2::X * min;
    }
    velocity * (speed.clamp(min, max) / speed)
}

#[cfg(test)]
mod tests {
    use arena_shared::protocol::GameEvent;
    use glam::Vec2;

    use crate::sim::test_world::TestSim;

    fn collisions(events: &[GameEvent]) -> Vec<GameEvent> {
        events
            .iter()
            .filter(|e| matches!(e, GameEvent::Collided { .. }))
            .cloned()
            .collect()
    }

    #[test]
    fn players_pushing_into_each_other_collide_once_and_do_not_overlap() {
        let mut sim = TestSim::empty();
        let a = sim.player_at("a", Vec2::new(400.0, 300.0));
        let b = sim.player_at("b", Vec2::new(600.0, 300.0));
        sim.steer(a, 1, 127, 0);
        sim.steer(b, 1, -127, 0);
        let events = sim.step_n(60);
        assert_eq!(
            collisions(&events),
            vec![GameEvent::Collided { a, b }],
            "two seconds of pushing is one contact"
        );
        let gap = sim.position(b).x - sim.position(a).x;
        assert!(
            gap >= 39.0,
            "bodies are kept apart (radius 20 each): gap {gap}"
        );
    }

    #[test]
    fn a_player_keeps_its_steering_velocity_through_a_collision() {
        let mut sim = TestSim::empty();
        let player = sim.player_at("ada", Vec2::new(400.0, 300.0));
        sim.steer(player, 1, 127, 0);
        sim.step();
        let steered = sim.velocity(player);
        // Radii 20 and 15: touching within a tick.
        let ball = sim.ball_at(Vec2::new(440.0, 300.0), Vec2::new(-100.0, 0.0));
        let events = sim.step_n(1);
        assert_eq!(
            collisions(&events),
            vec![GameEvent::Collided { a: player, b: ball }]
        );
        assert_eq!(
            sim.velocity(player),
            steered,
            "clients are told the velocity it moves at"
        );
        assert!(sim.velocity(ball).x > 0.0, "the ball bounced off it");
        assert!(sim.position(ball).x - sim.position(player).x >= 34.0);
    }

    #[test]
    fn a_player_whose_connection_is_lost_is_passed_through_and_scores_nobody() {
        let mut sim = TestSim::empty();
        let runner = sim.player_at("runner", Vec2::new(400.0, 300.0));
        let ghost = sim.player_at("ghost", Vec2::new(480.0, 300.0));
        sim.steer(ghost, 1, -127, 0);
        sim.step();
        sim.sim.set_away(ghost, true);
        sim.steer(runner, 1, 127, 0);
        let events = sim.step_n(20);
        assert_eq!(collisions(&events), vec![], "nothing touches a ghost");
        assert_eq!(sim.score(runner), 0, "ramming a ghost scores nothing");
        assert!(
            sim.position(runner).x > 500.0,
            "and it does not block: {}",
            sim.position(runner)
        );
        assert_eq!(sim.velocity(ghost), Vec2::ZERO, "a ghost stands still");

        sim.sim.set_away(ghost, false);
        sim.steer(runner, 2, -127, 0);
        let events = sim.step_n(10);
        assert_eq!(
            collisions(&events),
            vec![GameEvent::Collided {
                a: runner,
                b: ghost
            }],
            "back, it is a body again"
        );
    }

    #[test]
    fn separating_and_touching_again_is_a_second_collision() {
        let mut sim = TestSim::empty();
        let a = sim.player_at("a", Vec2::new(400.0, 300.0));
        let b = sim.player_at("b", Vec2::new(460.0, 300.0));
        sim.steer(a, 1, 127, 0);
        let first = sim.step_n(15);
        sim.steer(a, 2, -127, 0);
        let apart = sim.step_n(15);
        sim.steer(a, 3, 127, 0);
        let second = sim.step_n(30);
        assert_eq!(collisions(&first).len(), 1);
        assert!(collisions(&apart).is_empty());
        assert_eq!(collisions(&second), vec![GameEvent::Collided { a, b }]);
    }

    #[test]
    fn a_player_pushes_a_ball_which_keeps_its_speed_range() {
        let mut sim = TestSim::empty();
        let player = sim.player_at("p", Vec2::new(400.0, 300.0));
        let ball = sim.ball_at(Vec2::new(440.0, 300.0), Vec2::new(0.0, 50.0));
        sim.steer(player, 1, 127, 0);
        let events = sim.step_n(3);
        assert_eq!(collisions(&events).len(), 1);
        let v = sim.velocity(ball);
        assert!(v.x > 50.0, "the ball was pushed along +x: {v}");
        assert!(
            v.length() <= 150.0 + 2.7,
            "and no faster than balls.max_speed (to half a wire quantum an axis): {v}"
        );
    }
}

#[cfg(test)]
mod wall_tests {
    use glam::Vec2;

    use crate::sim::test_world::TestSim;

    #[test]
    fn separating_a_pair_never_pushes_a_body_through_a_wall() {
        let mut sim = TestSim::empty();
        // A player pinned against the top wall, another ramming it from below.
        let pinned = sim.player_at("pinned", Vec2::new(500.0, 20.0));
        let rammer = sim.player_at("rammer", Vec2::new(500.0, 70.0));
        sim.steer(rammer, 1, 0, -127);
        for _ in 0..10 {
            sim.step();
            assert!(
                sim.position(pinned).y >= 20.0,
                "the wall holds: {}",
                sim.position(pinned)
            );
        }
    }
}
