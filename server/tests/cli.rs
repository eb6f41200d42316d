//! The `arena-server` binary's command line, run as a real process: an empty
//! `--data-dir` and `--no-results` keep no results, and `/healthz` says so.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[path = "support/launch.rs"]
mod launch;

/// Starts the binary with `args` on a free loopback port; its `/healthz`, then stops it.
fn healthz_with(args: &[&str]) -> String {
    let (mut server, address) = launch::launch(launch::server().args(args).stderr(Stdio::null()));
    let mut tcp = TcpStream::connect(&address).expect("connects");
    write!(
        tcp,
        "GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("writes");
    let mut response = String::new();
    tcp.read_to_string(&mut response).expect("reads");
    let _ = server.kill();
    let _ = server.wait();
    response
}

#[test]
fn an_empty_data_dir_or_no_results_keeps_nothing() {
    for args in [&["--data-dir", ""][..], &["--no-results"][..]] {
        let health = healthz_with(args);
        assert!(
            health.contains("results off (no data directory)"),
            "{args:?}: {health}"
        );
    }
}

#[test]
fn a_cluster_node_listening_everywhere_must_be_told_its_public_url() {
    // Redis is never reached: the node refuses before it starts serving.
    let output = Command::new(env!("CARGO_BIN_EXE_arena-server"))
        .args(["--addr", "0.0.0.0:0", "--no-results"])
        .args(["--cluster", "redis://127.0.0.1:9"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "it refuses to start");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("--public-url"),
        "and says what to give: {said}"
    );
}
