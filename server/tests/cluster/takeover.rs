//! A node's death loses at most a second: kill -9 one of three nodes under 300 bots,
//! and its sessions resume on the live nodes from their checkpoints, while the other
//! nodes' players notice nothing. SIGTERM hands sessions over with nothing lost.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arena_server::checkpoint::Checkpoint;
use arena_shared::limits::close_code;

use super::harness::{Node, ONE_AT_A_TIME, PATIENCE, Player, Redis, owner_url, until_cluster};

/// `arena-bots`, built beside the server by `cargo test --workspace`.
fn bots_binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_arena-server")).with_file_name("arena-bots");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p arena-bench` (cargo test --workspace does)",
        path.display()
    );
    path
}

/// Starts `clients` bots over `sessions` sessions named `stem-N`, entering through `urls`.
fn bots(
    urls: &[String],
    clients: u32,
    sessions: u32,
    stem: &str,
    ramp: &str,
    duration: &str,
) -> Child {
    let mut command = Command::new(bots_binary());
    for url in urls {
        command.args(["--url", url]);
    }
    command
        .args([
            "--clients",
            &clients.to_string(),
            "--sessions",
            &sessions.to_string(),
        ])
        .args(["--session", stem, "--ramp", ramp, "--duration", duration])
        .args(["--threads", "1", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("arena-bots starts")
}

/// The bots' final JSON report.
fn report(bots: Child) -> serde_json::Value {
    let output = bots.wait_with_output().expect("arena-bots ends");
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|_| panic!("a JSON report: {text}"))
}

/// Long enough for every node to have published its record and read the others'.
const BEAT_AND_A_HALF: Duration = Duration::from_millis(750);

/// Connections on every node, by their records.
fn clients(cluster: &serde_json::Value) -> u64 {
    cluster["nodes"]
        .as_array()
        .map(|nodes| nodes.iter().filter_map(|n| n["clients"].as_u64()).sum())
        .unwrap_or(0)
}

fn sessions_of(cluster: &serde_json::Value, stem: &str) -> Vec<(String, String)> {
    cluster["sessions"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|s| s["code"].as_str().is_some_and(|c| c.starts_with(stem)))
                .map(|s| {
                    let code = s["code"].as_str().unwrap_or_default().to_owned();
                    (code, s["url"].as_str().unwrap_or_default().to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn checkpoint_of(redis: &Redis, code: &str) -> Checkpoint {
    let mut con = redis.connection().await;
    let bytes: Vec<u8> = redis::cmd("GET")
        .arg(format!("arena:checkpoint:{code}"))
        .query_async(&mut con)
        .await
        .expect("Redis answers");
    Checkpoint::decode(&bytes).expect("the dead node's last checkpoint")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_sessions_resume_on_live_nodes_and_nobody_else_notices() {
    let _one = ONE_AT_A_TIME.lock().await;
    let redis = Redis::start();
    let (a, b) = (Node::start(&redis, &[]), Node::start(&redis, &[]));
    until_cluster(&a, "two nodes", |c| {
        c["nodes"].as_array().is_some_and(|n| n.len() == 2)
    })
    .await;
    // Each node reads the others' records on its heartbeat: let both have beaten.
    tokio::time::sleep(BEAT_AND_A_HALF).await;

    // 200 bots in 20 sessions on A and B, playing through the whole test.
    let stay = bots(&[a.ws(), b.ws()], 200, 20, "stay", "3s", "18s");
    until_cluster(&a, "the stay bots", |c| {
        sessions_of(c, "stay-").len() == 20 && clients(c) == 200
    })
    .await;

    // C joins last, with nothing to do: the next sessions go there first.
    let mut c = Node::start(&redis, &[]);
    until_cluster(&a, "three nodes", |c| {
        c["nodes"].as_array().is_some_and(|n| n.len() == 3)
    })
    .await;
    // Past C's first ticks (slow ones, in a debug build), its measured load is nothing.
    tokio::time::sleep(2 * BEAT_AND_A_HALF).await;
    let mut watcher = Player::join(&c.ws(), "Watcher", "move-x", None).await;
    assert_eq!(
        watcher.url,
        c.ws(),
        "a new session goes to the idle node: {}",
        c.cluster().await
    );
    let moving = bots(&[c.ws(), a.ws(), b.ws()], 100, 10, "move", "2s", "11s");
    let cluster = until_cluster(&a, "the move sessions", |c| {
        sessions_of(c, "move-").len() == 11
    })
    .await;
    let on_c = sessions_of(&cluster, "move-")
        .iter()
        .filter(|(code, url)| *url == c.ws() && code != "move-x")
        .count();
    assert!(on_c > 0, "some bots' sessions run on C: {cluster}");
    watcher
        .until("a few ticks", |p| p.mirror.tick().0 >= 60)
        .await;
    // A checkpoint a second: wait past one, then kill -9.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    c.kill();
    let killed = Instant::now();
    let last = checkpoint_of(&redis, "move-x").await;
    let saved = last
        .players
        .iter()
        .find(|p| p.id == watcher.you.0)
        .expect("the watcher is in it");
    assert_eq!(saved.token, watcher.token, "its current reconnect token");
    let (code, _) = watcher.closed().await;
    assert_eq!(code, 1006, "the node died without a word");

    // The watcher comes back through A, with its token, as its page would.
    let back = Player::join(&a.ws(), "Watcher", "move-x", Some(&watcher.token)).await;
    let resumed_in = killed.elapsed();
    assert!(back.resumed, "taken back by its token on a live node");
    assert_eq!(back.you, watcher.you, "the same entity");
    assert_eq!(
        back.score(),
        saved.score,
        "with the score of the last checkpoint"
    );
    assert_ne!(back.url, c.ws());
    eprintln!("the watcher played again {resumed_in:?} after the kill");
    let after = until_cluster(&a, "C's sessions on live nodes", |cl| {
        cl["nodes"].as_array().is_some_and(|n| n.len() == 2)
            && sessions_of(cl, "move-")
                .iter()
                .all(|(_, url)| *url != c.ws() && !url.is_empty())
    })
    .await;
    assert_eq!(
        owner_url(&after, "move-x").as_deref(),
        Some(back.url.as_str())
    );

    let moved = report(moving);
    let stayed = report(stay);
    eprintln!("bots that moved: {moved}\nbots that stayed: {stayed}");
    for (name, r) in [("moved", &moved), ("stayed", &stayed)] {
        assert_eq!(r["connect_failures"], 0, "{name}: {r}");
        assert_eq!(r["unexpected_closes"], 0, "{name}: nobody gave up: {r}");
    }
    assert_eq!(
        moved["reconnects"].as_u64(),
        Some(10 * on_c as u64),
        "exactly the bots of C's sessions reconnected: {moved}"
    );
    let outage = moved["outage_max_ms"].as_f64().unwrap_or(f64::MAX);
    assert!(
        outage <= 5000.0,
        "every bot of C played again within 5 s: {outage} ms"
    );
    assert_eq!(stayed["reconnects"], 0, "{stayed}");
    let slowest = stayed["deltas_per_client_s_min"].as_f64().unwrap_or(0.0);
    assert!(
        slowest >= 29.5,
        "the other nodes' bots noticed nothing: {stayed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hands_sessions_over_with_nothing_lost() {
    let _one = ONE_AT_A_TIME.lock().await;
    let redis = Redis::start();
    // No balls: scores change only when these two players ram each other.
    let mut nodes = [
        Node::start(&redis, &["--balls", "0"]),
        Node::start(&redis, &["--balls", "0"]),
    ];
    until_cluster(&nodes[0], "two nodes", |c| {
        c["nodes"].as_array().is_some_and(|n| n.len() == 2)
    })
    .await;
    let mut ann = Player::join(&nodes[0].ws(), "Ann", "calm", None).await;
    let mut bob = Player::join(&nodes[1].ws(), "Bob", "calm", None).await;
    assert_eq!(ann.url, bob.url);

    // Ann drives at Bob until she scores, then both stand still.
    let mut seq = 0;
    while ann.score() == 0 {
        let (me, him) = (ann.mirror.state(ann.you), ann.mirror.state(bob.you));
        if let (Some(me), Some(him)) = (me, him) {
            let (dx, dy) = ((him.x - me.x) as f32, (him.y - me.y) as f32);
            let len = dx.hypot(dy).max(1.0);
            seq += 1;
            let (x, y) = arena_shared::quantize::direction_to_wire(dx / len, dy / len);
            ann.send(&arena_shared::protocol::ClientMessage::Move(
                arena_shared::protocol::Move { seq, dx: x, dy: y },
            ))
            .await;
        }
        let tick = ann.mirror.tick().0;
        ann.until("a tick", |p| p.mirror.tick().0 > tick).await;
        assert!(seq < 600, "Ann never reached Bob");
    }
    seq += 1;
    ann.send(&arena_shared::protocol::ClientMessage::Move(
        arena_shared::protocol::Move { seq, dx: 0, dy: 0 },
    ))
    .await;
    let tick = ann.mirror.tick().0;
    ann.until("standing still", |p| p.mirror.tick().0 > tick + 30)
        .await;
    bob.until("Ann's points", |p| {
        p.mirror.score(ann.you) == ann.mirror.score(ann.you)
    })
    .await;
    let (ann_score, bob_score) = (ann.score(), ann.mirror.score(bob.you).unwrap_or(0));
    assert!(ann_score > 0);

    let owner = nodes
        .iter()
        .position(|n| n.ws() == ann.url)
        .expect("one of the two");
    let other = nodes[1 - owner].ws();
    let started = Instant::now();
    nodes[owner].terminate();
    for player in [&mut ann, &mut bob] {
        let (code, url) = player.closed().await;
        assert_eq!(
            (code, url.as_str()),
            (close_code::MOVED, other.as_str()),
            "sent to the other node"
        );
    }
    nodes[owner].ended().await;
    let ann_back = Player::join(&other, "Ann", "calm", Some(&ann.token)).await;
    let bob_back = Player::join(&other, "Bob", "calm", Some(&bob.token)).await;
    eprintln!("handed over and back in {:?}", started.elapsed());
    assert!(ann_back.resumed && bob_back.resumed);
    assert_eq!(
        (ann_back.you, bob_back.you),
        (ann.you, bob.you),
        "the same entities"
    );
    assert_eq!(ann_back.score(), ann_score, "Ann's score exact");
    assert_eq!(
        bob_back.mirror.score(bob.you).unwrap_or(0),
        bob_score,
        "Bob's too"
    );
    assert_eq!(
        ann_back.redirects, 0,
        "the lease was handed to the node they were sent to"
    );
    assert!(started.elapsed() < PATIENCE);
}
