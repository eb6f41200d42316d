//! A bot's side of a WebSocket, read in place.
//!
//! A load generator receives every delta of its sessions on hundreds of sockets on the
//! same machine as the server, so it must cost as little as it can per message: here a
//! socket reads into one reused buffer and hands out each frame's payload as a slice of
//! it. Nothing is allocated or copied per message (tokio-tungstenite would copy every
//! payload into a buffer of its own), and the message is skimmed where it lies. The
//! opening handshake (tokio-tungstenite's client) and the frame headers are still
//! tungstenite's code.

use std::io::{self, Cursor};
use std::net::SocketAddr;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame as TFrame, FrameHeader};

/// The read buffer's size: a few deltas of a big session.
const READ_BUFFER: usize = 64 * 1024;

/// The largest server message a bot accepts (a welcome to a crowded session).
const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// One frame as read, borrowing the socket's buffer.
#[derive(Debug)]
pub enum Frame<'a> {
    /// A binary message: a server message to skim.
    Binary(&'a [u8]),
    /// The server closes: its code (1005 if none) and reason.
    Close(u16, String),
    /// Anything else (ping, pong, text): nothing for a bot to do.
    Other,
    /// Bytes read and thrown away unparsed (see [`BotSocket::discard`]); 0 at the end
    /// of the stream.
    Discarded(usize),
}

/// A client WebSocket over a TCP stream, reading in place.
pub struct BotSocket {
    tcp: TcpStream,
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// The frame handed out last, consumed on the next read.
    consumed: usize,
    out: Vec<u8>,
}

impl BotSocket {
    /// Connects to `addr` and opens the WebSocket of `url` (`ws://host:port/path`),
    /// offering `subprotocol`.
    pub async fn connect(addr: SocketAddr, url: &str, subprotocol: &str) -> io::Result<BotSocket> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        let tcp = socket.connect(addr).await?;
        // Moves are far smaller than a segment; Nagle would hold them back.
        tcp.set_nodelay(true)?;
        let mut request = url.into_client_request().map_err(other)?;
        let offered = HeaderValue::from_str(subprotocol).map_err(other)?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", offered);
        let (ws, _) = tokio_tungstenite::client_async(request, tcp)
            .await
            .map_err(other)?;
        // The server writes nothing between its 101 and the client's first message, so
        // tungstenite has read no further than the response: the stream is at a frame
        // boundary, and from here on frames are read in place.
        Ok(BotSocket {
            tcp: ws.into_inner(),
            buf: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
            consumed: 0,
            out: Vec::with_capacity(64),
        })
    }

    /// The next frame. Cancel-safe: if the future is dropped while waiting for bytes,
    /// nothing read is lost.
    pub async fn next_frame(&mut self) -> io::Result<Frame<'_>> {
        self.start += std::mem::take(&mut self.consumed);
        loop {
            let mut cursor = Cursor::new(&self.buf[self.start..self.end]);
            let parsed = FrameHeader::parse(&mut cursor).map_err(|e| invalid(&e.to_string()))?;
            if let Some((header, length)) = parsed {
                let length = usize::try_from(length).map_err(|_| invalid("frame too long"))?;
                if length > MAX_PAYLOAD {
                    return Err(invalid("frame too long"));
                }
                let from = self.start + cursor.position() as usize;
                let to = from + length;
                if to <= self.end {
                    self.consumed = to - self.start;
                    return Ok(classify(header.opcode, &self.buf[from..to]));
                }
                self.make_room(to - self.start);
            } else {
                self.make_room(self.end - self.start + 14);
            }
            let n = self.tcp.read(&mut self.buf[self.end..]).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.end += n;
        }
    }

    /// Reads whatever bytes have arrived and throws them away, frames or not: what a
    /// reader that does nothing with the stream costs, the floor a bot is measured
    /// against. Returns how many bytes, 0 at the end of the stream.
    pub async fn discard(&mut self) -> io::Result<Frame<'_>> {
        let unread = self.end - self.start - self.consumed;
        self.start = 0;
        self.end = 0;
        self.consumed = 0;
        if unread > 0 {
            return Ok(Frame::Discarded(unread));
        }
        Ok(Frame::Discarded(self.tcp.read(&mut self.buf).await?))
    }

    /// The next frame, or with `discard` the next bytes thrown away.
    pub async fn next(&mut self, discard: bool) -> io::Result<Frame<'_>> {
        if discard {
            self.discard().await
        } else {
            self.next_frame().await
        }
    }

    /// Sends `payload` as one binary message, masked as a client must.
    pub async fn send_binary(&mut self, payload: &[u8]) -> io::Result<()> {
        self.send(OpCode::Data(Data::Binary), payload).await
    }

    /// Sends a close frame with `code`.
    pub async fn close(&mut self, code: u16) -> io::Result<()> {
        self.send(OpCode::Control(Control::Close), &code.to_be_bytes())
            .await
    }

    async fn send(&mut self, opcode: OpCode, payload: &[u8]) -> io::Result<()> {
        let header = FrameHeader {
            opcode,
            mask: Some(fastrand::u32(..).to_ne_bytes()),
            ..FrameHeader::default()
        };
        self.out.clear();
        TFrame::from_payload(header, Bytes::copy_from_slice(payload))
            .format(&mut self.out)
            .map_err(|e| invalid(&e.to_string()))?;
        self.tcp.write_all(&self.out).await
    }

    /// Makes `buf[start..]` able to hold `needed` bytes, with room to read into.
    fn make_room(&mut self, needed: usize) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if needed >= self.buf.len() || self.end == self.buf.len() {
            let size = needed.max(self.buf.len()).next_power_of_two();
            self.buf.resize(size.max(self.end + 1), 0);
        }
    }
}

fn classify(opcode: OpCode, payload: &[u8]) -> Frame<'_> {
    match opcode {
        OpCode::Data(Data::Binary) => Frame::Binary(payload),
        OpCode::Control(Control::Close) => {
            let code = payload
                .get(..2)
                .map_or(1005, |c| u16::from_be_bytes([c[0], c[1]]));
            let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default());
            Frame::Close(code, reason.into_owned())
        }
        _ => Frame::Other,
    }
}

fn other(err: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::other(err)
}

fn invalid(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_frame_gives_its_code_and_reason() {
        let Frame::Close(code, reason) = classify(OpCode::Control(Control::Close), b"\x0f\xa1full")
        else {
            panic!("a close frame")
        };
        assert_eq!((code, reason.as_str()), (4001, "full"));
        assert!(matches!(
            classify(OpCode::Control(Control::Close), b""),
            Frame::Close(1005, _)
        ));
    }
}
