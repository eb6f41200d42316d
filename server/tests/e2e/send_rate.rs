//! `network.send_hz`: the simulation keeps its tick rate while deltas go out less
//! often, each carrying everything since the last.

use arena_shared::protocol::{GameEvent, Role};

use super::common::{Client, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_half_the_send_rate_deltas_come_every_other_tick_and_miss_nothing() {
    let server = TestServer::start("[balls]\ncount = 4\n[network]\nsend_hz = 15\n").await;
    let mut ada = Client::join(&server, "ada", Some("half"), Role::Player).await;
    ada.ticks(3).await;
    let first = ada.mirror.tick();
    ada.ticks(10).await;
    assert_eq!(
        ada.mirror.tick().since(first),
        20,
        "ten deltas span twenty ticks of the simulation"
    );
    assert_eq!(ada.gaps, 0, "every delta follows the last by two ticks");

    let (towards, moved) = ada.steer_to_the_middle_for(15).await;
    assert!(
        moved * towards > 100.0,
        "a second of play at 200 units/s moves ~200 units, whatever the send rate: {moved}"
    );

    let bob = Client::join(&server, "bob", Some("half"), Role::Player).await;
    let bob_id = bob.me();
    ada.until("bob's join is seen", |c| {
        !c.seen(|e| matches!(e, GameEvent::PlayerJoined { id, .. } if *id == bob_id))
            .is_empty()
    })
    .await;
    drop(bob);
    ada.until("bob's departure is seen", |c| {
        !c.seen(|e| matches!(e, GameEvent::Connection { id, connected: false } if *id == bob_id))
            .is_empty()
    })
    .await;
    assert_eq!(ada.gaps, 0);
}
