//! A connection's bounded queue of outgoing frames, and what happens when a client
//! reads too slowly.
//!
//! The tick loop only ever `try_send`s, so no socket can make it wait. When a queue is
//! full, the tick's delta is dropped for that client and every later one too, until its
//! writer has drained the queue; the client then gets a full snapshot (encoded once per
//! tick for all who need it) and deltas resume. A slow client therefore costs at most
//! `network.outbox_frames` frames of memory and skips ahead instead of falling behind.

use bytes::Bytes;
use tokio::sync::mpsc::{self, error::TrySendError};

/// What a connection's writer sends.
#[derive(Debug)]
pub enum Outgoing {
    /// An encoded server message, possibly shared with every socket of the session.
    Frame(Bytes),
    /// Close the socket with this code and reason, then stop.
    Close {
        /// WebSocket close code.
        code: u16,
        /// Shown to the user by a client; at most 123 bytes.
        reason: String,
    },
}

/// The outcome of offering a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Queued for the writer.
    Queued,
    /// Dropped: the client is behind.
    Dropped,
    /// The connection is gone.
    Closed,
}

/// The tick loop's end of a connection's queue.
#[derive(Debug)]
pub struct Outbox {
    tx: mpsc::Sender<Outgoing>,
    /// Deltas are being dropped until the queue drains and a snapshot is sent.
    lagging: bool,
}

impl Outbox {
    /// A queue of `capacity` frames: the tick loop's end and the writer's end.
    pub fn new(capacity: usize) -> (Outbox, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Outbox { tx, lagging: false }, rx)
    }

    /// Another sender for the connection itself (its reader answers pings).
    pub fn sender(&self) -> mpsc::Sender<Outgoing> {
        self.tx.clone()
    }

    /// Offers the tick's delta. Never waits.
    pub fn offer_delta(&mut self, delta: &Bytes) -> Offer {
        if self.lagging {
            return Offer::Dropped;
        }
        let offer = self.offer(Outgoing::Frame(delta.clone()));
        if offer == Offer::Dropped {
            self.lagging = true;
        }
        offer
    }

    /// A lagging client whose queue has drained wants a snapshot before more deltas.
    pub fn wants_snapshot(&self) -> bool {
        self.lagging && self.tx.capacity() == self.tx.max_capacity()
    }

    /// Offers a resynchronizing snapshot; deltas resume after it.
    pub fn offer_snapshot(&mut self, snapshot: &Bytes) -> Offer {
        let offer = self.offer(Outgoing::Frame(snapshot.clone()));
        if offer == Offer::Queued {
            self.lagging = false;
        }
        offer
    }

    /// Offers any frame (a welcome, a close). Never waits.
    pub fn offer(&self, item: Outgoing) -> Offer {
        match self.tx.try_send(item) {
            Ok(()) => Offer::Queued,
            Err(TrySendError::Full(_)) => Offer::Dropped,
            Err(TrySendError::Closed(_)) => Offer::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_deltas_until_drained_then_resyncs() {
        let (mut outbox, mut rx) = Outbox::new(2);
        let delta = Bytes::from_static(b"d");
        assert_eq!(outbox.offer_delta(&delta), Offer::Queued);
        assert_eq!(outbox.offer_delta(&delta), Offer::Queued);
        assert_eq!(
            outbox.offer_delta(&delta),
            Offer::Dropped,
            "the third delta overflows"
        );
        assert!(
            !outbox.wants_snapshot(),
            "no snapshot while the queue is still full"
        );
        assert!(rx.try_recv().is_ok());
        assert_eq!(
            outbox.offer_delta(&delta),
            Offer::Dropped,
            "stale deltas stay dropped"
        );
        assert!(!outbox.wants_snapshot(), "nor while it is half full");
        assert!(rx.try_recv().is_ok());
        assert!(outbox.wants_snapshot(), "a drained queue gets a snapshot");
        assert_eq!(
            outbox.offer_snapshot(&Bytes::from_static(b"s")),
            Offer::Queued
        );
        assert!(!outbox.wants_snapshot());
        assert_eq!(
            outbox.offer_delta(&delta),
            Offer::Queued,
            "deltas resume after it"
        );
    }

    #[test]
    fn a_gone_connection_is_reported() {
        let (mut outbox, rx) = Outbox::new(2);
        drop(rx);
        assert_eq!(outbox.offer_delta(&Bytes::from_static(b"d")), Offer::Closed);
    }
}
