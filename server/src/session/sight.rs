//! Interest management's side of a session: which cells each viewer sees, and each
//! send's message for it gathered from the parts encoded once.
//!
//! Each send, [`Parts`] encodes every cell that has news once (twice where something
//! entered it: for the viewers that know it, and for the others), the world's news
//! once, and, once each, the cells some viewer starts seeing (in full). A viewer's
//! [`Sight`] knows the cells it sees: those within the view radius of its player (or
//! the point it watches). Only when that set changes does it work out which came into
//! view. Its message is then its own head (frame header, tick, its acknowledgement, the
//! point its view is around when the set changed) and ranges of the parts' buffer, one
//! per run of cells in view whose parts lie end to end (the parts are encoded in the
//! order of the cells, so a row of a view is usually one), written with one vectored
//! write: no part is copied per viewer.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use arena_shared::cells::CellGrid;
use arena_shared::codec::{NO_NEWS, encode_view_part, write_view_head};
use arena_shared::protocol::{Ack, Around, CellNews, EntityId, Look, Score, Tick};

use crate::fanout::FanoutPool;
use crate::frame::{MAX_HEADER, header_in_front};
use crate::sim::Cells;

/// No range: a cell without a part of that form this send.
const NONE: (u32, u32) = (0, 0);

/// What a viewer watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// Around its own player.
    Player(EntityId),
    /// Around a spectator's chosen point (quanta).
    At(i32, i32),
    /// A spectator's chosen player.
    Follow(EntityId),
    /// Every cell.
    Everything,
}

/// What one viewer sees.
#[derive(Debug)]
pub(super) struct Sight {
    watch: Watch,
    /// What its view is around, once known.
    around: Option<Around>,
    /// The cells in view, ascending.
    seen: Vec<u32>,
    /// The cells that came into view since the last message sent, ascending.
    entering: Vec<u32>,
    /// The cells in view changed since the last message sent: the next one says what
    /// they are around.
    tell: bool,
    /// The next message starts from nothing.
    fresh: bool,
    /// The next message is a lagging client's way back to the present.
    pub resync: bool,
    /// The last acknowledgement and score sent, and those to send next.
    acked: Option<u32>,
    ack: Option<Ack>,
    scored: Option<u32>,
    score: Option<Score>,
    /// Reused: this viewer's head (its frame header starts at `head_start`), and the
    /// ranges of its message's parts.
    head: Vec<u8>,
    head_start: usize,
    ranges: Vec<(u32, u32)>,
    /// Reused: the cells in view when they change.
    spare: Vec<u32>,
}

impl Sight {
    /// A viewer that sees nothing yet: its first message will be fresh.
    pub(super) fn new(player: Option<EntityId>, grid: &CellGrid) -> Sight {
        let watch = match player {
            Some(id) => Watch::Player(id),
            None => {
                let (x, y) = grid.middle();
                Watch::At(x, y)
            }
        };
        Sight {
            watch,
            around: None,
            seen: Vec::new(),
            entering: Vec::new(),
            tell: false,
            fresh: true,
            resync: false,
            acked: None,
            ack: None,
            scored: None,
            score: None,
            head: Vec::new(),
            head_start: 0,
            ranges: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// A spectator's choice; `Everything` only if `see_all`.
    pub(super) fn look(&mut self, look: Look, see_all: bool) {
        self.watch = match look {
            Look::At { x, y } => Watch::At(x, y),
            Look::Follow { id } => Watch::Follow(id),
            Look::Everything if see_all => Watch::Everything,
            Look::Everything => return,
        };
    }

    /// Starts over: the client missed messages, so its next one is fresh.
    pub(super) fn forget(&mut self) {
        self.fresh = true;
        self.around = None;
        self.seen.clear();
        self.entering.clear();
        self.tell = false;
    }

    /// Brings the view up to this send: what it is around, and when the cells within
    /// reach of that changed, those that came into view. Also the acknowledgement to
    /// send. It reads only the cells, so every viewer's update can run at once; the
    /// cells to encode in full are then asked of the parts ([`Sight::want_entering`]).
    pub(super) fn update(&mut self, cells: &Cells) {
        let grid = &cells.grid;
        let point = |(x, y)| Around::Point { x, y };
        let around = match self.watch {
            Watch::Player(id) | Watch::Follow(id) => {
                cells.position_of(id).map(point).or(self.around)
            }
            Watch::At(x, y) => Some(point((x, y))),
            Watch::Everything => Some(Around::Everything),
        };
        if let Some(around) = around
            && (self.fresh || self.around != Some(around))
        {
            self.around = Some(around);
            let mut now = std::mem::take(&mut self.spare);
            grid.seen(around, &mut now);
            if self.fresh || now != self.seen {
                // Cells already entering but not sent yet stay entering.
                let was_entering = std::mem::take(&mut self.entering);
                for &cell in &now {
                    if self.fresh
                        || self.seen.binary_search(&cell).is_err()
                        || was_entering.binary_search(&cell).is_ok()
                    {
                        self.entering.push(cell);
                    }
                }
                std::mem::swap(&mut self.seen, &mut now);
                self.tell = true;
            }
            self.spare = now;
        }
        self.ack = None;
        self.score = None;
        if let Watch::Player(id) = self.watch
            && let Some((seq, points)) = cells.ack_and_score(id)
        {
            if self.fresh || self.acked != Some(seq) {
                self.ack = Some(Ack { id, seq });
            }
            if self.fresh || self.scored != Some(points) {
                self.score = Some(Score { id, points });
            }
        }
    }

    /// Asks `parts` for the cells coming into view, in full.
    pub(super) fn want_entering(&self, parts: &Parts) {
        for &cell in &self.entering {
            parts.want_in_full(cell);
        }
    }

    /// Writes this viewer's head and picks its parts, one per cell in view, each run of
    /// them that lies end to end in the parts' buffer as one slice (the cells of a row
    /// of its view, unless one came into view or needs its arrivals); returns the whole
    /// frame's length, or `None` if the head could not be written.
    pub(super) fn gather(&mut self, parts: &Parts, cells: &Cells, tick: Tick) -> Option<usize> {
        self.ranges.clear();
        let mut entering = self.entering.iter().peekable();
        for &cell in &self.seen {
            let at = cell as usize;
            let range = if entering.next_if_eq(&&cell).is_some() {
                parts.full_at[at]
            } else if parts.arrivals_at[at] != NONE && !self.knows_arrivals(cells, cell) {
                parts.arrivals_at[at]
            } else {
                parts.delta_at[at]
            };
            push_range(&mut self.ranges, range);
        }
        push_range(&mut self.ranges, parts.world_at);
        let around = self.around.filter(|_| self.fresh || self.tell);
        self.head.clear();
        self.head.resize(MAX_HEADER, 0);
        let (acks, scores) = (self.ack.as_slice(), self.score.as_slice());
        let head = &mut self.head;
        let cells = self.seen.len();
        if let Err(err) = write_view_head(head, tick, self.fresh, acks, scores, around, cells) {
            tracing::error!(%err, "a view's head failed to encode");
            return None;
        }
        let shared: usize = self.ranges.iter().map(|&(a, b)| (b - a) as usize).sum();
        let payload = self.head.len() - MAX_HEADER + shared;
        self.head_start = header_in_front(&mut self.head[..MAX_HEADER], payload)?;
        Some(self.head.len() - self.head_start + shared)
    }

    /// Whether the client knows every entity that entered `cell` this send: each came
    /// from a cell it saw before this send and still sees (so it has not forgotten it).
    fn knows_arrivals(&self, cells: &Cells, cell: u32) -> bool {
        cells.came_from(cell).iter().all(|from| {
            self.seen.binary_search(from).is_ok() && self.entering.binary_search(from).is_err()
        })
    }

    /// Whether this send's view acknowledges the viewer's input.
    pub(super) fn answers_input(&self) -> bool {
        self.ack.is_some()
    }

    /// The head (from its frame header on) and the parts' ranges of the gathered message.
    pub(super) fn message(&self) -> (&[u8], &[(u32, u32)]) {
        (&self.head[self.head_start..], &self.ranges)
    }

    /// The cells in view.
    #[cfg(test)]
    pub(super) fn seen(&self) -> &[u32] {
        &self.seen
    }

    /// The message went out: what it said is now what the client knows.
    pub(super) fn sent(&mut self) {
        self.fresh = false;
        self.resync = false;
        self.entering.clear();
        self.tell = false;
        if let Some(ack) = self.ack {
            self.acked = Some(ack.seq);
        }
        if let Some(score) = self.score {
            self.scored = Some(score.points);
        }
    }
}

/// One send's encoded parts, in one buffer, each cell's part a range of it.
#[derive(Debug)]
pub(super) struct Parts {
    grid: CellGrid,
    /// Every part of this send: first each cell's news in the order of the cells, end
    /// to end, so that a row of a view is one slice of it; then the rest.
    pub body: Vec<u8>,
    /// Each cell's news since the last send ([`NO_NEWS`] if none); where something
    /// entered it, for the viewers that know everything that did (they are told only
    /// what crossed).
    delta_at: Vec<(u32, u32)>,
    /// Where something entered, the news for the other viewers: what entered in full,
    /// with its spawns.
    arrivals_at: Vec<(u32, u32)>,
    /// Each cell in full, for the cells coming into someone's view.
    full_at: Vec<(u32, u32)>,
    /// The world's news.
    world_at: (u32, u32),
    /// Cells with arrivals or a full part this send, to clear at the next.
    touched: Vec<u32>,
    /// Reused: this send's cells with news, in the order of the cells.
    dirty: Vec<u32>,
    /// Whether each cell is wanted in full this send: asked by every viewer's update
    /// at once, so a flag each.
    wanted: Vec<AtomicBool>,
    /// Reused: this send's cells wanted in full, in the order of the cells.
    wanted_cells: Vec<u32>,
    /// Reused: the cells in full, each thread's share of them.
    shares: Vec<FullShare>,
}

/// Cells in full below which one thread encodes them all: waking another costs about
/// as much as a dozen.
pub(super) const FULL_SPLIT_MIN: usize = 32;

/// One thread's share of the cells wanted in full, encoded into a buffer of its own
/// (appended to the parts' body afterwards, in order).
#[derive(Debug, Default)]
struct FullShare {
    cells: Vec<u32>,
    body: Vec<u8>,
    /// Each cell's range in `body`.
    ranges: Vec<(u32, u32)>,
    scratch: CellNews,
    failed: bool,
}

impl FullShare {
    fn encode(&mut self, cells: &Cells) {
        self.body.clear();
        self.ranges.clear();
        self.failed = false;
        for &cell in &self.cells {
            cells.write_full(cell, &mut self.scratch);
            let start = self.body.len();
            self.failed |= encode_view_part(&self.scratch, &mut self.body).is_err();
            self.ranges.push(range(start, self.body.len()));
        }
    }
}

impl Parts {
    pub(super) fn new(grid: CellGrid) -> Parts {
        Parts {
            grid,
            body: Vec::new(),
            delta_at: vec![NONE; grid.len()],
            arrivals_at: vec![NONE; grid.len()],
            full_at: vec![NONE; grid.len()],
            world_at: NONE,
            touched: Vec::new(),
            dirty: Vec::new(),
            wanted: (0..grid.len()).map(|_| AtomicBool::new(false)).collect(),
            wanted_cells: Vec::new(),
            shares: Vec::new(),
        }
    }

    /// How many cells the last send encoded in full.
    #[cfg(test)]
    pub(super) fn cells_in_full(&self) -> usize {
        self.wanted_cells.len()
    }

    /// Where each cell's news is in the body.
    #[cfg(test)]
    pub(super) fn delta_ranges(&self) -> &[(u32, u32)] {
        &self.delta_at
    }

    /// The cells.
    pub(super) fn grid(&self) -> &CellGrid {
        &self.grid
    }

    /// Forgets the last send's parts.
    pub(super) fn start(&mut self) {
        for &cell in &self.touched {
            self.delta_at[cell as usize] = NONE;
            self.arrivals_at[cell as usize] = NONE;
            self.full_at[cell as usize] = NONE;
        }
        self.touched.clear();
        self.body.clear();
    }

    fn want_in_full(&self, cell: u32) {
        if let Some(wanted) = self.wanted.get(cell as usize) {
            wanted.store(true, Relaxed);
        }
    }

    /// Encodes each cell's news (in both forms where something entered it) and the
    /// world's news, once each: what is the same whoever watches. The news every
    /// viewer that knows a cell's entities gets comes first, every cell's in order (a
    /// nil for a cell without news), so that adjacent cells' parts are adjacent bytes.
    pub(super) fn encode_news(&mut self, cells: &Cells) {
        let mut failed = false;
        self.dirty.clear();
        self.dirty.extend_from_slice(cells.dirty());
        self.dirty.sort_unstable();
        let mut dirty = self.dirty.iter().copied().peekable();
        for cell in 0..self.delta_at.len() as u32 {
            let start = self.body.len();
            let Some(part) = dirty.next_if_eq(&cell).and_then(|c| cells.part(c, false)) else {
                self.body.push(NO_NEWS);
                self.delta_at[cell as usize] = range(start, self.body.len());
                continue;
            };
            // What entered is told as a crossing to the viewers that know it (unless
            // something is new to the world); the others get it in full, below.
            let known = (!part.entered.is_empty())
                .then(|| cells.part(cell, true))
                .flatten();
            if known.is_some() {
                self.touched.push(cell);
            }
            failed |= encode_view_part(&known.unwrap_or(part), &mut self.body).is_err();
            self.delta_at[cell as usize] = range(start, self.body.len());
        }
        // The cells just touched are those with both forms: here is the one in full.
        for &cell in &self.touched {
            let Some(part) = cells.part(cell, false) else {
                continue;
            };
            let start = self.body.len();
            failed |= encode_view_part(&part, &mut self.body).is_err();
            self.arrivals_at[cell as usize] = range(start, self.body.len());
        }
        let start = self.body.len();
        failed |= encode_view_part(&cells.world, &mut self.body).is_err();
        self.world_at = range(start, self.body.len());
        if failed {
            tracing::error!("a view part failed to encode");
        }
    }

    /// Encodes each cell some viewer started seeing, in full, once each, in the order
    /// of the cells (so that a row coming into view is one slice too). Many are split
    /// over `fanout`'s threads, each encoding a run of them into a buffer of its own.
    pub(super) fn encode_wanted(&mut self, cells: &Cells, fanout: &FanoutPool) {
        let wanted = &mut self.wanted_cells;
        wanted.clear();
        for (cell, flag) in self.wanted.iter_mut().enumerate() {
            if std::mem::take(flag.get_mut()) {
                wanted.push(cell as u32);
            }
        }
        let threads = if wanted.len() < FULL_SPLIT_MIN {
            1
        } else {
            fanout.threads()
        };
        if self.shares.len() < threads {
            self.shares.resize_with(threads, FullShare::default);
        }
        let shares = &mut self.shares[..threads];
        let mut runs = wanted.chunks(wanted.len().div_ceil(threads).max(1));
        for share in shares.iter_mut() {
            share.cells.clear();
            share
                .cells
                .extend_from_slice(runs.next().unwrap_or_default());
        }
        fanout.for_each_apart(shares, |share| share.encode(cells));
        let mut failed = false;
        for share in &*shares {
            let offset = self.body.len();
            self.body.extend_from_slice(&share.body);
            for (&cell, &(start, end)) in share.cells.iter().zip(&share.ranges) {
                self.full_at[cell as usize] = range(offset + start as usize, offset + end as usize);
            }
            failed |= share.failed;
        }
        self.touched.extend_from_slice(&self.wanted_cells);
        if failed {
            tracing::error!("a cell in full failed to encode");
        }
    }
}

/// Adds `range` to a message's slices: to the last one, if it ends where `range` starts.
fn push_range(ranges: &mut Vec<(u32, u32)>, range: (u32, u32)) {
    match ranges.last_mut() {
        Some(last) if last.1 == range.0 => last.1 = range.1,
        _ => ranges.push(range),
    }
}

fn range(start: usize, end: usize) -> (u32, u32) {
    let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    (at(start), at(end))
}
