//! A session written into a checkpoint, and resumed from one on another node.
//!
//! Beside the game ([`crate::sim`]'s half) a checkpoint holds each player's current
//! reconnect token and the chat. A resumed session has no connections: every player
//! in it is a ghost waiting, for the reconnect grace period, for its client to come
//! back with its token, exactly as after a lost connection.

use std::collections::HashMap;

use arena_shared::protocol::{ChatLine, EntityId};

use super::{Dormant, Kind, Session};
use crate::checkpoint::Checkpoint;
use crate::config::Tunables;
use crate::sim::Simulation;

impl Session {
    /// The session at its last computed tick. Built on the tick thread once a second:
    /// each player's token is looked up in one map, not searched for among members.
    pub fn checkpoint(&mut self) -> Checkpoint {
        let connected = self.members.iter().filter_map(|m| match &m.kind {
            Kind::Viewer {
                player: Some(id),
                reconnect_token,
                ..
            } => Some((*id, reconnect_token)),
            _ => None,
        });
        let away = self.dormant.iter().map(|d| (d.player, &d.token));
        let tokens: HashMap<EntityId, &String> = connected.chain(away).collect();
        let mut checkpoint = self
            .sim
            .checkpoint(&self.code, |id| tokens.get(&id).map(|t| (*t).clone()));
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
