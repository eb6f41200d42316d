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
    // snapshot, and deltas follow from there without a gap. On a loaded machine it may
    // fall behind again while it decodes the backlog; a later snapshot then starts it
    // over, so the 30 deltas are counted from the last one.
    let mut snapshot_tick = loop {
        match sleeper.recv().await {
            Incoming::Message(ServerMessage::Snapshot(snapshot)) => break snapshot.tick,
            Incoming::Message(_) => continue,
            Incoming::Closed { code, reason } => panic!("the sleeper was closed ({code} {reason})"),
        }
    };
    let gaps = sleeper.gaps;
    let (mut deltas, mut later_snapshots) = (0, 0);
    while deltas < 30 {
        match sleeper.recv().await {
            Incoming::Message(ServerMessage::Snapshot(snapshot)) => {
                (snapshot_tick, deltas) = (snapshot.tick, 0);
                later_snapshots += 1;
                assert!(later_snapshots <= 5, "resynchronized over and over");
            }
            Incoming::Message(ServerMessage::Delta(_)) => deltas += 1,
            Incoming::Message(_) => {}
            Incoming::Closed { code, reason } => panic!("the sleeper was closed ({code} {reason})"),
        }
    }
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

/// A crowded arena: deltas of several kilobytes, big beside a small receive buffer, and
/// the kernel's send buffer left to autotune as in production.
const CROWDED: &str = "[arena]\nwidth = 2400\nheight = 1600\n[balls]\ncount = 2000\nmin_speed = 150\nmax_speed = 300\n";

/// Deltas a client that stalled may find waiting when it reads again, before the
/// snapshot that brings it to the present.
const MAX_STALE_DELTAS: u32 = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stalls_and_resumes_gets_a_few_stale_deltas_then_the_present() {
    let server = TestServer::start(CROWDED).await;
    let mut napper = Client::join_with(
        &server,
        "napper",
        Some("nap"),
        Role::Spectator,
        Some(4096),
        None,
    )
    .await;
    napper.ticks(10).await;
    let dropped_before = server.stats().deltas_dropped;
    let stalled_at_tick = napper.mirror.tick();

    // The client reads nothing for a while (a phone in a tunnel, a frozen tab): here
    // until every tick worker has ticked 100 times more.
    let stalled_at = server.stats().ticks;
    let workers = arena_server::server::default_tick_threads() as u64;
    while server.stats().ticks < stalled_at + 100 * workers {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        server.stats().deltas_dropped > dropped_before + 30,
        "while it stalled, its deltas were skipped rather than queued in the kernel"
    );

    // ...then reads again: a few stale deltas, a snapshot, and the present.
    let mut stale = 0;
    let snapshot_tick = loop {
        match napper.recv().await {
            Incoming::Message(ServerMessage::Delta(_)) => stale += 1,
            Incoming::Message(ServerMessage::Snapshot(snapshot)) => break snapshot.tick,
            Incoming::Message(_) => {}
            Incoming::Closed { code, reason } => panic!("the napper was closed ({code} {reason})"),
        }
    };
    assert!(
        stale <= MAX_STALE_DELTAS,
        "a resuming client gets at most {MAX_STALE_DELTAS} stale deltas before its snapshot, not {stale}"
    );
    assert!(
        snapshot_tick.since(stalled_at_tick) >= 90,
        "the snapshot is of the present, not of when the client stalled: tick {snapshot_tick:?}, stalled at {stalled_at_tick:?}"
    );
    let gaps = napper.gaps;
    napper.ticks(60).await;
    assert_eq!(napper.gaps, gaps, "after the snapshot, every delta arrives");
    assert_eq!(napper.mirror.tick().since(snapshot_tick), 60);
}
