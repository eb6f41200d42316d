//! The simulation as a whole: replays, bounds, and generated inputs.

use super::*;

fn play(seed: u64) -> Vec<Delta> {
    let tunables = Tunables::merged("[balls]\ncount = 40\n", "test").expect("valid");
    let mut sim = Simulation::new(&tunables, seed);
    let a = sim.spawn_player("a");
    let b = sim.spawn_player("b");
    let mut deltas = Vec::new();
    for tick in 0..200u32 {
        if tick % 20 == 0 {
            sim.steer(a, tick, (tick % 127) as i8, 90);
            sim.steer(b, tick, -90, (tick % 60) as i8);
        }
        deltas.push(sim.step().clone());
    }
    deltas
}

#[test]
fn the_same_seed_and_inputs_replay_the_same_game() {
    let first = play(9);
    assert_eq!(first, play(9), "a replay must produce identical deltas");
    assert_ne!(first, play(10), "another seed is another game");
    assert!(
        first.iter().any(|d| d
            .events
            .iter()
            .any(|e| matches!(e, GameEvent::Collided { .. }))),
        "forty balls in 200 ticks must collide, or this test proves little"
    );
}

#[test]
fn nothing_leaves_the_arena_and_nothing_is_nan() {
    let tunables = Tunables::merged("[balls]\ncount = 300\n", "test").expect("valid");
    let mut sim = Simulation::new(&tunables, 3);
    for _ in 0..300 {
        sim.step();
    }
    let mut snapshot = Snapshot::default();
    sim.write_snapshot(&mut snapshot);
    let arena = sim.arena_info();
    let mut query = sim.world.query::<(&Position, &Body)>();
    for (position, body) in query.iter(&sim.world) {
        assert!(position.0.is_finite());
        assert!(position.0.x >= body.radius - 1e-3 && position.0.y >= body.radius - 1e-3);
        assert!(position_to_wire(position.0.x) <= arena.width);
        assert!(position_to_wire(position.0.y) <= arena.height);
    }
    assert_eq!(snapshot.states.len(), 300);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever players do, every body stays inside the arena, nothing becomes NaN,
        /// and events only name entities that exist (or just left).
        #[test]
        fn no_input_breaks_the_world(
            seed in any::<u64>(),
            balls in 0u32..60,
            players in 1usize..12,
            inputs in proptest::collection::vec((0usize..12, -127i8..=127, -127i8..=127), 0..200),
        ) {
            let tunables = Tunables::merged(
                &format!("[balls]\ncount = {balls}\n[arena]\nwidth = 400\nheight = 300\n"),
                "proptest",
            ).expect("valid");
            let mut sim = Simulation::new(&tunables, seed);
            let ids: Vec<EntityId> = (0..players).map(|i| sim.spawn_player(&format!("p{i}"))).collect();
            for (step, (who, dx, dy)) in inputs.into_iter().enumerate() {
                sim.steer(ids[who % ids.len()], step as u32, dx, dy);
                let delta = sim.step().clone();
                for event in &delta.events {
                    if let GameEvent::Collided { a, b } = event {
                        prop_assert!(a < b, "collisions name the lower id first");
                        prop_assert!(sim.index.contains_key(a) && sim.index.contains_key(b));
                    }
                }
            }
            let mut query = sim.world.query::<(&Position, &Velocity, &Body)>();
            for (position, velocity, body) in query.iter(&sim.world) {
                prop_assert!(position.0.is_finite() && velocity.0.is_finite());
                prop_assert!(position.0.x >= body.radius - 1e-3 && position.0.x <= 400.0 - body.radius + 1e-3);
                prop_assert!(position.0.y >= body.radius - 1e-3 && position.0.y <= 300.0 - body.radius + 1e-3);
            }
        }
    }
}
