//! The world's cells as each cohort of viewers was last told them, and each cell's news
//! since that cohort's last send: what interest management sends to the clients that
//! see a cell.
//!
//! Viewers are split into [`Cohorts`], one per tick between two sends, and each tick
//! sends to one of them: a third of the viewers each tick at 30 Hz ticks and 10 Hz
//! sends, so that no tick carries every viewer's message. Each cohort has its own
//! [`Cells`], since what its clients were told (and when) is its own.
//!
//! [`sort_into_cells`] sorts the due cohort's news into its cells: an entity whose cell
//! changed since the cohort's last send *enters* its new cell with its full state (a
//! forced report, so that every client agrees on its motion from then on) and *leaves*
//! the old one; an entity reported in place is *moved* in its cell; collisions and
//! stops are placed in the cell of the entity they name. Everything else (joins,
//! leaves, rounds) is the world's news, for every client. The session encodes each
//! dirty cell's news once and gathers the cells each client of the cohort sees.

use arena_shared::cells::CellGrid;
use arena_shared::mirror::extrapolate;
use arena_shared::protocol::{
    Arrival, CellNews, CellPart, Contact, Correction, EntityId, EntityState, GameEvent,
    MAX_ROUND_SCORES, Score, Spawn, Tick, WorldNews,
};
use bevy_ecs::prelude::*;

use super::replication::{Replicated, drifted, spawn_of, wire_state};
use super::state::{Clock, Rules};

/// An entity in no cell (not yet reported, or gone).
const NOWHERE: u32 = u32::MAX;

/// The motion last reported to a cohort of an entity, at `at`: its clients extrapolate
/// it. Every entity's is read on each tick, so it is kept dense (24 bytes), apart from
/// the spawns and points that only a cell sent in full reads.
#[derive(Debug, Clone, Copy)]
struct Reported {
    state: EntityState,
    at: Tick,
}

impl Reported {
    /// The filler of an id not placed yet: a record is read only where `cell_of` says
    /// the entity is in a cell, so this is never taken for a report.
    const NONE: Reported = Reported {
        state: EntityState {
            id: EntityId(u32::MAX),
            x: 0,
            y: 0,
            vx: 0,
            vy: 0,
        },
        at: Tick(0),
    };
}

/// The cells of a session with interest management, as one cohort of its viewers was
/// told them.
#[derive(Debug)]
pub(crate) struct Cells {
    pub grid: CellGrid,
    /// Each cell's news since the last send, indexed by cell.
    news: Vec<CellNews>,
    /// The cells whose news is not empty, each once.
    dirty: Vec<u32>,
    /// For each cell, where each of its `entered` came from ([`NOWHERE`]: new to the
    /// world): a client that saw that cell knows the entity.
    came_from: Vec<Vec<u32>>,
    /// For each cell, the corrections of what crossed into it and changed its motion
    /// on the way: its `moved` news for the clients that knew it.
    cross_moved: Vec<Vec<Correction>>,
    /// The entities in each cell, as clients were last told.
    members: Vec<Vec<EntityId>>,
    /// Each entity's cell, indexed by its id (ids are dense and never reused).
    cell_of: Vec<u32>,
    /// Each entity's position at this send (quanta), indexed by its id: what a view
    /// around it is around.
    position_of: Vec<(i32, i32)>,
    /// What clients were told of each entity in a cell, indexed by its id (valid where
    /// `cell_of` is not [`NOWHERE`]): its motion, its spawn, and its points. These are
    /// kept beside the cells so that a cell sent in full (to a client it comes into
    /// view of) is written from dense records, not from the ECS's scattered components:
    /// that writing happens after the send before has gone through every viewer's
    /// buffers, with the caches cold.
    reported: Vec<Reported>,
    spawns: Vec<Option<Spawn>>,
    points: Vec<u32>,
    /// Each player's last input applied and its points at this send, indexed by its
    /// id: what its own view acknowledges, read by every viewer's update at once.
    standing: Vec<Option<(u32, u32)>>,
    /// The tick of this send.
    tick: Tick,
    /// The news for everyone.
    pub world: WorldNews,
    /// How many ticks back a correction looks for the turn that explains it: the ticks
    /// between two sends, since anything earlier was reported then.
    turn_window: u32,
    /// The events and the entities removed since this cohort's last send.
    pending_events: Vec<GameEvent>,
    pending_removed: Vec<EntityId>,
}

impl Cells {
    pub(crate) fn new(grid: CellGrid, turn_window: u32) -> Cells {
        Cells {
            grid,
            news: vec![CellNews::default(); grid.len()],
            dirty: Vec::new(),
            came_from: vec![Vec::new(); grid.len()],
            cross_moved: vec![Vec::new(); grid.len()],
            members: vec![Vec::new(); grid.len()],
            cell_of: Vec::new(),
            position_of: Vec::new(),
            reported: Vec::new(),
            spawns: Vec::new(),
            points: Vec::new(),
            standing: Vec::new(),
            tick: Tick(0),
            world: WorldNews::default(),
            turn_window,
            pending_events: Vec::new(),
            pending_removed: Vec::new(),
        }
    }

    /// Forgets the last send's news (keeping every buffer), for the send of `tick`, and
    /// takes out the entities removed since.
    pub(crate) fn start_send(&mut self, tick: Tick) {
        self.tick = tick;
        for &cell in &self.dirty {
            self.news[cell as usize].clear();
            self.came_from[cell as usize].clear();
            self.cross_moved[cell as usize].clear();
        }
        self.dirty.clear();
        self.world.events.clear();
        let mut removed = std::mem::take(&mut self.pending_removed);
        for &id in &removed {
            self.remove(id);
        }
        removed.clear();
        self.pending_removed = removed;
    }

    /// Places the events since the last send, after every entity is placed.
    pub(crate) fn place_pending_events(&mut self) {
        let mut events = std::mem::take(&mut self.pending_events);
        for event in &events {
            self.place_event(event);
        }
        events.clear();
        self.pending_events = events;
    }

    fn news_mut(&mut self, cell: u32) -> &mut CellNews {
        let news = &mut self.news[cell as usize];
        if news.is_empty() {
            self.dirty.push(cell);
        }
        news
    }

    /// The cell clients were last told `id` is in.
    pub(crate) fn cell_of(&self, id: EntityId) -> Option<u32> {
        self.cell_of
            .get(id.0 as usize)
            .copied()
            .filter(|&c| c != NOWHERE)
    }

    /// Where `id` is at this send (quanta).
    pub(crate) fn position_of(&self, id: EntityId) -> Option<(i32, i32)> {
        self.cell_of(id)?;
        self.position_of.get(id.0 as usize).copied()
    }

    /// Files an entity under the cell of `now`, and reports its motion if this cohort's
    /// clients have drifted from it ([`drifted`]) or have never had it; otherwise they
    /// keep their extrapolation of its last report, which a report corrects. One that
    /// changed cells enters the new one with the motion clients are to hold (all of
    /// them agree), and is also named as having crossed, for the clients that know it.
    pub(crate) fn place(&mut self, now: &EntityState, spawn: impl FnOnce() -> Spawn) {
        let id = now.id;
        let cell = self.grid.cell_at(now.x, now.y);
        let slot = id.0 as usize;
        if self.cell_of.len() <= slot {
            self.cell_of.resize(slot + 1, NOWHERE);
            self.position_of.resize(slot + 1, (0, 0));
            self.reported.resize(slot + 1, Reported::NONE);
            self.spawns.resize_with(slot + 1, || None);
            self.points.resize(slot + 1, 0);
            self.standing.resize(slot + 1, None);
        }
        self.position_of[slot] = (now.x, now.y);
        let was = self.cell_of[slot];
        let tick = self.tick;
        let reported = &mut self.reported[slot];
        let (believed, correction) = if was == NOWHERE {
            *reported = Reported {
                state: *now,
                at: tick,
            };
            self.spawns[slot] = Some(spawn());
            self.points[slot] = 0;
            (*now, None)
        } else {
            let believed = extrapolate(&reported.state, tick.since(reported.at));
            let correction = drifted(&believed, now).then(|| {
                *reported = Reported {
                    state: *now,
                    at: tick,
                };
                Correction::between(&believed, now, self.turn_window)
            });
            (believed, correction)
        };
        if was == cell {
            if let Some(correction) = correction {
                self.news_mut(cell).moved.push(correction);
            }
            return;
        }
        let spawn = self.spawns[slot].clone();
        let held = if correction.is_some() { *now } else { believed };
        if was != NOWHERE {
            self.leave(id, was);
        }
        self.cell_of[slot] = cell;
        self.members[cell as usize].push(id);
        let origin = self.grid.origin(cell);
        let news = self.news_mut(cell);
        news.entered.push(Arrival::of(&held, origin));
        news.spawns.extend(spawn);
        if was != NOWHERE {
            news.crossed.push(id);
            self.cross_moved[cell as usize].extend(correction);
        }
        self.came_from[cell as usize].push(was);
    }

    /// An entity gone from the world leaves its cell.
    pub(crate) fn remove(&mut self, id: EntityId) {
        if let Some(cell) = self.cell_of(id) {
            self.leave(id, cell);
            self.cell_of[id.0 as usize] = NOWHERE;
            self.spawns[id.0 as usize] = None;
            self.standing[id.0 as usize] = None;
        }
    }

    /// Notes a player's last input applied (`seq`) and its `points` at this send; after
    /// [`Cells::place`].
    pub(crate) fn note_player(&mut self, id: EntityId, seq: u32, points: u32) {
        if let Some(standing) = self.standing.get_mut(id.0 as usize) {
            *standing = Some((seq, points));
        }
    }

    /// A player's last input applied and its points at this send.
    pub(crate) fn ack_and_score(&self, id: EntityId) -> Option<(u32, u32)> {
        self.standing.get(id.0 as usize).copied().flatten()
    }

    fn leave(&mut self, id: EntityId, cell: u32) {
        let members = &mut self.members[cell as usize];
        if let Some(at) = members.iter().position(|&m| m == id) {
            members.swap_remove(at);
        }
        self.news_mut(cell).left.push(id);
    }

    /// Places an event: in the cell of the entity it is about, or the world's news.
    pub(crate) fn place_event(&mut self, event: &GameEvent) {
        let about = match event {
            GameEvent::Collided { a, .. } => self.cell_of(*a),
            GameEvent::Still { id } => self.cell_of(*id),
            _ => None,
        };
        match (about, event) {
            (Some(cell), &GameEvent::Collided { a, b }) => {
                self.news_mut(cell).collided.push(Contact { a, b });
            }
            (Some(cell), &GameEvent::Still { id }) => self.news_mut(cell).stopped.push(id),
            (Some(_), _) => {}
            (None, GameEvent::RoundEnded { number, scores }) => {
                self.world.events.push(GameEvent::RoundEnded {
                    number: *number,
                    scores: scores.iter().take(MAX_ROUND_SCORES).copied().collect(),
                })
            }
            (None, _) => self.world.events.push(event.clone()),
        }
    }

    /// A player's score, if this cohort was told another, goes with the cell it is in.
    pub(crate) fn place_score(&mut self, score: Score) {
        let Some(cell) = self.cell_of(score.id) else {
            return;
        };
        let points = &mut self.points[score.id.0 as usize];
        if *points == score.points {
            return;
        }
        *points = score.points;
        self.news_mut(cell).scores.push(score);
    }

    /// Writes `cell` in full, as a client it comes into view of is sent it: every
    /// entity in it as `entered` (with the motion clients hold, at this send's tick)
    /// with its spawn, the scores above zero, and this send's contacts and stops.
    pub(crate) fn write_full(&self, cell: u32, out: &mut CellNews) {
        out.clear();
        let news = &self.news[cell as usize];
        out.collided.extend_from_slice(&news.collided);
        out.stopped.extend_from_slice(&news.stopped);
        let origin = self.grid.origin(cell);
        for &id in &self.members[cell as usize] {
            let slot = id.0 as usize;
            let (Some(reported), Some(Some(spawn)), Some(&points)) = (
                self.reported.get(slot),
                self.spawns.get(slot),
                self.points.get(slot),
            ) else {
                continue;
            };
            let held = extrapolate(&reported.state, self.tick.since(reported.at));
            out.entered.push(Arrival::of(&held, origin));
            out.spawns.push(spawn.clone());
            if points > 0 {
                out.scores.push(Score { id, points });
            }
        }
    }

    /// The cells with news this send, in no particular order.
    pub(crate) fn dirty(&self) -> &[u32] {
        &self.dirty
    }

    /// A cell's news this send, as it is encoded for the clients that know every
    /// entity that entered it (`known`: they need only which crossed, and how their
    /// motion changed) or for the others (who get them in full, with their spawns).
    /// `None` for the known form if something new to the world entered.
    pub(crate) fn part(&self, cell: u32, known: bool) -> Option<CellPart<'_>> {
        let at = cell as usize;
        let news = &self.news[at];
        let part = news.part();
        if !known {
            return Some(CellPart {
                crossed: &[],
                ..part
            });
        }
        if self.came_from[at].contains(&NOWHERE) {
            return None;
        }
        Some(CellPart {
            moved: (&news.moved, &self.cross_moved[at]),
            entered: &[],
            spawns: &[],
            ..part
        })
    }

    /// A cell's news this send (for the clients that know nothing of what entered).
    #[cfg(test)]
    pub(crate) fn news(&self, cell: u32) -> &CellNews {
        &self.news[cell as usize]
    }

    /// Where each of a cell's `entered` came from this send ([`NOWHERE`]: new).
    pub(crate) fn came_from(&self, cell: u32) -> &[u32] {
        &self.came_from[cell as usize]
    }

    /// The entities in a cell.
    #[cfg(test)]
    pub(crate) fn members(&self, cell: u32) -> &[EntityId] {
        &self.members[cell as usize]
    }
}

/// The cohorts of a session's viewers, each with its cells: cohort `c` is sent on the
/// ticks whose number is `c` modulo the ticks between two sends.
#[derive(Resource, Debug)]
pub(crate) struct Cohorts {
    cells: Vec<Cells>,
    /// The cohort sent at the last tick.
    due: usize,
}

impl Cohorts {
    /// One cohort per tick between two sends (`send_every`).
    pub(crate) fn new(grid: CellGrid, send_every: u32) -> Cohorts {
        let count = send_every.max(1);
        Cohorts {
            cells: (0..count).map(|_| Cells::new(grid, count)).collect(),
            due: 0,
        }
    }

    /// How many cohorts there are.
    pub(crate) fn count(&self) -> u32 {
        self.cells.len() as u32
    }

    /// The cohort sent at the last tick.
    pub(crate) fn due(&self) -> u32 {
        self.due as u32
    }

    /// The due cohort's cells, brought up to the last tick.
    pub(crate) fn cells(&self) -> &Cells {
        &self.cells[self.due]
    }

    /// The cells every cohort shares the grid of.
    pub(crate) fn grid(&self) -> CellGrid {
        self.cells[0].grid
    }

    /// An entity removed from the world, for every cohort's next send.
    pub(crate) fn remove(&mut self, id: EntityId) {
        for cells in &mut self.cells {
            cells.pending_removed.push(id);
        }
    }

    /// A tick's events, for every cohort's next send.
    pub(crate) fn note_events(&mut self, events: &[GameEvent]) {
        for cells in &mut self.cells {
            cells.pending_events.extend_from_slice(events);
        }
    }
}

/// Brings the due cohort's cells up to this tick: every entity placed (and reported
/// if its clients have drifted from it), each player's acknowledgement and score
/// noted, and the events since that cohort's last send placed.
pub(crate) fn sort_into_cells(
    clock: Res<Clock>,
    rules: Res<Rules>,
    mut cohorts: ResMut<Cohorts>,
    entities: Query<Replicated>,
) {
    let cohorts = &mut *cohorts;
    cohorts.due = (clock.tick.0 % cohorts.count()) as usize;
    let cells = &mut cohorts.cells[cohorts.due];
    cells.start_send(clock.tick);
    for (id, position, velocity, body, player, steering, score) in &entities {
        let now = wire_state(id.0, position, velocity, rules.tick_hz);
        cells.place(&now, || spawn_of(id.0, body, player));
        if let (Some(steering), Some(score)) = (steering, score) {
            cells.note_player(id.0, steering.seq, score.0);
            cells.place_score(Score {
                id: id.0,
                points: score.0,
            });
        }
    }
    cells.place_pending_events();
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_shared::protocol::{ArenaInfo, EntityKind, Spawn, ViewInfo};

    fn cells() -> Cells {
        let arena = ArenaInfo {
            width: 400,
            height: 400,
            round_ticks: 1,
            intermission_ticks: 1,
            player_speed: 1,
        };
        let view = ViewInfo {
            cell_size: 100,
            view_radius: 100,
            see_all: false,
        };
        Cells::new(CellGrid::new(&view, &arena).expect("cells"), 3)
    }

    fn at(id: u32, x: i32, y: i32) -> EntityState {
        EntityState {
            id: EntityId(id),
            x,
            y,
            vx: 0,
            vy: 0,
        }
    }

    fn ball(id: u32) -> Spawn {
        Spawn {
            id: EntityId(id),
            kind: EntityKind::Ball,
            radius: 8,
            name: String::new(),
        }
    }

    #[test]
    fn a_cell_in_full_holds_what_clients_were_told_extrapolated_to_the_send() {
        let mut cells = cells();
        let moving = EntityState {
            vx: 2,
            vy: -1,
            ..at(1, 20, 50)
        };
        cells.start_send(Tick(3));
        cells.place(&moving, || ball(1));
        cells.place(&at(2, 80, 80), || ball(2));
        cells.place_score(Score {
            id: EntityId(2),
            points: 4,
        });
        cells.place_event(&GameEvent::Still { id: EntityId(2) });
        // Three ticks on, within the drift of where clients extrapolate ball 1: the
        // cell in full has it there, and this send's stop is still there.
        cells.start_send(Tick(6));
        let extrapolated = EntityState {
            x: 26,
            y: 47,
            ..moving
        };
        cells.place(
            &EntityState {
                x: 27,
                ..extrapolated
            },
            || ball(1),
        );
        cells.place(&at(2, 80, 80), || ball(2));
        assert!(cells.dirty().is_empty(), "nothing to report");
        cells.place_score(Score {
            id: EntityId(2),
            points: 4,
        });
        assert!(cells.dirty().is_empty(), "a score told before is not news");
        cells.place_event(&GameEvent::Still { id: EntityId(1) });
        let mut full = CellNews::default();
        cells.write_full(0, &mut full);
        assert_eq!(
            full.entered,
            vec![
                Arrival::of(&extrapolated, (0, 0)),
                Arrival::of(&at(2, 80, 80), (0, 0))
            ]
        );
        assert_eq!(full.spawns, vec![ball(1), ball(2)]);
        assert_eq!(
            full.scores,
            vec![Score {
                id: EntityId(2),
                points: 4
            }]
        );
        assert_eq!(full.stopped, vec![EntityId(1)]);
        // Gone: no longer in it, from the next send on.
        cells.pending_removed.push(EntityId(1));
        cells.start_send(Tick(9));
        cells.write_full(0, &mut full);
        assert_eq!(full.spawns, vec![ball(2)]);
        assert_eq!(cells.news(0).left, vec![EntityId(1)]);
    }

    #[test]
    fn an_entity_enters_its_first_cell_then_moves_in_it_then_crosses() {
        let mut cells = cells();
        cells.place(&at(1, 50, 50), || ball(1));
        assert_eq!(cells.dirty(), &[0], "enters cell 0");
        assert_eq!(cells.news(0).entered.len(), 1);
        assert_eq!(cells.news(0).spawns, vec![ball(1)]);
        assert_eq!(cells.came_from(0), &[NOWHERE], "new to the world");
        assert!(cells.part(0, true).is_none(), "nobody knows it yet");
        assert_eq!(cells.members(0), &[EntityId(1)]);

        // Set moving: reported, with a correction from where clients hold it.
        cells.start_send(Tick(3));
        let rolling = EntityState {
            vx: 12,
            ..at(1, 60, 50)
        };
        cells.place(&rolling, || ball(1));
        let correction = cells.news(0).moved[0];
        assert_eq!(correction.applied_to(&at(1, 50, 50)), rolling);
        assert!(cells.came_from(0).is_empty());
        // Where clients extrapolate it, give or take less than the drift: no news.
        cells.start_send(Tick(6));
        cells.place(&EntityState { x: 97, ..rolling }, || ball(1));
        assert!(cells.dirty().is_empty(), "unreported in place: no news");

        // Crossing unreported: clients keep their extrapolation. Those that did not
        // know it get that, from the new cell's corner, with its spawn; those that
        // did are told only that it crossed.
        cells.start_send(Tick(9));
        let believed = EntityState { x: 132, ..rolling };
        cells.place(&EntityState { x: 133, ..rolling }, || ball(1));
        assert_eq!(cells.news(0).left, vec![EntityId(1)]);
        let arrival = cells.news(1).entered[0];
        assert_eq!((arrival.x, arrival.y), (32, 50));
        assert_eq!(arrival.state(cells.grid.origin(1)), believed);
        assert_eq!(cells.came_from(1), &[0]);
        let known = cells.part(1, true).expect("it came from a cell");
        assert_eq!(known.crossed, &[EntityId(1)]);
        assert!(known.entered.is_empty() && known.spawns.is_empty());
        assert!(known.moved.0.is_empty() && known.moved.1.is_empty());
        let unknown = cells.part(1, false).expect("always");
        assert!(unknown.crossed.is_empty());
        assert_eq!((unknown.entered.len(), unknown.spawns.len()), (1, 1));
        assert!(cells.members(0).is_empty());
        assert_eq!(cells.cell_of(EntityId(1)), Some(1));

        // Crossing back and turning on the way: a correction for those that know it.
        cells.start_send(Tick(12));
        let turned = EntityState {
            vx: -4,
            ..at(1, 95, 50)
        };
        cells.place(&turned, || ball(1));
        let known = cells.part(0, true).expect("it came from a cell");
        assert_eq!(known.crossed, &[EntityId(1)]);
        let held = EntityState { x: 168, ..rolling };
        assert_eq!(known.moved.1[0].applied_to(&held), turned);
        let unknown = cells.part(0, false).expect("always");
        assert_eq!(unknown.entered[0].state(cells.grid.origin(0)), turned);
        assert!(unknown.moved.1.is_empty());

        cells.start_send(Tick(15));
        cells.place_event(&GameEvent::Still { id: EntityId(1) });
        cells.place_event(&GameEvent::Collided {
            a: EntityId(1),
            b: EntityId(4),
        });
        cells.place_event(&GameEvent::PlayerLeft { id: EntityId(1) });
        cells.remove(EntityId(1));
        assert_eq!(cells.news(0).stopped, vec![EntityId(1)]);
        assert_eq!(
            cells.news(0).collided,
            vec![Contact {
                a: EntityId(1),
                b: EntityId(4)
            }]
        );
        assert_eq!(cells.news(0).left, vec![EntityId(1)]);
        assert_eq!(
            cells.world.events,
            vec![GameEvent::PlayerLeft { id: EntityId(1) }]
        );
        assert_eq!(cells.cell_of(EntityId(1)), None);
    }
}
