//! The fast path of [`super::skim_server`] for the messages every send brings: a
//! `Delta`, or with interest management a `View`.
//!
//! A bot receives one of them per send on every socket; serde's `IgnoredAny`, even
//! without allocating, walks the entity lists and cells through a visitor per value
//! (a sixth of a bot's CPU in a big world, when views took that path). Here they are
//! stepped over marker by marker: a MessagePack value's marker byte says how long it
//! is, or how many values it holds, so skipping a list of a thousand entity states is
//! a tight loop over their bytes. Only the tick, the acks and whether a view is fresh
//! are decoded.

use crate::codec::DecodeError;
use crate::protocol::{Ack, EntityId, Tick};

/// The bytes of `{"Delta": [` with the delta's seven fields.
const DELTA_HEAD: &[u8] = b"\x81\xa5Delta\x97";

/// The bytes of `{"View": [` with the view's seven fields.
const VIEW_HEAD: &[u8] = b"\x81\xa4View\x97";

/// What the fast path reads from a frame.
pub(super) struct Skimmed {
    pub tick: Tick,
    pub acks: Vec<Ack>,
    /// A view that replaces what the client knew.
    pub fresh: bool,
}

/// Reads a `Delta` or `View` frame's tick and acks, or `None` if `frame` is neither
/// (the caller then takes the general path).
pub(super) fn skim_send(frame: &[u8]) -> Option<Result<Skimmed, DecodeError>> {
    if let Some(body) = frame.strip_prefix(DELTA_HEAD) {
        return Some(Reader { bytes: body, at: 0 }.delta());
    }
    let body = frame.strip_prefix(VIEW_HEAD)?;
    Some(Reader { bytes: body, at: 0 }.view())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

fn malformed() -> DecodeError {
    DecodeError::Invalid {
        field: "delta or view",
        reason: "not the MessagePack of a delta or a view",
    }
}

impl Reader<'_> {
    fn delta(&mut self) -> Result<Skimmed, DecodeError> {
        let tick = Tick(self.uint()?);
        // spawned, moved, removed
        self.skip(3)?;
        let acks = self.acks()?;
        // scores, events
        self.skip(2)?;
        self.end()?;
        Ok(Skimmed {
            tick,
            acks,
            fresh: false,
        })
    }

    fn view(&mut self) -> Result<Skimmed, DecodeError> {
        let tick = Tick(self.uint()?);
        let fresh = match self.byte()? {
            0xc2 => false,
            0xc3 => true,
            _ => return Err(malformed()),
        };
        let acks = self.acks()?;
        // scores, around, cells, world
        self.skip(4)?;
        self.end()?;
        Ok(Skimmed { tick, acks, fresh })
    }

    fn acks(&mut self) -> Result<Vec<Ack>, DecodeError> {
        let count = self.array()?;
        // A claimed count can be no larger than the bytes left to hold it.
        if count > self.bytes.len() - self.at {
            return Err(malformed());
        }
        let mut acks = Vec::with_capacity(count);
        for _ in 0..count {
            if self.array()? != 2 {
                return Err(malformed());
            }
            let id = EntityId(self.uint()?);
            let seq = self.uint()?;
            acks.push(Ack { id, seq });
        }
        Ok(acks)
    }

    fn end(&self) -> Result<(), DecodeError> {
        if self.at != self.bytes.len() {
            return Err(DecodeError::TrailingBytes(self.bytes.len() - self.at));
        }
        Ok(())
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let byte = *self.bytes.get(self.at).ok_or_else(malformed)?;
        self.at += 1;
        Ok(byte)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.at.checked_add(n).ok_or_else(malformed)?;
        let bytes = self.bytes.get(self.at..end).ok_or_else(malformed)?;
        self.at = end;
        Ok(bytes)
    }

    /// A big-endian length or number of `n` bytes.
    fn be(&mut self, n: usize) -> Result<usize, DecodeError> {
        let bytes = self.take(n)?;
        let value = bytes.iter().fold(0u64, |v, &b| v << 8 | u64::from(b));
        usize::try_from(value).map_err(|_| malformed())
    }

    /// An unsigned integer that fits 32 bits.
    fn uint(&mut self) -> Result<u32, DecodeError> {
        let value = match self.byte()? {
            b @ 0x00..=0x7f => u64::from(b),
            0xcc => self.be(1)? as u64,
            0xcd => self.be(2)? as u64,
            0xce => self.be(4)? as u64,
            0xcf => self.be(8)? as u64,
            _ => return Err(malformed()),
        };
        u32::try_from(value).map_err(|_| malformed())
    }

    /// An array's length.
    fn array(&mut self) -> Result<usize, DecodeError> {
        match self.byte()? {
            b @ 0x90..=0x9f => Ok(usize::from(b & 0x0f)),
            0xdc => self.be(2),
            0xdd => self.be(4),
            _ => Err(malformed()),
        }
    }

    /// Steps over `values` whole values, nested ones included.
    fn skip(&mut self, values: usize) -> Result<(), DecodeError> {
        let mut pending = values;
        while pending > 0 {
            pending -= 1;
            let marker = self.byte()?;
            let (data, children) = match marker {
                0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
                0x80..=0x8f => (0, 2 * usize::from(marker & 0x0f)),
                0x90..=0x9f => (0, usize::from(marker & 0x0f)),
                0xa0..=0xbf => (usize::from(marker & 0x1f), 0),
                0xcc | 0xd0 => (1, 0),
                0xcd | 0xd1 => (2, 0),
                0xca | 0xce | 0xd2 => (4, 0),
                0xcb | 0xcf | 0xd3 => (8, 0),
                0xd4 => (2, 0),
                0xd5 => (3, 0),
                0xd6 => (5, 0),
                0xd7 => (9, 0),
                0xd8 => (17, 0),
                0xc4 | 0xd9 => (self.be(1)?, 0),
                0xc5 | 0xda => (self.be(2)?, 0),
                0xc6 | 0xdb => (self.be(4)?, 0),
                0xc7 => (self.be(1)? + 1, 0),
                0xc8 => (self.be(2)? + 1, 0),
                0xc9 => (self.be(4)? + 1, 0),
                0xdc => (0, self.be(2)?),
                0xdd => (0, self.be(4)?),
                0xde => (0, 2 * self.be(2)?),
                0xdf => (0, 2 * self.be(4)?),
                // 0xc1 is never used.
                _ => return Err(malformed()),
            };
            self.take(data)?;
            // A claimed count can be no larger than the bytes left to hold it.
            if children > self.bytes.len() - self.at {
                return Err(malformed());
            }
            pending += children;
        }
        Ok(())
    }
}
