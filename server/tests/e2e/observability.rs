//! `/healthz` and `/metrics` tell an operator what the server is doing.

use arena_shared::protocol::Role;
use tokio_tungstenite::tungstenite::Message;

use super::common::{Client, TestServer, get, sample, total};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_ticks_inputs_traffic_and_protocol_errors() {
    let server = TestServer::start_with_workers("", 2).await;
    let mut ada = Client::join(&server, "ada", Some("obs"), Role::Player).await;
    for _ in 0..3 {
        ada.steer(1.0, 0.0).await;
    }
    ada.ticks(5).await;
    let mut rude = Client::join(&server, "rude", Some("obs"), Role::Player).await;
    rude.send_raw(Message::Binary(vec![0xc1].into())).await;
    rude.closed().await;
    ada.ticks(40).await;

    let (status, text) = get(&server, "/metrics").await;
    assert_eq!(status, 200);
    for name in [
        "arena_connections",
        "arena_sessions",
        "arena_entities",
        "arena_ticks_total",
        "arena_bytes_sent_total",
        "arena_messages_sent_total",
        "arena_inputs_received_total",
        "arena_deltas_dropped_total",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    ] {
        assert!(total(&text, name).is_some(), "/metrics has {name}:\n{text}");
    }
    for worker in ["0", "1"] {
        let ticks = format!("arena_ticks_total{{worker=\"{worker}\"}}");
        assert!(
            sample(&text, &ticks).unwrap_or(0.0) >= 40.0,
            "each of the two tick workers keeps its own cadence and is counted apart:\n{text}"
        );
    }
    for name in ["arena_worker_sessions", "arena_worker_connections"] {
        for worker in ["0", "1"] {
            assert!(
                sample(&text, &format!("{name}{{worker=\"{worker}\"}}")).is_some(),
                "{name} is a gauge per tick worker:\n{text}"
            );
        }
    }
    // The recorder is the process's, shared by every test's server: per-server
    // figures come from the server's own counters.
    assert_eq!(
        server.stats.worker_sessions().iter().sum::<usize>(),
        1,
        "the session runs on one worker"
    );
    assert_eq!(
        server.stats.worker_connections().iter().sum::<usize>(),
        1,
        "ada is counted on her session's worker"
    );
    assert!(sample(&text, "arena_inputs_received_total").unwrap_or(0.0) >= 3.0);
    assert!(sample(&text, "arena_messages_sent_total").unwrap_or(0.0) >= 45.0);
    assert!(
        sample(&text, "arena_protocol_errors_total{kind=\"malformed\"}").unwrap_or(0.0) >= 1.0,
        "the malformed message is counted by kind:\n{text}"
    );
    assert!(
        text.contains("arena_tick_duration_seconds_bucket{worker=\"0\",le=\"0.001\"}"),
        "tick durations are a histogram per worker with sub-millisecond buckets:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_reports_this_servers_state() {
    let server = TestServer::start("").await;
    let mut ada = Client::join(&server, "ada", Some("h"), Role::Player).await;
    ada.ticks(3).await;
    let (status, text) = get(&server, "/healthz").await;
    assert_eq!(status, 200);
    assert!(text.starts_with("ok\n"), "{text}");
    assert_eq!(sample(&text, "connections"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "sessions"), Some(1.0), "{text}");
    assert!(
        sample(&text, "tick_workers").is_some_and(|n| n >= 1.0),
        "{text}"
    );
}
