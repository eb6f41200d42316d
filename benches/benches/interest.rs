//! Interest management's send: 10,000 entities in a 16,000 × 16,000 world of 1,600
//! cells, each viewer a player that sees the cells within 800 units of it, every viewer's
//! message gathered from the parts encoded once and written to an in-memory link (as
//! the tick worker writes a socket: a lock and a vectored write each).
//!
//! `interest/send/5000-viewers` is one send to 5,000 players (5,000 balls besides):
//! their views brought up to date, the parts encoded, every view gathered and written;
//! `interest/tick/5000-viewers` the same with the simulation's step before it;
//! `interest/encode/followers/N` the part of a send
//! that encodes the cells' and the world's news, in a world of 1,000 players and 9,000
//! balls watched besides by N spectators each following a player: it must cost the
//! same for 500 as for 5,000.
//!
//! Every player turns to a new direction once a second, each at its own tick, as the
//! bots do: players that kept one direction would end up against the walls, and a
//! world with ever less news would make whichever benchmark ran later look cheaper.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arena_server::Tunables;
use arena_server::commands::JoinRequest;
use arena_server::fanout::FanoutPool;
use arena_server::input_slot::InputSlot;
use arena_server::link::{Link, MemoryWire};
use arena_server::outbox::Outbox;
use arena_server::session::Session;
use arena_shared::protocol::{Hello, Look, Move, Role};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const ENTITIES: u32 = 10_000;

/// A session with everyone welcomed, the links its views go to, and its players'
/// steering.
struct World {
    session: Session,
    wires: Vec<Arc<MemoryWire>>,
    players: Players,
}

/// The players' inputs: each turns once a second, at its own tick.
struct Players {
    inputs: Vec<Arc<InputSlot>>,
    seq: u32,
    next: usize,
    rng: fastrand::Rng,
}

impl Players {
    /// Turns the players whose tick it is (a thirtieth of them).
    fn turn(&mut self) {
        let count = self.inputs.len().div_ceil(30);
        for _ in 0..count {
            let input = &self.inputs[self.next];
            input.store(Move {
                seq: self.seq,
                dx: self.rng.i8(-127..=127),
                dy: self.rng.i8(-127..=127),
            });
            self.next += 1;
            if self.next == self.inputs.len() {
                self.next = 0;
                self.seq += 1;
            }
        }
    }
}

/// A session of `players` players (steering every which way), balls up to 10,000
/// entities, and `followers` spectators each following a player; every tick a send,
/// everyone welcomed.
fn world(players: u32, followers: u32) -> World {
    let config = format!(
        "[arena]\nwidth = 16000\nheight = 16000\n[players]\nmax_per_session = 20000\n\
         [balls]\ncount = {}\n[interest]\ncell_size = 400\nview_radius = 800\n",
        ENTITIES - players
    );
    let tunables = Tunables::merged(&config, "bench").expect("valid tunables");
    let mut session = Session::new("bench".into(), &tunables, 1);
    let mut wires = Vec::new();
    let mut inputs = Vec::new();
    let mut rng = fastrand::Rng::with_seed(7);
    for conn in 0..u64::from(players + followers) {
        // Room for everything: each send's views are discarded after it, keeping the
        // buffers, as a client reads them.
        let wire = MemoryWire::new(usize::MAX / 2);
        let (link, _close) = Link::new(wire.clone(), 1 << 20, Arc::default());
        let input = Arc::new(InputSlot::default());
        let player = conn < u64::from(players);
        session.join(JoinRequest {
            conn,
            session: "bench".into(),
            hello: Hello {
                name: format!("p{conn}"),
                session: Some("bench".into()),
                role: if player {
                    Role::Player
                } else {
                    Role::Spectator
                },
                reconnect: None,
            },
            outbox: Outbox::new(link),
            input: input.clone(),
        });
        if player {
            input.store(Move {
                seq: 1,
                dx: rng.i8(-127..=127),
                dy: rng.i8(-127..=127),
            });
            inputs.push(input);
        } else if let Some(id) = session.player_of(conn % u64::from(players)) {
            session.look(conn, Look::Follow { id });
        }
        wires.push(wire);
    }
    let mut world = World {
        session,
        wires,
        players: Players {
            inputs,
            seq: 2,
            next: 0,
            rng,
        },
    };
    // A second of play: every player has turned once.
    sends(&mut world, &FanoutPool::inline(), 30, Part::Tick);
    world
}

fn drain(wires: &[Arc<MemoryWire>]) {
    for wire in wires {
        wire.discard();
    }
}

/// What of a tick a benchmark times.
#[derive(Clone, Copy)]
enum Part {
    /// The whole tick: the simulation's step and the send.
    Tick,
    /// The send: viewers' views brought up to date, parts encoded, every view written.
    Send,
    /// The encoding of the shared parts alone.
    Encode,
}

/// Runs `sends` send ticks, the players turning; the time `part` of them took.
fn sends(world: &mut World, pool: &FanoutPool, sends: u64, part: Part) -> Duration {
    let mut took = Duration::ZERO;
    for _ in 0..sends {
        world.players.turn();
        let started = Instant::now();
        let report = world.session.tick(pool);
        took += match part {
            Part::Tick => started.elapsed(),
            Part::Send => report.send,
            Part::Encode => report.encode,
        };
        drain(&world.wires);
    }
    took
}

fn interest(c: &mut Criterion) {
    let mut group = c.benchmark_group("interest");
    group.sample_size(20);
    // The whole send, as this machine's server runs it: the worker and one fan-out
    // thread share the viewers (`--tick-threads 2`); and on the worker alone.
    let mut big = world(5_000, 0);
    let pool = FanoutPool::new(2).expect("a fan-out pool starts");
    group.bench_function("send/5000-viewers", |b| {
        b.iter_custom(|n| sends(&mut big, &pool, n, Part::Send));
    });
    group.bench_function("tick/5000-viewers", |b| {
        b.iter_custom(|n| sends(&mut big, &pool, n, Part::Tick));
    });
    group.bench_function("send/5000-viewers-one-thread", |b| {
        b.iter_custom(|n| sends(&mut big, &FanoutPool::inline(), n, Part::Send));
    });
    drop(big);
    // The same world watched by 500 and by 5,000 more viewers: encoding costs the same.
    for followers in [500, 5_000] {
        let mut watched = world(1_000, followers);
        group.bench_function(BenchmarkId::new("encode/followers", followers), |b| {
            b.iter_custom(|n| sends(&mut watched, &FanoutPool::inline(), n, Part::Encode));
        });
    }
    group.finish();
}

criterion_group!(benches, interest);
criterion_main!(benches);
