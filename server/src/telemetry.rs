//! Prometheus metrics, served on `/metrics`.
//!
//! The `metrics` facade has one recorder per process, so it is installed once, on first
//! use, however many servers a process starts (tests start many). Per-server numbers
//! that tests and `/healthz` need live in [`crate::stats::Stats`], which also feeds the
//! handles here, so every event is counted at a single call site.

use std::sync::OnceLock;

use metrics::{Counter, Gauge, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Tick duration buckets, in seconds: fine below a millisecond, where a tick should be,
/// and up to the 33 ms budget and beyond, where an overrun would show.
const TICK_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.000_75, 0.001, 0.001_5, 0.002, 0.003, 0.005, 0.008,
    0.012, 0.016, 0.025, 0.033, 0.05, 0.1, 0.25,
];

/// The tick duration histogram's name; arena-bots reads its buckets.
pub const TICK_SECONDS: &str = "arena_tick_duration_seconds";

/// The process's metrics recorder and the process collector.
pub struct Telemetry {
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

static TELEMETRY: OnceLock<Option<Telemetry>> = OnceLock::new();

/// The process's telemetry, installing the recorder on first use. `None` if another
/// recorder was installed first (then metrics go there, and `/metrics` says so).
pub fn telemetry() -> Option<&'static Telemetry> {
    TELEMETRY
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(TICK_SECONDS.into()), TICK_BUCKETS);
            let handle = match builder.and_then(PrometheusBuilder::install_recorder) {
                Ok(handle) => handle,
                Err(err) => {
                    tracing::warn!(%err, "metrics recorder not installed; /metrics is unavailable");
                    return None;
                }
            };
            let process = metrics_process::Collector::default();
            process.describe();
            describe();
            Some(Telemetry { handle, process })
        })
        .as_ref()
}

impl Telemetry {
    /// The Prometheus text exposition of every metric, process metrics refreshed.
    pub fn render(&self) -> String {
        self.process.collect();
        self.handle.render()
    }

    /// Drains histogram samples into their buckets; call every few seconds.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!("arena_connections", "Open WebSocket connections.");
    describe_gauge!("arena_sessions", "Live sessions.");
    describe_gauge!("arena_worker_sessions", "Sessions run by each tick worker.");
    describe_gauge!(
        "arena_worker_connections",
        "Connections in each tick worker's sessions."
    );
    describe_gauge!("arena_entities", "Entities in each tick worker's sessions.");
    describe_histogram!(
        TICK_SECONDS,
        Unit::Seconds,
        "Duration of one tick worker's tick of all its sessions."
    );
    describe_counter!("arena_ticks_total", "Ticks run, by tick worker.");
    describe_counter!(
        "arena_tick_overruns_total",
        "Ticks that took longer than the tick period, by tick worker."
    );
    describe_counter!(
        "arena_bytes_sent_total",
        Unit::Bytes,
        "WebSocket payload bytes sent."
    );
    describe_counter!("arena_messages_sent_total", "WebSocket messages sent.");
    describe_counter!(
        "arena_deltas_dropped_total",
        "Deltas not sent to a client that was behind (its socket still owed bytes)."
    );
    describe_counter!(
        "arena_resyncs_total",
        "Snapshots sent to resynchronize a client that fell behind."
    );
    describe_counter!("arena_inputs_received_total", "Move messages received.");
    describe_counter!(
        "arena_inputs_dropped_total",
        "Messages dropped by a connection's rate limit."
    );
    describe_counter!(
        "arena_chat_dropped_total",
        "Chat lines dropped by a connection's chat rate limit (1 a second, 3 in a burst)."
    );
    describe_counter!(
        "arena_cluster_checkpoints_total",
        "Cluster mode: session checkpoints written to Redis."
    );
    describe_gauge!(
        "arena_cluster_checkpoint_bytes",
        Unit::Bytes,
        "Cluster mode: the size of the last checkpoint written."
    );
    describe_histogram!(
        "arena_cluster_checkpoint_build_seconds",
        Unit::Seconds,
        "Cluster mode: building and encoding a checkpoint, on the tick thread."
    );
    describe_histogram!(
        "arena_cluster_checkpoint_write_seconds",
        Unit::Seconds,
        "Cluster mode: writing a checkpoint to Redis, on the directory task."
    );
    describe_counter!(
        "arena_cluster_redirects_total",
        "Cluster mode: joins sent to the node that owns their session (close 4007)."
    );
    describe_counter!(
        "arena_cluster_takeovers_total",
        "Cluster mode: sessions resumed here from another node's checkpoint."
    );
    describe_counter!(
        "arena_cluster_redis_errors_total",
        "Cluster mode: Redis operations that failed."
    );
    describe_counter!(
        "arena_cluster_notes_dropped_total",
        "Cluster mode: checkpoints or pairing codes dropped because the directory task was behind."
    );
    describe_counter!(
        "arena_protocol_errors_total",
        "Connections refused or closed for bad input or over a limit, by kind."
    );
}

/// Handles to the server's metrics, looked up once.
#[derive(Debug, Clone)]
pub(crate) struct Handles {
    pub(crate) connections: Gauge,
    pub(crate) sessions: Gauge,
    pub(crate) bytes_sent: Counter,
    pub(crate) messages_sent: Counter,
    pub(crate) deltas_dropped: Counter,
    pub(crate) resyncs: Counter,
    pub(crate) inputs: Counter,
    pub(crate) inputs_dropped: Counter,
    pub(crate) chat_dropped: Counter,
}

impl Handles {
    pub(crate) fn new() -> Handles {
        Handles {
            connections: metrics::gauge!("arena_connections"),
            sessions: metrics::gauge!("arena_sessions"),
            bytes_sent: metrics::counter!("arena_bytes_sent_total"),
            messages_sent: metrics::counter!("arena_messages_sent_total"),
            deltas_dropped: metrics::counter!("arena_deltas_dropped_total"),
            resyncs: metrics::counter!("arena_resyncs_total"),
            inputs: metrics::counter!("arena_inputs_received_total"),
            inputs_dropped: metrics::counter!("arena_inputs_dropped_total"),
            chat_dropped: metrics::counter!("arena_chat_dropped_total"),
        }
    }
}

/// One tick worker's metrics, labelled `worker="N"`.
#[derive(Debug, Clone)]
pub(crate) struct WorkerHandles {
    pub(crate) tick_seconds: Histogram,
    pub(crate) ticks: Counter,
    pub(crate) overruns: Counter,
    pub(crate) sessions: Gauge,
    pub(crate) connections: Gauge,
    pub(crate) entities: Gauge,
}

impl WorkerHandles {
    pub(crate) fn new(worker: usize) -> WorkerHandles {
        let label = [("worker", worker.to_string())];
        WorkerHandles {
            tick_seconds: metrics::histogram!(TICK_SECONDS, &label),
            ticks: metrics::counter!("arena_ticks_total", &label),
            overruns: metrics::counter!("arena_tick_overruns_total", &label),
            sessions: metrics::gauge!("arena_worker_sessions", &label),
            connections: metrics::gauge!("arena_worker_connections", &label),
            entities: metrics::gauge!("arena_entities", &label),
        }
    }
}

/// Counts a connection closed for bad input, labelled by what it did.
pub(crate) fn protocol_error(kind: &'static str) {
    metrics::counter!("arena_protocol_errors_total", "kind" => kind).increment(1);
}
