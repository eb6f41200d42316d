//! The `arena-server` binary's command line, run as a real process: an empty
//! `--data-dir` and `--no-results` keep no results, and `/healthz` says so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// Starts the binary with `args` on a free loopback port; its `/healthz`, then stops it.
fn healthz_with(args: &[&str]) -> String {
    let mut server = Command::new(env!("CARGO_BIN_EXE_arena-server"))
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = server.stdout.take().expect("piped");
    // Read stdout to its end on a thread of its own: a closed pipe would fail the
    // server's next line.
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("open http://").nth(1)
                && let Some(addr) = rest.split('/').next()
            {
                let _ = found.send(addr.to_owned());
            }
        }
    });
    let address = address
        .recv_timeout(std::time::Duration::from_secs(15))
        .expect("the server prints its address");
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
