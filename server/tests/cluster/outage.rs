//! Redis trouble: sessions play on while it is away, joins that need it are refused
//! with 1013, and the directory is whole again soon after it is back.

use std::time::{Duration, Instant};

use arena_shared::limits::close_code;
use arena_shared::protocol::{ClientMessage, Hello, Role};

use super::harness::{
    Next, Node, ONE_AT_A_TIME, Player, Redis, next, open, owner_url, send, until_cluster,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_play_on_while_redis_is_away_and_the_directory_heals_when_it_is_back() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut redis = Redis::start();
    let mut nodes = [Node::start(&redis, &[]), Node::start(&redis, &[])];
    until_cluster(&nodes[0], "two nodes", |c| {
        c["nodes"].as_array().is_some_and(|n| n.len() == 2)
    })
    .await;
    let mut ann = Player::join(&nodes[0].ws(), "Ann", "one", None).await;
    let mut bob = Player::join(&nodes[1].ws(), "Bob", "two", None).await;
    let cluster = until_cluster(&nodes[0], "both sessions", |c| {
        owner_url(c, "one").is_some() && owner_url(c, "two").is_some()
    })
    .await;

    redis.stop();
    let stopped = Instant::now();
    // Ten seconds without Redis: both sessions tick on (300 ticks at 30 Hz).
    let (ann_from, bob_from) = (ann.mirror.tick().0, bob.mirror.tick().0);
    ann.until("ticks without Redis", |p| {
        p.mirror.tick().0 >= ann_from + 150
    })
    .await;
    // A join for a session this node does not run needs the directory: a clear 1013.
    let elsewhere = nodes
        .iter()
        .find(|n| n.ws() != ann.url)
        .expect("the other node");
    let mut carl = open(&elsewhere.ws()).await;
    send(
        &mut carl,
        &ClientMessage::Hello(Hello {
            name: "Carl".into(),
            session: Some("one".into()),
            role: Role::Player,
            reconnect: None,
        }),
    )
    .await;
    match next(&mut carl).await {
        Next::Closed(code, reason) => {
            assert_eq!(code, close_code::TRY_AGAIN_LATER, "{reason}");
            assert!(reason.contains("unreachable"), "{reason}");
        }
        Next::Message(message) => panic!("Carl expected a refusal, got {message:?}"),
    }
    // Players of a session a node runs still join it.
    let dan = Player::join(&bob.url.clone(), "Dan", "two", None).await;
    assert_eq!(dan.redirects, 0);
    let left = Duration::from_secs(10).saturating_sub(stopped.elapsed());
    tokio::time::sleep(left).await;
    ann.until("more ticks", |p| p.mirror.tick().0 >= ann_from + 300)
        .await;
    bob.until("Bob's ticks", |p| p.mirror.tick().0 >= bob_from + 300)
        .await;
    assert!(nodes.iter_mut().all(Node::running), "no node fell over");
    let (_, metrics) = nodes[0].get("/metrics").await;
    assert!(
        metrics.contains("arena_cluster_redis_errors_total"),
        "Redis errors are counted"
    );

    // Redis is back, empty: the nodes register again and take their leases back.
    redis.start_again();
    let back = Instant::now();
    let healed = until_cluster(&nodes[1], "the directory whole again", |c| {
        c["nodes"].as_array().is_some_and(|n| n.len() == 2)
            && owner_url(c, "one") == owner_url(&cluster, "one")
            && owner_url(c, "two") == owner_url(&cluster, "two")
    })
    .await;
    eprintln!(
        "directory whole {:?} after Redis came back: {healed}",
        back.elapsed()
    );
    assert!(back.elapsed() < Duration::from_secs(5), "within 5 s");
    let carl = Player::join(&nodes[1].ws(), "Carl", "one", None).await;
    assert_eq!(carl.url, ann.url, "cross-node joins work again");
}
