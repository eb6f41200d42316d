//! Where a connection's reader leaves the latest `Move` for the tick loop to pick up
//! (and the connection's last measured round trip, for the admin page).
//!
//! "Latest input wins": a client that sends three moves within one tick is steered by
//! the last, and its sequence number is the one acknowledged. One atomic word holds the
//! whole input, so the reader never blocks the tick loop and a flood of inputs costs no
//! memory.
//!
//! A slot that fills rings its session's [`Doorbell`], once until it is taken, so that a
//! tick visits only the slots with something in them: at 5,000 players turning four
//! times a second, about 700 a tick, not all 5,000 scattered through the heap.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use arena_shared::protocol::{EntityId, Move};
use parking_lot::Mutex;

/// Set when the slot holds an input not yet taken.
const PRESENT: u64 = 1 << 63;

/// Whose input a slot holds, once its session has taken it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steers {
    /// The player it steers.
    pub player: EntityId,
    /// A paired phone's, whose input of a tick wins over the page's.
    pub phone: bool,
}

/// A session's list of the input slots that filled since its last tick.
#[derive(Debug, Default)]
pub struct Doorbell(Mutex<Vec<Arc<InputSlot>>>);

impl Doorbell {
    /// Moves the slots rung since the last call into `into` (emptied first), keeping
    /// both lists' memory.
    pub fn take_rung(&self, into: &mut Vec<Arc<InputSlot>>) {
        into.clear();
        std::mem::swap(&mut *self.0.lock(), into);
    }
}

/// The doorbell a slot rings, and whose input it holds.
#[derive(Debug)]
struct Bell {
    doorbell: Arc<Doorbell>,
    steers: Steers,
}

/// One player's pending input.
#[derive(Debug, Default)]
pub struct InputSlot {
    packed: AtomicU64,
    round_trip_us: AtomicU32,
    /// `None` until a session takes the slot in, and again once its member is gone: a
    /// slot of a connection that left steers nobody.
    bell: Mutex<Option<Bell>>,
}

impl InputSlot {
    /// The connection's last WebSocket ping round trip, microseconds (0: not yet).
    pub fn round_trip_us(&self) -> u32 {
        self.round_trip_us.load(Ordering::Relaxed)
    }

    /// Records a round trip.
    pub fn set_round_trip_us(&self, us: u32) {
        self.round_trip_us.store(us, Ordering::Relaxed);
    }

    /// Leaves `input` in the slot, replacing any input not yet taken; a slot that was
    /// empty rings its session's doorbell.
    pub fn store(self: &Arc<Self>, input: Move) {
        let packed = PRESENT
            | (u64::from(input.seq) << 16)
            | (u64::from(input.dx as u8) << 8)
            | u64::from(input.dy as u8);
        if self.packed.swap(packed, Ordering::AcqRel) & PRESENT == 0 {
            self.ring();
        }
    }

    fn ring(self: &Arc<Self>) {
        if let Some(bell) = &*self.bell.lock() {
            bell.doorbell.0.lock().push(self.clone());
        }
    }

    /// Takes the slot in for a session: from now on it rings `doorbell` when it fills
    /// (at once, if an input is already waiting), and its input steers as `steers` says.
    pub fn ring_to(self: &Arc<Self>, doorbell: Arc<Doorbell>, steers: Steers) {
        *self.bell.lock() = Some(Bell { doorbell, steers });
        if self.packed.load(Ordering::Acquire) & PRESENT != 0 {
            self.ring();
        }
    }

    /// Lets the slot go: its member left the session, and whatever it holds or is sent
    /// later steers nobody.
    pub fn detach(&self) {
        *self.bell.lock() = None;
    }

    /// Takes the pending input and whose it is, if the slot is still a session's.
    pub fn take_steer(&self) -> Option<(Steers, Move)> {
        let steers = self.bell.lock().as_ref()?.steers;
        Some((steers, self.take()?))
    }

    /// Takes the pending input, if any.
    pub fn take(&self) -> Option<Move> {
        let packed = self.packed.swap(0, Ordering::AcqRel);
        (packed & PRESENT != 0).then_some(Move {
            seq: (packed >> 16) as u32,
            dx: (packed >> 8) as u8 as i8,
            dy: packed as u8 as i8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_input_wins_and_is_taken_once() {
        let slot = Arc::new(InputSlot::default());
        assert_eq!(slot.take(), None);
        slot.store(Move {
            seq: 1,
            dx: 127,
            dy: 0,
        });
        slot.store(Move {
            seq: u32::MAX,
            dx: -127,
            dy: -1,
        });
        assert_eq!(
            slot.take(),
            Some(Move {
                seq: u32::MAX,
                dx: -127,
                dy: -1
            })
        );
        assert_eq!(slot.take(), None, "an input is applied once");
        slot.store(Move {
            seq: 0,
            dx: 0,
            dy: 0,
        });
        assert_eq!(
            slot.take(),
            Some(Move {
                seq: 0,
                dx: 0,
                dy: 0
            }),
            "a stop is an input too"
        );
    }
    fn steer(seq: u32) -> Move {
        Move { seq, dx: 1, dy: -1 }
    }

    #[test]
    fn a_slot_rings_its_session_once_until_it_is_taken() {
        let doorbell = Arc::new(Doorbell::default());
        let steers = Steers {
            player: EntityId(7),
            phone: false,
        };
        let slot = Arc::new(InputSlot::default());
        slot.store(steer(1));
        let mut rung = Vec::new();
        doorbell.take_rung(&mut rung);
        assert!(rung.is_empty(), "a slot no session took in rings nobody");
        slot.ring_to(doorbell.clone(), steers);
        doorbell.take_rung(&mut rung);
        assert_eq!(
            rung.len(),
            1,
            "an input waiting when the session takes the slot in"
        );
        assert_eq!(rung[0].take_steer(), Some((steers, steer(1))));
        slot.store(steer(2));
        slot.store(steer(3));
        doorbell.take_rung(&mut rung);
        assert_eq!(rung.len(), 1, "two inputs before a tick ring once");
        assert_eq!(rung[0].take_steer(), Some((steers, steer(3))));
        assert_eq!(rung[0].take_steer(), None, "taken once");
        doorbell.take_rung(&mut rung);
        assert!(rung.is_empty());
        slot.store(steer(4));
        slot.detach();
        doorbell.take_rung(&mut rung);
        assert_eq!(rung.len(), 1);
        assert_eq!(rung[0].take_steer(), None, "a slot let go steers nobody");
        slot.store(steer(5));
        assert_eq!(slot.take(), Some(steer(5)));
        doorbell.take_rung(&mut rung);
        assert!(rung.is_empty(), "nor rings");
    }
}
