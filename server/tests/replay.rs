//! Replays end to end: bots play a round through real sockets against the real binary,
//! the round is kept as a file, and `arena-server replay FILE --verify` re-plays it;
//! a file with one input changed fails at the right second, and a broken file gets a
//! clear error, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use arena_server::recording::Input;
use arena_server::replay::ReplayFile;

#[path = "support/launch.rs"]
mod launch;

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_arena-server")
}

fn replay(file: &Path) -> Output {
    Command::new(binary())
        .args(["replay", "--verify"])
        .arg(file)
        .output()
        .expect("the binary runs")
}

/// A short game in `dir`: rounds of 3 s, bots playing two rounds; the replay files.
fn recorded_rounds(dir: &Path) -> Vec<PathBuf> {
    let config = dir.join("game.toml");
    std::fs::write(
        &config,
        "[round]\nlength_s = 3\nintermission_s = 0.5\n[balls]\ncount = 20\n",
    )
    .expect("writes the config");
    let (mut server, addr) = launch::launch(
        launch::server()
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .stderr(Stdio::null()),
    );
    let bots = PathBuf::from(binary()).with_file_name("arena-bots");
    let played = Command::new(&bots)
        .args([
            "--url",
            &format!("ws://{addr}/ws"),
            "--clients",
            "8",
            "--session",
            "rec",
        ])
        .args([
            "--ramp",
            "500ms",
            "--duration",
            "4s",
            "--move-every",
            "100ms",
            "--json",
        ])
        .output()
        .expect("arena-bots runs (cargo test --workspace builds it)");
    assert!(
        played.status.success(),
        "{}",
        String::from_utf8_lossy(&played.stderr)
    );
    let replays = dir.join("data/replays");
    let deadline = Instant::now() + Duration::from_secs(20);
    let files = loop {
        let files: Vec<PathBuf> = std::fs::read_dir(&replays)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if !files.is_empty() {
            break files;
        }
        assert!(Instant::now() < deadline, "a round was recorded");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = server.kill();
    let _ = server.wait();
    files
}

#[test]
fn a_round_played_by_bots_re_plays_exactly_and_a_changed_input_is_caught() {
    let dir = std::env::temp_dir().join(format!("arena-replay-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let files = recorded_rounds(&dir);
    let file = &files[0];

    let verified = replay(file);
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(
        verified.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(said.contains("session rec round 1"), "{said}");
    assert!(
        said.contains("the state matched at all 3 seconds"),
        "{said}"
    );

    // One bot's steering at one tick of the second second, changed.
    let mut round = ReplayFile::read(file).expect("a replay");
    let start = round.recording.keyframe.tick;
    let target = round
        .recording
        .ticks
        .iter_mut()
        .find(|t| t.tick > start + 35 && t.inputs.iter().any(|i| matches!(i, Input::Steer { .. })))
        .expect("the bots steered in the second second");
    let changed_tick = target.tick;
    for input in &mut target.inputs {
        if let Input::Steer { dx, dy, .. } = input {
            (*dx, *dy) = (-*dx, if *dy == 0 { 127 } else { -*dy });
        }
    }
    let second = round
        .recording
        .hashes
        .iter()
        .position(|h| h.tick >= changed_tick)
        .expect("a hash after the change");
    let tampered = dir.join("tampered.replay");
    std::fs::write(&tampered, round.encode().expect("encodes")).expect("writes");
    let failed = replay(&tampered);
    let why = String::from_utf8_lossy(&failed.stderr);
    assert!(
        !failed.status.success(),
        "a changed input fails verification"
    );
    assert!(
        why.contains(&format!("diverges at second {second} ")),
        "at second {second}: {why}"
    );

    // Truncated and garbage files: a clear error, no panic.
    let bytes = std::fs::read(file).expect("reads");
    for (name, content) in [
        ("truncated", &bytes[..bytes.len() / 2]),
        ("garbage", &b"not a replay"[..]),
    ] {
        let broken = dir.join(format!("{name}.replay"));
        std::fs::write(&broken, content).expect("writes");
        let out = replay(&broken);
        let why = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}");
        assert!(why.contains("not a replay file"), "{name}: {why}");
        assert!(!why.contains("panicked"), "{name}: {why}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
