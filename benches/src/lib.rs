//! Load generation and measurement for Arena.
//!
//! `arena-bots` connects many headless players to a server and measures what they
//! receive; `arena-ladder` runs the server and the bots at growing client counts and
//! draws the results. The criterion benches in `benches/` time the hot paths alone.
//!
//! # Layout
//! - [`target`]: where the bots may point (loopback only, unless told otherwise).
//! - [`wire`]: a bot's WebSocket, read in place into one reused buffer.
//! - [`bot`]: one headless player: connect, join, steer at random, measure.
//! - [`scrape`]: reading the server's own figures from `/metrics`.
//! - [`report`]: what a run measured, as a table and as JSON.
//! - [`run`]: a whole run: ramp, measurement window, stop, aggregate.
//! - [`ladder`]: runs at several client counts, each against a fresh server.
//! - [`chart`]: the ladder's results as an SVG chart.

pub mod bot;
pub mod chart;
pub mod ladder;
pub mod report;
pub mod run;
pub mod scrape;
pub mod target;
pub mod wire;
