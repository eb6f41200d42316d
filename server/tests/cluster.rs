//! Cluster mode end to end: a real `redis-server` per test, `arena-server` nodes as real
//! processes on loopback, real WebSocket clients and, for load, the real `arena-bots`.

#[path = "support/launch.rs"]
mod launch;

mod cluster {
    mod harness;
    mod outage;
    mod routing;
    mod takeover;
}
