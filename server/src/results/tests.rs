//! The results database through its public face: rounds kept across a reopen, the
//! leaderboard's sums, periods and filters, and files that are not usable.

use std::path::PathBuf;

use super::*;

const NO_REPLAYS: Keep = Keep { bytes: 0, files: 0 };

/// A fresh directory under the system's temporary one.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("arena-results-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn round(session: &str, number: u32, ended_at_ms: i64, players: &[(&str, u32)]) -> RoundResult {
    RoundResult {
        session: session.into(),
        number,
        started_at_ms: ended_at_ms - 90_000,
        ended_at_ms,
        players: players
            .iter()
            .map(|(name, points)| PlayerResult {
                name: (*name).into(),
                points: *points,
            })
            .collect(),
    }
}

const NOW: i64 = 1_800_000_000_000;
const HOUR: i64 = 3_600_000;

#[test]
fn rounds_are_kept_across_a_restart_and_summed_into_the_leaderboard() {
    let dir = scratch("kept");
    let results = Results::open(Some(&dir), NO_REPLAYS);
    assert!(results.status().starts_with("on"), "{}", results.status());
    let sink = results.sink();
    sink.record(round(
        "a",
        1,
        NOW - 3 * HOUR,
        &[("ada", 5), ("bob", 5), ("cy", 1)],
    ));
    sink.record(round(
        "a",
        2,
        NOW - 2 * HOUR,
        &[("ada", 2), ("bob", 7), ("cy", 0)],
    ));
    sink.record(round("b", 1, NOW - HOUR, &[("cy", 3), ("dee", 0)]));
    sink.record(round("b", 2, NOW - 50 * HOUR, &[("dee", 9)]));
    drop(sink);
    results.close(); // every round handed over is written

    let reopened = Results::open(Some(&dir), NO_REPLAYS);
    let board = reopened.leaderboard().expect("results are kept");
    let day = board.read(Period::Day, None, NOW).expect("reads");
    let by_points: Vec<(&str, i64, i64, i64)> = day
        .by_points
        .iter()
        .map(|s| (s.name.as_str(), s.points, s.rounds, s.wins))
        .collect();
    assert_eq!(
        by_points,
        [
            ("bob", 12, 2, 2),
            ("ada", 7, 2, 1),
            ("cy", 4, 3, 1),
            ("dee", 0, 1, 0)
        ],
        "a tie wins for both; the round 50 hours ago is not today's"
    );
    assert_eq!(day.by_wins[0].name, "bob");
    let recent: Vec<(&str, i64, Vec<String>)> = day
        .recent
        .iter()
        .map(|r| (r.session.as_str(), r.number, r.winners.clone()))
        .collect();
    assert_eq!(
        recent,
        [
            ("b", 1, vec!["cy".to_owned()]),
            ("a", 2, vec!["bob".to_owned()]),
            ("a", 1, vec!["ada".to_owned(), "bob".to_owned()]),
        ]
    );
    let week = board.read(Period::Week, Some("b"), NOW).expect("reads");
    assert_eq!(
        week.recent.len(),
        2,
        "the week has both of b's rounds, and only b's"
    );
    assert_eq!(week.by_points[0].name, "dee");
    reopened.close();
}

#[test]
fn a_file_that_is_not_a_database_turns_results_off_and_says_why() {
    let dir = scratch("garbage");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    std::fs::write(
        dir.join(FILE),
        b"this is not an SQLite database, not even close".repeat(100),
    )
    .expect("writes");
    let results = Results::open(Some(&dir), NO_REPLAYS);
    assert!(results.status().starts_with("off"), "{}", results.status());
    assert!(
        results.status().contains("not a database"),
        "{}",
        results.status()
    );
    assert!(results.leaderboard().is_none());
    // Rounds handed over are dropped, without blocking or panicking.
    results.sink().record(round("a", 1, NOW, &[("ada", 1)]));
    results.close();
}

#[test]
fn a_database_from_a_newer_server_is_refused_rather_than_guessed_at() {
    let dir = scratch("newer");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let connection = Connection::open(dir.join(FILE)).expect("opens");
    connection
        .pragma_update(None, "user_version", 99)
        .expect("sets");
    drop(connection);
    let results = Results::open(Some(&dir), NO_REPLAYS);
    assert!(
        results.status().contains("newer than this server"),
        "{}",
        results.status()
    );
}

#[test]
fn no_data_directory_keeps_nothing() {
    let results = Results::open(None, NO_REPLAYS);
    assert!(results.status().starts_with("off"));
    results.sink().record(round("a", 1, NOW, &[("ada", 1)]));
}

#[test]
fn periods_parse_from_their_names_only() {
    assert_eq!(Period::parse("day"), Some(Period::Day));
    assert_eq!(Period::parse("all"), Some(Period::All));
    assert_eq!(Period::parse("year"), None);
}
