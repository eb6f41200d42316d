//! Every message a client or the server can send.
//!
//! Field order is the wire order: MessagePack encodes these structs as arrays, so a
//! reordered field is a protocol break (the golden bytes in `codec`'s tests catch it).
//! Enums encode as rmp-serde writes them: a one-entry map `{"VariantName": fields}`, or
//! the bare name string for a variant without fields; renaming a variant is a protocol
//! break. All coordinates are quantized (see [`crate::quantize`]).
//!
//! The server-to-client types borrow where they can (`Cow`), so the server encodes a
//! delta or a snapshot straight from its own buffers, while a client decodes into owned
//! values of the very same types.

mod chat;
mod controller;
#[cfg(test)]
mod generated;
mod replay;
mod view;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

pub use chat::{ChatLine, ChatLines, Say};
pub use controller::{ControllerStatus, Feed, PairCode, PairRefused, Paired};
pub use replay::ReplayFrames;
pub use view::{
    Around, Arrival, CellNews, CellPart, Contact, Correction, Look, MAX_ROUND_SCORES, ViewDelta,
    ViewInfo, WorldNews,
};

/// A simulation step number. It starts at 1 and wraps after `u32::MAX`, which at 30 Hz
/// is 4.5 years: compare with [`Tick::since`], never with `<`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(transparent)]
pub struct Tick(pub u32);

impl Tick {
    /// The tick after this one (wrapping).
    pub fn next(self) -> Tick {
        Tick(self.0.wrapping_add(1))
    }

    /// The tick `ticks` after this one (wrapping).
    pub fn after(self, ticks: u32) -> Tick {
        Tick(self.0.wrapping_add(ticks))
    }

    /// How many ticks `self` is after `earlier` (wrapping).
    pub fn since(self, earlier: Tick) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }
}

/// An entity's id within its session. Ids are never reused within a session, so a
/// client can keep per-entity state keyed by it without fearing a stale match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(transparent)]
pub struct EntityId(pub u32);

/// What a connection is in its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Role {
    /// Gets an entity and steers it.
    Player,
    /// Watches: receives every delta, owns no entity, counts against no player cap.
    Spectator,
}

/// Messages from a client. The first must be [`ClientMessage::Hello`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum ClientMessage {
    /// Join a session.
    Hello(Hello),
    /// Steer this connection's player.
    Move(Move),
    /// Measure round-trip time; answered by [`ServerMessage::Pong`].
    Ping(Ping),
    /// From a joined player's page: "give me a code to pair a phone with my player";
    /// answered by [`ServerMessage::PairCode`].
    RequestPairCode,
    /// A phone controller's first message (instead of `Hello`): the pairing code it was
    /// given. Answered by [`ServerMessage::Paired`] or [`ServerMessage::PairRefused`];
    /// once paired, its `Move`s steer that player.
    Pair(Pair),
    /// "I am leaving for good": sent by a page that closes, so that its player leaves
    /// at once instead of waiting out the reconnect grace period. A close frame with
    /// code 1000 or 1001 means the same.
    Leave,
    /// Say a line to everyone in the session (a joined page or spectator only).
    Chat(Say),
    /// A spectator's choice of what to watch, in a session with interest management.
    Look(Look),
}

/// A controller presents its pairing code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Pair {
    /// The code, as shown on the game page (case-insensitive).
    pub code: String,
}

/// Join request: who you are and where you want to play.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Hello {
    /// Shown to other players; at most [`crate::limits::MAX_NAME_CHARS`] characters.
    pub name: String,
    /// The session to join: an unknown code creates it, none (or empty) joins
    /// [`crate::limits::DEFAULT_SESSION`].
    pub session: Option<String>,
    /// Player or spectator.
    pub role: Role,
    /// The `reconnect_token` of an earlier `Welcome`: within the grace period after a
    /// lost connection, the player comes back as the same entity with the same score.
    /// `None`, or a token the session does not know, joins as a new player. It may be
    /// left out on the wire.
    #[serde(default)]
    pub reconnect: Option<String>,
}

/// A steering input. The server only ever takes a direction from a client, never a
/// position or a speed: it is authoritative, and the speed comes from its config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Move {
    /// Increases with every `Move` the client sends; echoed back in
    /// [`Delta::acks`] once the server has applied it, so the client can reconcile
    /// its prediction.
    pub seq: u32,
    /// Direction x in `-127..=127` (see [`crate::quantize::direction_to_wire`]).
    pub dx: i8,
    /// Direction y in `-127..=127`; +y points down the screen.
    pub dy: i8,
}

/// A round-trip probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Ping {
    /// Opaque to the server, echoed back: typically the client's clock in ms.
    pub client_time: u32,
}

/// Messages from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum ServerMessage<'a> {
    /// The answer to `Hello`: who you are, and the whole world as of one tick.
    Welcome(Welcome<'a>),
    /// The whole world, sent instead of deltas to a client that fell behind.
    Snapshot(Cow<'a, Snapshot>),
    /// What changed in one tick; the same bytes go to every socket of the session.
    Delta(Cow<'a, Delta>),
    /// The answer to `Ping`.
    Pong(Pong),
    /// To a game page: a one-time code a phone can pair with.
    PairCode(PairCode),
    /// To a controller: pairing succeeded.
    Paired(Paired),
    /// To a controller: the code was not accepted; it may try another.
    PairRefused(PairRefused),
    /// To a controller: what happened to its player this tick (sent only when
    /// something did), instead of the whole world's deltas.
    Feed(Feed),
    /// To a game page: a phone controller started or stopped steering its player.
    Controller(ControllerStatus),
    /// To everyone in a session, phones included: chat lines.
    Chat(ChatLines),
    /// What changed near a client, in a session with interest management (instead of
    /// `Delta` and `Snapshot`): see [`ViewDelta`].
    View(Box<ViewDelta>),
}

/// The answer to a `Hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Welcome<'a> {
    /// Your player's entity; `None` for a spectator.
    pub you: Option<EntityId>,
    /// The session joined (the default session's code when none was given).
    pub session: Cow<'a, str>,
    /// Simulation ticks per second: velocities are per tick, and tick numbers count
    /// them.
    pub tick_hz: u16,
    /// Deltas per second: one every `tick_hz / send_hz` ticks (a whole number), each
    /// carrying everything since the one before.
    pub send_hz: u16,
    /// The arena's fixed facts.
    pub arena: ArenaInfo,
    /// Proves this player's identity when reconnecting (see [`Hello::reconnect`]);
    /// unguessable, 32 hex digits.
    pub reconnect_token: Cow<'a, str>,
    /// The world as of the tick the player joined; deltas follow from the next tick.
    pub snapshot: Cow<'a, Snapshot>,
    /// True when the `Hello`'s reconnect token brought back its player, score and all.
    /// A client that sent a token and reads false was away too long (or its session
    /// ended): it is a new player now, and should say so.
    pub resumed: bool,
    /// Present when the session has interest management: the client is then sent
    /// [`ServerMessage::View`]s of the cells near it (the snapshot holds no entities;
    /// the first `View` brings them). Absent on the wire otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub view: Option<ViewInfo>,
}

/// Facts about the arena that do not change during a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ArenaInfo {
    /// Width in position quanta; x runs from 0 to this.
    pub width: i32,
    /// Height in position quanta; y runs from 0 to this.
    pub height: i32,
    /// Ticks in a round.
    pub round_ticks: u32,
    /// Ticks between a round's end and the next one's start.
    pub intermission_ticks: u32,
    /// A player's speed at full input, in position quanta per second: what a client
    /// needs to predict its own player's motion.
    pub player_speed: i32,
}

/// The whole state of a session at one tick.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Snapshot {
    /// The tick this snapshot describes.
    pub tick: Tick,
    /// Every entity's fixed facts.
    pub spawns: Vec<Spawn>,
    /// Every entity's motion at [`Snapshot::tick`].
    pub states: Vec<EntityState>,
    /// Every player's last processed input sequence number.
    pub acks: Vec<Ack>,
    /// Every player's score.
    pub scores: Vec<Score>,
    /// Where the round stands.
    pub round: RoundState,
    /// Players whose connection is lost: they wait out the reconnect grace period as
    /// ghosts, touching nothing and scoring nothing. Later changes arrive as
    /// [`GameEvent::Connection`].
    pub away: Vec<EntityId>,
}

/// One tick's changes. A client applies deltas in tick order on top of the last
/// snapshot; a gap in tick numbers means a delta was lost and the client should
/// expect (the server sends one) a fresh [`ServerMessage::Snapshot`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Delta {
    /// The tick this delta brings the client to.
    pub tick: Tick,
    /// Entities that appeared this tick (their motion is in `moved`).
    pub spawned: Vec<Spawn>,
    /// Entities whose motion a client could no longer extrapolate: velocity changed
    /// or drift exceeded the threshold. Entities not listed keep moving as extrapolated.
    pub moved: Vec<EntityState>,
    /// Entities gone this tick.
    pub removed: Vec<EntityId>,
    /// Players whose last processed input sequence number changed this tick.
    pub acks: Vec<Ack>,
    /// Players whose score changed this tick.
    pub scores: Vec<Score>,
    /// What happened this tick.
    pub events: Vec<GameEvent>,
}

/// The fixed facts of an entity, sent once when it appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Spawn {
    /// Its id.
    pub id: EntityId,
    /// Player or ball.
    pub kind: EntityKind,
    /// Radius in position quanta.
    pub radius: i32,
    /// Display name; empty for balls.
    pub name: String,
}

/// What an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum EntityKind {
    /// Steered by a connection.
    Player,
    /// A ball that bounces around and can be pushed.
    Ball,
}

/// An entity's motion at a tick: position in quanta, velocity in quanta per tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EntityState {
    /// Its id.
    pub id: EntityId,
    /// Position x (quanta).
    pub x: i32,
    /// Position y (quanta).
    pub y: i32,
    /// Velocity x (quanta per tick).
    pub vx: i32,
    /// Velocity y (quanta per tick).
    pub vy: i32,
}

/// "The server has applied your input `seq`".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Ack {
    /// The player.
    pub id: EntityId,
    /// The highest input sequence number applied so far.
    pub seq: u32,
}

/// A player's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Score {
    /// The player.
    pub id: EntityId,
    /// Points this round.
    pub points: u32,
}

/// Where the round stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RoundState {
    /// Round number, from 1.
    pub number: u32,
    /// Whether points are being scored.
    pub phase: RoundPhase,
    /// The tick at which this phase ends.
    pub ends_at: Tick,
}

/// The two phases of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum RoundPhase {
    /// Collisions score points.
    #[default]
    Playing,
    /// The scoreboard is shown; nothing scores; the next round starts at `ends_at`.
    Intermission,
}

/// Something that happened during a tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum GameEvent {
    /// Two entities started touching (once per contact, not every tick of it).
    Collided {
        /// The lower id.
        a: EntityId,
        /// The higher id.
        b: EntityId,
    },
    /// A moving player came to rest.
    Still {
        /// The player.
        id: EntityId,
    },
    /// A player joined the session.
    PlayerJoined {
        /// The player.
        id: EntityId,
        /// Its display name.
        name: String,
    },
    /// A player left the session.
    PlayerLeft {
        /// The player.
        id: EntityId,
    },
    /// A round began; scores are back to zero.
    RoundStarted {
        /// Its number.
        number: u32,
        /// The tick at which it ends.
        ends_at: Tick,
    },
    /// A round ended.
    RoundEnded {
        /// Its number.
        number: u32,
        /// Final scores, best first.
        scores: Vec<Score>,
    },
    /// A player's connection was lost (it stays in the game for the reconnect grace
    /// period, a ghost that touches nothing) or it came back.
    Connection {
        /// The player.
        id: EntityId,
        /// Whether it is connected now.
        connected: bool,
    },
}

/// The answer to a [`Ping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Pong {
    /// The ping's `client_time`, echoed. Answered by the connection's reader at once,
    /// not by the tick loop, so the round trip measures the network alone.
    pub client_time: u32,
}
