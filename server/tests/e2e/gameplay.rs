//! Inputs, movement, collisions and stillness, through real sockets.

use arena_shared::protocol::{GameEvent, Role};

use super::common::{Client, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_changes_the_players_position_and_is_acknowledged() {
    let server = TestServer::start("[balls]\ncount = 0\n").await;
    let mut ada = Client::join(&server, "ada", Some("m"), Role::Player).await;
    let me = ada.me();
    ada.ticks(2).await;
    let start = ada.mirror.state(me).expect("ada is in her own world");
    let (towards, moved) = ada.steer_to_the_middle_for(15).await;
    let now = ada.mirror.state(me).expect("still there");
    assert!(
        moved * towards > 50.0,
        "half a second at 200 units/s moves ~100 units, moved {moved}"
    );
    assert_eq!(now.y, start.y, "a horizontal move keeps y");
    assert!(
        now.vx * (towards as i32) > 0,
        "the reported velocity points the way we steer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_driven_into_each_other_collide_once_for_everyone_and_stop_still() {
    let server = TestServer::start(
        "[balls]\ncount = 0\n[arena]\nwidth = 500\nheight = 400\n[players]\nspeed = 300\n",
    )
    .await;
    let mut ada = Client::join(&server, "ada", Some("c"), Role::Player).await;
    let mut bob = Client::join(&server, "bob", Some("c"), Role::Player).await;
    let mut eye = Client::join(&server, "eye", Some("c"), Role::Spectator).await;
    let (a, b) = (ada.me(), bob.me());
    ada.until("ada sees bob", |c| c.mirror.state(b).is_some())
        .await;

    let (pa, pb) = (
        ada.mirror.state(a).expect("a"),
        ada.mirror.state(b).expect("b"),
    );
    let (dx, dy) = ((pb.x - pa.x) as f32, (pb.y - pa.y) as f32);
    ada.steer(dx, dy).await;
    bob.steer(-dx, -dy).await;
    let collided = GameEvent::Collided {
        a: a.min(b),
        b: a.max(b),
    };
    ada.until("ada and bob collide", |c| {
        !c.seen(|e| *e == collided).is_empty()
    })
    .await;
    ada.steer(0.0, 0.0).await;
    bob.steer(0.0, 0.0).await;
    let still = |id| GameEvent::Still { id };
    ada.until("both are still", |c| {
        !c.seen(|e| *e == still(a)).is_empty() && !c.seen(|e| *e == still(b)).is_empty()
    })
    .await;
    ada.ticks(20).await;
    let end = ada.mirror.tick();

    for client in [&mut bob, &mut eye] {
        client
            .until("this socket has seen the same ticks", |c| {
                c.mirror.tick().0 >= end.0
            })
            .await;
    }
    for (who, client) in [("ada", &ada), ("bob", &bob), ("the spectator", &eye)] {
        let collisions = client.seen(|e| matches!(e, GameEvent::Collided { .. }));
        assert_eq!(
            collisions,
            vec![collided.clone()],
            "{who} sees exactly one collision"
        );
        for id in [a, b] {
            assert_eq!(
                client.seen(|e| *e == still(id)).len(),
                1,
                "{who} sees {id:?} stop once"
            );
        }
    }
}
