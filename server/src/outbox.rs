//! The game's side of a connection, and what happens when a client reads too slowly.
//!
//! The tick loop never waits: each frame goes straight into the socket through the
//! connection's [`Link`], or is owed by it for a moment. A delta that finds bytes still
//! owed is dropped for that client, and so is every later one until the link owes
//! nothing; the client then gets a full snapshot (encoded once per tick for all who
//! need it) and deltas resume. A slow client so costs at most `network.max_owed_bytes`
//! of memory and skips ahead instead of falling behind.

use std::sync::Arc;

use bytes::Bytes;

use crate::link::{Link, Sent};

/// Identifies a connection across the server (sessions, pairing codes and commands
/// name connections by it).
pub type ConnId = u64;

/// What the game sends a connection.
#[derive(Debug)]
pub enum Outgoing {
    /// A server message as a complete WebSocket frame (see [`crate::frame`]), possibly
    /// the same bytes as every other socket of the session gets.
    Frame(Bytes),
    /// Close the socket with this code and reason.
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
    /// Handed to the socket (written, or owed for a moment).
    Sent,
    /// Dropped: the client is behind.
    Dropped,
    /// The connection is closing or gone.
    Closed,
}

/// The tick loop's end of a connection.
pub struct Outbox {
    link: Arc<Link>,
    /// Deltas are being dropped until the link owes nothing and a snapshot is sent.
    lagging: bool,
    /// The bound on the socket's unsent bytes last set; 0 before any.
    unsent_limit: u32,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("lagging", &self.lagging)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// The game's end of `link`.
    pub fn new(link: Arc<Link>) -> Outbox {
        Outbox {
            link,
            lagging: false,
            unsent_limit: 0,
        }
    }

    /// The link this outbox writes to.
    pub fn link(&self) -> Arc<Link> {
        self.link.clone()
    }

    /// Offers the tick's delta. Never waits. `unsent_limit` is how many bytes the
    /// socket may hold unsent in the kernel (a few of the session's recent deltas, see
    /// [`Link::limit_unsent`]); it is applied when it is over twice or under half the
    /// one in force, so deltas that vary in size cost a system call per socket now and
    /// then, not per delta.
    pub fn offer_delta(&mut self, delta: &Bytes, unsent_limit: u32) -> Offer {
        self.offer_latest(unsent_limit, |link| link.send_latest(delta))
    }

    /// Offers a client of a world with interest management its message, gathered from
    /// its `head` and the `parts` of `body` its view takes (see
    /// [`Link::send_latest_gathered`]); as [`Outbox::offer_delta`] otherwise. A
    /// lagging client's fresh message goes through [`Outbox::offer_resync`] instead.
    pub fn offer_gathered(
        &mut self,
        head: &[u8],
        body: &[u8],
        parts: &[(u32, u32)],
        unsent_limit: u32,
    ) -> Offer {
        self.offer_latest(unsent_limit, |link| {
            link.send_latest_gathered(head, body, parts)
        })
    }

    fn offer_latest(&mut self, unsent_limit: u32, send: impl FnOnce(&Link) -> Sent) -> Offer {
        if unsent_limit > 0
            && (unsent_limit > self.unsent_limit.saturating_mul(2)
                || unsent_limit < self.unsent_limit / 2)
        {
            self.link.limit_unsent(unsent_limit);
            self.unsent_limit = unsent_limit;
        }
        if self.lagging {
            return Offer::Dropped;
        }
        let offer = offer(send(&self.link));
        if offer == Offer::Dropped {
            self.lagging = true;
        }
        offer
    }

    /// Whether the client has fallen behind: its deltas are skipped until it is
    /// brought back to the present.
    pub fn lagging(&self) -> bool {
        self.lagging
    }

    /// Whether the client has fallen behind and its socket has drained: it is owed a
    /// snapshot.
    pub fn wants_snapshot(&self) -> bool {
        self.lagging && self.link.owes_nothing()
    }

    /// Offers a resynchronizing snapshot; deltas resume after it. It must bring the
    /// client to the present, so it goes only into a socket that has nothing unsent
    /// (behind stale deltas it would be stale itself); one the kernel refuses is not
    /// kept, and the next tick offers a newer one.
    pub fn offer_snapshot(&mut self, snapshot: &Bytes) -> Offer {
        self.offer_resync(|link| link.send_latest(snapshot))
    }

    /// Offers what brings a lagging client to the present (a snapshot, or a fresh
    /// view of a world with interest management), as [`Outbox::offer_snapshot`] says.
    pub fn offer_resync(&mut self, send: impl FnOnce(&Link) -> Sent) -> Offer {
        if self.unsent_limit > 0 {
            self.link.limit_unsent(1);
        }
        let offer = offer(send(&self.link));
        if self.unsent_limit > 0 {
            self.link.limit_unsent(self.unsent_limit);
        }
        if offer == Offer::Sent {
            self.lagging = false;
        }
        offer
    }

    /// Offers any frame (a welcome, a feed), or a close. Never waits.
    pub fn offer(&self, item: Outgoing) -> Offer {
        match item {
            Outgoing::Frame(frame) => offer(self.link.send(&frame)),
            Outgoing::Close { code, reason } => {
                self.link.request_close(code, reason);
                Offer::Sent
            }
        }
    }
}

fn offer(sent: Sent) -> Offer {
    match sent {
        Sent::Written | Sent::Owed => Offer::Sent,
        Sent::Skipped => Offer::Dropped,
        Sent::Closed => Offer::Closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::MemoryWire;

    #[test]
    fn a_gathered_message_goes_whole_or_owes_its_rest_in_order() {
        let wire = MemoryWire::new(5);
        let (link, _close) = Link::new(wire.clone(), 1024, Arc::default());
        let mut outbox = Outbox::new(link.clone());
        let body = b"0123456789";
        assert_eq!(
            outbox.offer_gathered(b"h", body, &[(0, 2), (5, 7)], 0),
            Offer::Sent
        );
        assert_eq!(wire.take(), b"h0156", "head, then each part, in one write");
        assert_eq!(
            outbox.offer_gathered(b"hh", body, &[(2, 4), (8, 10)], 0),
            Offer::Dropped,
            "refused whole: skipped"
        );
        wire.make_room(3);
        assert_eq!(
            outbox.offer_resync(|link| link.send_latest_gathered(b"HH", body, &[(2, 4), (8, 10)])),
            Offer::Sent,
            "a fresh one once the link drained"
        );
        assert_eq!(wire.take(), b"HH2", "the kernel took three bytes");
        wire.make_room(100);
        assert!(link.try_flush().expect("flushes"));
        assert_eq!(wire.take(), b"389", "and the rest, in order");
        wire.make_room(1_000);
        let many: Vec<(u32, u32)> = (0..150).map(|i| (i % 10, i % 10 + 1)).collect();
        assert_eq!(outbox.offer_gathered(b"", body, &many, 0), Offer::Sent);
        let expected: Vec<u8> = (0..150).map(|i| body[i % 10]).collect();
        assert_eq!(wire.take(), expected, "more parts than one write's slices");
    }

    #[test]
    fn a_blocked_socket_drops_deltas_until_it_drains_then_resyncs() {
        let wire = MemoryWire::new(3);
        let (link, _close) = Link::new(wire.clone(), 1024, Arc::default());
        let mut outbox = Outbox::new(link.clone());
        let delta = Bytes::from_static(b"dd");
        assert_eq!(outbox.offer_delta(&delta, 0), Offer::Sent, "written");
        assert_eq!(
            outbox.offer_delta(&delta, 0),
            Offer::Sent,
            "half written, the rest owed"
        );
        assert_eq!(
            outbox.offer_delta(&delta, 0),
            Offer::Dropped,
            "nothing new while bytes are owed"
        );
        assert!(!outbox.wants_snapshot(), "no snapshot while bytes are owed");
        wire.make_room(100);
        assert!(link.try_flush().expect("flushes"), "the rest goes out");
        assert_eq!(wire.take(), b"dddd", "frames are never cut short");
        assert_eq!(
            outbox.offer_delta(&delta, 0),
            Offer::Dropped,
            "stale deltas stay dropped"
        );
        assert!(outbox.wants_snapshot(), "a drained link gets a snapshot");
        assert_eq!(
            outbox.offer_snapshot(&Bytes::from_static(b"s")),
            Offer::Sent
        );
        assert!(!outbox.wants_snapshot());
        assert_eq!(outbox.offer_delta(&delta, 0), Offer::Sent, "deltas resume");
        assert_eq!(wire.take(), b"sdd");
    }

    #[test]
    fn a_delta_or_snapshot_the_kernel_refuses_whole_is_skipped_not_owed() {
        let wire = MemoryWire::new(0);
        let (link, _close) = Link::new(wire.clone(), 1024, Arc::default());
        let mut outbox = Outbox::new(link.clone());
        let delta = Bytes::from_static(b"dd");
        assert_eq!(outbox.offer_delta(&delta, 0), Offer::Dropped);
        assert!(link.owes_nothing(), "a refused delta is not kept for later");
        assert!(
            outbox.wants_snapshot(),
            "the client needs the present instead"
        );
        let snapshot = Bytes::from_static(b"old");
        assert_eq!(outbox.offer_snapshot(&snapshot), Offer::Dropped);
        assert!(
            link.owes_nothing(),
            "nor is a refused snapshot: a newer one follows"
        );
        wire.make_room(100);
        assert_eq!(
            outbox.offer_snapshot(&Bytes::from_static(b"new")),
            Offer::Sent
        );
        assert_eq!(outbox.offer_delta(&delta, 0), Offer::Sent, "deltas resume");
        assert_eq!(wire.take(), b"newdd");
    }

    #[test]
    fn other_frames_are_owed_up_to_the_limit_and_a_close_seals_the_link() {
        let wire = MemoryWire::new(0);
        let (link, mut close) = Link::new(wire.clone(), 4, Arc::default());
        let outbox = Outbox::new(link.clone());
        let frame = |b: &'static [u8]| Outgoing::Frame(Bytes::from_static(b));
        assert_eq!(outbox.offer(frame(b"wel")), Offer::Sent, "owed");
        assert_eq!(outbox.offer(frame(b"f")), Offer::Sent, "owed, at the limit");
        assert_eq!(outbox.offer(frame(b"x")), Offer::Dropped, "over the limit");
        outbox.offer(Outgoing::Close {
            code: 4001,
            reason: "full".into(),
        });
        assert_eq!(close.try_recv().expect("asked"), (4001, "full".to_owned()));
        assert_eq!(outbox.offer(frame(b"late")), Offer::Closed, "sealed");
        wire.make_room(100);
        assert!(link.try_flush().expect("flushes"));
        assert_eq!(wire.take(), b"welf");
    }
}
