//! The leaderboard: best players by points and by rounds won over a period, and the
//! latest rounds, read from the results database on a connection of its own.

use std::path::PathBuf;

use rusqlite::{Connection, OpenFlags, params};
use serde::Serialize;

/// How far back the leaderboard looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
    /// Every round kept.
    All,
}

impl Period {
    /// `day`, `week` or `all`.
    pub fn parse(text: &str) -> Option<Period> {
        match text {
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "all" => Some(Period::All),
            _ => None,
        }
    }

    /// The earliest round end (ms since the epoch) the period takes in, at `now_ms`.
    fn since(self, now_ms: i64) -> i64 {
        const DAY_MS: i64 = 24 * 60 * 60 * 1000;
        match self {
            Period::Day => now_ms - DAY_MS,
            Period::Week => now_ms - 7 * DAY_MS,
            Period::All => i64::MIN,
        }
    }
}

/// One player's standing over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// The name it played under.
    pub name: String,
    /// Points over every round of the period.
    pub points: i64,
    /// Rounds played.
    pub rounds: i64,
    /// Rounds won: the best score of the round, above zero (ties all win).
    pub wins: i64,
}

/// A round of the period, latest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecentRound {
    /// Its session.
    pub session: String,
    /// Its number in the session.
    pub number: i64,
    /// When it ended, ms since the epoch.
    pub ended_at_ms: i64,
    /// Who won (several on a tie), none if nobody scored.
    pub winners: Vec<String>,
    /// The winning score.
    pub best: i64,
    /// Players in it.
    pub players: i64,
}

/// What `/api/leaderboard` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standings {
    /// The period asked for.
    pub period: Period,
    /// The session asked for, if any.
    pub session: Option<String>,
    /// Best first by points.
    pub by_points: Vec<Standing>,
    /// Best first by rounds won.
    pub by_wins: Vec<Standing>,
    /// Latest first.
    pub recent: Vec<RecentRound>,
}

/// Rows in each list.
const ROWS: i64 = 20;

/// Reads the leaderboard from the results database.
#[derive(Debug, Clone)]
pub struct Leaderboard {
    path: PathBuf,
}

impl Leaderboard {
    pub(super) fn new(path: PathBuf) -> Leaderboard {
        Leaderboard { path }
    }

    /// The standings over `period` (of one session, if given) as of `now_ms`. It opens
    /// the file read-only and blocks: call it off the async runtime's threads.
    pub fn read(
        &self,
        period: Period,
        session: Option<&str>,
        now_ms: i64,
    ) -> rusqlite::Result<Standings> {
        let connection = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        connection.busy_timeout(std::time::Duration::from_secs(2))?;
        let since = period.since(now_ms);
        let standings = |order: &str| -> rusqlite::Result<Vec<Standing>> {
            let sql = format!(
                "SELECT p.name, SUM(p.points), COUNT(*), SUM(p.rank = 1 AND p.points > 0) AS wins
                 FROM round_players p JOIN rounds r ON r.id = p.round_id
                 WHERE r.ended_at >= ?1 AND (?2 IS NULL OR r.session = ?2)
                 GROUP BY p.name ORDER BY {order}, p.name LIMIT ?3"
            );
            let mut statement = connection.prepare(&sql)?;
            let rows = statement.query_map(params![since, session, ROWS], |row| {
                Ok(Standing {
                    name: row.get(0)?,
                    points: row.get(1)?,
                    rounds: row.get(2)?,
                    wins: row.get(3)?,
                })
            })?;
            rows.collect()
        };
        let by_points = standings("SUM(p.points) DESC, wins DESC")?;
        let by_wins = standings("wins DESC, SUM(p.points) DESC")?;
        let mut statement = connection.prepare(
            "SELECT r.session, r.number, r.ended_at,
                    (SELECT group_concat(name, char(10)) FROM round_players
                     WHERE round_id = r.id AND rank = 1 AND points > 0),
                    (SELECT COALESCE(MAX(points), 0) FROM round_players WHERE round_id = r.id),
                    (SELECT COUNT(*) FROM round_players WHERE round_id = r.id)
             FROM rounds r
             WHERE r.ended_at >= ?1 AND (?2 IS NULL OR r.session = ?2)
             ORDER BY r.ended_at DESC, r.id DESC LIMIT ?3",
        )?;
        let recent = statement
            .query_map(params![since, session, ROWS], |row| {
                let winners: Option<String> = row.get(3)?;
                Ok(RecentRound {
                    session: row.get(0)?,
                    number: row.get(1)?,
                    ended_at_ms: row.get(2)?,
                    winners: winners
                        .map(|w| w.split('\n').map(str::to_owned).collect())
                        .unwrap_or_default(),
                    best: row.get(4)?,
                    players: row.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Standings {
            period,
            session: session.map(str::to_owned),
            by_points,
            by_wins,
            recent,
        })
    }
}
