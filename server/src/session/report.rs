//! A session as the operator's page shows it: its players, its round, what its tick
//! costs and sends. Built by the session's worker once a second.

use std::time::Duration;

use arena_shared::protocol::RoundPhase;

use super::{Kind, Session, TickReport};
use crate::monitor::{PlayerReport, SessionReport};

/// What a session counts between two reports.
#[derive(Debug, Default)]
pub(super) struct Watch {
    /// Its tick's cost, nanoseconds, a moving average.
    cost_ns: f64,
    bytes: u64,
    resyncs: u64,
}

/// Weight of the latest tick in the moving average of its cost.
const COST_WEIGHT: f64 = 0.05;

impl Session {
    /// Counts one tick: how long it took its worker, and what it sent.
    pub fn measured(&mut self, took: Duration, sent: &TickReport) {
        let ns = took.as_nanos() as f64;
        let watch = &mut self.watch;
        watch.cost_ns = if watch.cost_ns == 0.0 {
            ns
        } else {
            watch.cost_ns + (ns - watch.cost_ns) * COST_WEIGHT
        };
        watch.bytes += sent.bytes;
        watch.resyncs += sent.resyncs;
    }

    /// The session now, for the admin page; its per-second counts start over.
    pub fn report(&mut self, worker: usize) -> SessionReport {
        let mut players = Vec::new();
        let (mut spectators, mut controllers, mut owed) = (0, 0, 0);
        // Phones are few: look each player up among them, not among every member.
        let steered: Vec<_> = self
            .members
            .iter()
            .filter_map(|m| match m.kind {
                Kind::Controller { player, .. } => Some(player),
                Kind::Viewer { .. } => None,
            })
            .collect();
        for member in &self.members {
            match &member.kind {
                Kind::Viewer {
                    player: Some(id),
                    input,
                    ..
                } => {
                    let mut report = self.player_report(*id, true, steered.contains(id));
                    let us = input.round_trip_us();
                    report.ping_ms = (us > 0).then(|| f64::from(us) / 1000.0);
                    players.push(report);
                }
                Kind::Viewer { player: None, .. } => spectators += 1,
                Kind::Controller { .. } => controllers += 1,
            }
            if matches!(member.kind, Kind::Viewer { .. }) && member.outbox.wants_snapshot() {
                owed += 1;
            }
        }
        for dormant in &self.dormant {
            players.push(self.player_report(dormant.player, false, false));
        }
        players.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
        let round = self.sim.round_state();
        let ticks_left = round.ends_at.since(self.sim.tick());
        let ticks_left = if ticks_left > u32::MAX / 2 {
            0
        } else {
            ticks_left
        };
        let report = SessionReport {
            code: self.code.clone(),
            worker,
            players,
            spectators,
            controllers,
            round: round.number,
            phase: match round.phase {
                RoundPhase::Playing => "Playing",
                RoundPhase::Intermission => "Intermission",
            },
            seconds_left: ticks_left.div_ceil(u32::from(self.tick_hz.max(1))),
            tick_us: self.watch.cost_ns / 1000.0,
            bytes_per_s: self.watch.bytes,
            owed,
            resyncs_per_s: self.watch.resyncs,
        };
        self.watch.bytes = 0;
        self.watch.resyncs = 0;
        report
    }

    fn player_report(
        &self,
        id: arena_shared::protocol::EntityId,
        connected: bool,
        controller: bool,
    ) -> PlayerReport {
        PlayerReport {
            id: id.0,
            name: self.sim.name_of(id).unwrap_or_default(),
            score: self.sim.score_of(id).unwrap_or(0),
            connected,
            controller,
            ping_ms: None,
        }
    }
}
