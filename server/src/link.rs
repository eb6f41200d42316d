//! A connection's socket, shared by its session's tick worker and the connection's own task.
//!
//! The tick worker writes each delta straight into the socket: one non-blocking `send`
//! of bytes framed once per session. No task is woken, nothing is queued, nothing is
//! framed per socket; what is left is the kernel's own work, which is most of what a
//! fan-out costs. Whatever the kernel does not take at once is *owed*: kept here, in
//! order, and written by the connection's flusher when the socket is writable again.
//!
//! A delta that finds anything owed, or that the kernel refuses outright, is skipped,
//! since the client is not keeping up. So a slow socket owes at most the rest of one
//! frame and a few small messages, never a backlog; and since the kernel refuses writes
//! once a few deltas are unsent ([`Link::limit_unsent`]), it holds no backlog there
//! either. tungstenite, which reads the socket and answers pings and closes, writes
//! through the same owed bytes ([`LinkIo`]): every write is whole frames appended under
//! one lock, so frames from the two sides never interleave.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BytesMut};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};

use crate::stats::Stats;

/// Where a link's bytes go: a TCP socket, or memory in tests and benchmarks.
pub trait Wire: Send + Sync + 'static {
    /// Writes what the kernel takes now, without waiting; a "would block" is noted, so
    /// that [`Wire::poll_writable`] waits until the socket is writable again.
    fn try_write(&self, bytes: &[u8]) -> io::Result<usize>;
    /// Writes what the kernel takes now, without waiting, by the shortest path: the
    /// fan-out's write. Its "would block" need not be noted, since whatever is then owed
    /// is written by [`Wire::try_write`].
    fn try_send(&self, bytes: &[u8]) -> io::Result<usize> {
        self.try_write(bytes)
    }
    /// Writes what the kernel takes now of `bufs`, in order, without waiting: one
    /// vectored `send` for a socket. The default writes one buffer after another.
    fn try_send_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut total = 0;
        for buf in bufs {
            let n = match self.try_send(buf) {
                Ok(n) => n,
                Err(err) if total > 0 && err.kind() == io::ErrorKind::WouldBlock => 0,
                Err(err) => return Err(err),
            };
            total += n;
            if n < buf.len() {
                break;
            }
        }
        Ok(total)
    }
    /// Ready when a write may succeed again.
    fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// Refuses writes while this many bytes or more are unsent in the kernel.
    fn limit_unsent(&self, _bytes: u32) -> io::Result<()> {
        Ok(())
    }
}

impl Wire for Arc<TcpStream> {
    fn try_write(&self, bytes: &[u8]) -> io::Result<usize> {
        TcpStream::try_write(self, bytes)
    }

    /// A plain non-blocking `send` on the socket, past tokio's readiness bookkeeping:
    /// tokio's reactor updates a socket's readiness word on every event, and reading it
    /// before each of a tick's thousands of sends costs a shared cache line each.
    fn try_send(&self, bytes: &[u8]) -> io::Result<usize> {
        socket2::SockRef::from(&**self).send(bytes)
    }

    /// One `sendmsg` of every buffer (the gathered message of a client of a world with
    /// interest management: its head and the shared parts of the cells it sees).
    fn try_send_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        socket2::SockRef::from(&**self).send_vectored(bufs)
    }

    /// `TCP_NOTSENT_LOWAT`: the kernel refuses a write (and reports the socket not
    /// writable) while this many bytes are queued but not yet sent. Unlike a small
    /// `SO_SNDBUF`, it does not limit bytes in flight, so it costs a healthy client on
    /// a long path nothing.
    fn limit_unsent(&self, bytes: u32) -> io::Result<()> {
        socket2::SockRef::from(&**self).set_tcp_notsent_lowat(bytes)
    }

    fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_ready(cx)
    }
}

/// Slices in one vectored write: a player's message is its head and the parts of the
/// 25 or so cells it sees; a spectator that sees everything takes a write per batch.
pub const GATHER_SLICES: usize = 64;

/// What became of a frame handed to a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// The kernel took all of it.
    Written,
    /// Some or all of it is owed; the flusher will write it.
    Owed,
    /// Not sent: the client is behind (a delta while bytes are owed, or more owed bytes
    /// than the link allows).
    Skipped,
    /// Not sent: the link is closing or its socket failed.
    Closed,
}

/// A close the game asks for: code and reason.
pub type CloseRequest = (u16, String);

/// A connection's socket and the bytes it owes.
pub struct Link {
    wire: Box<dyn Wire>,
    owed: Mutex<Owed>,
    /// Tells the flusher there are owed bytes.
    owed_more: Notify,
    /// Most bytes that may be owed; a frame that would owe more is skipped.
    max_owed: usize,
    close: Mutex<Option<oneshot::Sender<CloseRequest>>>,
    stats: Arc<Stats>,
}

#[derive(Default)]
struct Owed {
    bytes: BytesMut,
    /// The game may send no more: a close frame is on its way.
    sealed: bool,
    /// A write failed: the socket is gone.
    broken: bool,
}

impl Link {
    /// A link over `wire`, and where the game's close request arrives for the
    /// connection's task.
    pub fn new(
        wire: impl Wire,
        max_owed: usize,
        stats: Arc<Stats>,
    ) -> (Arc<Link>, oneshot::Receiver<CloseRequest>) {
        let (close, close_requested) = oneshot::channel();
        let link = Link {
            wire: Box::new(wire),
            owed: Mutex::default(),
            owed_more: Notify::new(),
            max_owed,
            close: Mutex::new(Some(close)),
            stats,
        };
        (Arc::new(link), close_requested)
    }

    /// Sends one complete frame from the game, now or as soon as the socket allows.
    pub fn send(&self, frame: &[u8]) -> Sent {
        self.write(frame, Writer::Game)
    }

    /// Sends a frame that is only worth sending now (a delta, a resync snapshot): not
    /// while the client is still owed earlier bytes, and not owed itself if the kernel
    /// refuses all of it. Only the rest of a frame the kernel took in part is owed.
    pub fn send_latest(&self, frame: &[u8]) -> Sent {
        self.write(frame, Writer::Latest)
    }

    /// Sends one frame gathered from `head` and the `parts` of `body` (byte ranges), as
    /// [`Link::send_latest`] sends a whole one: with one vectored write of up to
    /// [`GATHER_SLICES`] slices (more take one write per batch), owing only the rest of
    /// a frame the kernel took in part.
    pub fn send_latest_gathered(&self, head: &[u8], body: &[u8], parts: &[(u32, u32)]) -> Sent {
        let mut owed = self.owed.lock();
        if owed.broken || owed.sealed {
            return Sent::Closed;
        }
        if !owed.bytes.is_empty() {
            return Sent::Skipped;
        }
        let piece = |i: usize| match i.checked_sub(1) {
            None => head,
            Some(part) => {
                let (start, end) = parts[part];
                &body[start as usize..end as usize]
            }
        };
        let total = parts.len() + 1;
        let mut slices = [io::IoSlice::new(&[]); GATHER_SLICES];
        let mut next = 0;
        while next < total {
            let count = (total - next).min(GATHER_SLICES);
            let mut len = 0;
            for (k, slot) in slices[..count].iter_mut().enumerate() {
                let bytes = piece(next + k);
                *slot = io::IoSlice::new(bytes);
                len += bytes.len();
            }
            let written = match self.wire.try_send_vectored(&slices[..count]) {
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    if next == 0 {
                        return Sent::Skipped;
                    }
                    0
                }
                Err(_) => {
                    owed.broken = true;
                    return Sent::Closed;
                }
            };
            if written < len {
                // The kernel took part of the frame: the rest is owed, in order.
                let mut skip = written;
                for bytes in (next..total).map(piece) {
                    let from = skip.min(bytes.len());
                    skip -= from;
                    owed.bytes.extend_from_slice(&bytes[from..]);
                }
                drop(owed);
                self.owed_more.notify_one();
                return Sent::Owed;
            }
            next += count;
        }
        Sent::Written
    }

    /// Bounds what the kernel may hold unsent for this socket (see [`Wire::limit_unsent`]).
    pub fn limit_unsent(&self, bytes: u32) {
        if let Err(err) = self.wire.limit_unsent(bytes) {
            tracing::debug!(%err, "cannot bound the socket's unsent bytes");
        }
    }

    /// Whether every byte handed over has reached the kernel.
    pub fn owes_nothing(&self) -> bool {
        self.owed.lock().bytes.is_empty()
    }

    /// Asks the connection to close with `code` and `reason`, and takes no more frames
    /// from the game. Only the first request counts.
    pub fn request_close(&self, code: u16, reason: String) {
        self.seal();
        if let Some(close) = self.close.lock().take() {
            let _ = close.send((code, reason));
        }
    }

    /// Takes no more frames from the game: the connection is about to send its close
    /// frame, which must be the last.
    pub fn seal(&self) {
        self.owed.lock().sealed = true;
    }

    fn write(&self, frame: &[u8], from: Writer) -> Sent {
        let mut owed = self.owed.lock();
        if owed.broken || (owed.sealed && from != Writer::Protocol) {
            return Sent::Closed;
        }
        let sent = if owed.bytes.is_empty() {
            match self.wire.try_send(frame) {
                Ok(n) if n == frame.len() => Sent::Written,
                Ok(n) => owe(&mut owed.bytes, &frame[n..]),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    if from == Writer::Latest {
                        return Sent::Skipped;
                    }
                    owe(&mut owed.bytes, frame)
                }
                Err(_) => {
                    owed.broken = true;
                    return Sent::Closed;
                }
            }
        } else if from == Writer::Latest
            || (from == Writer::Game && owed.bytes.len() + frame.len() > self.max_owed)
        {
            return Sent::Skipped;
        } else {
            owe(&mut owed.bytes, frame)
        };
        drop(owed);
        if sent == Sent::Owed {
            self.owed_more.notify_one();
        }
        // Deltas and resync snapshots are counted by their session, once per tick.
        if from != Writer::Latest {
            self.stats.sent(frame.len());
        }
        sent
    }

    /// Writes owed bytes whenever there are some, until the socket fails. The
    /// connection runs this beside its reader.
    pub async fn flush_forever(&self) {
        loop {
            self.owed_more.notified().await;
            if self.flush().await.is_err() {
                return;
            }
        }
    }

    /// Writes every owed byte, waiting for the socket as needed.
    pub async fn flush(&self) -> io::Result<()> {
        while !self.try_flush()? {
            std::future::poll_fn(|cx| self.wire.poll_writable(cx)).await?;
        }
        Ok(())
    }

    /// Writes what owed bytes the socket takes now; true if none are left.
    pub fn try_flush(&self) -> io::Result<bool> {
        let mut owed = self.owed.lock();
        if owed.bytes.is_empty() {
            return Ok(true);
        }
        match self.wire.try_write(&owed.bytes) {
            Ok(n) => owed.bytes.advance(n),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => {
                owed.broken = true;
                return Err(err);
            }
        }
        Ok(owed.bytes.is_empty())
    }
}

fn owe(owed: &mut BytesMut, rest: &[u8]) -> Sent {
    owed.extend_from_slice(rest);
    Sent::Owed
}

/// Who is writing: the game's deltas and snapshots give way to a slow client, its
/// other frames are bounded by `max_owed`, and tungstenite's own frames (pongs, closes)
/// always go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    Game,
    Latest,
    Protocol,
}

/// The socket as tungstenite sees it: reads come from the TCP socket, writes go
/// through the link.
pub struct LinkIo {
    link: Arc<Link>,
    tcp: Arc<TcpStream>,
}

impl LinkIo {
    /// tungstenite's view of `tcp`, whose writes all go through `link`.
    pub fn new(link: Arc<Link>, tcp: Arc<TcpStream>) -> LinkIo {
        LinkIo { link, tcp }
    }
}

impl LinkIo {
    /// Ends a refused connection politely: no more writes (a FIN after the close frame
    /// already written), then reads and discards whatever the client still sends until
    /// it closes too. Closing with its bytes unread would make the kernel answer with a
    /// reset, and a browser that gets a reset while still writing a big frame discards
    /// the close frame it was sent and reports 1006 instead of the reason.
    pub async fn linger(&self) -> io::Result<()> {
        socket2::SockRef::from(&*self.tcp).shutdown(std::net::Shutdown::Write)?;
        let mut sink = [0u8; 4096];
        loop {
            self.tcp.readable().await?;
            match self.tcp.try_read(&mut sink) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
        }
    }
}

impl AsyncRead for LinkIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.tcp.poll_read_ready(cx))?;
            match self.tcp.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl AsyncWrite for LinkIo {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(match self.link.write(buf, Writer::Protocol) {
            Sent::Written | Sent::Owed | Sent::Skipped => Ok(buf.len()),
            Sent::Closed => Err(io::ErrorKind::BrokenPipe.into()),
        })
    }

    /// Owed bytes are the flusher's to write; to tungstenite, handed over is flushed.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// An in-memory wire that takes up to `room` bytes, for tests and benchmarks.
#[derive(Default)]
pub struct MemoryWire {
    taken: Mutex<Vec<u8>>,
    room: std::sync::atomic::AtomicUsize,
}

impl MemoryWire {
    /// A wire that takes `room` bytes before it would block.
    pub fn new(room: usize) -> Arc<MemoryWire> {
        Arc::new(MemoryWire {
            taken: Mutex::default(),
            room: room.into(),
        })
    }

    /// Everything written so far, taken out.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.taken.lock())
    }

    /// Forgets everything written so far, keeping the memory for the next writes (a
    /// benchmark's client that reads and throws away).
    pub fn discard(&self) {
        self.taken.lock().clear();
    }

    /// Lets `more` bytes through, as a reading client would.
    pub fn make_room(&self, more: usize) {
        self.room
            .fetch_add(more, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Wire for Arc<MemoryWire> {
    fn try_write(&self, bytes: &[u8]) -> io::Result<usize> {
        use std::sync::atomic::Ordering::Relaxed;
        let room = self.room.load(Relaxed);
        if room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = room.min(bytes.len());
        self.room.fetch_sub(n, Relaxed);
        self.taken.lock().extend_from_slice(&bytes[..n]);
        Ok(n)
    }

    /// What a socket's `sendmsg` does: as much of the buffers, in order, as there is
    /// room for, in one write.
    fn try_send_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        use std::sync::atomic::Ordering::Relaxed;
        let room = self.room.load(Relaxed);
        if room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let mut taken = self.taken.lock();
        let mut left = room;
        for buf in bufs {
            let n = left.min(buf.len());
            taken.extend_from_slice(&buf[..n]);
            left -= n;
            if left == 0 {
                break;
            }
        }
        self.room.fetch_sub(room - left, Relaxed);
        Ok(room - left)
    }

    fn poll_writable(&self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Pending
    }
}
