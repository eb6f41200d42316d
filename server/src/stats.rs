//! Counters the server keeps about itself, read by `/healthz`, the logs and tests, and
//! mirrored into the Prometheus metrics of [`crate::telemetry`].
//!
//! Plain atomics: the tick workers and the I/O tasks update them without locking, and a
//! reader takes a [`StatsSnapshot`] whenever it likes.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use parking_lot::Mutex;

use crate::monitor::Monitor;
use crate::telemetry::{Handles, WorkerHandles};

/// Live counters of one server.
#[derive(Debug)]
pub struct Stats {
    connections: AtomicU64,
    sessions: AtomicU64,
    ticks: AtomicU64,
    overruns: AtomicU64,
    last_tick_ns: AtomicU64,
    max_tick_ns: AtomicU64,
    deltas_dropped: AtomicU64,
    resyncs: AtomicU64,
    chat_dropped: AtomicU64,
    metrics: Handles,
    /// Each tick worker's figures and labelled metrics, made on its first tick.
    workers: Mutex<Vec<WorkerStats>>,
    /// What the admin page shows beside these counters.
    monitor: Monitor,
}

/// One tick worker's figures as of its last tick.
#[derive(Debug)]
struct WorkerStats {
    sessions: usize,
    connections: usize,
    metrics: WorkerHandles,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Open WebSocket connections.
    pub connections: u64,
    /// Live sessions.
    pub sessions: u64,
    /// Ticks run since start, all workers together (each steps its worker's sessions).
    pub ticks: u64,
    /// Ticks that took longer than the tick period.
    pub overruns: u64,
    /// Duration of the last tick of any worker, in nanoseconds.
    pub last_tick_ns: u64,
    /// Longest tick so far, in nanoseconds.
    pub max_tick_ns: u64,
    /// Deltas not sent to a client because it was behind.
    pub deltas_dropped: u64,
    /// Snapshots sent to resynchronize a client that fell behind.
    pub resyncs: u64,
}

/// What one worker's tick did, for [`Stats::tick`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TickRecord {
    /// How long it took.
    pub took: Duration,
    /// Whether that was longer than the tick period.
    pub overran: bool,
    /// The worker's live sessions after it.
    pub sessions: usize,
    /// Connections in the worker's sessions.
    pub connections: usize,
    /// Entities in the worker's sessions.
    pub entities: usize,
    /// Deltas dropped for slow clients.
    pub dropped: u64,
    /// Snapshots sent to resynchronize clients.
    pub resyncs: u64,
    /// Deltas and resync snapshots handed to sockets.
    pub messages: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            connections: AtomicU64::new(0),
            sessions: AtomicU64::new(0),
            ticks: AtomicU64::new(0),
            overruns: AtomicU64::new(0),
            last_tick_ns: AtomicU64::new(0),
            max_tick_ns: AtomicU64::new(0),
            deltas_dropped: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
            chat_dropped: AtomicU64::new(0),
            metrics: Handles::new(),
            workers: Mutex::default(),
            monitor: Monitor::default(),
        }
    }
}

impl Stats {
    /// A connection opened (+1) or closed (-1).
    pub fn connection(&self, opened: bool) {
        if opened {
            self.connections.fetch_add(1, Relaxed);
            self.metrics.connections.increment(1.0);
        } else {
            self.connections.fetch_sub(1, Relaxed);
            self.metrics.connections.decrement(1.0);
        }
    }

    /// A session was created.
    pub fn session_created(&self) {
        self.sessions.fetch_add(1, Relaxed);
        self.metrics.sessions.increment(1.0);
    }

    /// A session was dropped.
    pub fn session_dropped(&self) {
        self.sessions.fetch_sub(1, Relaxed);
        self.metrics.sessions.decrement(1.0);
    }

    /// Records a tick of `worker`.
    pub fn tick(&self, worker: usize, record: TickRecord) {
        let ns = u64::try_from(record.took.as_nanos()).unwrap_or(u64::MAX);
        self.ticks.fetch_add(1, Relaxed);
        self.last_tick_ns.store(ns, Relaxed);
        self.max_tick_ns.fetch_max(ns, Relaxed);
        self.deltas_dropped.fetch_add(record.dropped, Relaxed);
        self.resyncs.fetch_add(record.resyncs, Relaxed);
        self.metrics.deltas_dropped.increment(record.dropped);
        self.metrics.resyncs.increment(record.resyncs);
        self.metrics.messages_sent.increment(record.messages);
        self.metrics.bytes_sent.increment(record.bytes);
        self.monitor.sent(record.bytes);
        if record.overran {
            self.overruns.fetch_add(1, Relaxed);
        }
        let mut workers = self.workers.lock();
        while workers.len() <= worker {
            let next = workers.len();
            workers.push(WorkerStats {
                sessions: 0,
                connections: 0,
                metrics: WorkerHandles::new(next),
            });
        }
        let this = &mut workers[worker];
        this.sessions = record.sessions;
        this.connections = record.connections;
        let m = &this.metrics;
        m.ticks.increment(1);
        m.tick_seconds.record(record.took.as_secs_f64());
        m.sessions.set(record.sessions as f64);
        m.connections.set(record.connections as f64);
        m.entities.set(record.entities as f64);
        if record.overran {
            m.overruns.increment(1);
        }
    }

    /// Sessions per tick worker, as of each worker's last tick.
    pub fn worker_sessions(&self) -> Vec<usize> {
        self.workers.lock().iter().map(|w| w.sessions).collect()
    }

    /// Connections in each tick worker's sessions, as of its last tick.
    pub fn worker_connections(&self) -> Vec<usize> {
        self.workers.lock().iter().map(|w| w.connections).collect()
    }

    /// A frame of `bytes` was handed to a socket.
    pub fn sent(&self, bytes: usize) {
        self.metrics.messages_sent.increment(1);
        self.metrics.bytes_sent.increment(bytes as u64);
        self.monitor.sent(bytes as u64);
    }

    /// A `Move` arrived.
    pub fn input(&self) {
        self.metrics.inputs.increment(1);
    }

    /// The admin page's figures.
    pub fn monitor(&self) -> &Monitor {
        &self.monitor
    }

    /// A chat line was dropped by the connection's chat rate limit.
    pub fn chat_dropped(&self) {
        self.chat_dropped.fetch_add(1, Relaxed);
        self.metrics.chat_dropped.increment(1);
    }

    /// Chat lines dropped since start.
    pub fn chat_lines_dropped(&self) -> u64 {
        self.chat_dropped.load(Relaxed)
    }

    /// A message was dropped by the connection's rate limit.
    pub fn input_dropped(&self) {
        self.metrics.inputs_dropped.increment(1);
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
