//! Replays: every round of every session kept as a file in the data directory's
//! `replays/` folder, re-played by `arena-server replay FILE --verify` and shown by
//! the `/replay/ID` page.
//!
//! A file is MessagePack: a header (session, round, times, final scores, the tunables
//! the round ran under) and the round's [`Recording`]. Files are written by the
//! results writer thread, never a tick thread, and the folder is kept under
//! `replays.keep_mb`, oldest files removed first.
//!
//! Re-playing resumes the game from the recording's keyframe and applies each tick's
//! inputs before stepping, as the live session did; the simulation being deterministic,
//! the state hash recorded every second must come out the same, and the deltas built
//! are those the players were sent.

use std::path::{Path, PathBuf};

use arena_shared::protocol::{ReplayFrames, Snapshot};
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, Tunables};
use crate::recording::Recording;
use crate::sim::Simulation;

/// The format written; a reader refuses any other.
pub const FORMAT: u8 = 1;

/// The extension of replay files.
pub const EXTENSION: &str = "replay";

/// Why a replay cannot be read or re-played.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a replay (truncated, garbage).
    #[error("not a replay file: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
    /// Written by a server with another format.
    #[error("replay format {0}, this server reads format {FORMAT}")]
    Format(u8),
    /// Its tunables do not load.
    #[error("the replay's tunables: {0}")]
    Tunables(#[from] ConfigError),
    /// The header cannot be encoded.
    #[error("cannot encode a replay: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
}

/// One round, as kept on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayFile {
    /// [`FORMAT`].
    pub format: u8,
    /// The session's code.
    pub session: String,
    /// The round's number in its session.
    pub round: u32,
    /// When it started and ended, milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// See `started_at_ms`.
    pub ended_at_ms: i64,
    /// The final scoreboard: (name, points), best first.
    pub scores: Vec<(String, u32)>,
    /// The tunables the round ran under, as TOML.
    pub tunables: String,
    /// What happened.
    pub recording: Recording,
}

/// How a re-play went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every recorded hash came out the same.
    Same {
        /// Hashes checked (one a second).
        seconds: usize,
        /// Ticks re-played.
        ticks: u32,
    },
    /// The state differed from the recording's at this second of the round.
    Diverged {
        /// Seconds from the round's start.
        second: usize,
        /// The tick.
        tick: u32,
    },
}

impl ReplayFile {
    /// The file's name in the replays folder: sortable by start, unique per round.
    pub fn id(&self) -> String {
        format!("{}-{}-{}", self.started_at_ms, self.session, self.round)
    }

    /// The file as bytes.
    pub fn encode(&self) -> Result<Vec<u8>, ReplayError> {
        Ok(rmp_serde::to_vec(self)?)
    }

    /// Reads a replay, refusing any other format.
    pub fn decode(bytes: &[u8]) -> Result<ReplayFile, ReplayError> {
        let file: ReplayFile = rmp_serde::from_slice(bytes)?;
        if file.format != FORMAT {
            return Err(ReplayError::Format(file.format));
        }
        Ok(file)
    }

    /// Reads the replay at `path`.
    pub fn read(path: &Path) -> Result<ReplayFile, ReplayError> {
        let bytes = std::fs::read(path).map_err(|source| ReplayError::Io {
            path: path.to_owned(),
            source,
        })?;
        ReplayFile::decode(&bytes)
    }

    /// The round's game at its start, and the tunables it runs under.
    fn game(&self) -> Result<(Tunables, Simulation), ReplayError> {
        let mut tunables = Tunables::merged(&self.tunables, "the replay")?;
        // A replay is watched whole: its game runs without cells, whose bookkeeping
        // changes nothing in it.
        tunables.interest.cell_size = 0.0;
        tunables.interest.view_radius = 0.0;
        let sim = Simulation::resume(&tunables, &self.recording.keyframe);
        Ok((tunables, sim))
    }

    /// Re-plays the round and checks each recorded state hash.
    pub fn verify(&self) -> Result<Verdict, ReplayError> {
        let (_, mut sim) = self.game()?;
        let hashes = &self.recording.hashes;
        let mut next = 0;
        let mut diverged = None;
        let mut ticks = 0;
        sim.replay(&self.recording, |sim, tick| {
            ticks += 1;
            if diverged.is_some() {
                return;
            }
            while next < hashes.len() && hashes[next].tick < tick {
                next += 1;
            }
            if next < hashes.len() && hashes[next].tick == tick {
                if sim.state_hash() != hashes[next].hash {
                    diverged = Some(Verdict::Diverged { second: next, tick });
                }
                next += 1;
            }
        });
        Ok(diverged.unwrap_or(Verdict::Same {
            seconds: hashes.len(),
            ticks,
        }))
    }

    /// The round as the players saw it: the world at its start, then every delta.
    pub fn frames(&self) -> Result<ReplayFrames, ReplayError> {
        let (tunables, mut sim) = self.game()?;
        let mut snapshot = Snapshot::default();
        sim.write_snapshot(&mut snapshot);
        let mut deltas = Vec::new();
        sim.replay(&self.recording, |sim, _| {
            if sim.is_send_tick() {
                deltas.push(sim.delta().clone());
            }
        });
        Ok(ReplayFrames {
            session: self.session.clone(),
            round: self.round,
            tick_hz: tunables.tick_hz,
            send_hz: tunables.send_hz(),
            arena: sim.arena_info(),
            snapshot,
            deltas,
        })
    }
}

/// A replay in the folder, as `/api/replays` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// Its id (`/replay/ID`).
    pub id: String,
    /// The session's code.
    pub session: String,
    /// The round.
    pub round: u32,
    /// When it ended, milliseconds since the Unix epoch.
    pub ended_at_ms: i64,
    /// The final scoreboard.
    pub scores: Vec<(String, u32)>,
    /// The file's size.
    pub bytes: u64,
}

/// How much of the replays folder is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    /// Bytes at most.
    pub bytes: u64,
    /// Files at most.
    pub files: usize,
}

/// Writes `file` into `dir` (made if missing), then removes the oldest files until the
/// folder holds at most `keep`.
pub fn store(dir: &Path, file: &ReplayFile, keep: Keep) -> Result<(), ReplayError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ReplayError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(format!("{}.{EXTENSION}", file.id()));
    std::fs::write(&path, file.encode()?).map_err(io(&path))?;
    let mut files = files(dir);
    let mut total: u64 = files.iter().map(|(_, bytes)| bytes).sum();
    let mut count = files.len();
    // Oldest first: names start with the round's start time.
    files.sort();
    for (old, bytes) in files {
        if total <= keep.bytes && count <= keep.files {
            break;
        }
        if std::fs::remove_file(&old).is_ok() {
            total -= bytes;
            count -= 1;
        }
    }
    Ok(())
}

/// The replay files in `dir` with their sizes.
fn files(dir: &Path) -> Vec<(PathBuf, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == EXTENSION))
        .filter_map(|e| Some((e.path(), e.metadata().ok()?.len())))
        .collect()
}

/// The newest `limit` replays in `dir`, newest first. Unreadable files are skipped.
pub fn list(dir: &Path, limit: usize) -> Vec<Listed> {
    let mut files = files(dir);
    files.sort();
    files
        .iter()
        .rev()
        .filter_map(|(path, bytes)| {
            let file = ReplayFile::read(path).ok()?;
            Some(Listed {
                id: file.id(),
                session: file.session,
                round: file.round,
                ended_at_ms: file.ended_at_ms,
                scores: file.scores,
                bytes: *bytes,
            })
        })
        .take(limit)
        .collect()
}

/// The path of replay `id` in `dir`, if `id` is a replay's name (no path tricks).
pub fn path_of(dir: &Path, id: &str) -> Option<PathBuf> {
    let safe = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    safe.then(|| dir.join(format!("{id}.{EXTENSION}")))
}

#[cfg(test)]
mod tests;
