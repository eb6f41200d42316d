//! Memory returns to baseline after the fault scenarios: a client killed mid-frame,
//! hundreds of connections opened and dropped at once, a whole session reconnecting at
//! once. The server runs in this process; a counting global allocator measures the heap
//! bytes it holds.
//!
//! Resident memory cannot show this: the C allocator keeps freed pages for reuse. Live
//! heap bytes can. The scenarios run once to warm up what is kept on purpose (the
//! runtime's and allocator's pools, metric registrations, the sessions map's capacity),
//! then twice more; the heap must end where the warm-up ended, so nothing a connection,
//! a player or a session held is left behind. One test alone in its binary, so no other
//! test allocates meanwhile.

#[path = "e2e/common.rs"]
#[allow(dead_code, unreachable_pub)]
mod common;

use std::alloc::System;
use std::time::Duration;

use arena_shared::protocol::Role;
use common::{Client, HALF_A_FRAME, TestServer, open, upgrade_by_hand};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use tokio::io::AsyncWriteExt;

#[global_allocator]
static HEAP: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes allocated and not yet freed, by anything in this process.
fn live_bytes() -> i64 {
    let stats = HEAP.stats();
    // Growth and shrinkage by realloc are already in these two.
    stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
}

/// Growth the test tolerates: metric histograms buffer samples between drains, and
/// allocator and runtime pools vary a little; a leak of even 1 KiB per connection
/// would be over 600 KiB.
const SLACK: i64 = 256 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_returns_to_baseline_after_every_fault() {
    let server = TestServer::start(
        "[sessions]\nempty_timeout_s = 0.1\nreconnect_grace_s = 0.3\n[balls]\ncount = 20\n",
    )
    .await;
    faults(&server).await;
    let baseline = settled(&server).await;
    for round in 1..=2 {
        faults(&server).await;
        let now = settled(&server).await;
        eprintln!(
            "round {round}: heap {} KiB, {:+} KiB against the warm-up",
            now / 1024,
            (now - baseline) / 1024
        );
        assert!(
            now - baseline < SLACK,
            "after round {round}, the heap holds {} KiB more than after the warm-up ({} KiB)",
            (now - baseline) / 1024,
            baseline / 1024
        );
    }
    server.stop().await;
}

/// Every fault scenario, once.
async fn faults(server: &TestServer) {
    killed_mid_frame(server).await;
    opened_and_dropped_at_once(server, 300).await;
    everyone_reconnects_at_once(server, 20).await;
}

/// A hand-made handshake, half of a masked binary frame, then the socket dies.
async fn killed_mid_frame(server: &TestServer) {
    let mut tcp = upgrade_by_hand(server.addr).await;
    tcp.write_all(&HALF_A_FRAME).await.expect("writes");
}

async fn opened_and_dropped_at_once(server: &TestServer, n: usize) {
    let crowd = futures_util::future::join_all((0..n).map(|_| open(server.addr, None))).await;
    drop(crowd);
}

async fn everyone_reconnects_at_once(server: &TestServer, n: usize) {
    let mut players = Vec::new();
    for i in 0..n {
        players.push(Client::join(server, &format!("p{i}"), Some("blink"), Role::Player).await);
    }
    let tokens: Vec<String> = players.iter().map(|p| p.token.clone()).collect();
    drop(players);
    let mut back = futures_util::future::join_all(tokens.iter().enumerate().map(|(i, token)| {
        let name = format!("p{i}");
        async move { Client::rejoin(server, &name, Some("blink"), token).await }
    }))
    .await;
    for client in &mut back {
        client.ticks(2).await;
    }
}

/// Waits until every connection, player and session is gone, then reads the heap.
async fn settled(server: &TestServer) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let stats = server.stats();
        if stats.connections == 0 && stats.sessions == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "everything closes: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let aborted tasks be dropped and a few ticks pass.
    tokio::time::sleep(Duration::from_millis(300)).await;
    live_bytes()
}
