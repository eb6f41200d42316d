//! What a run measured: a readable table for people, one JSON line for scripts.

use serde::{Deserialize, Serialize};

/// A run's results. Field names are the JSON keys the ladder and other tools read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Bots started.
    pub clients: u64,
    /// Length of the measurement window, seconds.
    pub duration_s: f64,
    /// Deltas received per client per second, mean over clients.
    pub deltas_per_client_s: f64,
    /// The same, for the client that received the fewest.
    pub deltas_per_client_s_min: f64,
    /// Ticks some client never received (gaps in tick numbers), all clients.
    pub ticks_missed: u64,
    /// Payload bytes received per client per second, mean.
    pub bytes_per_client_s: f64,
    /// Input-to-observed latency, median, milliseconds.
    pub latency_p50_ms: f64,
    /// Input-to-observed latency, 99th percentile, milliseconds.
    pub latency_p99_ms: f64,
    /// Input-to-observed latency, worst, milliseconds.
    pub latency_max_ms: f64,
    /// Latencies measured.
    pub latency_samples: u64,
    /// Bots that could not connect or were not welcomed.
    pub connect_failures: u64,
    /// Bots whose connection ended before the run did.
    pub unexpected_closes: u64,
    /// Reconnections after a lost connection, all bots (each with its token).
    pub reconnects: u64,
    /// Redirects to another cluster node followed (close 4007), all bots.
    #[serde(default)]
    pub redirects: u64,
    /// The longest time a bot was without a session, from a lost connection to its
    /// next Welcome, milliseconds (0 if none was lost).
    #[serde(default)]
    pub outage_max_ms: f64,
    /// Up to five distinct reasons connections ended early or failed.
    pub close_reasons: Vec<String>,
    /// Server CPU seconds per second over the window, from its `/metrics`.
    pub server_cpu_s_per_s: Option<f64>,
    /// Server tick duration, 99th percentile over the window, milliseconds.
    pub server_tick_p99_ms: Option<f64>,
    /// Server resident memory at the end, MiB.
    pub server_rss_mb: Option<f64>,
    /// Server resident memory before the bots connected, MiB.
    pub server_rss_baseline_mb: Option<f64>,
    /// This load generator's own CPU seconds per second over the window.
    pub bots_cpu_s_per_s: f64,
}

impl Report {
    /// A table for a terminal.
    pub fn table(&self) -> String {
        let opt = |v: Option<f64>, unit: &str| {
            v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}{unit}"))
        };
        let rows = [
            ("clients", format!("{}", self.clients)),
            ("window", format!("{:.1} s", self.duration_s)),
            (
                "deltas / client / s",
                format!(
                    "{:.2} (slowest client {:.2})",
                    self.deltas_per_client_s, self.deltas_per_client_s_min
                ),
            ),
            ("ticks missed", format!("{}", self.ticks_missed)),
            (
                "bytes / client / s",
                format!(
                    "{:.0} ({:.1} kB)",
                    self.bytes_per_client_s,
                    self.bytes_per_client_s / 1000.0
                ),
            ),
            (
                "latency p50 / p99 / max",
                format!(
                    "{:.1} / {:.1} / {:.1} ms ({} samples)",
                    self.latency_p50_ms,
                    self.latency_p99_ms,
                    self.latency_max_ms,
                    self.latency_samples
                ),
            ),
            ("connect failures", format!("{}", self.connect_failures)),
            (
                "unexpected closes",
                format!(
                    "{} {}",
                    self.unexpected_closes,
                    self.close_reasons.join("; ")
                ),
            ),
            ("reconnects", format!("{}", self.reconnects)),
            (
                "redirects, longest outage",
                format!("{}, {:.0} ms", self.redirects, self.outage_max_ms),
            ),
            ("server CPU", opt(self.server_cpu_s_per_s, " s/s")),
            ("server tick p99", opt(self.server_tick_p99_ms, " ms")),
            ("server RSS", opt(self.server_rss_mb, " MiB")),
            (
                "server RSS before",
                opt(self.server_rss_baseline_mb, " MiB"),
            ),
            ("bots CPU", format!("{:.3} s/s", self.bots_cpu_s_per_s)),
        ];
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        rows.iter()
            .map(|(k, v)| format!("{k:<width$}  {v}\n"))
            .collect()
    }

    /// One line of JSON.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"))
    }
}
