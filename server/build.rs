//! Builds the browser client (client-web/) into OUT_DIR/web, which the server embeds,
//! so that `cargo run --release` on a fresh clone serves the game page with no other
//! step. It needs Node.js and npm; it installs the client's packages on first use and
//! whenever package-lock.json changes, and rebuilds when the client's sources change.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let web = manifest.join("../client-web");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("web");
    for input in ["src", "scripts", "package.json", "package-lock.json"] {
        println!("cargo::rerun-if-changed=../client-web/{input}");
    }

    if Command::new("node").arg("--version").output().is_err() {
        panic!(
            "\n\narena-server embeds its browser client, which is built with Node.js.\n\
             Install Node.js 20 or later (with npm), for example `apt-get install nodejs npm`,\n\
             then build again.\n\n"
        );
    }
    let installed = web.join("node_modules/.package-lock.json");
    if modified(&installed) < modified(&web.join("package-lock.json")) {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&web),
            "npm ci",
        );
    }
    run(
        Command::new("node")
            .arg("scripts/build.mjs")
            .arg("--outdir")
            .arg(&out)
            .current_dir(&web),
        "the web client's build (node scripts/build.mjs)",
    );
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn run(command: &mut Command, what: &str) {
    match command.status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("{what} failed ({status}): see its output above"),
        Err(err) => panic!("cannot run {what}: {err}"),
    }
}
