//! Fan-out of one encoded delta to 1,000 in-memory connection queues, as the tick loop
//! does it (`Outbox::offer_delta`, a reference-count increment and a `try_send` each),
//! with each queue drained by its consumer as a writer task would.

use arena_server::outbox::Outbox;
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn fanout(c: &mut Criterion) {
    let delta = Bytes::from(vec![0x5a; 2048]);
    let (mut outboxes, mut queues): (Vec<_>, Vec<_>) = (0..1_000).map(|_| Outbox::new(16)).unzip();
    let mut group = c.benchmark_group("fanout");
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("offer_1000_queues", |b| {
        b.iter(|| {
            for outbox in &mut outboxes {
                outbox.offer_delta(&delta);
            }
            for queue in &mut queues {
                while queue.try_recv().is_ok() {}
            }
        });
    });
    group.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);
