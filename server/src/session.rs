//! One game session: its simulation, the connections in it, and the fan-out of each
//! tick's delta.
//!
//! A session lives on the ticker thread and is never touched by I/O tasks: they reach
//! it through commands (join, leave) and each player's [`InputSlot`]. Each tick's delta
//! is encoded once into a shared [`Bytes`] that every member's queue gets a reference
//! to; only a joining player's `Welcome` is encoded for that player alone.

use std::borrow::Cow;
use std::sync::Arc;

use arena_shared::codec::encode_server;
use arena_shared::limits::close_code;
use arena_shared::protocol::{EntityId, Hello, Role, ServerMessage, Snapshot, Welcome};
use bytes::{BufMut, Bytes, BytesMut};

use crate::config::Tunables;
use crate::input_slot::InputSlot;
use crate::outbox::{Offer, Outbox, Outgoing};
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
    player: Option<EntityId>,
    outbox: Outbox,
    input: Arc<InputSlot>,
    /// False until its `Welcome` is queued: it gets no delta before that.
    welcomed: bool,
    reconnect_token: String,
}

/// A session: a game and the connections watching or playing it.
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
            empty_timeout_ticks: (tunables.sessions.empty_timeout_s * f32::from(tunables.tick_hz))
                .round() as u32,
            encoder: BytesMut::with_capacity(ENCODER_CAPACITY),
            snapshot: Snapshot::default(),
        }
    }

    /// The session's code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Adds a connection; it is welcomed at the end of the next tick. A player beyond
    /// the cap is refused with a close frame instead.
    pub fn join(&mut self, request: JoinRequest) {
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
            player,
            outbox: request.outbox,
            input: request.input,
            welcomed: false,
            reconnect_token,
        });
    }

    /// Removes a connection and its player. Returns false if it was not a member.
    pub fn leave(&mut self, conn: ConnId) -> bool {
        let Some(index) = self.members.iter().position(|m| m.conn == conn) else {
            return false;
        };
        let member = self.members.swap_remove(index);
        if let Some(id) = member.player {
            self.sim.remove_player(id);
        }
        true
    }

    /// Entities in the game.
    pub fn entity_count(&self) -> usize {
        self.sim.entity_count()
    }

    /// True once the session has been empty for `sessions.empty_timeout_s`.
    pub fn expired(&self) -> bool {
        self.members.is_empty() && self.empty_ticks >= self.empty_timeout_ticks
    }

    /// Runs one tick: inputs in, simulation step, one encoded delta out to every member.
    pub fn tick(&mut self) -> TickReport {
        for member in &self.members {
            if let (Some(id), Some(input)) = (member.player, member.input.take()) {
                self.sim.steer(id, input.seq, input.dx, input.dy);
            }
        }
        self.sim.step();
        self.empty_ticks = if self.members.is_empty() {
            self.empty_ticks.saturating_add(1)
        } else {
            0
        };

        let mut report = TickReport::default();
        let Some(delta) = encode(
            &mut self.encoder,
            &ServerMessage::Delta(Cow::Borrowed(self.sim.delta())),
        ) else {
            return report;
        };
        let mut needs_snapshot = false;
        for member in &mut self.members {
            if !member.welcomed || member.outbox.wants_snapshot() {
                needs_snapshot = true;
                continue;
            }
            if member.outbox.offer_delta(&delta) == Offer::Dropped {
                report.dropped += 1;
            }
        }
        if needs_snapshot {
            report.resyncs = self.send_snapshots();
        }
        report
    }

    /// Welcomes new members and resynchronizes drained laggards with this tick's state.
    fn send_snapshots(&mut self) -> u64 {
        self.sim.write_snapshot(&mut self.snapshot);
        let mut shared: Option<Bytes> = None;
        let mut resyncs = 0;
        for member in &mut self.members {
            if !member.welcomed {
                let welcome = ServerMessage::Welcome(Welcome {
                    you: member.player,
                    session: Cow::Borrowed(&self.code),
                    tick_hz: self.tick_hz,
                    arena: self.sim.arena_info(),
                    reconnect_token: Cow::Borrowed(&member.reconnect_token),
                    snapshot: Cow::Borrowed(&self.snapshot),
                });
                if let Some(frame) = encode(&mut self.encoder, &welcome) {
                    member.outbox.offer(Outgoing::Frame(frame));
                }
                member.welcomed = true;
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

/// Encodes a message into the shared encoder and splits it off as a frame.
fn encode(encoder: &mut BytesMut, message: &ServerMessage<'_>) -> Option<Bytes> {
    encoder.clear();
    match encode_server(message, &mut encoder.writer()) {
        Ok(()) => Some(encoder.split().freeze()),
        Err(err) => {
            tracing::error!(%err, "a server message failed to encode");
            None
        }
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
