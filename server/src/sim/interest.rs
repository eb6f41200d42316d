//! The world's cells, and each cell's news since the last send: what interest
//! management sends to the clients that see a cell.
//!
//! [`super::replication::build_delta`] sorts what it reports into the cells as it goes:
//! an entity whose cell changed since the last send *enters* its new cell with its full
//! state (a forced report, so that every client agrees on its motion from then on) and
//! *leaves* the old one; an entity reported in place is *moved* in its cell; collisions
//! and stops are placed in the cell of the entity they name. Everything else (scores,
//! joins, leaves, rounds) is the world's news, for every client. The session encodes
//! each dirty cell's news once and gathers the cells each client sees.

use arena_shared::cells::CellGrid;
use arena_shared::protocol::{
    Arrival, CellNews, Contact, Correction, EntityId, EntityState, GameEvent, MAX_ROUND_SCORES,
    Score, Spawn, WorldNews,
};
use bevy_ecs::prelude::*;

/// An entity in no cell (not yet reported, or gone).
const NOWHERE: u32 = u32::MAX;

/// The cells of a session with interest management.
#[derive(Resource, Debug)]
pub(crate) struct Cells {
    pub grid: CellGrid,
    /// Each cell's news since the last send, indexed by cell.
    news: Vec<CellNews>,
    /// The cells whose news is not empty, each once.
    dirty: Vec<u32>,
    /// For each cell, where each of its `entered` came from ([`NOWHERE`]: new to the
    /// world): a client that saw that cell knows the entity.
    came_from: Vec<Vec<u32>>,
    /// The entities in each cell, as clients were last told.
    members: Vec<Vec<EntityId>>,
    /// Each entity's cell, indexed by its id (ids are dense and never reused).
    cell_of: Vec<u32>,
    /// The news for everyone.
    pub world: WorldNews,
}

impl Cells {
    pub(crate) fn new(grid: CellGrid) -> Cells {
        Cells {
            grid,
            news: (0..grid.len() as u32)
                .map(|cell| CellNews {
                    cell,
                    ..CellNews::default()
                })
                .collect(),
            dirty: Vec::new(),
            came_from: vec![Vec::new(); grid.len()],
            members: vec![Vec::new(); grid.len()],
            cell_of: Vec::new(),
            world: WorldNews::default(),
        }
    }

    /// Forgets the last send's news (keeping every buffer).
    pub(crate) fn start_send(&mut self) {
        for &cell in &self.dirty {
            self.news[cell as usize].clear();
            self.came_from[cell as usize].clear();
        }
        self.dirty.clear();
        self.world.events.clear();
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

    /// Files a reported entity under the cell of `now`: returns true if it changed
    /// cells (it then entered the new cell, and must be reported). `predicted`: where
    /// clients extrapolate it to now, what a report in place corrects.
    pub(crate) fn place(
        &mut self,
        now: &EntityState,
        predicted: Option<&EntityState>,
        reported: bool,
        spawn: impl FnOnce() -> Spawn,
    ) -> bool {
        let id = now.id;
        let cell = self.grid.cell_at(now.x, now.y);
        let slot = id.0 as usize;
        if self.cell_of.len() <= slot {
            self.cell_of.resize(slot + 1, NOWHERE);
        }
        let was = self.cell_of[slot];
        if was == cell {
            if reported {
                let correction = Correction::between(predicted.unwrap_or(now), now);
                self.news_mut(cell).moved.push(correction);
            }
            return false;
        }
        if was != NOWHERE {
            self.leave(id, was);
        }
        self.cell_of[slot] = cell;
        self.members[cell as usize].push(id);
        let origin = self.grid.origin(cell);
        let news = self.news_mut(cell);
        news.entered.push(Arrival::of(now, origin));
        news.spawns.push(spawn());
        self.came_from[cell as usize].push(was);
        true
    }

    /// An entity gone from the world leaves its cell.
    pub(crate) fn remove(&mut self, id: EntityId) {
        if let Some(cell) = self.cell_of(id) {
            self.leave(id, cell);
            self.cell_of[id.0 as usize] = NOWHERE;
        }
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

    /// A player's new score goes with the cell it is in.
    pub(crate) fn place_score(&mut self, score: Score) {
        if let Some(cell) = self.cell_of(score.id) {
            self.news_mut(cell).scores.push(score);
        }
    }

    /// The cells with news this send, in no particular order.
    pub(crate) fn dirty(&self) -> &[u32] {
        &self.dirty
    }

    /// A cell's news this send.
    pub(crate) fn news(&self, cell: u32) -> &CellNews {
        &self.news[cell as usize]
    }

    /// Where each of a cell's `entered` came from this send ([`NOWHERE`]: new).
    pub(crate) fn came_from(&self, cell: u32) -> &[u32] {
        &self.came_from[cell as usize]
    }

    /// The entities in a cell.
    pub(crate) fn members(&self, cell: u32) -> &[EntityId] {
        &self.members[cell as usize]
    }
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
        Cells::new(CellGrid::new(&view, &arena).expect("cells"))
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
    fn an_entity_enters_its_first_cell_then_moves_in_it_then_crosses() {
        let mut cells = cells();
        assert!(
            cells.place(&at(1, 50, 50), None, true, || ball(1)),
            "enters cell 0"
        );
        assert_eq!(cells.dirty(), &[0]);
        assert_eq!(cells.news(0).entered.len(), 1);
        assert_eq!(cells.news(0).spawns, vec![ball(1)]);
        assert_eq!(cells.came_from(0), &[NOWHERE], "new to the world");
        assert_eq!(cells.members(0), &[EntityId(1)]);

        // Reported in place: a correction from where clients extrapolate it.
        cells.start_send();
        let predicted = at(1, 57, 49);
        assert!(!cells.place(&at(1, 60, 50), Some(&predicted), true, || ball(1)));
        let correction = cells.news(0).moved[0];
        assert_eq!((correction.dx, correction.dy), (3, 1));
        assert_eq!(correction.applied_to(&predicted), at(1, 60, 50));
        assert!(cells.came_from(0).is_empty());
        cells.start_send();
        assert!(!cells.place(&at(1, 70, 50), Some(&predicted), false, || ball(1)));
        assert!(cells.dirty().is_empty(), "unreported in place: no news");

        // Crossing: positions relative to the new cell's corner, coming from cell 0.
        assert!(
            cells.place(&at(1, 150, 50), Some(&predicted), false, || ball(1)),
            "crosses"
        );
        assert_eq!(cells.news(0).left, vec![EntityId(1)]);
        let arrival = cells.news(1).entered[0];
        assert_eq!((arrival.x, arrival.y), (50, 50));
        assert_eq!(arrival.state(cells.grid.origin(1)), at(1, 150, 50));
        assert_eq!(cells.came_from(1), &[0]);
        assert!(cells.members(0).is_empty());
        assert_eq!(cells.cell_of(EntityId(1)), Some(1));

        cells.start_send();
        cells.place_event(&GameEvent::Still { id: EntityId(1) });
        cells.place_event(&GameEvent::Collided {
            a: EntityId(1),
            b: EntityId(4),
        });
        cells.place_event(&GameEvent::PlayerLeft { id: EntityId(1) });
        cells.remove(EntityId(1));
        assert_eq!(cells.news(1).stopped, vec![EntityId(1)]);
        assert_eq!(
            cells.news(1).collided,
            vec![Contact {
                a: EntityId(1),
                b: EntityId(4)
            }]
        );
        assert_eq!(cells.news(1).left, vec![EntityId(1)]);
        assert_eq!(
            cells.world.events,
            vec![GameEvent::PlayerLeft { id: EntityId(1) }]
        );
        assert_eq!(cells.cell_of(EntityId(1)), None);
    }
}
