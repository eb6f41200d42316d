//! Reading the server's own figures from its Prometheus `/metrics`: CPU seconds, RSS
//! and each tick worker's tick duration histogram, scraped at the start and end of a
//! run.

use std::collections::BTreeMap;

/// The server figures a run uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerFigures {
    /// `process_cpu_seconds_total`.
    pub cpu_seconds: Option<f64>,
    /// `process_resident_memory_bytes`.
    pub rss_bytes: Option<f64>,
    /// `arena_tick_duration_seconds_bucket` per tick worker (its `worker` label, empty
    /// without one): upper bound (seconds) to cumulative count.
    pub tick_buckets: BTreeMap<String, Vec<(f64, f64)>>,
}

/// Fetches and parses `/metrics`.
pub async fn scrape(client: &reqwest::Client, url: &str) -> Result<ServerFigures, reqwest::Error> {
    match fetch(client, url).await {
        Ok(text) => Ok(parse(&text)),
        // The server closes a keep-alive connection idle for 10 s (its header timeout),
        // and the scrapes are a run apart: a pooled connection may have just been closed.
        Err(_) => Ok(parse(&fetch(client, url).await?)),
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<String, reqwest::Error> {
    client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await
}

/// Parses the Prometheus text exposition for the figures we use.
pub fn parse(text: &str) -> ServerFigures {
    let mut figures = ServerFigures::default();
    let mut buckets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.trim().parse::<f64>() else {
            continue;
        };
        match name {
            "process_cpu_seconds_total" => figures.cpu_seconds = Some(value),
            "process_resident_memory_bytes" => figures.rss_bytes = Some(value),
            _ => {
                if let Some((worker, le)) = name
                    .strip_prefix("arena_tick_duration_seconds_bucket{")
                    .and_then(|rest| rest.strip_suffix("\"}"))
                    .and_then(bucket_labels)
                {
                    let bound = if le == "+Inf" {
                        f64::INFINITY
                    } else {
                        le.parse().unwrap_or(f64::NAN)
                    };
                    if !bound.is_nan() {
                        buckets
                            .entry(worker.to_owned())
                            .or_default()
                            .push((bound, value));
                    }
                }
            }
        }
    }
    for worker in buckets.values_mut() {
        worker.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    figures.tick_buckets = buckets;
    figures
}

/// The `worker` label (empty if none) and the `le` bound of a bucket's labels, as in
/// `worker="0",le="0.001` (the closing quote and brace already cut).
fn bucket_labels(labels: &str) -> Option<(&str, &str)> {
    let (worker, le) = match labels.split_once(",le=\"") {
        Some((worker, le)) => (worker.strip_prefix("worker=\"")?.strip_suffix('"')?, le),
        None => ("", labels.strip_prefix("le=\"")?),
    };
    Some((worker, le))
}

/// The `q` quantile (0..1) in seconds of the ticks run between two scrapes by the
/// worker whose quantile is highest, linearly interpolated within its bucket; `None`
/// without ticks or buckets.
pub fn tick_quantile(start: &ServerFigures, end: &ServerFigures, q: f64) -> Option<f64> {
    end.tick_buckets
        .iter()
        .filter_map(|(worker, buckets)| {
            let before = start
                .tick_buckets
                .get(worker)
                .map_or(&[][..], Vec::as_slice);
            worker_quantile(before, buckets, q)
        })
        .max_by(f64::total_cmp)
}

fn worker_quantile(start: &[(f64, f64)], end: &[(f64, f64)], q: f64) -> Option<f64> {
    let counts: Vec<(f64, f64)> = end
        .iter()
        .map(|&(bound, count)| {
            let before = start
                .iter()
                .find(|(b, _)| *b == bound)
                .map_or(0.0, |(_, c)| *c);
            (bound, count - before)
        })
        .collect();
    let total = counts.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let wanted = q * total;
    let mut lower = 0.0;
    let mut below = 0.0;
    for (bound, cumulative) in counts {
        if cumulative >= wanted {
            if bound.is_infinite() {
                return Some(lower);
            }
            let in_bucket = cumulative - below;
            let fraction = if in_bucket > 0.0 {
                (wanted - below) / in_bucket
            } else {
                1.0
            };
            return Some(lower + fraction * (bound - lower));
        }
        lower = bound;
        below = cumulative;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = "# TYPE x counter\nprocess_cpu_seconds_total 10\n\
        arena_tick_duration_seconds_bucket{le=\"0.001\"} 100\n\
        arena_tick_duration_seconds_bucket{le=\"0.002\"} 100\n\
        arena_tick_duration_seconds_bucket{le=\"+Inf\"} 100\n";
    const END: &str = "process_cpu_seconds_total 12.5\nprocess_resident_memory_bytes 31457280\n\
        arena_tick_duration_seconds_bucket{le=\"0.001\"} 150\n\
        arena_tick_duration_seconds_bucket{le=\"0.002\"} 200\n\
        arena_tick_duration_seconds_bucket{le=\"+Inf\"} 200\n";

    #[test]
    fn figures_are_read_from_the_exposition() {
        let end = parse(END);
        assert_eq!(end.cpu_seconds, Some(12.5));
        assert_eq!(end.rss_bytes, Some(31_457_280.0));
        assert_eq!(end.tick_buckets[""].len(), 3);
    }

    #[test]
    fn the_busiest_worker_gives_the_quantile() {
        let start = parse(
            "arena_tick_duration_seconds_bucket{worker=\"0\",le=\"0.001\"} 0\n\
             arena_tick_duration_seconds_bucket{worker=\"0\",le=\"+Inf\"} 0\n",
        );
        let end = parse(
            "arena_tick_duration_seconds_bucket{worker=\"0\",le=\"0.001\"} 100\n\
             arena_tick_duration_seconds_bucket{worker=\"0\",le=\"0.002\"} 100\n\
             arena_tick_duration_seconds_bucket{worker=\"0\",le=\"+Inf\"} 100\n\
             arena_tick_duration_seconds_bucket{worker=\"1\",le=\"0.001\"} 0\n\
             arena_tick_duration_seconds_bucket{worker=\"1\",le=\"0.002\"} 100\n\
             arena_tick_duration_seconds_bucket{worker=\"1\",le=\"+Inf\"} 100\n",
        );
        let p99 = tick_quantile(&start, &end, 0.99).expect("ticks ran");
        assert!(p99 > 0.001, "worker 1's slow ticks set the figure: {p99}");
    }

    #[test]
    fn quantiles_come_from_the_ticks_between_scrapes() {
        let (start, end) = (parse(START), parse(END));
        // Between the scrapes: 50 ticks under 1 ms, 50 between 1 and 2 ms.
        let p50 = tick_quantile(&start, &end, 0.5).expect("ticks ran");
        assert!((p50 - 0.001).abs() < 1e-9, "{p50}");
        let p99 = tick_quantile(&start, &end, 0.99).expect("ticks ran");
        assert!((p99 - 0.00198).abs() < 1e-6, "{p99}");
        assert_eq!(
            tick_quantile(&end, &end, 0.99),
            None,
            "no ticks, no quantile"
        );
    }
}
