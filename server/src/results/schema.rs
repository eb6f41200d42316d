//! The results database's tables, their migrations, and writing one round.
//!
//! `PRAGMA user_version` is the schema's version: a server migrates an older file
//! forward at start, and refuses a newer one (a downgrade) rather than guess at it.

use rusqlite::{Connection, params};

use super::RoundResult;

/// Each step takes the schema from its index to the next version.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE rounds (
        id INTEGER PRIMARY KEY,
        session TEXT NOT NULL,
        number INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER NOT NULL
    );
    CREATE INDEX rounds_by_end ON rounds (ended_at);
    CREATE TABLE round_players (
        round_id INTEGER NOT NULL REFERENCES rounds (id),
        name TEXT NOT NULL,
        points INTEGER NOT NULL,
        -- 1 for the best score of the round (ties share it), and so on.
        rank INTEGER NOT NULL
    );
    CREATE INDEX round_players_by_round ON round_players (round_id);
"];

/// Sets the journal mode and brings the schema up to date.
pub(super) fn prepare(connection: &mut Connection) -> rusqlite::Result<()> {
    // WAL: readers (the leaderboard) never wait for the writer, nor it for them.
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "schema version {version} is newer than this server's {}",
            MIGRATIONS.len()
        )));
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", step as i64 + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

/// Writes one round and its players in one transaction.
pub(super) fn insert(connection: &mut Connection, round: &RoundResult) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    transaction.execute(
        "INSERT INTO rounds (session, number, started_at, ended_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            round.session,
            round.number,
            round.started_at_ms,
            round.ended_at_ms
        ],
    )?;
    let id = transaction.last_insert_rowid();
    {
        let mut player = transaction.prepare(
            "INSERT INTO round_players (round_id, name, points, rank) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for p in &round.players {
            let rank = 1 + round.players.iter().filter(|o| o.points > p.points).count() as i64;
            player.execute(params![id, p.name, p.points, rank])?;
        }
    }
    transaction.commit()
}
