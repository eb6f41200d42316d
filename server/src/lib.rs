//! Arena: an authoritative multiplayer game state server.
//!
//! Clients open a WebSocket on `/ws`, join a session, and send steering inputs; tick
//! workers (one thread per core) each step their own sessions' simulations at a fixed
//! rate and send each session's delta, encoded once, to every socket in it.
//!
//! # Layout
//! In reading order: input → tick → delta.
//! - [`config`]: the game's tunables, from `assets/arena.toml` and the command line.
//! - [`sim`]: the game itself, a bevy_ecs world stepped at a fixed tick; no I/O.
//!
//! The hand-offs between threads:
//! - [`input_slot`]: where a connection leaves its latest input for the tick.
//! - [`frame`]: server messages as WebSocket frames, framed once for every socket.
//! - [`link`]: a connection's socket, written straight from a tick worker.
//! - [`outbox`]: the game's side of a connection and the slow-client policy.
//! - [`commands`]: what a connection's task asks of the worker of its session.
//! - [`checkpoint`]: a session at one tick, as a cluster node writes it to Redis.
//! - [`recording`]: a round as its inputs, what a replay re-plays.
//! - [`handover`]: checkpoints and pairing codes, from the tick workers to the cluster.
//!
//! The game side:
//! - [`pairing`]: one-time codes that make a phone the controller of a player.
//! - [`session`]: a simulation plus its connections, and the per-tick fan-out.
//! - [`fanout`]: a big session's sends spread over several threads.
//! - [`sessions`]: the registry: which worker owns which session, caps, pairing codes.
//! - [`worker`]: the tick workers, each stepping its sessions on its own cadence.
//! - [`replay`]: every round kept as a file, re-played to verify it or to watch it.
//! - [`results`]: finished rounds kept in SQLite by a writer thread, and the leaderboard.
//! - [`stats`]: counters the server keeps about itself.
//! - [`monitor`]: what the operator's live page shows: sessions, players, refusals.
//! - [`telemetry`]: the same and more as Prometheus metrics on `/metrics`.
//!
//! The socket side:
//! - [`cluster`]: cluster mode: the Redis directory, routing joins, checkpoints, takeovers.
//! - [`net`]: routes, the WebSocket upgrade, one task per connection.
//! - [`server`]: bind, run, and shut down.

pub mod config;
pub mod sim;

pub mod checkpoint;
pub mod commands;
pub mod frame;
pub mod handover;
pub mod input_slot;
pub mod link;
pub mod outbox;
pub mod recording;

pub mod fanout;
pub mod monitor;
pub mod pairing;
pub mod replay;
pub mod results;
pub mod session;
pub mod sessions;
pub mod stats;
pub mod telemetry;
pub mod worker;

pub mod cluster;
mod net;
pub mod server;

pub use config::Tunables;
pub use server::{Server, ServerError};
