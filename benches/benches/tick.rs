//! One simulation tick (steering, movement, grid broad phase, collisions, rounds,
//! delta building) with 1,000 and 10,000 entities in one session: 200 balls and the
//! rest players turning at random, at the benchmark scenario's density.

use arena_server::Tunables;
use arena_server::sim::Simulation;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn session(entities: u32) -> (Simulation, Vec<arena_shared::protocol::EntityId>) {
    // The scenario puts 1,200 bodies in 4000 x 4000 at 1,000 clients; keep that density.
    let side = (4000.0 * (f64::from(entities) / 1200.0).sqrt()).max(4000.0);
    let overrides = format!(
        "[arena]\nwidth = {side}\nheight = {side}\n[balls]\ncount = 200\n[players]\nmax_per_session = 100000\n"
    );
    let tunables = Tunables::merged(&overrides, "bench").expect("bench tunables are valid");
    let mut sim = Simulation::new(&tunables, 1);
    let players = (0..entities - 200)
        .map(|i| sim.spawn_player(&format!("p{i}")))
        .collect();
    (sim, players)
}

fn tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick");
    for entities in [1_000u32, 10_000] {
        let (mut sim, players) = session(entities);
        let mut rng = fastrand::Rng::with_seed(7);
        let mut seq = 0u32;
        // Settle: spawns replicated, first contacts resolved.
        for _ in 0..30 {
            sim.step();
        }
        group.bench_function(BenchmarkId::from_parameter(entities), |b| {
            b.iter(|| {
                // A bot turns every 250 ms: an eighth of the players each tick at 30 Hz.
                seq += 1;
                for &id in players.iter().skip(seq as usize % 8).step_by(8) {
                    sim.steer(id, seq, rng.i8(-127..=127), rng.i8(-127..=127));
                }
                sim.step().moved.len()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, tick);
criterion_main!(benches);
