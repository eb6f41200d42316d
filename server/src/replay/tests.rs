//! Replays re-played: a recorded round verifies, a changed input is caught at the
//! second it changes the game, bad files are refused, the folder stays bounded.

use super::*;
use crate::recording::Input;

/// Plays one 2-second round of a fresh game with steering, a late joiner, a player
/// who goes away and one who leaves; its replay file.
fn played_round() -> ReplayFile {
    played_round_with("")
}

/// [`played_round`] with `more` tunables.
fn played_round_with(more: &str) -> ReplayFile {
    let overrides =
        format!("[round]\nlength_s = 2\nintermission_s = 0.5\n[balls]\ncount = 12\n{more}");
    let tunables = Tunables::merged(&overrides, "test").expect("valid");
    let mut sim = Simulation::new(&tunables, 5);
    sim.record_rounds();
    let ann = sim.spawn_player("Ann");
    let bob = sim.spawn_player("Bob");
    let mut carl = None;
    let mut tick = 0u32;
    let recording = loop {
        tick += 1;
        sim.steer(ann, tick, ((tick * 7) % 255) as u8 as i8, 100);
        sim.steer(bob, tick, -120, ((tick * 3) % 200) as i8);
        if tick == 10 {
            carl = Some(sim.spawn_player("Carl"));
        }
        if tick == 20 {
            sim.set_away(bob, true);
        }
        if tick == 30 {
            sim.set_away(bob, false);
        }
        if tick == 40 {
            sim.remove_player(carl.expect("joined"));
        }
        sim.step();
        if let Some(recording) = sim.take_recording() {
            break recording;
        }
        assert!(tick < 200, "a 2 s round ends");
    };
    ReplayFile {
        format: FORMAT,
        session: "rec".into(),
        round: 1,
        started_at_ms: 1_000,
        ended_at_ms: 3_000,
        scores: sim.scoreboard(),
        tunables: toml::to_string(&tunables).expect("tunables serialize"),
        recording,
    }
}

#[test]
fn a_recorded_round_re_plays_to_the_same_states() -> Result<(), ReplayError> {
    let file = played_round();
    assert_eq!(
        file.recording.keyframe.tick, 0,
        "from the game's first tick"
    );
    assert_eq!(file.recording.end_tick, 60, "to the round's end");
    assert_eq!(file.recording.hashes.len(), 2, "a hash a second");
    let file = ReplayFile::decode(&file.encode()?)?;
    assert_eq!(
        file.verify()?,
        Verdict::Same {
            seconds: 2,
            ticks: 60
        }
    );

    let frames = file.frames()?;
    assert_eq!(frames.deltas.len(), 60, "every delta of the round");
    assert_eq!(frames.deltas.last().map(|d| d.tick.0), Some(60));
    assert!(
        frames
            .deltas
            .iter()
            .any(|d| d.spawned.iter().any(|s| s.name == "Carl")),
        "the late joiner arrives in the deltas"
    );
    Ok(())
}

#[test]
fn a_big_world_s_round_re_plays_whole() -> Result<(), ReplayError> {
    // Its players were sent only their cells, with no whole-world motion; the replay
    // shows every body moving all the same.
    let file = played_round_with("[interest]\ncell_size = 400\nview_radius = 400\n");
    assert!(matches!(file.verify()?, Verdict::Same { .. }));
    let frames = file.frames()?;
    assert_eq!(
        frames.snapshot.spawns.len(),
        12,
        "the balls; the players join after"
    );
    let moved: std::collections::BTreeSet<_> = frames
        .deltas
        .iter()
        .flat_map(|d| d.moved.iter().map(|m| m.id))
        .collect();
    assert!(
        moved.len() >= 15,
        "every ball and player reported: {moved:?}"
    );
    Ok(())
}

#[test]
fn one_changed_input_is_caught_at_the_second_it_changes_the_game() -> Result<(), ReplayError> {
    let mut file = played_round();
    let changed = file
        .recording
        .ticks
        .iter_mut()
        .find(|t| t.tick == 45)
        .expect("tick 45 had inputs");
    for input in &mut changed.inputs {
        // Ann is entity 13: the twelve balls come first.
        if let Input::Steer { id, dx, dy, .. } = input
            && *id == 13
        {
            (*dx, *dy) = (127, -127);
        }
    }
    assert!(matches!(
        file.verify()?,
        Verdict::Diverged {
            second: 1,
            tick: 60
        }
    ));
    Ok(())
}

#[test]
fn a_truncated_or_garbage_file_is_refused_with_a_reason() -> Result<(), ReplayError> {
    let bytes = played_round().encode()?;
    for bad in [&bytes[..bytes.len() / 3], b"garbage".as_slice(), &[]] {
        let err = ReplayFile::decode(bad).expect_err("not a replay");
        assert!(err.to_string().contains("not a replay file"), "{err}");
    }
    Ok(())
}

#[test]
fn the_replays_folder_keeps_under_its_bound_dropping_the_oldest() -> Result<(), ReplayError> {
    let dir = std::env::temp_dir().join(format!("arena-replays-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut file = played_round();
    let size = file.encode()?.len() as u64;
    let by_size = Keep {
        bytes: size * 2 + size / 2,
        files: 10,
    };
    for start in [1_000, 2_000, 3_000] {
        file.started_at_ms = start;
        store(&dir, &file, by_size)?;
    }
    let ids = |dir: &Path| -> Vec<String> { list(dir, 10).into_iter().map(|l| l.id).collect() };
    assert_eq!(ids(&dir), ["3000-rec-1", "2000-rec-1"], "the oldest went");
    file.started_at_ms = 4_000;
    let by_count = Keep {
        bytes: u64::MAX,
        files: 1,
    };
    store(&dir, &file, by_count)?;
    assert_eq!(ids(&dir), ["4000-rec-1"], "and past the count too");
    assert_eq!(path_of(&dir, "../etc/passwd"), None);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
