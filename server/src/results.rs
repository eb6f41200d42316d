//! Results kept: every finished round, written to an embedded SQLite database, and the
//! leaderboard read back from it.
//!
//! A tick worker never touches the database: a session hands its finished round to a
//! channel ([`ResultsSink::record`], a non-blocking send), and one writer thread of its
//! own (`arena-results`) writes each round in a transaction. On a clean shutdown the
//! channel is closed after the tick workers stop and the writer drains it before the
//! server returns, so no round that ended is lost. Reads (the leaderboard) open their
//! own connection, off the async runtime's threads; WAL mode lets them run beside the
//! writer. A database that cannot be opened, or is not a database, turns persistence
//! off with the reason on `/healthz` and in the log: the game never depends on it.

mod leaderboard;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::Connection;

use crate::replay::{Keep, ReplayFile};

pub use leaderboard::{Leaderboard, Period, RecentRound, Standing, Standings};

/// The database file inside the data directory.
const FILE: &str = "results.sqlite3";

/// Milliseconds since the Unix epoch: how rounds, refusals and periods are dated.
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A finished round, as a session reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundResult {
    /// The session's code.
    pub session: String,
    /// The round's number in its session.
    pub number: u32,
    /// When it started and ended, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// See `started_at_ms`.
    pub ended_at_ms: i64,
    /// Every player at the end, best first.
    pub players: Vec<PlayerResult>,
}

/// One player's result in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerResult {
    /// The name it played under.
    pub name: String,
    /// Its points.
    pub points: u32,
}

/// Why results could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The data directory could not be made.
    #[error("cannot create the data directory {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite refused: not a database, read-only, locked, a newer schema...
    #[error("cannot use the results database {path}: {source}")]
    Database {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// The writer thread could not be started.
    #[error("cannot start the results writer: {0}")]
    Thread(std::io::Error),
}

/// What the writer thread keeps.
#[derive(Debug)]
enum Kept {
    /// A round's result, into the database.
    Round(RoundResult),
    /// A round's replay, into the replays folder.
    Replay(Box<ReplayFile>),
}

/// Where sessions hand their finished rounds: cheap to clone, never blocks.
#[derive(Debug, Clone, Default)]
pub struct ResultsSink {
    kept: Option<mpsc::Sender<Kept>>,
    /// Whether replays are kept too.
    replays: bool,
}

impl ResultsSink {
    /// Keeps `round`, if results are kept; returns at once either way.
    pub fn record(&self, round: RoundResult) {
        self.keep(Kept::Round(round));
    }

    /// Whether rounds should be recorded for replays.
    pub fn keeps_replays(&self) -> bool {
        self.kept.is_some() && self.replays
    }

    /// Keeps a round's replay, if replays are kept; returns at once either way.
    pub fn record_replay(&self, replay: ReplayFile) {
        if self.replays {
            self.keep(Kept::Replay(Box::new(replay)));
        }
    }

    fn keep(&self, kept: Kept) {
        if let Some(sender) = &self.kept
            && sender.send(kept).is_err()
        {
            tracing::warn!("the results writer has stopped: a round is not kept");
        }
    }
}

/// The results database as the server holds it: on (a writer thread and the file), or
/// off (and why).
pub struct Results {
    sink: ResultsSink,
    writer: Option<JoinHandle<()>>,
    /// The database file, when results are kept.
    path: Option<PathBuf>,
    status: String,
}

impl Results {
    /// Keeps results in `dir` (made if missing), or nowhere if `dir` is `None`, and
    /// the rounds' replays in its `replays/` folder, at most `replays` of them.
    /// Never fails: a database that cannot be used turns persistence off, and says why.
    pub fn open(dir: Option<&Path>, replays: Keep) -> Results {
        let Some(dir) = dir else {
            return Results::off("off (no data directory)".into());
        };
        match Results::try_open(dir, replays) {
            Ok(results) => {
                tracing::info!(path = %dir.join(FILE).display(), "keeping round results");
                results
            }
            Err(err) => {
                tracing::error!(%err, "results are not kept: the game goes on without them");
                Results::off(format!("off ({err})"))
            }
        }
    }

    fn off(status: String) -> Results {
        Results {
            sink: ResultsSink::default(),
            writer: None,
            path: None,
            status,
        }
    }

    fn try_open(dir: &Path, keep: Keep) -> Result<Results, ResultsError> {
        std::fs::create_dir_all(dir).map_err(|source| ResultsError::Directory {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(FILE);
        let database = |source| ResultsError::Database {
            path: path.clone(),
            source,
        };
        let mut connection = Connection::open(&path).map_err(database)?;
        schema::prepare(&mut connection).map_err(database)?;
        let (rounds, inbox) = mpsc::channel();
        let replays = (dir.join(REPLAYS), keep);
        let writer = std::thread::Builder::new()
            .name("arena-results".into())
            .spawn(move || write_rounds(connection, &replays, &inbox))
            .map_err(ResultsError::Thread)?;
        Ok(Results {
            sink: ResultsSink {
                kept: Some(rounds),
                replays: keep.bytes > 0 && keep.files > 0,
            },
            writer: Some(writer),
            status: format!("on ({})", path.display()),
            path: Some(path),
        })
    }

    /// Where sessions send their finished rounds.
    pub fn sink(&self) -> ResultsSink {
        self.sink.clone()
    }

    /// "on (FILE)" or "off (WHY)", for `/healthz` and the log.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The leaderboard's reader, when results are kept.
    pub fn leaderboard(&self) -> Option<Leaderboard> {
        self.path.clone().map(Leaderboard::new)
    }

    /// Stops taking rounds and waits until every round handed over is written. Call it
    /// once the tick workers have stopped.
    pub fn close(mut self) {
        self.sink = ResultsSink::default();
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("the results writer panicked");
        }
    }

    /// The replays folder, when results are kept.
    pub fn replays_dir(&self) -> Option<PathBuf> {
        let path = self.path.as_ref()?;
        Some(path.parent()?.join(REPLAYS))
    }
}

/// The replays folder, in the data directory.
const REPLAYS: &str = "replays";

/// The writer thread: one transaction per round, each replay a file (the folder kept
/// under its bound), until every sender is gone.
fn write_rounds(
    mut connection: Connection,
    (replays, keep): &(PathBuf, Keep),
    kept: &mpsc::Receiver<Kept>,
) {
    for item in kept {
        match item {
            Kept::Round(round) => {
                if let Err(err) = schema::insert(&mut connection, &round) {
                    tracing::error!(%err, session = %round.session, round = round.number, "a round could not be kept");
                }
            }
            Kept::Replay(replay) => {
                if let Err(err) = crate::replay::store(replays, &replay, *keep) {
                    tracing::error!(%err, session = %replay.session, round = replay.round, "a replay could not be kept");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
