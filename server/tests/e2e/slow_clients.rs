//! A client that reads too slowly must not hold back the tick or anyone else, must not
//! grow the server's memory, and is brought back with a snapshot when it catches up.

use std::time::Duration;

use arena_shared::protocol::{Role, ServerMessage};

use super::common::{Client, Incoming, TestServer};

/// Small socket buffers and many balls make a non-reading client back up in about a
/// second instead of after megabytes.
const SETUP: &str = "[balls]\ncount = 400\n[network]\nsend_buffer_bytes = 4096\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_hold_back_the_others() {
    let server = TestServer::start(SETUP).await;
    let mut sleeper = Client::join_with(
        &server,
        "sleeper",
        Some("slow"),
        Role::Player,
        Some(4096),
        None,
    )
    .await;
    let mut reader = Client::join(&server, "reader", Some("slow"), Role::Player).await;

    // Three seconds during which the sleeper reads nothing.
    reader.ticks(5).await;
    let first = reader.mirror.tick();
    let started = tokio::time::Instant::now();
    let mut received = 0u32;
    while started.elapsed() < Duration::from_secs(3) {
        reader.next_delta().await;
        received += 1;
    }
    let span = reader.mirror.tick().since(first);
    assert!(
        f64::from(received) >= 0.9 * f64::from(span),
        "the reader got {received} of the {span} ticks while another client slept"
    );
    assert!(
        span >= 80,
        "the tick loop kept its 30 Hz cadence: {span} ticks in 3 s"
    );
    let stats = server.stats();
    assert!(
        stats.deltas_dropped > 0,
        "the sleeper's deltas were dropped, not queued: {stats:?}"
    );

    // The sleeper wakes up: it drains what was queued, then is resynchronized with a
    // snapshot, and deltas follow from there without a gap.
    let snapshot_tick = loop {
        match sleeper.recv().await {
            Incoming::Message(ServerMessage::Snapshot(snapshot)) => break snapshot.tick,
            Incoming::Message(_) => continue,
            Incoming::Closed { code, reason } => panic!("the sleeper was closed ({code} {reason})"),
        }
    };
    let gaps = sleeper.gaps;
    sleeper.ticks(30).await;
    assert_eq!(
        sleeper.gaps, gaps,
        "after the snapshot, deltas follow without a gap"
    );
    assert_eq!(sleeper.mirror.tick().since(snapshot_tick), 30);
    assert_eq!(
        sleeper.mirror.len(),
        402,
        "the resynchronized world is whole"
    );
    assert!(server.stats().resyncs >= 1);
}
