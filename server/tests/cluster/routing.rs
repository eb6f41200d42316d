//! Joining through any node lands on the session's owner: players, share links and
//! phones alike.

use arena_shared::limits::close_code;
use arena_shared::protocol::{ClientMessage, Pair, ServerMessage};

use super::harness::{Next, Node, ONE_AT_A_TIME, Player, Redis, next, open, send, until_cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_through_any_node_lands_on_the_owner_and_a_phone_pairs_through_another() {
    let _one = ONE_AT_A_TIME.lock().await;
    let redis = Redis::start();
    let nodes = [
        Node::start(&redis, &[]),
        Node::start(&redis, &[]),
        Node::start(&redis, &[]),
    ];
    until_cluster(&nodes[0], "three nodes", |c| {
        c["nodes"].as_array().is_some_and(|n| n.len() == 3)
    })
    .await;

    // Ann makes the session through node A; the share link works through B and C.
    let mut ann = Player::join(&nodes[0].ws(), "Ann", "share", None).await;
    let bob = Player::join(&nodes[1].ws(), "Bob", "share", None).await;
    let cat = Player::join(&nodes[2].ws(), "Cat", "share", None).await;
    let owner = ann.url.clone();
    assert_eq!(bob.url, owner, "Bob plays where Ann does");
    assert_eq!(cat.url, owner, "and so does Cat");
    let redirects = ann.redirects + bob.redirects + cat.redirects;
    assert_eq!(
        redirects, 2,
        "the two joins through other nodes were redirected once each"
    );
    assert!(
        cat.mirror.spawn(ann.you).is_some() && cat.mirror.spawn(bob.you).is_some(),
        "one game: Cat sees Ann and Bob"
    );

    // Every node says where the session is.
    for node in &nodes {
        let (status, body) = node.get("/match/share").await;
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(answer["url"], owner.as_str(), "{body}");
        assert_eq!(answer["here"], node.ws() == owner, "{body}");
    }
    let cluster = nodes[2].cluster().await;
    assert_eq!(
        cluster["nodes"].as_array().map(Vec::len),
        Some(3),
        "{cluster}"
    );
    assert_eq!(
        super::harness::owner_url(&cluster, "share").as_deref(),
        Some(owner.as_str())
    );

    // A phone pairs through a node that does not own the session, with Ann's code.
    ann.send(&ClientMessage::RequestPairCode).await;
    let code = loop {
        match next(&mut ann.ws).await {
            Next::Message(ServerMessage::PairCode(pair)) => break pair.code,
            Next::Message(_) => {}
            Next::Closed(code, reason) => panic!("Ann closed: {code} {reason}"),
        }
    };
    let elsewhere = nodes
        .iter()
        .find(|n| n.ws() != owner)
        .expect("a node that is not the owner");
    let mut phone = open(&elsewhere.ws()).await;
    send(
        &mut phone,
        &ClientMessage::Pair(Pair { code: code.clone() }),
    )
    .await;
    let moved_to = match next(&mut phone).await {
        Next::Closed(code, reason) if code == close_code::MOVED => reason,
        Next::Closed(code, reason) => panic!("the phone was refused: {code} {reason}"),
        Next::Message(message) => panic!("the phone expected a redirect, got {message:?}"),
    };
    assert_eq!(moved_to, owner, "sent to the session's owner");
    let mut phone = open(&moved_to).await;
    send(&mut phone, &ClientMessage::Pair(Pair { code })).await;
    loop {
        match next(&mut phone).await {
            Next::Message(ServerMessage::Paired(paired)) => {
                assert_eq!(paired.player, ann.you, "the phone steers Ann");
                assert_eq!(paired.session, "share");
                break;
            }
            Next::Message(_) => {}
            Next::Closed(code, reason) => panic!("pairing failed: {code} {reason}"),
        }
    }
    // Counted where the phone was redirected (the owner need not be the node Ann
    // joined through, so which other node redirected Bob is not fixed).
    let (_, metrics) = elsewhere.get("/metrics").await;
    assert!(
        metrics.contains("arena_cluster_redirects_total"),
        "redirects are counted"
    );
}
