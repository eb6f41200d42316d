//! Interest management through real sockets: a player walks across a big world, and at
//! the end its mirror, built from its views alone, holds exactly what a client that has
//! just started watching the same cells is sent in full from the server's own state.

use std::collections::{BTreeMap, BTreeSet};

use arena_shared::protocol::{ClientMessage, EntityId, EntityState, Look, Role, ServerMessage};
use arena_shared::quantize::position_from_wire;

use super::common::{Client, Incoming, TestServer};

const BIG: &str = "[arena]\nwidth = 4000\nheight = 3000\n[balls]\ncount = 200\n\
                   [players]\nspeed = 1000\n[network]\nsend_hz = 10\n\
                   [interest]\ncell_size = 400\nview_radius = 400\n";

/// The next view (applied to the client's mirror); its tick.
async fn next_view(client: &mut Client) -> u32 {
    loop {
        match client.recv().await {
            Incoming::Message(ServerMessage::View(view)) => return view.tick.0,
            Incoming::Message(ServerMessage::Delta(_) | ServerMessage::Snapshot(_)) => {
                panic!("a big world sends views, never deltas or snapshots")
            }
            Incoming::Message(_) => {}
            Incoming::Closed { code, reason } => panic!("closed {code}: {reason}"),
        }
    }
}

fn known(client: &Client) -> BTreeMap<EntityId, EntityState> {
    client
        .mirror
        .ids()
        .filter_map(|id| Some((id, client.mirror.state(id)?)))
        .collect()
}

/// Steers `walker` along (x, y) until its own x or y passes `until` (units), reading
/// views; the cells it went through are added to `cells`.
async fn walk(
    walker: &mut Client,
    (x, y): (f32, f32),
    until: impl Fn(f32, f32) -> bool,
    cells: &mut BTreeSet<u32>,
) {
    let me = walker.me();
    walker.steer(x, y).await;
    for _ in 0..400 {
        next_view(walker).await;
        let now = walker
            .mirror
            .state(me)
            .expect("a player always sees itself");
        cells.extend(walker.mirror.cell(me));
        if until(position_from_wire(now.x), position_from_wire(now.y)) {
            return;
        }
    }
    panic!("the walker never got there");
}

#[tokio::test]
async fn a_player_walking_across_a_big_world_knows_exactly_what_is_in_its_cells() {
    let server = TestServer::start(BIG).await;
    let mut walker = Client::join(&server, "walker", Some("big"), Role::Player).await;
    let me = walker.me();
    let mut cells = BTreeSet::new();
    // Right to the east wall, down, left to the west wall, up: around the whole world.
    walk(&mut walker, (1.0, 0.0), |x, _| x > 3_800.0, &mut cells).await;
    walk(&mut walker, (0.0, 1.0), |_, y| y > 2_800.0, &mut cells).await;
    walk(&mut walker, (-1.0, 0.0), |x, _| x < 200.0, &mut cells).await;
    walk(&mut walker, (0.0, -1.0), |_, y| y < 200.0, &mut cells).await;
    let seq = walker.steer(0.0, 0.0).await;
    while walker.mirror.ack(me) != Some(seq) {
        next_view(&mut walker).await;
    }
    assert!(cells.len() >= 25, "it crossed {} cells", cells.len());
    assert_eq!(walker.gaps, 0, "every view followed the last");

    // A spectator that starts following the walker now is sent the walker's cells in
    // full: what the server holds there.
    let mut follower = Client::join(&server, "follower", Some("big"), Role::Spectator).await;
    follower
        .send(&ClientMessage::Look(Look::Follow { id: me }))
        .await;
    let (mut a, mut b) = (next_view(&mut walker).await, next_view(&mut follower).await);
    let mut compared = 0;
    for _ in 0..60 {
        if a < b {
            a = next_view(&mut walker).await;
        } else if b < a {
            b = next_view(&mut follower).await;
        } else {
            let (mine, theirs) = (known(&walker), known(&follower));
            if compared > 0 || mine == theirs {
                assert_eq!(
                    mine, theirs,
                    "tick {a}: no ghost, nothing missing, the same states"
                );
                compared += 1;
            }
            if compared == 5 {
                break;
            }
            a = next_view(&mut walker).await;
            b = next_view(&mut follower).await;
        }
    }
    assert_eq!(
        compared, 5,
        "the follower's view caught up with the walker's"
    );
    assert!(known(&walker).contains_key(&me));
    assert!(
        known(&walker).len() < 201 / 2,
        "the walker knows only what is near it: {}",
        known(&walker).len()
    );
    server.stop().await;
}
