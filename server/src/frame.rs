//! Server messages as complete WebSocket frames, ready for any socket.
//!
//! Server frames are unmasked, so one frame's bytes are the same for every client: a
//! session frames its delta once, and each socket's send is a plain copy into the
//! kernel. The payload is encoded after room for the longest header, and the header is
//! then written just in front of it, so framing copies nothing.

use arena_shared::codec::encode_server;
use arena_shared::protocol::ServerMessage;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::frame::coding::{Data, OpCode};

/// A binary frame's header is at most 10 bytes (opcode byte, length byte, 64-bit
/// length) for an unmasked server frame.
pub const MAX_HEADER: usize = 10;

/// Encodes `message` as one binary frame, using `encoder`'s spare capacity.
pub fn encode(encoder: &mut BytesMut, message: &ServerMessage<'_>) -> Option<Bytes> {
    encoder.clear();
    encoder.put_bytes(0, MAX_HEADER);
    if let Err(err) = encode_server(message, &mut (&mut *encoder).writer()) {
        tracing::error!(%err, "a server message failed to encode");
        return None;
    }
    let payload = encoder.len() - MAX_HEADER;
    let start = header_in_front(&mut encoder[..MAX_HEADER], payload)?;
    let mut frame = encoder.split();
    frame.advance(start);
    Some(frame.freeze())
}

/// Writes a binary frame's header for a payload of `payload` bytes at the end of
/// `room` (at least [`MAX_HEADER`] bytes, the space left in front of the payload), and
/// returns where the header starts.
pub fn header_in_front(room: &mut [u8], payload: usize) -> Option<usize> {
    let mut header = [0u8; MAX_HEADER];
    let mut writer = &mut header[..];
    let binary = FrameHeader {
        opcode: OpCode::Data(Data::Binary),
        ..FrameHeader::default()
    };
    if let Err(err) = binary.format(payload as u64, &mut writer) {
        tracing::error!(%err, "a frame header failed to format");
        return None;
    }
    let len = MAX_HEADER - writer.len();
    let start = room.len().checked_sub(len)?;
    room[start..].copy_from_slice(&header[..len]);
    Some(start)
}

/// Encodes `message` as one binary frame in a buffer of its own.
pub fn encode_alone(message: &ServerMessage<'_>) -> Option<Bytes> {
    encode(&mut BytesMut::with_capacity(64), message)
}

/// The payload of the binary frame at the start of `bytes`, and what follows it; for
/// tests, which read back what a link wrote.
pub fn split_payload(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut cursor = std::io::Cursor::new(bytes);
    let (header, length) = FrameHeader::parse(&mut cursor).ok()??;
    if header.opcode != OpCode::Data(Data::Binary) {
        return None;
    }
    let start = usize::try_from(cursor.position()).ok()?;
    let end = start.checked_add(usize::try_from(length).ok()?)?;
    Some((bytes.get(start..end)?, bytes.get(end..)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_shared::codec::decode_server;
    use arena_shared::protocol::{Delta, EntityId, EntityState};
    use std::borrow::Cow;

    #[test]
    fn a_frame_is_a_binary_header_then_the_encoded_message_at_every_length_form() {
        let mut encoder = BytesMut::new();
        let state = EntityState {
            id: EntityId(300),
            x: 1000,
            y: 1000,
            vx: 1,
            vy: 1,
        };
        // 7-bit, 16-bit and 64-bit payload lengths.
        for (entities, header) in [(1, 2), (100, 4), (10_000, 10)] {
            let message = ServerMessage::Delta(Cow::Owned(Delta {
                moved: vec![state; entities],
                ..Delta::default()
            }));
            let frame = encode(&mut encoder, &message).expect("encodes");
            let (payload, rest) = split_payload(&frame).expect("one whole frame");
            assert!(rest.is_empty());
            assert_eq!(frame.len() - payload.len(), header);
            assert_eq!(frame[0], 0x82, "FIN and the binary opcode");
            assert_eq!(decode_server(payload).expect("decodes"), message);
        }
    }
}
