//! A session as it stood at one tick, in a form another process can resume it from:
//! what a cluster node writes to Redis every second, and reads back when it takes a
//! session over from a node that died or stopped.
//!
//! A checkpoint is the game's state, not its wire picture: exact positions and
//! velocities (not the quantized ones clients see), the random generator's state, the
//! contacts already scored, and each player's current reconnect token, so that the
//! session goes on from that tick as if nothing had happened, except the second since.
//! It is MessagePack (rmp-serde, structs as arrays) with a format number in front.

use serde::{Deserialize, Serialize};

/// The format written; a reader refuses any other.
pub const FORMAT: u8 = 1;

/// Why bytes are not a checkpoint this server can resume.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Not MessagePack of the right shape (truncated, garbage).
    #[error("not a session checkpoint: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
    /// Written by a server with another format.
    #[error("checkpoint format {0}, this server reads format {FORMAT}")]
    Format(u8),
    /// A checkpoint could not be encoded (never expected: every field is plain data).
    #[error("cannot encode a checkpoint: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
}

/// One session at one tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// [`FORMAT`].
    pub format: u8,
    /// The session's code.
    pub session: String,
    /// The last computed tick.
    pub tick: u32,
    /// The round's number.
    pub round: u32,
    /// Whether the round is being played (false: intermission).
    pub playing: bool,
    /// The tick the round's phase ends.
    pub round_ends_at: u32,
    /// The next network id to hand out, so that ids are never reused.
    pub next_id: u32,
    /// The random generator's state.
    pub rng: u64,
    /// Every body in the game.
    pub bodies: Vec<BodyState>,
    /// The players among them, with what only the session knows of them.
    pub players: Vec<PlayerState>,
    /// Pairs of ids in contact at that tick (already scored).
    pub contacts: Vec<(u32, u32)>,
    /// The last chat lines, oldest first: (from, text).
    pub chat: Vec<(String, String)>,
}

/// A body: a ball or a player's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BodyState {
    /// Its network id.
    pub id: u32,
    /// Position, units.
    pub position: [f32; 2],
    /// Velocity, units per second.
    pub velocity: [f32; 2],
}

/// A player.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlayerState {
    /// Its network id (its body is in [`Checkpoint::bodies`]).
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Points this round.
    pub score: u32,
    /// The reconnect token its client holds, which takes the player back.
    pub token: String,
}

impl Checkpoint {
    /// The checkpoint as bytes.
    pub fn encode(&self) -> Result<Vec<u8>, CheckpointError> {
        Ok(rmp_serde::to_vec(self)?)
    }

    /// Reads a checkpoint, refusing any other format.
    pub fn decode(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let checkpoint: Checkpoint = rmp_serde::from_slice(bytes)?;
        if checkpoint.format != FORMAT {
            return Err(CheckpointError::Format(checkpoint.format));
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            format: FORMAT,
            session: "abc".into(),
            tick: 300,
            round: 2,
            playing: true,
            round_ends_at: 1800,
            next_id: 12,
            rng: 0xDEAD_BEEF,
            bodies: vec![BodyState {
                id: 11,
                position: [1.5, 2.25],
                velocity: [-3.0, 0.125],
            }],
            players: vec![PlayerState {
                id: 11,
                name: "Ann".into(),
                score: 4,
                token: "t0k3n".into(),
            }],
            contacts: vec![(3, 11)],
            chat: vec![("Ann".into(), "hi".into())],
        }
    }

    #[test]
    fn a_checkpoint_reads_back_exactly() -> Result<(), CheckpointError> {
        let checkpoint = sample();
        assert_eq!(Checkpoint::decode(&checkpoint.encode()?)?, checkpoint);
        Ok(())
    }

    #[test]
    fn truncated_garbage_and_foreign_formats_are_refused() -> Result<(), CheckpointError> {
        let bytes = sample().encode()?;
        assert!(Checkpoint::decode(&bytes[..bytes.len() / 2]).is_err());
        assert!(Checkpoint::decode(b"not a checkpoint").is_err());
        let mut future = sample();
        future.format = FORMAT + 1;
        assert!(matches!(
            Checkpoint::decode(&future.encode()?),
            Err(CheckpointError::Format(_))
        ));
        Ok(())
    }
}
