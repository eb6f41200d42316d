//! Encoding a tick's delta with 100 and 1,000 changed entities, as a session does it:
//! into a reused buffer, split off as a shared frame.

use std::borrow::Cow;

use arena_shared::codec::encode_server;
use arena_shared::protocol::{Ack, Delta, EntityId, EntityState, ServerMessage, Tick};
use bytes::{BufMut, BytesMut};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn delta(changed: u32) -> Delta {
    let mut rng = fastrand::Rng::with_seed(3);
    Delta {
        tick: Tick(1000),
        moved: (0..changed)
            .map(|i| EntityState {
                id: EntityId(i + 1),
                x: rng.i32(120..32_000),
                y: rng.i32(120..32_000),
                vx: rng.i32(-53..=53),
                vy: rng.i32(-53..=53),
            })
            .collect(),
        acks: (0..changed / 2)
            .map(|i| Ack {
                id: EntityId(i + 1),
                seq: rng.u32(1..10_000),
            })
            .collect(),
        ..Delta::default()
    }
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_delta");
    let mut buffer = BytesMut::with_capacity(64 * 1024);
    for changed in [100u32, 1_000] {
        let delta = delta(changed);
        let message = ServerMessage::Delta(Cow::Borrowed(&delta));
        group.throughput(Throughput::Elements(u64::from(changed)));
        group.bench_function(BenchmarkId::from_parameter(changed), |b| {
            b.iter(|| {
                buffer.clear();
                encode_server(&message, &mut (&mut buffer).writer()).expect("encodes");
                buffer.split().freeze()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
