//! A whole run: connect the bots over the ramp, measure for the window, stop them, and
//! aggregate what they and the server's `/metrics` say.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::time::{Instant, sleep, sleep_until};

use crate::bot::{BotConfig, BotReport, Endpoint, Phase, Shared, run_bot};
use crate::report::Report;
use crate::scrape::{ServerFigures, scrape, tick_quantile};
use crate::target::Target;

/// What a run does.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Bots.
    pub clients: usize,
    /// Time over which the bots connect, evenly spread.
    pub ramp: Duration,
    /// The measurement window, after the ramp.
    pub duration: Duration,
    /// The session they all join, or the stem of the sessions they spread over.
    pub session: Option<String>,
    /// Sessions to spread the bots over (`{session}-0` ... `{session}-{K-1}`).
    pub sessions: usize,
    /// How often each bot changes direction.
    pub move_every: Duration,
    /// How often each bot says a chat line (never, if `None`).
    pub chat_every: Option<Duration>,
    /// Seed of the bots' random directions.
    pub seed: u64,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Connect and hold without joining: for measuring what an idle connection costs.
    pub idle: bool,
    /// Read and discard after the Welcome: the floor of a bot's cost per byte.
    pub bare: bool,
    /// More entry points beside the target (a cluster's other nodes): bots are spread
    /// over all of them and move to the next when a connection fails.
    pub also: Vec<Target>,
    /// Follow redirects to servers that are not loopback.
    pub allow_remote: bool,
}

/// How long bots get to close and report after the window.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Runs the bots against `target` and returns what they measured.
pub async fn run(target: &Target, config: &RunConfig) -> Report {
    let shared = Arc::new(Shared::new());
    let bot_config = Arc::new(BotConfig {
        entries: std::iter::once(target)
            .chain(&config.also)
            .map(|t| Endpoint {
                addr: t.addr,
                ws_url: t.ws_url.clone(),
            })
            .collect(),
        allow_remote: config.allow_remote,
        session: config.session.clone(),
        sessions: config.sessions,
        move_every: config.move_every,
        chat_every: config.chat_every,
        seed: config.seed,
        idle: config.idle,
        bare: config.bare,
    });
    let http = reqwest::Client::new();
    let baseline = scrape(&http, &target.metrics_url)
        .await
        .ok()
        .and_then(|f| f.rss_bytes);
    let bar = progress_bar(config);

    // Ramp: start bots evenly spread over the ramp.
    let started = Instant::now();
    let mut bots = Vec::with_capacity(config.clients);
    for index in 0..config.clients {
        let at = started
            + config
                .ramp
                .mul_f64(index as f64 / config.clients.max(1) as f64);
        sleep_until(at).await;
        bots.push(tokio::spawn(run_bot(
            index,
            bot_config.clone(),
            shared.clone(),
        )));
        bar.set_message(format!(
            "ramp: {} of {} connected",
            shared.connected.load(std::sync::atomic::Ordering::Relaxed),
            config.clients
        ));
    }
    sleep_until(started + config.ramp).await;

    // The measurement window.
    let server_start = scrape(&http, &target.metrics_url).await.ok();
    let cpu_start = cpu_time::ProcessTime::try_now().ok();
    shared.set_phase(Phase::Measure);
    let window_start = Instant::now();
    let window_end = window_start + config.duration;
    bar.set_length(config.duration.as_secs().max(1));
    let mut last_deltas = 0;
    let mut last_report = window_start;
    while Instant::now() < window_end {
        sleep(Duration::from_millis(250).min(window_end.saturating_duration_since(Instant::now())))
            .await;
        let now = Instant::now();
        let deltas = shared.deltas.load(std::sync::atomic::Ordering::Relaxed);
        let rate =
            (deltas - last_deltas) as f64 / now.duration_since(last_report).as_secs_f64().max(1e-3);
        let connected = shared
            .connected
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(1);
        bar.set_position(now.duration_since(window_start).as_secs());
        bar.set_message(format!(
            "{} connected, {:.1} deltas/s each",
            connected,
            rate / connected as f64
        ));
        last_deltas = deltas;
        last_report = now;
    }
    shared.set_phase(Phase::Done);
    let window = window_start.elapsed();
    let cpu = cpu_start
        .map(|start| start.elapsed().as_secs_f64())
        .unwrap_or(0.0);
    let server_end = scrape(&http, &target.metrics_url).await.ok();
    shared.stop.cancel();
    bar.finish_and_clear();

    let mut reports = Vec::with_capacity(bots.len());
    let deadline = Instant::now() + STOP_GRACE;
    for bot in bots {
        match tokio::time::timeout_at(deadline, bot).await {
            Ok(Ok(report)) => reports.push(report),
            _ => reports.push(BotReport {
                unexpected_close: Some("did not stop".into()),
                ..BotReport::default()
            }),
        }
    }
    let mut report = aggregate(
        config.clients,
        window,
        cpu,
        &reports,
        &shared,
        server_start.as_ref(),
        server_end.as_ref(),
    );
    report.server_rss_baseline_mb = baseline.map(|b| b / (1024.0 * 1024.0));
    report
}

fn aggregate(
    clients: usize,
    window: Duration,
    bots_cpu: f64,
    reports: &[BotReport],
    shared: &Shared,
    server_start: Option<&ServerFigures>,
    server_end: Option<&ServerFigures>,
) -> Report {
    let seconds = window.as_secs_f64().max(1e-3);
    let connected: Vec<&BotReport> = reports.iter().filter(|r| !r.connect_failed).collect();
    let per_client = |total: u64| {
        if connected.is_empty() {
            0.0
        } else {
            total as f64 / connected.len() as f64 / seconds
        }
    };
    let latency = shared.latency.lock();
    let ms = |micros: u64| micros as f64 / 1000.0;
    let (cpu, tick_p99, rss) = match (server_start, server_end) {
        (Some(start), Some(end)) => (
            start
                .cpu_seconds
                .zip(end.cpu_seconds)
                .map(|(a, b)| (b - a) / seconds),
            tick_quantile(start, end, 0.99).map(|s| s * 1000.0),
            end.rss_bytes.map(|b| b / (1024.0 * 1024.0)),
        ),
        _ => (None, None, None),
    };
    Report {
        clients: clients as u64,
        duration_s: seconds,
        deltas_per_client_s: per_client(connected.iter().map(|r| r.deltas).sum()),
        deltas_per_client_s_min: connected
            .iter()
            .map(|r| r.deltas as f64 / seconds)
            .reduce(f64::min)
            .unwrap_or(0.0),
        ticks_missed: connected.iter().map(|r| r.ticks_missed).sum(),
        bytes_per_client_s: per_client(connected.iter().map(|r| r.bytes).sum()),
        latency_p50_ms: ms(latency.value_at_quantile(0.5)),
        latency_p99_ms: ms(latency.value_at_quantile(0.99)),
        latency_max_ms: ms(latency.max()),
        latency_samples: latency.len(),
        connect_failures: reports.iter().filter(|r| r.connect_failed).count() as u64,
        unexpected_closes: reports
            .iter()
            .filter(|r| !r.connect_failed && r.unexpected_close.is_some())
            .count() as u64,
        reconnects: reports.iter().map(|r| u64::from(r.reconnects)).sum(),
        redirects: reports.iter().map(|r| u64::from(r.redirects)).sum(),
        outage_max_ms: reports
            .iter()
            .map(|r| r.longest_outage.as_secs_f64() * 1000.0)
            .fold(0.0, f64::max),
        close_reasons: {
            let mut reasons: Vec<String> = reports
                .iter()
                .filter_map(|r| r.unexpected_close.clone())
                .collect();
            reasons.sort();
            reasons.dedup();
            reasons.truncate(5);
            reasons
        },

        server_cpu_s_per_s: cpu,
        server_tick_p99_ms: tick_p99,
        server_rss_mb: rss,
        server_rss_baseline_mb: None,
        bots_cpu_s_per_s: bots_cpu / seconds,
    }
}

fn progress_bar(config: &RunConfig) -> ProgressBar {
    if !config.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(config.duration.as_secs().max(1));
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} s  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
