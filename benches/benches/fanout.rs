//! Fan-out of one framed delta to 1,000 connections, as the tick loop does it
//! (`Outbox::offer_delta`: a lock and a non-blocking write each), into in-memory wires
//! that stand for the kernel's socket buffers and are drained as a client would.

use std::sync::Arc;

use arena_server::link::{Link, MemoryWire};
use arena_server::outbox::Outbox;
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn fanout(c: &mut Criterion) {
    let delta = Bytes::from(vec![0x5a; 2048]);
    let (mut outboxes, wires): (Vec<_>, Vec<_>) = (0..1_000)
        .map(|_| {
            let wire = MemoryWire::new(usize::MAX / 2);
            let (link, _close) = Link::new(wire.clone(), 1 << 20, Arc::default());
            (Outbox::new(link), wire)
        })
        .unzip();
    let mut group = c.benchmark_group("fanout");
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("offer_1000_links", |b| {
        b.iter(|| {
            for outbox in &mut outboxes {
                outbox.offer_delta(&delta, 0);
            }
            for wire in &wires {
                wire.take();
            }
        });
    });
    group.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);
