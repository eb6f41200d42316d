//! Builds each tick's delta, and snapshots, from what clients already know.
//!
//! Clients extrapolate every entity from its last reported state (dead reckoning, see
//! [`arena_shared::quantize`]). The server remembers, per entity, the state it last
//! reported ([`Replica`]) and reports an entity again only when its quantized velocity
//! changed or the client's extrapolation has drifted more than [`DRIFT_QUANTA`] from
//! the truth. A ball rolling in a straight line costs nothing until it bounces.

use arena_shared::mirror::extrapolate;
use arena_shared::protocol::{
    Ack, Delta, EntityId, EntityKind, EntityState, GameEvent, Score as WireScore, Snapshot, Spawn,
    Tick,
};
use arena_shared::quantize::{position_to_wire, velocity_to_wire};
use bevy_ecs::prelude::*;

use super::interest::Cohorts;
use super::state::{
    Body, Clock, NetId, Player, Position, Rules, Score, Steering, TickEvents, Velocity,
};

/// How far (position quanta, 1/8 unit each) a client's extrapolation may drift from
/// the truth before the entity is reported again: one unit.
pub const DRIFT_QUANTA: i32 = 8;

/// What clients hold for one entity.
#[derive(Component, Debug, Default)]
pub(crate) struct Replica {
    /// The state last reported, and the tick it was reported at; `None` until the
    /// entity's first delta.
    sent: Option<(EntityState, Tick)>,
    /// The input sequence number last acknowledged.
    acked_seq: u32,
    /// The score last reported.
    reported_points: u32,
}

/// The tick's delta, built by [`build_delta`]; the session encodes it once.
#[derive(Resource, Debug, Default)]
pub(crate) struct Outbound {
    /// The last tick's delta.
    pub delta: Delta,
    /// Entities removed since the last delta.
    pub removed: Vec<EntityId>,
    /// Events since the last delta.
    events: Vec<GameEvent>,
}

/// The components replication reads.
pub(crate) type Replicated = (
    &'static NetId,
    &'static Position,
    &'static Velocity,
    &'static Body,
    Option<&'static Player>,
    Option<&'static Steering>,
    Option<&'static Score>,
);

/// Whether this tick sends a delta: one every `send_every` ticks.
pub(crate) fn is_send_tick(clock: Res<Clock>, rules: Res<Rules>) -> bool {
    clock.tick.0.is_multiple_of(rules.send_every)
}

/// Every tick: the tick's events wait for the next delta, and for each cohort's next
/// send with interest management.
pub(crate) fn collect_events(
    mut events: ResMut<TickEvents>,
    mut outbound: ResMut<Outbound>,
    cohorts: Option<ResMut<Cohorts>>,
) {
    if let Some(mut cohorts) = cohorts {
        cohorts.note_events(&events.0);
    }
    outbound.events.append(&mut events.0);
}

/// Fills [`Outbound::delta`] with what changed for clients since the last delta: events
/// and removals gather in [`Outbound`] until then, acknowledgements and scores are the
/// latest, and motion is compared with what was last sent. With interest management
/// the delta holds only the events and removals (what the controllers' feeds and the
/// results read): clients are sent their cohort's cells instead, so nobody holds the
/// whole world's motion.
pub(crate) fn build_delta(
    clock: Res<Clock>,
    rules: Res<Rules>,
    mut outbound: ResMut<Outbound>,
    cohorts: Option<Res<Cohorts>>,
    mut entities: Query<(Replicated, &mut Replica)>,
) {
    let outbound = &mut *outbound;
    let delta = &mut outbound.delta;
    delta.tick = clock.tick;
    delta.spawned.clear();
    delta.moved.clear();
    delta.acks.clear();
    delta.scores.clear();
    delta.removed.clear();
    delta.removed.append(&mut outbound.removed);
    delta.events.clear();
    std::mem::swap(&mut delta.events, &mut outbound.events);
    if cohorts.is_some() {
        return;
    }

    for ((id, position, velocity, body, player, steering, score), mut replica) in &mut entities {
        let now = wire_state(id.0, position, velocity, rules.tick_hz);
        let report = match replica.sent {
            None => {
                delta.spawned.push(spawn_of(id.0, body, player));
                true
            }
            Some((base, at)) => drifted(&extrapolate(&base, clock.tick.since(at)), &now),
        };
        if report {
            delta.moved.push(now);
            replica.sent = Some((now, clock.tick));
        }
        if let Some(steering) = steering
            && steering.seq != replica.acked_seq
        {
            delta.acks.push(Ack {
                id: id.0,
                seq: steering.seq,
            });
            replica.acked_seq = steering.seq;
        }
        if let Some(score) = score
            && score.0 != replica.reported_points
        {
            delta.scores.push(WireScore {
                id: id.0,
                points: score.0,
            });
            replica.reported_points = score.0;
        }
    }
}

/// Writes the whole world into `out`, as clients that followed every delta see it:
/// states are the reported ones extrapolated to now, so a client resynchronized by a
/// snapshot agrees exactly with one that never fell behind.
pub(crate) fn write_snapshot(
    world: &mut World,
    query: &mut QueryState<(Replicated, &Replica)>,
    out: &mut Snapshot,
) {
    let tick = world.resource::<Clock>().tick;
    let tick_hz = world.resource::<Rules>().tick_hz;
    out.tick = tick;
    out.spawns.clear();
    out.states.clear();
    out.acks.clear();
    out.scores.clear();
    for ((id, position, velocity, body, player, steering, score), replica) in query.iter(world) {
        out.spawns.push(spawn_of(id.0, body, player));
        out.states.push(match replica.sent {
            Some((base, at)) => extrapolate(&base, tick.since(at)),
            None => wire_state(id.0, position, velocity, tick_hz),
        });
        if let Some(steering) = steering {
            out.acks.push(Ack {
                id: id.0,
                seq: steering.seq,
            });
        }
        if let Some(score) = score {
            out.scores.push(WireScore {
                id: id.0,
                points: score.0,
            });
        }
    }
}

pub(super) fn spawn_of(id: EntityId, body: &Body, player: Option<&Player>) -> Spawn {
    Spawn {
        id,
        kind: if player.is_some() {
            EntityKind::Player
        } else {
            EntityKind::Ball
        },
        radius: position_to_wire(body.radius),
        name: player.map(|p| p.name.clone()).unwrap_or_default(),
    }
}

pub(super) fn wire_state(
    id: EntityId,
    position: &Position,
    velocity: &Velocity,
    tick_hz: u16,
) -> EntityState {
    EntityState {
        id,
        x: position_to_wire(position.0.x),
        y: position_to_wire(position.0.y),
        vx: velocity_to_wire(velocity.0.x, tick_hz),
        vy: velocity_to_wire(velocity.0.y, tick_hz),
    }
}

/// Whether clients that hold `believed` (their extrapolation of the last report) are
/// told `now`: its velocity changed, or they are more than [`DRIFT_QUANTA`] from it.
pub(super) fn drifted(believed: &EntityState, now: &EntityState) -> bool {
    (believed.vx, believed.vy) != (now.vx, now.vy)
        || (believed.x - now.x).abs() > DRIFT_QUANTA
        || (believed.y - now.y).abs() > DRIFT_QUANTA
}

#[cfg(test)]
mod tests {
    use arena_shared::protocol::{Ack, EntityKind, GameEvent};
    use glam::Vec2;

    use super::*;
    use crate::sim::test_world::TestSim;

    #[test]
    fn a_new_entity_is_spawned_and_moved_in_its_first_delta_only() {
        let mut sim = TestSim::empty();
        let id = sim.player_at("ada", Vec2::new(500.0, 400.0));
        let delta = sim.step().clone();
        assert_eq!(delta.spawned.len(), 1);
        assert_eq!(delta.spawned[0].kind, EntityKind::Player);
        assert_eq!(delta.spawned[0].name, "ada");
        assert_eq!(
            delta.moved.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![id]
        );
        assert!(delta.events.contains(&GameEvent::PlayerJoined {
            id,
            name: "ada".into()
        }));
        let quiet = sim.step().clone();
        assert!(
            quiet.spawned.is_empty() && quiet.moved.is_empty(),
            "a resting player costs nothing: {quiet:?}"
        );
    }

    #[test]
    fn a_player_holding_a_direction_is_reported_on_its_turn_only() {
        let mut sim = TestSim::empty();
        let id = sim.player_at("ada", Vec2::new(100.0, 400.0));
        sim.step();
        sim.steer(id, 1, 127, 3);
        let turned = sim.step().clone();
        assert_eq!(turned.moved.len(), 1, "a new velocity is reported at once");
        assert_eq!(
            turned.acks,
            vec![Ack { id, seq: 1 }],
            "and the input is acknowledged"
        );
        let mut reports = 0;
        let mut worst_error = 0;
        let mut believed = turned.moved[0];
        let mut since = 0;
        for _ in 0..150 {
            let delta = sim.step().clone();
            since += 1;
            assert!(delta.acks.is_empty(), "an input is acknowledged once");
            if let Some(state) = delta.moved.first() {
                reports += 1;
                believed = *state;
                since = 0;
            }
            let guess = extrapolate(&believed, since);
            let truth = sim.position(id);
            let error = ((guess.x - position_to_wire(truth.x)).abs())
                .max((guess.y - position_to_wire(truth.y)).abs());
            worst_error = worst_error.max(error);
        }
        // Its velocity is on the wire's grid from the tick it turned, so clients
        // extrapolate it exactly: no report for drift, ever.
        assert_eq!(reports, 0, "five seconds of straight motion cost nothing");
        assert!(worst_error <= 1, "clients are exact: {worst_error}");
    }

    #[test]
    fn a_ball_rolling_straight_is_reported_once_then_extrapolated_exactly() {
        let mut sim = TestSim::with("[balls]\ncount = 0\n[arena]\nwidth = 4000\nheight = 900\n");
        // 101 units/s: between two wire quanta (3.75 units/s each at 30 Hz).
        let ball = sim.ball_at(Vec2::new(100.0, 450.0), Vec2::new(101.0, 0.0));
        let first = sim.step().clone();
        let report = *first.moved.iter().find(|s| s.id == ball).expect("reported");
        for ticks in 1..=900 {
            let delta = sim.step().clone();
            assert!(delta.moved.is_empty(), "tick {ticks}: {delta:?}");
            let truth = position_to_wire(sim.position(ball).x);
            assert!((extrapolate(&report, ticks).x - truth).abs() <= 1);
        }
    }

    #[test]
    fn removal_and_events_reach_the_next_delta() {
        let mut sim = TestSim::empty();
        let id = sim.player_at("ada", Vec2::new(500.0, 400.0));
        sim.step();
        assert!(sim.remove_player(id));
        let delta = sim.step().clone();
        assert_eq!(delta.removed, vec![id]);
        assert!(delta.events.contains(&GameEvent::PlayerLeft { id }));
    }

    #[test]
    fn a_snapshot_agrees_with_a_client_that_followed_every_delta() {
        let mut sim = TestSim::with("[balls]\ncount = 20\n");
        let mut believed = std::collections::HashMap::new();
        for tick in 0..90u32 {
            let delta = sim.step().clone();
            for state in &delta.moved {
                believed.insert(state.id, (*state, delta.tick));
            }
            if tick == 40 {
                let id = sim.player_at("late", Vec2::new(300.0, 300.0));
                sim.steer(id, 1, 50, -90);
            }
        }
        let snapshot = sim.snapshot();
        assert_eq!(snapshot.states.len(), 21, "20 balls and the player");
        for state in &snapshot.states {
            let (base, at) = believed[&state.id];
            assert_eq!(
                *state,
                extrapolate(&base, snapshot.tick.since(at)),
                "entity {:?}",
                state.id
            );
        }
    }

    #[test]
    fn at_half_the_send_rate_a_delta_every_other_tick_carries_both_ticks_news() {
        let mut sim = TestSim::with("[balls]\ncount = 0\n[network]\nsend_hz = 15\n");
        let ada = sim.player_at("ada", Vec2::new(300.0, 300.0));
        sim.step();
        assert!(
            !sim.sim.is_send_tick(),
            "tick 1 sends nothing at 15 Hz of 30"
        );
        sim.steer(ada, 1, 127, 0);
        let bob = sim.player_at("bob", Vec2::new(600.0, 300.0));
        let delta = sim.step().clone();
        assert!(sim.sim.is_send_tick());
        assert_eq!(delta.tick, arena_shared::protocol::Tick(2));
        assert_eq!(delta.spawned.len(), 2, "ada (tick 1) and bob (tick 2)");
        for (id, name) in [(ada, "ada"), (bob, "bob")] {
            assert!(
                delta.events.contains(&GameEvent::PlayerJoined {
                    id,
                    name: name.into()
                }),
                "{name}'s join reaches the next delta: {delta:?}"
            );
        }
        assert_eq!(delta.acks, vec![Ack { id: ada, seq: 1 }]);

        sim.steer(ada, 2, 0, 0);
        assert!(sim.remove_player(bob));
        sim.step();
        sim.steer(ada, 3, 0, 127);
        let delta = sim.step().clone();
        assert_eq!(delta.tick, arena_shared::protocol::Tick(4));
        assert_eq!(delta.removed, vec![bob], "bob left on tick 3");
        assert!(delta.events.contains(&GameEvent::PlayerLeft { id: bob }));
        assert_eq!(
            delta.acks,
            vec![Ack { id: ada, seq: 3 }],
            "only the latest input is acknowledged"
        );
        let ada_now = delta
            .moved
            .iter()
            .find(|s| s.id == ada)
            .expect("ada turned");
        assert_eq!(
            (ada_now.vx, 0 < ada_now.vy),
            (0, true),
            "motion is compared with what was last sent: ada now heads down"
        );
    }
}
