//! Starting the `arena-server` binary as a process of its own, and reading the address
//! it prints (it listens on port 0: a free one).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `arena-server` with `--addr 127.0.0.1:0`, for the caller to add to.
pub(crate) fn server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_arena-server"));
    command.args(["--addr", "127.0.0.1:0"]);
    command
}

/// Starts `command` and waits for the address it prints (`127.0.0.1:PORT`). Its
/// stdout is read to the end on a thread of its own: a closed pipe would fail the
/// server's next line.
pub(crate) fn launch(command: &mut Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    let stdout = child.stdout.take().expect("piped");
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
        .recv_timeout(Duration::from_secs(20))
        .expect("the server prints its address");
    (child, address)
}
