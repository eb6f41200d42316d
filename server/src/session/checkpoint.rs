//! A session written into a checkpoint, and resumed from one on another node.
//!
//! Beside the game ([`crate::sim`]'s half) a checkpoint holds each player's current
//! reconnect token and the chat. A resumed session has no connections: every player
//! in it is a ghost waiting, for the reconnect grace period, for its client to come
//! back with its token, exactly as after a lost connection.

use arena_shared::protocol::{ChatLine, EntityId};

use super::{Dormant, Kind, Session};
use crate::checkpoint::Checkpoint;
use crate::config::Tunables;
use crate::sim::Simulation;

impl Session {
    /// The session at its last computed tick.
    pub fn checkpoint(&mut self) -> Checkpoint {
        let (members, dormant) = (&self.members, &self.dormant);
        let token_of = |id: EntityId| {
            members
                .iter()
                .find_map(|m| match &m.kind {
                    Kind::Viewer {
                        player: Some(p),
                        reconnect_token,
                        ..
                    } if *p == id => Some(reconnect_token.clone()),
                    _ => None,
                })
                .or_else(|| {
                    dormant
                        .iter()
                        .find(|d| d.player == id)
                        .map(|d| d.token.clone())
                })
        };
        let mut checkpoint = self.sim.checkpoint(&self.code, token_of);
        checkpoint.chat = self
            .chat
            .iter()
            .map(|line| (line.from.clone(), line.text.clone()))
            .collect();
        checkpoint
    }

    /// The session of `checkpoint`: its game at the checkpoint's tick, each of its
    /// players away until its client reconnects with its token.
    pub fn resume(tunables: &Tunables, checkpoint: &Checkpoint) -> Session {
        let sim = Simulation::resume(tunables, checkpoint);
        let mut session = Session::playing(checkpoint.session.clone(), tunables, sim);
        let since = session.sim.tick();
        for player in &checkpoint.players {
            let id = EntityId(player.id);
            session.sim.set_away(id, true);
            session.dormant.push(Dormant {
                player: id,
                token: player.token.clone(),
                since,
            });
        }
        session.chat = checkpoint
            .chat
            .iter()
            .map(|(from, text)| ChatLine {
                from: from.clone(),
                text: text.clone(),
            })
            .collect();
        session
    }
}
