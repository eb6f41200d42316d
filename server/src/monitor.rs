//! What the operator's live page (`/admin`) shows beside the counters of
//! [`crate::stats`]: each session as its tick worker last reported it, tick-time
//! percentiles, traffic rates, and the last protocol refusals.
//!
//! Tick workers publish a report of their sessions once a second (built on the tick
//! thread from what it owns, then swapped in under a lock held for a pointer's worth of
//! work); the admin feed reads the latest reports whenever it likes. Nothing here is on
//! a socket's path or slows a tick by more than that second's report.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use parking_lot::Mutex;
use serde::Serialize;

/// Refusals kept for the page.
const REFUSALS_KEPT: usize = 20;

/// One player as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlayerReport {
    /// Its entity id.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Its points this round.
    pub score: u32,
    /// False while it waits out the reconnect grace period.
    pub connected: bool,
    /// A phone steers it.
    pub controller: bool,
    /// Its page's round trip, milliseconds, from the server's WebSocket pings (none
    /// yet, or while it is away).
    pub ping_ms: Option<f64>,
}

/// One session as its worker last saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionReport {
    /// Its code.
    pub code: String,
    /// The tick worker that owns it.
    pub worker: usize,
    /// Its players, best score first.
    pub players: Vec<PlayerReport>,
    /// Spectators watching.
    pub spectators: usize,
    /// Phones paired.
    pub controllers: usize,
    /// The round's number.
    pub round: u32,
    /// "Playing" or "Intermission".
    pub phase: &'static str,
    /// Seconds left in that phase.
    pub seconds_left: u32,
    /// Its tick's cost, microseconds (a moving average).
    pub tick_us: f64,
    /// Bytes it sent in the last second.
    pub bytes_per_s: u64,
    /// Members waiting for a snapshot (behind, their deltas skipped).
    pub owed: usize,
    /// Snapshots sent to catch members up in the last second.
    pub resyncs_per_s: u64,
}

/// A tick worker's last report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkerReport {
    /// Its sessions.
    pub sessions: Vec<SessionReport>,
    /// Median tick duration over the last second, microseconds.
    pub tick_p50_us: u32,
    /// 99th percentile, microseconds.
    pub tick_p99_us: u32,
}

/// A connection refused for breaking the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusalRecord {
    /// What it did (`too_big`, `malformed`, `rate`, ...).
    pub kind: &'static str,
    /// Its address.
    pub address: String,
    /// When, ms since the Unix epoch.
    pub at_ms: i64,
}

/// The live figures behind the admin page.
#[derive(Debug)]
pub struct Monitor {
    started: Instant,
    inputs: AtomicU64,
    bytes_out: AtomicU64,
    admin_refused: AtomicU64,
    refusals: Mutex<VecDeque<RefusalRecord>>,
    workers: Mutex<Vec<WorkerReport>>,
}

impl Default for Monitor {
    fn default() -> Monitor {
        Monitor {
            started: Instant::now(),
            inputs: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            admin_refused: AtomicU64::new(0),
            refusals: Mutex::new(VecDeque::with_capacity(REFUSALS_KEPT)),
            workers: Mutex::default(),
        }
    }
}

impl Monitor {
    /// Seconds since the server started.
    pub fn uptime_s(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Counts a message in (any kind, as it arrives).
    pub fn input(&self) {
        self.inputs.fetch_add(1, Relaxed);
    }

    /// Counts bytes out.
    pub fn sent(&self, bytes: u64) {
        self.bytes_out.fetch_add(bytes, Relaxed);
    }

    /// Messages in and bytes out since start.
    pub fn traffic(&self) -> (u64, u64) {
        (self.inputs.load(Relaxed), self.bytes_out.load(Relaxed))
    }

    /// Counts a refused admin login, and returns the count.
    pub fn admin_refused(&self) -> u64 {
        self.admin_refused.fetch_add(1, Relaxed) + 1
    }

    /// Refused admin logins since start.
    pub fn admin_refusals(&self) -> u64 {
        self.admin_refused.load(Relaxed)
    }

    /// Keeps a protocol refusal (the last few only).
    pub fn refused(&self, kind: &'static str, address: String) {
        let at_ms = crate::results::unix_ms();
        let mut refusals = self.refusals.lock();
        if refusals.len() == REFUSALS_KEPT {
            refusals.pop_front();
        }
        refusals.push_back(RefusalRecord {
            kind,
            address,
            at_ms,
        });
    }

    /// The last refusals, latest first.
    pub fn refusals(&self) -> Vec<RefusalRecord> {
        self.refusals.lock().iter().rev().cloned().collect()
    }

    /// Replaces `worker`'s report.
    pub fn publish(&self, worker: usize, report: WorkerReport) {
        let mut workers = self.workers.lock();
        if workers.len() <= worker {
            workers.resize_with(worker + 1, WorkerReport::default);
        }
        workers[worker] = report;
    }

    /// Every worker's last report.
    pub fn workers(&self) -> Vec<WorkerReport> {
        self.workers.lock().clone()
    }
}

/// The `p`-th percentile (0..=100) of `values`, which it sorts; 0 if empty.
pub fn percentile(values: &mut [u32], p: usize) -> u32 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    let index = ((values.len() - 1) * p).div_ceil(100);
    values[index.min(values.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_the_last_refusals() {
        let mut ticks: Vec<u32> = (1..=100).rev().collect();
        assert_eq!(percentile(&mut ticks, 50), 51);
        assert_eq!(percentile(&mut ticks, 99), 100);
        assert_eq!(percentile(&mut [], 99), 0);
        let monitor = Monitor::default();
        for n in 0..25 {
            monitor.refused("rate", format!("10.0.0.{n}"));
        }
        let kept = monitor.refusals();
        assert_eq!(kept.len(), REFUSALS_KEPT, "only the last few are kept");
        assert_eq!(kept[0].address, "10.0.0.24", "latest first");
    }
}
