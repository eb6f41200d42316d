//! Recording rounds for replays: what went into the simulation before each step, from
//! each round's first tick to its last, with the game at the round's start and a state
//! hash every second (see [`crate::recording`]).
//!
//! Every call that changes the game from outside (steering, joins, leaves, going away)
//! passes through [`Simulation::note`]; nothing else can change it, the simulation
//! reading no clock, so a recording re-plays exactly.

use arena_shared::protocol::RoundPhase;

use super::Simulation;
use crate::recording::{Input, Recording, StateHash, TickInputs, state_hash};

/// The recorder of one simulation.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// The round being recorded, if one is.
    round: Option<Recording>,
    /// Inputs since the last step.
    pending: Vec<Input>,
    /// The last round finished, until taken.
    finished: Option<Recording>,
}

impl Simulation {
    /// Records every round from now on: the current one too if it is just starting
    /// (a new game), else from the next one.
    pub fn record_rounds(&mut self) {
        let mut journal = Journal::default();
        if self.tick().0 == 0 && self.round_state().phase == RoundPhase::Playing {
            journal.round = Some(self.keyframe());
        }
        self.journal = Some(journal);
    }

    /// The last round recorded in full, once.
    pub fn take_recording(&mut self) -> Option<Recording> {
        self.journal.as_mut()?.finished.take()
    }

    /// Notes an input for the round being recorded; `input` is made only then.
    pub(super) fn note(&mut self, input: impl FnOnce() -> Input) {
        if let Some(journal) = &mut self.journal
            && journal.round.is_some()
        {
            journal.pending.push(input());
        }
    }

    /// After a step: the tick's inputs kept, a hash every second, and rounds started
    /// and finished as the round's phase turned.
    pub(super) fn journal_step(&mut self, before: RoundPhase) {
        let Some(mut journal) = self.journal.take() else {
            return;
        };
        let tick = self.tick().0;
        let after = self.round_state().phase;
        let every = u32::from(self.rules().tick_hz).max(1);
        if let Some(round) = &mut journal.round {
            if !journal.pending.is_empty() {
                round.ticks.push(TickInputs {
                    tick,
                    inputs: std::mem::take(&mut journal.pending),
                });
            }
            if (tick - round.keyframe.tick).is_multiple_of(every) {
                let hash = self.state_hash();
                round.hashes.push(StateHash { tick, hash });
            }
            if before == RoundPhase::Playing && after == RoundPhase::Intermission {
                round.end_tick = tick;
                journal.finished = journal.round.take();
            }
        }
        if before == RoundPhase::Intermission && after == RoundPhase::Playing {
            journal.pending.clear();
            journal.round = Some(self.keyframe());
        }
        self.journal = Some(journal);
    }

    /// The hash a recording keeps of the game now (its checkpoint without tokens or
    /// chat), and a re-play checks.
    pub fn state_hash(&mut self) -> u64 {
        state_hash(&self.checkpoint("", |_| None))
    }

    /// The game now, as a recording starts from it.
    fn keyframe(&mut self) -> Recording {
        let keyframe = self.checkpoint("", |_| None);
        Recording {
            keyframe,
            ticks: Vec::new(),
            hashes: Vec::new(),
            end_tick: 0,
        }
    }

    /// Re-plays `recording`'s inputs on this game (resumed from its keyframe), calling
    /// `each` after every step with the tick; stops at the round's last tick.
    pub fn replay(&mut self, recording: &Recording, mut each: impl FnMut(&mut Simulation, u32)) {
        let mut inputs = recording.ticks.iter().peekable();
        while self.tick().0 < recording.end_tick {
            let next = self.tick().0 + 1;
            // Ticks before the game's own (none, in a well-formed file) are passed over.
            while let Some(due) = inputs.next_if(|t| t.tick <= next) {
                if due.tick == next {
                    due.inputs.iter().for_each(|input| self.apply(input));
                }
            }
            self.step();
            each(self, next);
        }
    }

    fn apply(&mut self, input: &Input) {
        use arena_shared::protocol::EntityId;
        match input {
            Input::Steer { id, seq, dx, dy } => self.steer(EntityId(*id), *seq, *dx, *dy),
            Input::Join { name } => {
                self.spawn_player(name);
            }
            Input::Leave { id } => {
                self.remove_player(EntityId(*id));
            }
            Input::Away { id, away } => self.set_away(EntityId(*id), *away),
        }
    }
}
