//! Where a connection's reader leaves the latest `Move` for the tick loop to pick up
//! (and the connection's last measured round trip, for the admin page).
//!
//! "Latest input wins": a client that sends three moves within one tick is steered by
//! the last, and its sequence number is the one acknowledged. One atomic word holds the
//! whole input, so the reader never blocks the tick loop and a flood of inputs costs no
//! memory.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use arena_shared::protocol::Move;

/// Set when the slot holds an input not yet taken.
const PRESENT: u64 = 1 << 63;

/// One player's pending input.
#[derive(Debug, Default)]
pub struct InputSlot(AtomicU64, AtomicU32);

impl InputSlot {
    /// The connection's last WebSocket ping round trip, microseconds (0: not yet).
    pub fn round_trip_us(&self) -> u32 {
        self.1.load(Ordering::Relaxed)
    }

    /// Records a round trip.
    pub fn set_round_trip_us(&self, us: u32) {
        self.1.store(us, Ordering::Relaxed);
    }

    /// Leaves `input` in the slot, replacing any input not yet taken.
    pub fn store(&self, input: Move) {
        let packed = PRESENT
            | (u64::from(input.seq) << 16)
            | (u64::from(input.dx as u8) << 8)
            | u64::from(input.dy as u8);
        self.0.store(packed, Ordering::Release);
    }

    /// Takes the pending input, if any.
    pub fn take(&self) -> Option<Move> {
        let packed = self.0.swap(0, Ordering::Acquire);
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
        let slot = InputSlot::default();
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
}
