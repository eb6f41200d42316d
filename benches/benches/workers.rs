//! Tick workers scale with cores: 16 sessions of 100 members each, ticked by one worker
//! and by two, each worker stepping its own half at its own pace, as `arena-tick-N`
//! threads do. Members' links write into sinks that take every byte, standing for
//! sockets whose clients keep up.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arena_server::Tunables;
use arena_server::commands::JoinRequest;
use arena_server::fanout::FanoutPool;
use arena_server::input_slot::InputSlot;
use arena_server::link::{Link, Wire};
use arena_server::outbox::Outbox;
use arena_server::session::Session;
use arena_shared::protocol::{Hello, Move, Role};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SESSIONS: usize = 16;
const MEMBERS: usize = 100;

/// A socket whose client reads everything at once.
#[derive(Default)]
struct Sink(AtomicU64);

impl Wire for Sink {
    fn try_write(&self, bytes: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(bytes.len() as u64, Relaxed);
        Ok(bytes.len())
    }

    fn poll_writable(&self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A session of `MEMBERS` players, each with an input slot the bench steers through.
fn session(n: usize, tunables: &Tunables) -> (Session, Vec<Arc<InputSlot>>) {
    let mut session = Session::new(format!("s{n}"), tunables, n as u64);
    let inputs = (0..MEMBERS)
        .map(|m| {
            let (link, _close) = Link::new(Sink::default(), 1 << 20, Arc::default());
            let input = Arc::new(InputSlot::default());
            session.join(JoinRequest {
                conn: (n * MEMBERS + m) as u64,
                session: format!("s{n}"),
                hello: Hello {
                    name: format!("p{m}"),
                    session: None,
                    role: Role::Player,
                    reconnect: None,
                },
                outbox: Outbox::new(link),
                input: input.clone(),
            });
            input
        })
        .collect();
    (session, inputs)
}

/// Ticks `sessions` `rounds` times, an eighth of the players turning each tick as the
/// benchmark bots do.
fn tick(sessions: &mut [(Session, Vec<Arc<InputSlot>>)], rounds: u64, fanout: &FanoutPool) {
    let mut rng = fastrand::Rng::with_seed(3);
    for round in 0..rounds {
        for (session, inputs) in sessions.iter_mut() {
            for input in inputs.iter().skip(round as usize % 8).step_by(8) {
                input.store(Move {
                    seq: round as u32,
                    dx: rng.i8(-127..=127),
                    dy: rng.i8(-127..=127),
                });
            }
            session.tick(fanout);
        }
    }
}

fn workers(c: &mut Criterion) {
    let tunables = Tunables::merged("[players]\nmax_per_session = 200\n", "bench")
        .expect("bench tunables are valid");
    let mut sessions: Vec<_> = (0..SESSIONS).map(|n| session(n, &tunables)).collect();
    let inline = FanoutPool::inline();
    // Welcomes out, first contacts resolved.
    tick(&mut sessions, 30, &inline);

    let mut group = c.benchmark_group("workers");
    group.throughput(Throughput::Elements(SESSIONS as u64));
    for workers in [1usize, 2] {
        group.bench_function(BenchmarkId::from_parameter(workers), |b| {
            b.iter_custom(|rounds| {
                let started = Instant::now();
                std::thread::scope(|scope| {
                    for share in sessions.chunks_mut(SESSIONS / workers) {
                        let inline = &inline;
                        scope.spawn(move || tick(share, rounds, inline));
                    }
                });
                started.elapsed().max(Duration::from_nanos(1))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, workers);
criterion_main!(benches);
