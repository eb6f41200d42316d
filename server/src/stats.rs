//! Counters the server keeps about itself, read by `/healthz`, the logs and tests.
//!
//! Plain atomics: the tick thread and the I/O tasks update them without locking, and a
//! reader takes a [`StatsSnapshot`] whenever it likes.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Live counters.
#[derive(Debug, Default)]
pub struct Stats {
    connections: AtomicU64,
    sessions: AtomicU64,
    ticks: AtomicU64,
    overruns: AtomicU64,
    last_tick_ns: AtomicU64,
    max_tick_ns: AtomicU64,
    deltas_dropped: AtomicU64,
    resyncs: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Open WebSocket connections.
    pub connections: u64,
    /// Live sessions.
    pub sessions: u64,
    /// Ticks run since start (each steps every session).
    pub ticks: u64,
    /// Ticks that started more than a full period late.
    pub overruns: u64,
    /// Duration of the last tick (all sessions), in nanoseconds.
    pub last_tick_ns: u64,
    /// Longest tick so far, in nanoseconds.
    pub max_tick_ns: u64,
    /// Deltas not sent to a client because its queue was full.
    pub deltas_dropped: u64,
    /// Snapshots sent to resynchronize a client that fell behind.
    pub resyncs: u64,
}

impl Stats {
    /// A connection opened (+1) or closed (-1).
    pub fn connection(&self, opened: bool) {
        if opened {
            self.connections.fetch_add(1, Relaxed);
        } else {
            self.connections.fetch_sub(1, Relaxed);
        }
    }

    /// Records a tick's duration, the live session count, and whether it overran.
    pub fn tick(&self, took: Duration, sessions: usize, overran: bool) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.ticks.fetch_add(1, Relaxed);
        self.last_tick_ns.store(ns, Relaxed);
        self.max_tick_ns.fetch_max(ns, Relaxed);
        self.sessions.store(sessions as u64, Relaxed);
        if overran {
            self.overruns.fetch_add(1, Relaxed);
        }
    }

    /// Deltas dropped for slow clients and snapshots sent to resync them this tick.
    pub fn slow_clients(&self, dropped: u64, resyncs: u64) {
        if dropped > 0 {
            self.deltas_dropped.fetch_add(dropped, Relaxed);
        }
        if resyncs > 0 {
            self.resyncs.fetch_add(resyncs, Relaxed);
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            connections: self.connections.load(Relaxed),
            sessions: self.sessions.load(Relaxed),
            ticks: self.ticks.load(Relaxed),
            overruns: self.overruns.load(Relaxed),
            last_tick_ns: self.last_tick_ns.load(Relaxed),
            max_tick_ns: self.max_tick_ns.load(Relaxed),
            deltas_dropped: self.deltas_dropped.load(Relaxed),
            resyncs: self.resyncs.load(Relaxed),
        }
    }
}
