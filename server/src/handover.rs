//! What the game side tells a cluster node's directory task: each session's checkpoint
//! once a second, and each pairing code issued (so that a phone reaching another node
//! finds its session).
//!
//! Tick workers hand these over without waiting: a bounded channel, a non-blocking
//! send, and a note that finds the channel full is dropped and counted (the next
//! second brings a newer checkpoint). Writing them to Redis is the directory task's
//! job, off every tick thread.

use std::time::Duration;

use tokio::sync::mpsc;

/// A message from the game side to the cluster's directory task.
#[derive(Debug)]
pub enum Note {
    /// A session's checkpoint, encoded.
    Checkpoint {
        /// The session's code.
        session: String,
        /// [`crate::checkpoint::Checkpoint::encode`]'s bytes.
        bytes: Vec<u8>,
        /// How long building and encoding it took on the tick thread.
        took: Duration,
    },
    /// A pairing code was issued for a player of `session`.
    PairCode {
        /// The code.
        code: String,
        /// Its player's session.
        session: String,
        /// How long it lives.
        ttl: Duration,
    },
}

/// Notes waiting for the directory task at most: one a second per session, so this
/// is seconds of slack for hundreds of sessions.
pub const NOTES_CAPACITY: usize = 1024;

/// The tick workers' end of the channel (absent when the server is not in a cluster).
#[derive(Debug, Clone, Default)]
pub struct Notes(Option<mpsc::Sender<Note>>);

impl Notes {
    /// A channel: this end for the workers, the receiver for the directory task.
    pub fn channel() -> (Notes, mpsc::Receiver<Note>) {
        let (sender, receiver) = mpsc::channel(NOTES_CAPACITY);
        (Notes(Some(sender)), receiver)
    }

    /// Whether anyone listens: checkpoints are built only then.
    pub fn wanted(&self) -> bool {
        self.0.as_ref().is_some_and(|s| !s.is_closed())
    }

    /// Hands `note` over without waiting; dropped (and counted) if the channel is full.
    pub fn send(&self, note: Note) {
        if let Some(sender) = &self.0
            && let Err(mpsc::error::TrySendError::Full(_)) = sender.try_send(note)
        {
            metrics::counter!("arena_cluster_notes_dropped_total").increment(1);
        }
    }
}
