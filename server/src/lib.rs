//! Arena: an authoritative multiplayer game state server.
//!
//! # Layout
//! - [`config`]: the game's tunables, from `assets/arena.toml` and the command line.
//! - [`sim`]: the game itself, a bevy_ecs world stepped at a fixed tick; no I/O.
pub mod config;
pub mod sim;
