//! Arena: an authoritative multiplayer game state server.
//!
//! Clients open a WebSocket on `/ws`, join a session, and send steering inputs; one
//! tick thread steps every session's simulation at a fixed rate and sends each
//! session's delta, encoded once, to every socket in it.
//!
//! # Layout
//! In reading order, from the game outwards:
//! - [`config`]: the game's tunables, from `assets/arena.toml` and the command line.
//! - [`sim`]: the game itself, a bevy_ecs world stepped at a fixed tick; no I/O.
//! - [`input_slot`]: where a connection leaves its latest input for the tick loop.
//! - [`frame`]: server messages as WebSocket frames, framed once for every socket.
//! - [`link`]: a connection's socket, written straight from the tick thread.
//! - [`outbox`]: the game's side of a connection and the slow-client policy.
//! - [`pairing`]: one-time codes that make a phone the controller of a player.
//! - [`session`]: a simulation plus its connections, and the per-tick fan-out.

//! - [`ticker`]: the thread that steps every session on a fixed cadence.
//! - [`stats`]: counters the server keeps about itself.
//! - [`telemetry`]: the same and more as Prometheus metrics on `/metrics`.
//! - [`net`]: routes, the WebSocket upgrade, one reader and writer per connection.
//! - [`server`]: bind, run, and shut down.

pub mod config;
pub mod frame;
pub mod input_slot;
pub mod link;
mod net;
pub mod outbox;
pub mod pairing;
pub mod server;
pub mod session;
pub mod sim;
pub mod stats;
pub mod telemetry;
pub mod ticker;

pub use config::Tunables;
pub use server::{Server, ServerError};
