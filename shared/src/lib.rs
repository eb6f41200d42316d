//! Arena's wire protocol, shared by the server, the bots and the tests.
//!
//! Only this crate knows how a message looks on the wire: the server, the load-test
//! bots and the browser client's golden tests all go through it, so the two ends of a
//! socket cannot disagree about a byte. It has no I/O and no async runtime in it.
//!
//! # Layout
//! - [`limits`]: the numbers both ends must agree on (subprotocol name, size limits,
//!   close codes, the default session).
//! - [`quantize`]: how positions, velocities and directions become small integers.
//! - [`protocol`]: every message a client or the server can send.
//! - [`codec`]: MessagePack encoding and strict decoding of those messages.
//! - [`mirror`]: a client's copy of the world, and the dead-reckoning rule both ends share.
//! - [`cells`]: the cells of a world with interest management, and which a client sees.
//! - [`skim`]: a cheap read of a frame's tick and acknowledgements, for load generators.

pub mod cells;
pub mod codec;
pub mod limits;
pub mod mirror;
pub mod skim;

pub mod protocol;
pub mod quantize;

pub use codec::{DecodeError, EncodeError};
pub use protocol::{ClientMessage, ServerMessage};
