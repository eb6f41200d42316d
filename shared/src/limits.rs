//! Constants that both ends of a socket must agree on.
//!
//! They live here rather than in the server so that a client built against this crate
//! cannot send a message the server is bound to refuse.

/// The WebSocket subprotocol a client offers in `Sec-WebSocket-Protocol`. Bumped when
/// the wire format changes incompatibly, so an old page fails at the handshake with a
/// clear HTTP error instead of decoding garbage.
pub const SUBPROTOCOL: &str = "arena.v2";

/// The largest client message the server accepts, in bytes. Client messages are small
/// (a `Move` is under 10 bytes, a `Hello` under 60, a chat line of 200 characters at
/// most 800 bytes of UTF-8), so anything bigger is abuse or a bug and is answered with
/// close code 1009.
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 1024;

/// The longest chat line, in characters: longer lines are cut.
pub const MAX_CHAT_CHARS: usize = 200;

/// Chat lines a session keeps, and sends a connection that joins.
pub const CHAT_HISTORY: usize = 50;

/// The longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 24;

/// The longest session code, in characters.
pub const MAX_SESSION_CODE_CHARS: usize = 16;

/// Whether `code` names a session: 1 to [`MAX_SESSION_CODE_CHARS`] letters, digits,
/// `-` and `_` (what a `Hello` may ask for, and what a link or a query may name).
pub fn is_session_code(code: &str) -> bool {
    !code.is_empty()
        && code.chars().count() <= MAX_SESSION_CODE_CHARS
        && code.chars().all(is_session_code_char)
}

/// A character a session code may hold: a letter, a digit, `-` or `_`.
pub fn is_session_code_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The session a `Hello` without a code (or with an empty one) joins.
pub const DEFAULT_SESSION: &str = "lobby";

/// WebSocket close codes the server uses, so that clients can tell apart a refusal they
/// should show the player from one that is their own bug.
pub mod close_code {
    /// The server is shutting down; a client may reconnect later.
    pub const GOING_AWAY: u16 = 1001;
    /// A text frame arrived: the protocol is binary only.
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// A binary frame did not decode as a valid client message.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// The message was valid but not allowed now (for example a `Move` before `Hello`).
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A frame larger than [`super::MAX_CLIENT_MESSAGE_BYTES`].
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The session already holds its maximum number of players.
    pub const SESSION_FULL: u16 = 4001;
    /// To a controller: the player it steered has left the game.
    pub const PLAYER_LEFT: u16 = 4002;
    /// The same player reconnected on a newer connection (this one is probably dead).
    pub const REPLACED: u16 = 4003;
    /// The server already runs its maximum number of sessions: join an existing one.
    pub const TOO_MANY_SESSIONS: u16 = 4004;
    /// The operator closed the session (from `/admin`).
    pub const SESSION_CLOSED: u16 = 4005;
    /// The operator kicked this player out (from `/admin`).
    pub const KICKED: u16 = 4006;
    /// Cluster mode: another node owns this session (or takes it over). The close
    /// reason is the WebSocket URL to reconnect to, with the same first message.
    pub const MOVED: u16 = 4007;
    /// Cluster mode: the session directory (Redis) cannot be reached to place a session
    /// this node does not run; try again shortly.
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// The longest public URL a cluster node may have: it travels as a close reason
/// (`close_code::MOVED`), which a WebSocket close frame limits to 123 bytes.
pub const MAX_NODE_URL_BYTES: usize = 120;
