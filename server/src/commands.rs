//! What the socket side hands the game side: the commands a connection's task sends to
//! the tick worker that owns its session.
//!
//! This module sits between the two sides: it names connections, outboxes, input slots
//! and pairing refusals, nothing of tasks, sessions or workers, so both sides import it
//! and neither imports the other.

use std::sync::Arc;

use arena_shared::protocol::{EntityId, Hello};
use tokio::sync::oneshot;

use crate::input_slot::InputSlot;
pub use crate::outbox::ConnId;
use crate::outbox::Outbox;
use crate::pairing::Refusal;

/// How a connection left its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// The connection broke: its player waits out the reconnect grace period.
    Lost,
    /// The client said goodbye (a `Leave`, or a close frame with code 1000 or 1001):
    /// its player leaves at once.
    Deliberate,
}

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

/// A phone controller whose pairing code was redeemed, to be attached to its player.
#[derive(Debug)]
pub struct ControllerRequest {
    /// The controller's connection.
    pub conn: ConnId,
    /// The player the code was issued for.
    pub player: EntityId,
    /// Its outbox, kept by the session if the player is still there.
    pub outbox: Outbox,
    /// Where its reader leaves inputs.
    pub input: Arc<InputSlot>,
    /// Where the outcome goes.
    pub reply: oneshot::Sender<Result<(), (Refusal, Outbox)>>,
}

/// What a connection's task asks of the worker that owns its session; handled at the
/// start of that worker's next tick.
#[derive(Debug)]
pub enum Command {
    /// Join a session, creating it if its code is new.
    Join(JoinRequest),
    /// A connection is gone.
    Leave {
        /// The connection.
        conn: ConnId,
        /// Its session's code.
        session: String,
        /// Whether it said goodbye.
        departure: Departure,
    },
    /// A player's page asks for a pairing code.
    RequestPairCode {
        /// The page's connection.
        conn: ConnId,
        /// Its session.
        session: String,
    },
    /// Attach a paired controller to its player.
    AttachController {
        /// The player's session.
        session: String,
        /// The controller.
        request: ControllerRequest,
    },
    /// A page or spectator says a chat line.
    Say {
        /// The connection.
        conn: ConnId,
        /// Its session.
        session: String,
        /// The line, as sent.
        text: String,
    },
    /// A spectator chooses what it watches (interest management).
    Look {
        /// The connection.
        conn: ConnId,
        /// Its session.
        session: String,
        /// What it watches.
        look: arena_shared::protocol::Look,
    },
    /// The operator closes a session: every connection closed with 4005.
    CloseSession {
        /// Its code.
        session: String,
    },
    /// The operator kicks a player out: its connections closed with 4006.
    Kick {
        /// Its session.
        session: String,
        /// The player.
        player: EntityId,
    },
    /// Cluster mode: run the session of this checkpoint (taken over from another
    /// node); the registry has named this worker its owner.
    Resume(Box<crate::checkpoint::Checkpoint>),
    /// Cluster mode, shutting down: stop ticking the session and send its checkpoint,
    /// for another node to take it over.
    HandOver {
        /// Its code.
        session: String,
        /// Where the checkpoint goes (nothing if the session is gone).
        reply: oneshot::Sender<Option<crate::checkpoint::Checkpoint>>,
    },
    /// Cluster mode: the session runs elsewhere now. Its connections are closed with
    /// `MOVED` and the URL to reconnect to (or 1001 without one), and it is dropped.
    Moved {
        /// Its code.
        session: String,
        /// The node's WebSocket URL.
        url: Option<String>,
        /// Told once every connection has been asked to close.
        done: oneshot::Sender<()>,
    },
    /// Stop the worker.
    Stop,
}
