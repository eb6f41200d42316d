//! Interest management through a session without sockets: each viewer's mirror, built
//! from its views alone, holds exactly what the server holds in the cells it sees.

use std::collections::{BTreeMap, BTreeSet};

use arena_shared::cells::CellGrid;
use arena_shared::mirror::Mirror;
use arena_shared::protocol::{Around, CellNews, EntityState, Look, Spawn};

use super::*;
use crate::sim::DRIFT_QUANTA;

const BIG: &str = "[arena]\nwidth = 4000\nheight = 3000\n[balls]\ncount = 300\n\
                   [interest]\ncell_size = 400\nview_radius = 400\n";

/// What a client knows of an entity, or the server holds: its motion and fixed facts.
type Known = BTreeMap<EntityId, (EntityState, Spawn)>;

/// A client's mirror, fed every message it was sent.
struct Viewer {
    client: Client,
    mirror: Mirror,
    views: usize,
    /// Views that said what they are around: the cells in view changed.
    arounds: usize,
}

impl Viewer {
    fn read(&mut self) {
        for message in decoded(&mut self.client) {
            match message {
                ServerMessage::Welcome(welcome) => {
                    let view = welcome.view.expect("a Welcome says cells are in use");
                    assert!(welcome.snapshot.states.is_empty(), "and holds no entity");
                    self.mirror.reset(&welcome.snapshot);
                    self.mirror.set_cells(CellGrid::new(&view, &welcome.arena));
                    self.mirror
                        .set_step(u32::from(welcome.tick_hz / welcome.send_hz.max(1)));
                }
                ServerMessage::View(view) => {
                    self.mirror
                        .apply_view(&view)
                        .expect("views follow each other");
                    self.views += 1;
                    self.arounds += usize::from(view.around.is_some());
                }
                ServerMessage::Delta(_) | ServerMessage::Snapshot(_) => {
                    panic!("no whole-world message with interest management")
                }
                _ => {}
            }
        }
    }

    fn states(&self) -> Known {
        self.mirror
            .ids()
            .filter_map(|id| Some((id, (self.mirror.state(id)?, self.mirror.spawn(id)?.clone()))))
            .collect()
    }
}

fn viewer(session: &mut Session, conn: ConnId, role: Role) -> (Viewer, Arc<InputSlot>) {
    let (client, input) = join(session, conn, role, ROOMY);
    let viewer = Viewer {
        client,
        mirror: Mirror::default(),
        views: 0,
        arounds: 0,
    };
    (viewer, input)
}

/// What the server holds in the cells seen from `around`, as the cohort sent at the
/// last tick is told it, checked against the ECS: the same entities, spawns and points,
/// each within the drift of its true motion.
fn truth(session: &mut Session, around: Around) -> Known {
    let grid = session.sim.grid().expect("cells");
    let mut cells = Vec::new();
    grid.seen(around, &mut cells);
    let mut out = BTreeMap::new();
    let mut written = CellNews::default();
    for cell in cells {
        // What the server sends of a cell in full, from what its cells keep.
        session.sim.write_cell(cell, &mut written);
        let origin = grid.origin(cell);
        let sent: Known = (written.entered.iter().zip(&written.spawns))
            .map(|(a, spawn)| (a.id, (a.state(origin), spawn.clone())))
            .collect();
        let world = session.sim.cell_as_the_world_has_it(cell);
        assert_eq!(
            sent.keys().collect::<BTreeSet<_>>(),
            world.iter().map(|(s, ..)| &s.id).collect::<BTreeSet<_>>(),
            "cell {cell}: no ghost, nothing missing"
        );
        for (state, spawn, points) in &world {
            let (held, told) = &sent[&state.id];
            assert_eq!(told, spawn, "cell {cell}");
            assert_eq!(
                (held.vx, held.vy),
                (state.vx, state.vy),
                "{held:?} {state:?}"
            );
            assert!(
                (held.x - state.x).abs() <= DRIFT_QUANTA
                    && (held.y - state.y).abs() <= DRIFT_QUANTA,
                "cell {cell}: {held:?} has drifted from {state:?}"
            );
            let scored = written.scores.iter().find(|s| s.id == state.id);
            assert_eq!(scored.map_or(0, |s| s.points), *points, "{spawn:?}");
        }
        out.extend(sent);
    }
    out
}

/// Players `0..count` joined, each set off in a direction of its own.
fn steering_players(session: &mut Session, count: u64) -> Vec<Client> {
    (0..count)
        .map(|conn| {
            let (client, input) = join(session, conn, Role::Player, ROOMY);
            input.store(Move {
                seq: 1,
                dx: ((conn * 37) % 255) as i8,
                dy: ((conn * 53 + 90) % 255) as i8,
            });
            client
        })
        .collect()
}

/// What a player's view is around: where it was at the last send.
fn around(session: &Session, player: EntityId) -> Around {
    let (x, y) = session.sim.position_of(player).expect("placed");
    Around::Point { x, y }
}

#[test]
fn a_player_walking_across_the_world_knows_exactly_the_cells_around_it() {
    let mut session = Session::new("t".into(), &tunables(BIG), 7);
    let (mut walker, input) = viewer(&mut session, 1, Role::Player);
    let fanout = FanoutPool::inline();
    session.tick(&fanout);
    walker.read();
    let me = session.player_of(1).expect("a player");
    // Right, down, left, up, and a diagonal: across the whole world and back.
    let legs: [(i8, i8, u32); 5] = [
        (127, 0, 650),
        (0, 127, 480),
        (-127, 0, 650),
        (0, -127, 480),
        (90, 90, 500),
    ];
    let mut seq = 0;
    let mut crossings = 0;
    let mut last_cell = session.sim.cell_of(me);
    let grid = session.sim.grid().expect("cells");
    let (mut in_reach, mut last_in_reach, mut changes) = (Vec::new(), Vec::new(), 0);
    for (dx, dy, ticks) in legs {
        seq += 1;
        input.store(Move { seq, dx, dy });
        for _ in 0..ticks {
            session.tick(&fanout);
            walker.read();
            let cell = session.sim.cell_of(me).expect("the walker is placed");
            if Some(cell) != last_cell {
                crossings += 1;
                last_cell = Some(cell);
            }
            let seen_from = around(&session, me);
            grid.seen(seen_from, &mut in_reach);
            if in_reach != last_in_reach {
                changes += 1;
                std::mem::swap(&mut in_reach, &mut last_in_reach);
            }
            let truth = truth(&mut session, seen_from);
            let known = walker.states();
            assert_eq!(
                known.keys().collect::<Vec<_>>(),
                truth.keys().collect::<Vec<_>>(),
                "tick {:?}: no ghost, nothing missing",
                session.sim.tick()
            );
            assert_eq!(known, truth, "and every state as the server believes it");
        }
    }
    assert!(crossings >= 20, "the walk crossed many cells: {crossings}");
    assert_eq!(
        walker.arounds, changes,
        "a view says where it is around when, and only when, its cells change"
    );
    assert!(
        walker.arounds * 4 < walker.views,
        "{} of {}",
        walker.arounds,
        walker.views
    );
    assert!(
        walker.mirror.ack(me) == Some(seq),
        "inputs are acknowledged"
    );
    assert!(
        truth(&mut session, Around::Point { x: 0, y: 0 }).len() < session.entity_count() / 4,
        "a view is a small part of the world"
    );
}

#[test]
fn each_cohort_of_viewers_is_sent_on_its_own_tick_and_holds_exactly_its_cells() {
    // 30 Hz ticks, 10 Hz sends: three cohorts, a third of the viewers each tick.
    let config = format!("{BIG}[network]\nsend_hz = 10\n");
    let mut session = Session::new("t".into(), &tunables(&config), 11);
    let mut players: Vec<(Viewer, Arc<InputSlot>)> = (0..30)
        .map(|conn| viewer(&mut session, conn, Role::Player))
        .collect();
    for (conn, (_, input)) in players.iter().enumerate() {
        input.store(Move {
            seq: 1,
            dx: ((conn * 37) % 255) as i8,
            dy: ((conn * 53 + 90) % 255) as i8,
        });
    }
    // A spectator that follows player 4 is sent with it, whatever cohort it joined.
    let (mut follower, _) = viewer(&mut session, 30, Role::Spectator);
    let fanout = FanoutPool::inline();
    session.tick(&fanout);
    for (player, _) in &mut players {
        player.read();
    }
    let followed = session.player_of(4).expect("a player");
    session.look(30, Look::Follow { id: followed });
    let mut last_view: Vec<Option<u32>> = vec![None; players.len()];
    for _ in 0..120 {
        session.tick(&fanout);
        let tick = session.sim.tick().0;
        let (due, cohorts) = session.sim.cohort_due().expect("cells");
        assert_eq!((due, cohorts), (tick % 3, 3));
        let mut sent = 0;
        for (conn, (player, _)) in players.iter_mut().enumerate() {
            let views = player.views;
            player.read();
            if player.views == views {
                continue;
            }
            sent += 1;
            assert_eq!(player.views, views + 1, "one view a send");
            assert_eq!(
                conn as u32 % 3,
                due,
                "tick {tick}: joiners fill the cohorts in turn"
            );
            if let Some(last) = last_view[conn] {
                assert_eq!(tick - last, 3, "a view every third tick");
            }
            last_view[conn] = Some(tick);
            let me = session.player_of(conn as ConnId).expect("a player");
            let seen_from = around(&session, me);
            let truth = truth(&mut session, seen_from);
            assert_eq!(player.states(), truth, "tick {tick}: player {conn}");
        }
        assert_eq!(sent, 10, "tick {tick}: a third of the viewers");
        let views = follower.views;
        follower.read();
        if due == 1 {
            assert_eq!(follower.views, views + 1, "sent with its player");
            assert_eq!(follower.states(), players[4].0.states());
        } else {
            assert_eq!(follower.views, views, "tick {tick}: not its player's tick");
        }
    }
}

#[test]
fn a_phone_in_a_big_world_is_fed_each_event_once_on_the_whole_world_s_send_ticks() {
    let config = "[arena]\nwidth = 4000\nheight = 3000\n[balls]\ncount = 0\n\
                  [interest]\ncell_size = 400\nview_radius = 400\n[network]\nsend_hz = 10\n";
    let mut session = Session::new("t".into(), &tunables(config), 1);
    let (mut page, _) = viewer(&mut session, 1, Role::Player);
    let fanout = FanoutPool::inline();
    session.tick(&fanout);
    let player = session.player_of(1).expect("a player");
    let (mut phone, steering) = attach_phone(&mut session, 2, player);
    steering.store(Move {
        seq: 1,
        dx: 127,
        dy: 0,
    });
    for tick in 0..30 {
        if tick == 10 {
            steering.store(Move {
                seq: 2,
                dx: 0,
                dy: 0,
            });
        }
        session.tick(&fanout);
    }
    page.read();
    assert!(
        page.views >= 9,
        "the page is sent its views: {}",
        page.views
    );
    let feeds: Vec<_> = decoded(&mut phone)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Feed(feed) => Some(feed),
            _ => None,
        })
        .collect();
    assert!(feeds.iter().all(|f| f.tick.0 % 3 == 0), "{feeds:?}");
    let stops = feeds
        .iter()
        .flat_map(|f| &f.events)
        .filter(|e| matches!(e, GameEvent::Still { id } if *id == player))
        .count();
    assert_eq!(stops, 1, "the stop, once: {feeds:?}");
}

#[test]
fn spectators_watch_a_point_a_player_or_everything() {
    let mut session = Session::new("t".into(), &tunables(BIG), 3);
    let (mut walker, _) = viewer(&mut session, 1, Role::Player);
    let (mut corner, _) = viewer(&mut session, 2, Role::Spectator);
    let (mut follower, _) = viewer(&mut session, 3, Role::Spectator);
    let (mut all, _) = viewer(&mut session, 4, Role::Spectator);
    let fanout = FanoutPool::inline();
    session.tick(&fanout);
    let me = session.player_of(1).expect("a player");
    session.look(2, Look::At { x: 0, y: 0 });
    session.look(3, Look::Follow { id: me });
    session.look(4, Look::Everything);
    for _ in 0..10 {
        session.tick(&fanout);
    }
    for viewer in [&mut walker, &mut corner, &mut follower, &mut all] {
        viewer.read();
    }
    assert_eq!(
        follower.states(),
        walker.states(),
        "a follower sees what its player sees"
    );
    assert_eq!(
        corner.states(),
        truth(&mut session, Around::Point { x: 0, y: 0 }),
        "the corner's cells"
    );
    assert_eq!(all.mirror.len(), session.entity_count(), "everything");
    assert!(!walker.states().is_empty());
}

#[test]
fn a_spectator_sees_everything_only_where_the_session_allows_it() {
    let config = format!("{BIG}spectators_see_all = false\n");
    let mut session = Session::new("t".into(), &tunables(&config), 3);
    let (mut spectator, _) = viewer(&mut session, 1, Role::Spectator);
    session.tick(&FanoutPool::inline());
    session.look(1, Look::Everything);
    session.tick(&FanoutPool::inline());
    spectator.read();
    let (x, y) = session.sim.grid().expect("cells").middle();
    assert_eq!(
        spectator.states(),
        truth(&mut session, Around::Point { x, y }),
        "still the middle"
    );
}

#[test]
fn a_slow_viewer_skips_views_then_is_sent_a_fresh_one() {
    let mut session = Session::new("t".into(), &tunables(BIG), 5);
    let (client, _) = join(&mut session, 1, Role::Player, 2_000);
    let mut slow = Viewer {
        client,
        mirror: Mirror::default(),
        views: 0,
        arounds: 0,
    };
    let fanout = FanoutPool::inline();
    let mut dropped = 0;
    for _ in 0..30 {
        dropped += session.tick(&fanout).dropped;
    }
    assert!(dropped > 0, "a full socket skips views");
    let mut bytes = slow.client.wire.take();
    slow.client.wire.make_room(ROOMY);
    assert!(slow.client.link.try_flush().expect("flushes"));
    let mut resyncs = 0;
    for _ in 0..3 {
        resyncs += session.tick(&fanout).resyncs;
    }
    assert_eq!(resyncs, 1, "one fresh view brings it back");
    bytes.extend(slow.client.wire.take());
    let mut rest = &bytes[..];
    let mut fresh = 0;
    while !rest.is_empty() {
        let (payload, after) = crate::frame::split_payload(rest).expect("whole frames");
        rest = after;
        match decode_server(payload).expect("decodes") {
            ServerMessage::Welcome(welcome) => {
                slow.mirror.reset(&welcome.snapshot);
                slow.mirror.set_cells(session.sim.grid());
            }
            ServerMessage::View(view) => {
                fresh += usize::from(view.fresh);
                slow.mirror.apply_view(&view).expect("in order, or fresh");
            }
            other => panic!("views only: {other:?}"),
        }
    }
    assert_eq!(fresh, 2, "the first view, and the one after the stall");
    let me = session.player_of(1).expect("a player");
    let seen_from = around(&session, me);
    assert_eq!(slow.states(), truth(&mut session, seen_from));
}

#[test]
fn what_a_send_encodes_does_not_depend_on_how_many_watch() {
    // Two sessions of the same game: the second is also watched by 200 spectators, each
    // following one of the players. They encode the very same parts, byte for byte.
    let config = format!("{BIG}[players]\nspeed = 600\n");
    let fanout = FanoutPool::inline();
    let mut games = Vec::new();
    for followers in [0u64, 200] {
        let mut session = Session::new("t".into(), &tunables(&config), 11);
        let mut clients = steering_players(&mut session, 20);
        for conn in 20..20 + followers {
            let (client, _) = join(&mut session, conn, Role::Spectator, ROOMY);
            clients.push(client);
        }
        session.tick(&fanout);
        for conn in 20..20 + followers {
            let id = session.player_of(conn % 20).expect("a player");
            session.look(conn, Look::Follow { id });
        }
        // The followers' move from the middle to their players is theirs alone.
        session.tick(&fanout);
        games.push((session, clients));
    }
    let mut crossings = 0;
    for _ in 0..200 {
        let mut encoded = Vec::new();
        for (session, clients) in &mut games {
            let report = session.tick(&fanout);
            assert!(report.messages > 0);
            encoded.push(session.parts.as_ref().expect("cells").body.clone());
            for client in clients.iter_mut() {
                client.read();
            }
        }
        let parts = games[0].0.parts.as_deref().expect("cells");
        crossings += usize::from(parts.delta_ranges().iter().any(|(a, b)| b - a > 1));
        assert!(encoded[0] == encoded[1], "the same parts, whoever watches");
    }
    assert!(crossings > 100, "sends had news to encode: {crossings}");
}

#[test]
fn every_cell_s_news_lies_end_to_end_in_the_order_of_the_cells() {
    let mut session = Session::new("t".into(), &tunables(BIG), 7);
    let mut players: Vec<_> = (0..12)
        .map(|conn| viewer(&mut session, conn, Role::Player))
        .collect();
    let fanout = FanoutPool::inline();
    let mut rng = fastrand::Rng::with_seed(3);
    let mut with_news = 0;
    for seq in 1..=60 {
        for (_, input) in &players {
            input.store(Move {
                seq,
                dx: rng.i8(-127..=127),
                dy: rng.i8(-127..=127),
            });
        }
        session.tick(&fanout);
        for (player, _) in &mut players {
            player.read();
        }
        let parts = session.parts.as_deref().expect("cells in use");
        let ranges = parts.delta_ranges();
        assert_eq!(ranges[0].0, 0, "the first cell's news opens the body");
        for pair in ranges.windows(2) {
            assert_eq!(
                pair[0].1, pair[1].0,
                "each cell's news ends where the next's starts"
            );
        }
        with_news += ranges.iter().filter(|(start, end)| end - start > 1).count();
    }
    assert!(with_news > 60, "cells had news: {with_news}");
}

#[test]
fn a_row_of_a_view_with_nothing_new_to_its_viewer_is_one_slice() {
    let quiet = "[arena]\nwidth = 4000\nheight = 3000\n[balls]\ncount = 0\n\
                 [interest]\ncell_size = 400\nview_radius = 800\n";
    let mut session = Session::new("t".into(), &tunables(quiet), 7);
    let (mut still, _input) = viewer(&mut session, 1, Role::Player);
    let fanout = FanoutPool::inline();
    for _ in 0..3 {
        session.tick(&fanout);
        still.read();
    }
    let grid = session.sim.grid().expect("cells");
    let Kind::Viewer {
        sight: Some(sight), ..
    } = &session.members[0].kind
    else {
        panic!("a viewer with a sight")
    };
    let rows: BTreeSet<u32> = sight.seen().iter().map(|cell| cell / grid.cols()).collect();
    assert!(rows.len() >= 3, "a view of several rows: {rows:?}");
    let (_, slices) = sight.message();
    assert_eq!(
        slices.len(),
        rows.len() + 1,
        "a slice per row of {} cells, and the world's news",
        sight.seen().len()
    );
    assert!(still.views >= 2, "the views decode");
}

#[test]
fn views_are_the_same_bytes_whether_one_thread_or_two_encode_and_send_them() {
    // Thirty players welcomed at once want more cells in full than one thread encodes
    // alone, and they keep crossing into new ones.
    let config = format!("{BIG}[players]\nspeed = 600\n");
    let pools = [
        FanoutPool::inline(),
        FanoutPool::new(2).expect("a pool starts"),
    ];
    let mut sent = Vec::new();
    for fanout in &pools {
        let mut session = Session::new("t".into(), &tunables(&config), 5);
        let mut clients = steering_players(&mut session, 30);
        let mut views = Vec::new();
        let mut most_in_full = 0;
        for _ in 0..90 {
            session.tick(fanout);
            let parts = session.parts.as_deref().expect("cells");
            most_in_full = most_in_full.max(parts.cells_in_full());
            for client in &mut clients {
                let bytes = client.read();
                let mut rest = &bytes[..];
                while !rest.is_empty() {
                    let (payload, after) =
                        crate::frame::split_payload(rest).expect("whole binary frames");
                    if matches!(decode_server(payload), Ok(ServerMessage::View(_))) {
                        views.push(payload.to_vec());
                    }
                    rest = after;
                }
            }
        }
        assert!(
            most_in_full >= super::sight::FULL_SPLIT_MIN,
            "enough cells in full to split: {most_in_full}"
        );
        sent.push(views);
    }
    assert_eq!(sent[0].len(), 30 * 90, "a view to every player every send");
    assert!(
        sent[0] == sent[1],
        "the same bytes on one thread and on two"
    );
}
