//! One game session: its simulation, the connections in it, and the fan-out of each
//! tick's delta.
//!
//! A session lives on the ticker thread and is never touched by I/O tasks: they reach
//! it through commands (join, leave) and each player's [`InputSlot`]. Each tick's delta
//! is encoded and framed once (see [`crate::frame`]) and the same bytes are written to
//! every member's socket; only a joining player's `Welcome` is encoded for that player
//! alone.

use std::borrow::Cow;
use std::sync::Arc;

use arena_shared::limits::close_code;
use arena_shared::protocol::{
    ControllerStatus, EntityId, Feed, GameEvent, Hello, Paired, Role, ServerMessage, Snapshot,
    Tick, Welcome,
};
use bytes::{Bytes, BytesMut};

use crate::config::Tunables;
use crate::frame::encode;
use crate::input_slot::InputSlot;
use crate::outbox::{Offer, Outbox, Outgoing};
use crate::pairing::Refusal;
use crate::sim::Simulation;

/// Identifies a connection across the server.
pub type ConnId = u64;

/// A connection asking to join a session.
#[derive(Debug)]
pub struct JoinRequest {
    /// The connection.
    pub conn: ConnId,
    /// The session's code, already defaulted.
    pub session: String,
    /// What the client said.
    pub hello: Hello,
    /// Where the session sends it frames.
    pub outbox: Outbox,
    /// Where its reader leaves inputs.
    pub input: Arc<InputSlot>,
}

/// What one tick did for slow clients, for the server's counters.
#[derive(Debug, Default, Clone, Copy)]
pub struct TickReport {
    /// Deltas not queued because a client was behind.
    pub dropped: u64,
    /// Snapshots queued to resynchronize a client.
    pub resyncs: u64,
}

struct Member {
    conn: ConnId,
    outbox: Outbox,
    kind: Kind,
}

/// What a connection is to the session.
enum Kind {
    /// A game page (with a player) or a spectator: gets the welcome and every delta.
    Viewer {
        player: Option<EntityId>,
        /// Where its reader, and any paired controller's, leave inputs.
        input: Arc<InputSlot>,
        /// False until its `Welcome` is queued: it gets no delta before that.
        welcomed: bool,
        reconnect_token: String,
    },
    /// A phone steering `player`: gets only that player's feed. Its inputs have their
    /// own slot, so that the player's page can reconnect without cutting the phone off.
    Controller {
        player: EntityId,
        fed_score: u32,
        input: Arc<InputSlot>,
    },
}

/// A session: a game and the connections watching, playing or steering it.
pub struct Session {
    code: String,
    sim: Simulation,
    members: Vec<Member>,
    max_players: u32,
    tick_hz: u16,
    empty_ticks: u32,
    empty_timeout_ticks: u32,
    /// Reused for every encoding; frames are split off it, so its memory is reclaimed
    /// once the sockets have sent them.
    encoder: BytesMut,
    /// Reused snapshot buffer.
    snapshot: Snapshot,
    /// Players whose connection was lost, kept for the reconnect grace period.
    dormant: Vec<Dormant>,
    grace_ticks: u32,
}

/// A player without a connection, waiting to be reclaimed by its reconnect token.
struct Dormant {
    player: EntityId,
    token: String,
    since: Tick,
}

/// Initial encoder capacity: a few deltas' worth.
const ENCODER_CAPACITY: usize = 64 * 1024;

impl Session {
    /// A new session with a fresh game.
    pub fn new(code: String, tunables: &Tunables, seed: u64) -> Session {
        Session {
            code,
            sim: Simulation::new(tunables, seed),
            members: Vec::new(),
            max_players: tunables.players.max_per_session,
            tick_hz: tunables.tick_hz,
            empty_ticks: 0,
            empty_timeout_ticks: tunables.ticks_or_none(tunables.sessions.empty_timeout_s),
            encoder: BytesMut::with_capacity(ENCODER_CAPACITY),
            snapshot: Snapshot::default(),
            dormant: Vec::new(),
            grace_ticks: tunables.ticks_or_none(tunables.sessions.reconnect_grace_s),
        }
    }

    /// The session's code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Adds a connection; it is welcomed at the end of the next tick. A player beyond
    /// the cap is refused with a close frame instead.
    pub fn join(&mut self, mut request: JoinRequest) {
        // Only a player can take a player back: a spectator's token is ignored.
        if let Some(token) = request.hello.reconnect.take()
            && request.hello.role == Role::Player
        {
            match self.reclaim(&token) {
                Some(player) => return self.admit(request, Some(player)),
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
                let name = request.hello.name.trim();
                Some(
                    self.sim
                        .spawn_player(if name.is_empty() { "player" } else { name }),
                )
            }
        };
        self.admit(request, player);
    }

    /// Takes back the player of a reconnect token: from the dormant players, or from a
    /// live connection that the client has evidently lost (it would not reconnect
    /// otherwise), which is closed.
    fn reclaim(&mut self, token: &str) -> Option<EntityId> {
        if let Some(index) = self.dormant.iter().position(|d| d.token == token) {
            let dormant = self.dormant.swap_remove(index);
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

    /// Makes `request`'s connection a viewer, of `player` if it has one, with a fresh
    /// reconnect token.
    fn admit(&mut self, request: JoinRequest, player: Option<EntityId>) {
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
        self.members.push(Member {
            conn: request.conn,
            outbox: request.outbox,
            kind: Kind::Viewer {
                player,
                input: request.input,
                welcomed: false,
                reconnect_token,
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
        });
        if let Some(frame) = encode(&mut self.encoder, &paired) {
            outbox.offer(Outgoing::Frame(frame));
        }
        self.members.push(Member {
            conn,
            outbox,
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

    /// Removes a connection. A page's player stays for the reconnect grace period (the
    /// session sees a `Connection` event), then leaves and its controllers are closed; a
    /// controller leaves its player to the page. Returns false if it was not a member.
    pub fn leave(&mut self, conn: ConnId) -> bool {
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
                if self.grace_ticks == 0 {
                    self.remove_player(id);
                } else {
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

    /// Removes a player for good, and closes the phones that steered it.
    fn remove_player(&mut self, id: EntityId) {
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

    /// Entities in the game.
    pub fn entity_count(&self) -> usize {
        self.sim.entity_count()
    }

    /// True once the session has been empty for `sessions.empty_timeout_s`.
    pub fn expired(&self) -> bool {
        self.members.is_empty()
            && self.dormant.is_empty()
            && self.empty_ticks >= self.empty_timeout_ticks
    }

    /// Runs one tick: inputs in, simulation step, one encoded delta out to every viewer,
    /// and a feed to each controller whose player had news.
    pub fn tick(&mut self) -> TickReport {
        let now = self.sim.tick();
        let grace = self.grace_ticks;
        if self.dormant.iter().any(|d| now.since(d.since) >= grace) {
            let expired: Vec<EntityId> = self
                .dormant
                .iter()
                .filter(|d| now.since(d.since) >= grace)
                .map(|d| d.player)
                .collect();
            self.dormant.retain(|d| now.since(d.since) < grace);
            for id in expired {
                self.remove_player(id);
            }
        }
        // Pages first, then phones: a phone's input of the same tick wins.
        for member in &self.members {
            if let Kind::Viewer {
                player: Some(id),
                input,
                ..
            } = &member.kind
                && let Some(steer) = input.take()
            {
                self.sim.steer(*id, steer.seq, steer.dx, steer.dy);
            }
        }
        for member in &self.members {
            if let Kind::Controller { player, input, .. } = &member.kind
                && let Some(steer) = input.take()
            {
                self.sim.steer(*player, steer.seq, steer.dx, steer.dy);
            }
        }
        self.sim.step();
        self.empty_ticks = if self.members.is_empty() {
            self.empty_ticks.saturating_add(1)
        } else {
            0
        };

        let mut report = TickReport::default();
        // Nobody to send to (an empty session, or only players waiting to reconnect):
        // the game goes on, but there is nothing to encode.
        if self.members.is_empty() {
            return report;
        }
        let Some(delta) = encode(
            &mut self.encoder,
            &ServerMessage::Delta(Cow::Borrowed(self.sim.delta())),
        ) else {
            return report;
        };
        let mut needs_snapshot = false;
        let mut has_controllers = false;
        for member in &mut self.members {
            match &member.kind {
                Kind::Controller { .. } => has_controllers = true,
                Kind::Viewer {
                    welcomed: false, ..
                } => needs_snapshot = true,
                Kind::Viewer { .. } if member.outbox.wants_snapshot() => needs_snapshot = true,
                Kind::Viewer { .. } => {
                    if member.outbox.offer_delta(&delta) == Offer::Dropped {
                        report.dropped += 1;
                    }
                }
            }
        }
        if needs_snapshot {
            report.resyncs = self.send_snapshots();
        }
        if has_controllers {
            self.feed_controllers();
        }
        report
    }

    /// Sends each controller its player's events and score, if it has any news.
    fn feed_controllers(&mut self) {
        let delta = self.sim.delta();
        let round = self.sim.round_state();
        for member in &mut self.members {
            let Kind::Controller {
                player, fed_score, ..
            } = &mut member.kind
            else {
                continue;
            };
            let player = *player;
            let score = self.sim.score_of(player).unwrap_or(0);
            let events: Vec<GameEvent> = delta
                .events
                .iter()
                .filter(|e| match e {
                    GameEvent::Collided { a, b } => *a == player || *b == player,
                    GameEvent::Still { id } => *id == player,
                    GameEvent::RoundStarted { .. } | GameEvent::RoundEnded { .. } => true,
                    GameEvent::PlayerJoined { .. }
                    | GameEvent::PlayerLeft { .. }
                    | GameEvent::Connection { .. } => false,
                })
                .cloned()
                .collect();
            if events.is_empty() && score == *fed_score {
                continue;
            }
            *fed_score = score;
            let feed = ServerMessage::Feed(Feed {
                tick: delta.tick,
                score,
                round,
                events,
            });
            if let Some(frame) = encode(&mut self.encoder, &feed) {
                member.outbox.offer(Outgoing::Frame(frame));
            }
        }
    }

    /// Welcomes new viewers and resynchronizes drained laggards with this tick's state.
    fn send_snapshots(&mut self) -> u64 {
        self.sim.write_snapshot(&mut self.snapshot);
        let mut shared: Option<Bytes> = None;
        let mut resyncs = 0;
        for member in &mut self.members {
            let Kind::Viewer {
                player,
                welcomed,
                reconnect_token,
                ..
            } = &mut member.kind
            else {
                continue;
            };
            if !*welcomed {
                let welcome = ServerMessage::Welcome(Welcome {
                    you: *player,
                    session: Cow::Borrowed(&self.code),
                    tick_hz: self.tick_hz,
                    arena: self.sim.arena_info(),
                    reconnect_token: Cow::Borrowed(reconnect_token),
                    snapshot: Cow::Borrowed(&self.snapshot),
                });
                if let Some(frame) = encode(&mut self.encoder, &welcome) {
                    member.outbox.offer(Outgoing::Frame(frame));
                }
                *welcomed = true;
            } else if member.outbox.wants_snapshot() {
                if shared.is_none() {
                    shared = encode(
                        &mut self.encoder,
                        &ServerMessage::Snapshot(Cow::Borrowed(&self.snapshot)),
                    );
                }
                if let Some(frame) = &shared
                    && member.outbox.offer_snapshot(frame) == Offer::Queued
                {
                    resyncs += 1;
                }
            }
        }
        resyncs
    }
}

/// 128 unguessable bits, as 32 hex digits.
fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests;
