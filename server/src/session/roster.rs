//! Who is in a session: joining (and taking a player back by its reconnect token),
//! leaving (a page's player waits out the reconnect grace period), and phone
//! controllers attached to players.

use std::sync::Arc;

use arena_shared::limits::{MAX_NAME_CHARS, close_code};
use arena_shared::protocol::{ControllerStatus, EntityId, GameEvent, Paired, Role, ServerMessage};

use super::{Dormant, Kind, Member, NOT_SENT_VIEWS, Session, Sight, new_token};
use crate::commands::{ConnId, Departure, JoinRequest};
use crate::frame::encode;
use crate::input_slot::InputSlot;
use crate::outbox::{Outbox, Outgoing};
use crate::pairing::Refusal;

impl Session {
    /// Adds a connection; it is welcomed at the end of the next tick. A player beyond
    /// the cap is refused with a close frame instead.
    pub fn join(&mut self, mut request: JoinRequest) {
        // Only a player can take a player back: a spectator's token is ignored.
        if let Some(token) = request.hello.reconnect.take()
            && request.hello.role == Role::Player
        {
            match self.reclaim(&token) {
                Some(player) => return self.admit(request, Some(player), true),
                None => {
                    tracing::debug!(session = %self.code, "unknown reconnect token: joining anew")
                }
            }
        }
        let player = match request.hello.role {
            Role::Spectator => None,
            Role::Player if self.sim.player_count() >= self.max_players as usize => {
                let reason = format!(
                    "session {} is full ({} players)",
                    self.code, self.max_players
                );
                request.outbox.offer(Outgoing::Close {
                    code: close_code::SESSION_FULL,
                    reason,
                });
                return;
            }
            Role::Player => {
                let name = self.unique_name(request.hello.name.trim());
                Some(self.sim.spawn_player(&name))
            }
        };
        self.admit(request, player, false);
    }

    /// `wanted` (or "player"), or with the first suffix " 2", " 3"... that no other
    /// player in the session has, cut to fit the name limit.
    fn unique_name(&mut self, wanted: &str) -> String {
        let wanted = if wanted.is_empty() { "player" } else { wanted };
        if !self.sim.name_taken(wanted) {
            return wanted.to_owned();
        }
        (2u32..)
            .map(|n| {
                let suffix = format!(" {n}");
                let room = MAX_NAME_CHARS.saturating_sub(suffix.chars().count());
                let base: String = wanted.chars().take(room).collect();
                format!("{}{suffix}", base.trim_end())
            })
            .find(|name| !self.sim.name_taken(name))
            .unwrap_or_else(|| wanted.to_owned())
    }

    /// Takes back the player of a reconnect token: from the dormant players, or from a
    /// live connection that the client has evidently lost (it would not reconnect
    /// otherwise), which is closed.
    pub(super) fn reclaim(&mut self, token: &str) -> Option<EntityId> {
        if let Some(index) = self.dormant.iter().position(|d| d.token == token) {
            let dormant = self.dormant.swap_remove(index);
            self.sim.set_away(dormant.player, false);
            self.sim.announce(GameEvent::Connection {
                id: dormant.player,
                connected: true,
            });
            return Some(dormant.player);
        }
        let index = self.members.iter().position(|m| {
            matches!(&m.kind, Kind::Viewer { player: Some(_), reconnect_token, .. } if reconnect_token == token)
        })?;
        let old = self.members.swap_remove(index);
        let reason = "replaced by a newer connection of the same player".to_owned();
        old.outbox.offer(Outgoing::Close {
            code: close_code::REPLACED,
            reason,
        });
        match old.kind {
            Kind::Viewer { player, .. } => player,
            Kind::Controller { .. } => None,
        }
    }

    /// Makes `request`'s connection a viewer, of `player` if it has one (taken back by
    /// its reconnect token if `resumed`), with a fresh reconnect token.
    pub(super) fn admit(&mut self, request: JoinRequest, player: Option<EntityId>, resumed: bool) {
        let reconnect_token = match new_token() {
            Ok(token) => token,
            Err(err) => {
                tracing::error!(%err, "no randomness for a reconnect token; refusing the join");
                if let Some(id) = player {
                    self.sim.remove_player(id);
                }
                let reason = "server error: no randomness available".to_owned();
                request.outbox.offer(Outgoing::Close { code: 1011, reason });
                return;
            }
        };
        let cohort = self.quietest_cohort();
        self.members.push(Member {
            conn: request.conn,
            outbox: request.outbox,
            cohort,
            kind: Kind::Viewer {
                player,
                input: request.input,
                welcomed: false,
                reconnect_token,
                resumed,
                sight: self
                    .parts
                    .as_deref()
                    .map(|parts| Box::new(Sight::new(player, parts.grid()))),
            },
        });
    }

    /// The player of the game page on `conn`, if it is one: what a pairing code binds.
    pub fn player_of(&self, conn: ConnId) -> Option<EntityId> {
        self.members
            .iter()
            .find(|m| m.conn == conn)
            .and_then(|m| match m.kind {
                Kind::Viewer { player, .. } => player,
                Kind::Controller { .. } => None,
            })
    }

    /// Sends one message to one member (a pairing code, for instance).
    pub fn send_to(&mut self, conn: ConnId, message: &ServerMessage<'_>) {
        let Some(frame) = encode(&mut self.encoder, message) else {
            return;
        };
        if let Some(member) = self.members.iter().find(|m| m.conn == conn) {
            member.outbox.offer(Outgoing::Frame(frame));
        }
    }

    /// Makes `conn` the controller of `player`: each tick, its inputs (left in `input`)
    /// steer that player after the page's own. Refused with `PlayerLeft` if the player
    /// has no page in the session any more.
    pub fn attach_controller(
        &mut self,
        conn: ConnId,
        player: EntityId,
        outbox: Outbox,
        input: Arc<InputSlot>,
    ) -> Result<(), (Refusal, Outbox)> {
        let page = self.members.iter().find_map(|m| match &m.kind {
            Kind::Viewer {
                player: Some(p), ..
            } if *p == player => Some(m.conn),
            _ => None,
        });
        let Some(page) = page else {
            return Err((Refusal::PlayerLeft, outbox));
        };
        let score = self.sim.score_of(player).unwrap_or(0);
        let paired = ServerMessage::Paired(Paired {
            player,
            name: self.sim.name_of(player).unwrap_or_default(),
            session: self.code.clone(),
            tick_hz: self.tick_hz,
            score,
            round: self.sim.round_state(),
            tick: self.sim.tick(),
        });
        if let Some(frame) = encode(&mut self.encoder, &paired) {
            outbox.offer(Outgoing::Frame(frame));
        }
        self.members.push(Member {
            conn,
            outbox,
            cohort: NOT_SENT_VIEWS,
            kind: Kind::Controller {
                player,
                fed_score: score,
                input,
            },
        });
        self.send_to(
            page,
            &ServerMessage::Controller(ControllerStatus { attached: true }),
        );
        Ok(())
    }

    /// Removes a connection. A page that said goodbye takes its player with it; a lost
    /// page's player stays for the reconnect grace period as a ghost (the session sees a
    /// `Connection` event), then leaves. Either way the player's controllers are closed
    /// when it leaves. A controller leaves its player to the page. Returns false if it
    /// was not a member.
    pub fn leave(&mut self, conn: ConnId, departure: Departure) -> bool {
        let Some(index) = self.members.iter().position(|m| m.conn == conn) else {
            return false;
        };
        let member = self.members.swap_remove(index);
        match member.kind {
            Kind::Viewer {
                player: Some(id),
                reconnect_token,
                ..
            } => {
                if self.grace_ticks == 0 || departure == Departure::Deliberate {
                    self.remove_player(id);
                } else {
                    self.sim.set_away(id, true);
                    self.sim.announce(GameEvent::Connection {
                        id,
                        connected: false,
                    });
                    self.dormant.push(Dormant {
                        player: id,
                        token: reconnect_token,
                        since: self.sim.tick(),
                    });
                }
            }
            Kind::Viewer { player: None, .. } => {}
            Kind::Controller { player, .. } => {
                let still_attached = self
                    .members
                    .iter()
                    .any(|m| matches!(m.kind, Kind::Controller { player: p, .. } if p == player));
                let page = self.members.iter().find_map(|m| match m.kind {
                    Kind::Viewer {
                        player: Some(p), ..
                    } if p == player => Some(m.conn),
                    _ => None,
                });
                if let Some(page) = page {
                    self.send_to(
                        page,
                        &ServerMessage::Controller(ControllerStatus {
                            attached: still_attached,
                        }),
                    );
                }
            }
        }
        true
    }

    /// Closes every connection of the session with `code` and `reason` (the operator
    /// closed it); its players leave at once, and the session expires once empty.
    pub fn close_all(&mut self, code: u16, reason: &str) {
        for member in self.members.drain(..) {
            member.outbox.offer(Outgoing::Close {
                code,
                reason: reason.to_owned(),
            });
            if let Kind::Viewer {
                player: Some(id), ..
            } = member.kind
            {
                self.sim.remove_player(id);
            }
        }
        for dormant in std::mem::take(&mut self.dormant) {
            self.sim.remove_player(dormant.player);
        }
    }

    /// Takes `player` out at once (the operator kicked it): its page and phones are
    /// closed with `code` and `reason`. False if there is no such player.
    pub fn kick(&mut self, player: EntityId, code: u16, reason: &str) -> bool {
        let before = self.members.len() + self.dormant.len();
        self.dormant.retain(|d| d.player != player);
        self.members.retain(|m| {
            let steers = match m.kind {
                Kind::Viewer { player: p, .. } => p == Some(player),
                Kind::Controller { player: p, .. } => p == player,
            };
            if steers {
                m.outbox.offer(Outgoing::Close {
                    code,
                    reason: reason.to_owned(),
                });
            }
            !steers
        });
        let found = self.members.len() + self.dormant.len() < before;
        if found {
            self.sim.remove_player(player);
        }
        found
    }

    /// Removes a player for good, and closes the phones that steered it.
    pub(super) fn remove_player(&mut self, id: EntityId) {
        self.sim.remove_player(id);
        self.members.retain(|m| match m.kind {
            Kind::Controller { player, .. } if player == id => {
                let reason = "the game page of your player has left".to_owned();
                m.outbox.offer(Outgoing::Close {
                    code: close_code::PLAYER_LEFT,
                    reason,
                });
                false
            }
            _ => true,
        });
    }
}
