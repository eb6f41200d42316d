//! A client's copy of a session's world, kept up to date from the server's messages.
//!
//! This is the other half of the server's replication: the server leaves out entities
//! whose motion a client can extrapolate, and [`extrapolate`] is that rule, used by the
//! server to decide what to send and by clients (bots, tests; the browser client mirrors
//! it in TypeScript) to know where everything is.

use std::collections::HashMap;

use crate::cells::CellGrid;
use crate::protocol::{
    Delta, EntityId, EntityState, GameEvent, RoundState, Snapshot, Spawn, Tick, ViewDelta,
};

/// Where an entity reported as `base` is `ticks` ticks later: dead reckoning in integer
/// quanta, so server and clients agree to the quantum.
#[inline]
pub fn extrapolate(base: &EntityState, ticks: u32) -> EntityState {
    let step = |p: i32, v: i32| {
        let moved = i64::from(p) + i64::from(v) * i64::from(ticks);
        moved.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    };
    EntityState {
        x: step(base.x, base.vx),
        y: step(base.y, base.vy),
        ..*base
    }
}

/// A delta did not follow the mirror's tick: one was lost, and the mirror waits for the
/// snapshot the server sends to clients that fell behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("delta for tick {got:?} does not follow tick {expected:?}")]
pub struct TickGap {
    /// The tick the mirror expected.
    pub expected: Tick,
    /// The delta's tick.
    pub got: Tick,
}

#[derive(Debug, Clone)]
struct Tracked {
    spawn: Spawn,
    base: EntityState,
    at: Tick,
    /// The cell whose news last named it, in a session with interest management.
    cell: u32,
}

/// No cell: a session without interest management.
const NO_CELL: u32 = u32::MAX;

/// The world as one client knows it.
#[derive(Debug, Clone, Default)]
pub struct Mirror {
    tick: Tick,
    /// Ticks from one delta to the next: `tick_hz / send_hz` of the Welcome; 0 is
    /// taken as 1.
    step: u32,
    entities: HashMap<EntityId, Tracked>,
    /// The cells of a session with interest management, and those in view.
    cells: Option<CellGrid>,
    seen: Vec<u32>,
    acks: HashMap<EntityId, u32>,
    scores: HashMap<EntityId, u32>,
    round: RoundState,
}

impl Mirror {
    /// A mirror of `snapshot`'s world.
    pub fn from_snapshot(snapshot: &Snapshot) -> Mirror {
        let mut mirror = Mirror::default();
        mirror.reset(snapshot);
        mirror
    }

    /// Expects a delta every `step` ticks (`tick_hz / send_hz` of the Welcome).
    pub fn set_step(&mut self, step: u32) {
        self.step = step;
    }

    /// The cells of a session with interest management (from the `Welcome`'s `view`
    /// and `arena`): the positions in its views are relative to them.
    pub fn set_cells(&mut self, cells: Option<CellGrid>) {
        self.cells = cells;
    }

    /// Replaces everything with `snapshot`'s world.
    pub fn reset(&mut self, snapshot: &Snapshot) {
        self.tick = snapshot.tick;
        self.entities.clear();
        let states: HashMap<EntityId, EntityState> =
            snapshot.states.iter().map(|s| (s.id, *s)).collect();
        for spawn in &snapshot.spawns {
            if let Some(state) = states.get(&spawn.id) {
                self.entities.insert(
                    spawn.id,
                    Tracked {
                        spawn: spawn.clone(),
                        base: *state,
                        at: snapshot.tick,
                        cell: NO_CELL,
                    },
                );
            }
        }
        self.acks = snapshot.acks.iter().map(|a| (a.id, a.seq)).collect();
        self.scores = snapshot.scores.iter().map(|s| (s.id, s.points)).collect();
        self.round = snapshot.round;
    }

    /// Applies the next delta; refuses one that does not follow the last by one step.
    pub fn apply(&mut self, delta: &Delta) -> Result<(), TickGap> {
        let expected = self.tick.after(self.step.max(1));
        if delta.tick != expected {
            return Err(TickGap {
                expected,
                got: delta.tick,
            });
        }
        self.tick = delta.tick;
        for spawn in &delta.spawned {
            let placeholder = EntityState {
                id: spawn.id,
                x: 0,
                y: 0,
                vx: 0,
                vy: 0,
            };
            self.entities.insert(
                spawn.id,
                Tracked {
                    spawn: spawn.clone(),
                    base: placeholder,
                    at: delta.tick,
                    cell: NO_CELL,
                },
            );
        }
        for state in &delta.moved {
            if let Some(tracked) = self.entities.get_mut(&state.id) {
                tracked.base = *state;
                tracked.at = delta.tick;
            }
        }
        for id in &delta.removed {
            self.entities.remove(id);
            self.acks.remove(id);
            self.scores.remove(id);
        }
        for ack in &delta.acks {
            self.acks.insert(ack.id, ack.seq);
        }
        for score in &delta.scores {
            self.scores.insert(score.id, score.points);
        }
        self.note_events(&delta.events);
        Ok(())
    }

    /// Applies the next view of a session with interest management (see
    /// [`ViewDelta`] for the rule); refuses one that does not follow the last by one
    /// step, unless it is fresh. Its cells are those of [`Mirror::set_cells`].
    pub fn apply_view(&mut self, view: &ViewDelta) -> Result<(), TickGap> {
        let expected = self.tick.after(self.step.max(1));
        if !view.fresh && view.tick != expected {
            return Err(TickGap {
                expected,
                got: view.tick,
            });
        }
        self.tick = view.tick;
        if view.fresh {
            self.entities.clear();
            self.seen.clear();
        }
        if let (Some(around), Some(grid)) = (view.around, self.cells) {
            grid.seen(around, &mut self.seen);
            let seen = &self.seen;
            self.entities
                .retain(|_, tracked| seen.binary_search(&tracked.cell).is_ok());
        }
        let cells = self.seen.iter().zip(&view.cells);
        for (&cell, news) in cells.clone().filter_map(|(c, n)| Some((c, n.as_ref()?))) {
            let origin = self.cells.map_or((0, 0), |grid| grid.origin(cell));
            for arrival in &news.entered {
                let Some(spawn) = news.spawns.iter().find(|s| s.id == arrival.id) else {
                    continue;
                };
                self.entities.insert(
                    arrival.id,
                    Tracked {
                        spawn: spawn.clone(),
                        base: arrival.state(origin),
                        at: view.tick,
                        cell,
                    },
                );
            }
            for id in &news.crossed {
                if let Some(tracked) = self.entities.get_mut(id) {
                    tracked.cell = cell;
                }
            }
            for correction in &news.moved {
                if let Some(tracked) = self.entities.get_mut(&correction.id) {
                    let predicted = extrapolate(&tracked.base, view.tick.since(tracked.at));
                    tracked.base = correction.applied_to(&predicted);
                    tracked.at = view.tick;
                    tracked.cell = cell;
                }
            }
            for score in &news.scores {
                self.scores.insert(score.id, score.points);
            }
        }
        for (&cell, news) in cells.filter_map(|(c, n)| Some((c, n.as_ref()?))) {
            for id in &news.left {
                // Gone from this cell; kept only if it entered another one in view.
                if self.entities.get(id).is_some_and(|t| t.cell == cell) {
                    self.entities.remove(id);
                }
            }
        }
        for ack in &view.acks {
            self.acks.insert(ack.id, ack.seq);
        }
        for score in &view.scores {
            self.scores.insert(score.id, score.points);
        }
        for event in &view.world.events {
            if let GameEvent::PlayerLeft { id } = event {
                self.acks.remove(id);
                self.scores.remove(id);
            }
        }
        self.note_events(&view.world.events);
        Ok(())
    }

    fn note_events(&mut self, events: &[GameEvent]) {
        for event in events {
            if let GameEvent::RoundStarted { number, ends_at } = event {
                self.round = RoundState {
                    number: *number,
                    phase: crate::protocol::RoundPhase::Playing,
                    ends_at: *ends_at,
                };
            }
        }
    }

    /// The cell whose news last named an entity, in a session with interest management.
    pub fn cell(&self, id: EntityId) -> Option<u32> {
        self.entities
            .get(&id)
            .map(|t| t.cell)
            .filter(|&c| c != NO_CELL)
    }

    /// The tick the mirror is at.
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// An entity's motion now, extrapolated from its last report.
    pub fn state(&self, id: EntityId) -> Option<EntityState> {
        let tracked = self.entities.get(&id)?;
        Some(extrapolate(&tracked.base, self.tick.since(tracked.at)))
    }

    /// An entity's fixed facts.
    pub fn spawn(&self, id: EntityId) -> Option<&Spawn> {
        self.entities.get(&id).map(|t| &t.spawn)
    }

    /// Every entity's id.
    pub fn ids(&self) -> impl Iterator<Item = EntityId> + '_ {
        self.entities.keys().copied()
    }

    /// How many entities there are.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// A player's last input sequence number the server reported as processed.
    pub fn ack(&self, id: EntityId) -> Option<u32> {
        self.acks.get(&id).copied()
    }

    /// A player's score.
    pub fn score(&self, id: EntityId) -> Option<u32> {
        self.scores.get(&id).copied()
    }

    /// The round as of the last snapshot or `RoundStarted`.
    pub fn round(&self) -> RoundState {
        self.round
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{EntityKind, Spawn};

    fn spawn(id: u32) -> Spawn {
        Spawn {
            id: EntityId(id),
            kind: EntityKind::Ball,
            radius: 120,
            name: String::new(),
        }
    }

    #[test]
    fn unreported_entities_keep_moving_by_their_velocity() {
        let mut mirror = Mirror::default();
        let delta = Delta {
            tick: Tick(1),
            spawned: vec![spawn(1)],
            moved: vec![EntityState {
                id: EntityId(1),
                x: 100,
                y: 100,
                vx: 10,
                vy: -2,
            }],
            ..Delta::default()
        };
        mirror.apply(&delta).expect("tick 1 follows tick 0");
        for tick in 2..=5 {
            mirror
                .apply(&Delta {
                    tick: Tick(tick),
                    ..Delta::default()
                })
                .expect("in order");
        }
        assert_eq!(
            mirror.state(EntityId(1)),
            Some(EntityState {
                id: EntityId(1),
                x: 140,
                y: 92,
                vx: 10,
                vy: -2
            })
        );
    }

    #[test]
    fn a_missing_delta_is_a_gap() {
        let mut mirror = Mirror::default();
        let err = mirror.apply(&Delta {
            tick: Tick(2),
            ..Delta::default()
        });
        assert_eq!(
            err,
            Err(TickGap {
                expected: Tick(1),
                got: Tick(2)
            })
        );
    }
}
