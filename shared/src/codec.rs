//! MessagePack encoding and strict decoding of [`crate::protocol`] messages.
//!
//! One WebSocket binary frame carries exactly one message. Decoding is strict on
//! purpose: a frame over the size limit, trailing bytes after the message, or a field
//! outside its allowed range is an error, not something to guess around, so the
//! server can close the socket with a precise code and reason.

use std::io::{Cursor, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::limits::{MAX_CLIENT_MESSAGE_BYTES, MAX_NAME_CHARS, MAX_SESSION_CODE_CHARS};
use crate::protocol::{
    Ack, Around, CellNews, ClientMessage, Hello, Score, ServerMessage, Tick, WorldNews,
};

/// Why a frame is not a valid message.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Larger than the receiver accepts.
    #[error("message of {len} bytes is over the {max}-byte limit")]
    TooLarge {
        /// The frame's size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not MessagePack, or not the shape of any message.
    #[error("not a valid message: {0}")]
    Malformed(#[from] rmp_serde::decode::Error),
    /// A valid message followed by more bytes: one message per frame.
    #[error("{0} unexpected bytes after the message")]
    TrailingBytes(usize),
    /// Well-formed, but a field is out of its allowed range.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Why a message could not be encoded. With the types of this crate it only happens
/// when the writer fails.
#[derive(Debug, thiserror::Error)]
#[error("could not encode message: {0}")]
pub struct EncodeError(#[from] rmp_serde::encode::Error);

/// Encodes a client message into a new buffer (clients send few, small messages).
pub fn encode_client(message: &ClientMessage) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(16);
    encode(message, &mut out)?;
    Ok(out)
}

/// Encodes a server message into `out`. The server passes a reused buffer, so encoding
/// a tick's delta allocates nothing once the buffer has grown to size.
pub fn encode_server<W: Write + ?Sized>(
    message: &ServerMessage<'_>,
    out: &mut W,
) -> Result<(), EncodeError> {
    encode(message, out)
}

fn encode<T: Serialize + ?Sized, W: Write + ?Sized>(
    message: &T,
    out: &mut W,
) -> Result<(), EncodeError> {
    message.serialize(&mut rmp_serde::Serializer::new(out))?;
    Ok(())
}

/// Encodes one shared part of a [`crate::protocol::ViewDelta`] (a [`CellNews`] or the
/// [`WorldNews`]) into `out`, to follow a head of [`write_view_head`].
pub fn encode_view_part<T: ViewPart, W: Write + ?Sized>(
    part: &T,
    out: &mut W,
) -> Result<(), EncodeError> {
    encode(part, out)
}

/// A cell of a view without news, as encoded: MessagePack's nil.
pub const NO_NEWS: u8 = 0xc0;

/// The parts a [`crate::protocol::ViewDelta`] is gathered from.
pub trait ViewPart: Serialize {}
impl ViewPart for CellNews {}
impl ViewPart for crate::protocol::CellPart<'_> {}
impl ViewPart for WorldNews {}

/// Writes into `out` the start of a `ServerMessage::View`: everything up to its cells.
/// Followed by `cells` cells, each an encoded [`CellNews`] or [`NO_NEWS`], and then the
/// encoded [`WorldNews`] (each from [`encode_view_part`]), the bytes are exactly the
/// MessagePack of the whole message: so a server encodes each part once and gathers a
/// client's message from its own head and the shared parts, copying none of them.
pub fn write_view_head(
    out: &mut Vec<u8>,
    tick: Tick,
    fresh: bool,
    acks: &[Ack],
    scores: &[Score],
    around: Option<Around>,
    cells: usize,
) -> Result<(), EncodeError> {
    use rmp::encode::{write_array_len, write_map_len, write_str};
    let failed = |err: rmp::encode::ValueWriteError| {
        EncodeError(rmp_serde::encode::Error::InvalidValueWrite(err))
    };
    write_map_len(out, 1).map_err(failed)?;
    write_str(out, "View").map_err(failed)?;
    write_array_len(out, VIEW_FIELDS).map_err(failed)?;
    encode(&tick, out)?;
    encode(&fresh, out)?;
    encode(acks, out)?;
    encode(scores, out)?;
    encode(&around, out)?;
    let cells = u32::try_from(cells).unwrap_or(u32::MAX);
    write_array_len(out, cells).map_err(failed)?;
    Ok(())
}

/// The fields of a `ViewDelta`.
const VIEW_FIELDS: u32 = 7;

/// Decodes and validates one client frame.
pub fn decode_client(frame: &[u8]) -> Result<ClientMessage, DecodeError> {
    if frame.len() > MAX_CLIENT_MESSAGE_BYTES {
        return Err(DecodeError::TooLarge {
            len: frame.len(),
            max: MAX_CLIENT_MESSAGE_BYTES,
        });
    }
    let message: ClientMessage = decode_exact(frame)?;
    match &message {
        ClientMessage::Hello(hello) => validate_hello(hello)?,
        ClientMessage::Pair(pair) => validate_code(&pair.code)?,
        _ => {}
    }
    Ok(message)
}

/// Decodes one server frame into owned values.
pub fn decode_server(frame: &[u8]) -> Result<ServerMessage<'static>, DecodeError> {
    decode_exact(frame)
}

fn decode_exact<T: DeserializeOwned>(frame: &[u8]) -> Result<T, DecodeError> {
    let mut de = rmp_serde::Deserializer::new(Cursor::new(frame));
    let value = T::deserialize(&mut de)?;
    let consumed = usize::try_from(de.get_ref().position()).unwrap_or(usize::MAX);
    match frame.len().saturating_sub(consumed) {
        0 => Ok(value),
        extra => Err(DecodeError::TrailingBytes(extra)),
    }
}

fn validate_code(code: &str) -> Result<(), DecodeError> {
    if code.is_empty() || code.len() > 16 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(DecodeError::Invalid {
            field: "code",
            reason: "a pairing code is 1 to 16 letters and digits",
        });
    }
    Ok(())
}

fn validate_hello(hello: &Hello) -> Result<(), DecodeError> {
    if hello.name.chars().count() > MAX_NAME_CHARS {
        return Err(DecodeError::Invalid {
            field: "name",
            reason: "longer than 24 characters",
        });
    }
    if hello.name.chars().any(char::is_control) {
        return Err(DecodeError::Invalid {
            field: "name",
            reason: "contains control characters",
        });
    }
    if let Some(token) = &hello.reconnect
        && (token.len() > 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(DecodeError::Invalid {
            field: "reconnect",
            reason: "a reconnect token is at most 64 hex digits",
        });
    }
    if let Some(code) = &hello.session {
        if code.chars().count() > MAX_SESSION_CODE_CHARS {
            return Err(DecodeError::Invalid {
                field: "session",
                reason: "longer than 16 characters",
            });
        }
        if !code.chars().all(crate::limits::is_session_code_char) {
            return Err(DecodeError::Invalid {
                field: "session",
                reason: "only letters, digits, '-' and '_' are allowed",
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
