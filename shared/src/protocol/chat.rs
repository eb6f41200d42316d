//! Chat in a session: what a page says, and the lines everyone in the session reads.

use serde::{Deserialize, Serialize};

/// A line to say to everyone in the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Say {
    /// The line. The server strips control characters, trims it, cuts it to
    /// [`crate::limits::MAX_CHAT_CHARS`] and masks the words its config lists.
    pub text: String,
}

/// Chat lines, oldest first: one line as it is said, or the session's last lines for a
/// connection that just joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ChatLines {
    /// The lines.
    pub lines: Vec<ChatLine>,
}

/// One line of chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ChatLine {
    /// Who said it: a player's name, or "spectator".
    pub from: String,
    /// What was said: plain text, to be shown as text, never as markup.
    pub text: String,
}
