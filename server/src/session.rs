//! One game session: its simulation, the connections in it, and the fan-out of each
//! tick's delta.
//!
//! A session lives on one tick worker and is never touched by I/O tasks: they reach it
//! through commands (join, leave) and each player's [`InputSlot`]. Each tick's delta is
//! encoded and framed once (see [`crate::frame`]) and the same bytes are written to
//! every member's socket, by the worker alone or, for a big session, by the fan-out
//! pool's threads beside it; only a joining player's `Welcome` is encoded for that
//! player alone. Who joins and leaves is [`roster`]'s part.

mod chat;
mod checkpoint;
mod report;
mod roster;
mod sight;

use std::borrow::Cow;
use std::ops::AddAssign;
use std::sync::Arc;

use arena_shared::protocol::{
    ChatLine, EntityId, Feed, GameEvent, ServerMessage, Snapshot, Tick, Welcome,
};
use bytes::{Bytes, BytesMut};

use crate::commands::ConnId;
use crate::config::Tunables;
use crate::fanout::FanoutPool;
use crate::frame::encode;
use crate::input_slot::InputSlot;
use crate::outbox::{Offer, Outbox, Outgoing};
use crate::replay::ReplayFile;
use crate::results::{PlayerResult, ResultsSink, RoundResult};
use crate::sim::Simulation;
use sight::{Parts, Sight};

/// What one tick did for slow clients, for the server's counters.
#[derive(Debug, Default, Clone, Copy)]
pub struct TickReport {
    /// Deltas not sent because a client was behind.
    pub dropped: u64,
    /// Snapshots sent to resynchronize a client.
    pub resyncs: u64,
    /// Deltas and resync snapshots handed to sockets, counted here once per tick
    /// rather than by each of the threads that sent them.
    pub messages: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Time spent encoding the send's shared parts (interest management): what
    /// must not grow with the number of viewers.
    pub encode: std::time::Duration,
    /// Time the whole send took, welcomes to the last viewer's write (interest
    /// management).
    pub send: std::time::Duration,
}

struct Member {
    conn: ConnId,
    outbox: Outbox,
    /// The cohort of viewers it is sent with, with interest management (see
    /// [`crate::sim::Cells`]); [`NOT_SENT_VIEWS`] for a controller. Each send sorts the
    /// members by it, if a join or a leave unsorted them, and takes the due cohort's
    /// run of them: the other cohorts' viewers are not even looked at.
    cohort: u32,
    kind: Kind,
}

/// The cohort of a member that is sent no views.
const NOT_SENT_VIEWS: u32 = u32::MAX;

/// Viewers below which the worker brings their views up to date alone: 1,700 of them
/// (a third of 5,000) take about half a millisecond, less than the fan-out thread can
/// take to wake when the bots keep both cores busy.
const UPDATE_SPLIT_MIN: usize = 4096;

/// What a connection is to the session.
enum Kind {
    /// A game page (with a player) or a spectator: gets the welcome and every delta.
    Viewer {
        player: Option<EntityId>,
        /// Where its reader, and any paired controller's, leave inputs.
        input: Arc<InputSlot>,
        /// False until its `Welcome` is queued: it gets no delta before that.
        welcomed: bool,
        reconnect_token: String,
        /// Its reconnect token brought its player back (told in the `Welcome`).
        resumed: bool,
        /// What it sees, in a world with interest management.
        sight: Option<Box<Sight>>,
    },
    /// A phone steering `player`: gets only that player's feed. Its inputs have their
    /// own slot, so that the player's page can reconnect without cutting the phone off.
    Controller {
        player: EntityId,
        fed_score: u32,
        input: Arc<InputSlot>,
    },
}

/// A session: a game and the connections watching, playing or steering it.
pub struct Session {
    code: String,
    sim: Simulation,
    members: Vec<Member>,
    max_players: u32,
    tick_hz: u16,
    send_hz: u16,
    empty_ticks: u32,
    empty_timeout_ticks: u32,
    /// Reused for every encoding; frames are split off it, so its memory is reclaimed
    /// once the sockets have sent them.
    encoder: BytesMut,
    /// Reused snapshot buffer.
    snapshot: Snapshot,
    /// Players whose connection was lost, kept for the reconnect grace period.
    dormant: Vec<Dormant>,
    grace_ticks: u32,
    /// Deltas' worth of bytes a member's socket may hold unsent (0: unbounded).
    unsent_deltas: u32,
    /// Where finished rounds are kept (nowhere by default).
    results: ResultsSink,
    /// A round's length, to date its start from its end.
    round_ms: i64,
    /// What the admin page is told: see [`report`].
    watch: report::Watch,
    /// The last chat lines, oldest first.
    chat: std::collections::VecDeque<ChatLine>,
    /// Words masked in chat lines.
    masked_words: Vec<String>,
    /// The tunables as TOML, for the replays of its rounds.
    tunables_toml: Arc<str>,
    /// Each send's parts, in a world with interest management.
    parts: Option<Box<Parts>>,
    /// The mean size of the last send's messages (interest management), which the
    /// bound on unsent bytes is sized from.
    view_bytes: usize,
}

/// The least bound on a socket's unsent bytes: below it, a client's own receive buffer
/// holds more stale deltas than the server's would, and small deltas that vary would
/// change the bound on every socket every few ticks.
const MIN_UNSENT_LIMIT: usize = 4096;

/// A player without a connection, waiting to be reclaimed by its reconnect token.
struct Dormant {
    player: EntityId,
    token: String,
    since: Tick,
}

/// Initial encoder capacity: a few deltas' worth.
const ENCODER_CAPACITY: usize = 64 * 1024;

impl Session {
    /// A new session with a fresh game.
    pub fn new(code: String, tunables: &Tunables, seed: u64) -> Session {
        Session::playing(code, tunables, Simulation::new(tunables, seed))
    }

    /// A session of `sim`, nobody in it yet.
    fn playing(code: String, tunables: &Tunables, sim: Simulation) -> Session {
        Session {
            code,
            members: Vec::new(),
            max_players: tunables.players.max_per_session,
            tick_hz: tunables.tick_hz,
            send_hz: tunables.send_hz(),
            empty_ticks: 0,
            empty_timeout_ticks: tunables.ticks_or_none(tunables.sessions.empty_timeout_s),
            encoder: BytesMut::with_capacity(ENCODER_CAPACITY),
            snapshot: Snapshot::default(),
            dormant: Vec::new(),
            grace_ticks: tunables.ticks_or_none(tunables.sessions.reconnect_grace_s),
            unsent_deltas: tunables.network.unsent_deltas,
            results: ResultsSink::default(),
            round_ms: (f64::from(tunables.round.length_s) * 1000.0) as i64,
            watch: report::Watch::default(),
            chat: std::collections::VecDeque::new(),
            masked_words: tunables.chat.masked_words.clone(),
            tunables_toml: toml::to_string(tunables).unwrap_or_default().into(),
            parts: sim.grid().map(|grid| Box::new(Parts::new(grid))),
            view_bytes: 0,
            sim,
        }
    }

    /// Hands every round this session finishes to `results`, with its replay if
    /// replays are kept.
    pub fn keep_results(&mut self, results: ResultsSink) {
        if results.keeps_replays() {
            self.sim.record_rounds();
        }
        self.results = results;
    }

    /// The session's code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Entities in the game.
    pub fn entity_count(&self) -> usize {
        self.sim.entity_count()
    }

    /// True once the session has been empty for `sessions.empty_timeout_s`.
    pub fn expired(&self) -> bool {
        self.members.is_empty()
            && self.dormant.is_empty()
            && self.empty_ticks >= self.empty_timeout_ticks
    }

    /// Connections in the session: pages, spectators and controllers.
    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// Runs one tick: inputs in, simulation step, one encoded delta out to every viewer
    /// (over `fanout`'s threads for a big session), and a feed to each controller whose
    /// player had news.
    pub fn tick(&mut self, fanout: &FanoutPool) -> TickReport {
        let now = self.sim.tick();
        let grace = self.grace_ticks;
        if self.dormant.iter().any(|d| now.since(d.since) >= grace) {
            let expired: Vec<EntityId> = self
                .dormant
                .iter()
                .filter(|d| now.since(d.since) >= grace)
                .map(|d| d.player)
                .collect();
            self.dormant.retain(|d| now.since(d.since) < grace);
            for id in expired {
                self.remove_player(id);
            }
        }
        // Pages first, then phones: a phone's input of the same tick wins.
        for member in &self.members {
            if let Kind::Viewer {
                player: Some(id),
                input,
                ..
            } = &member.kind
                && let Some(steer) = input.take()
            {
                self.sim.steer(*id, steer.seq, steer.dx, steer.dy);
            }
        }
        for member in &self.members {
            if let Kind::Controller { player, input, .. } = &member.kind
                && let Some(steer) = input.take()
            {
                self.sim.steer(*player, steer.seq, steer.dx, steer.dy);
            }
        }
        self.sim.step();
        self.record_replay();
        if self.sim.is_send_tick() {
            self.record_finished_rounds();
        }
        self.empty_ticks = if self.members.is_empty() {
            self.empty_ticks.saturating_add(1)
        } else {
            0
        };

        let mut report = TickReport::default();
        // Nobody to send to (an empty session, or only players waiting to reconnect):
        // the game goes on, but there is nothing to encode. With interest management,
        // every tick sends to one cohort of the viewers.
        if self.members.is_empty() {
            return report;
        }
        if self.parts.is_some() {
            return self.send_views(fanout);
        }
        // Not a send tick (see `network.send_hz`): what happened waits for the next
        // delta.
        if !self.sim.is_send_tick() {
            return report;
        }
        let Some(delta) = encode(
            &mut self.encoder,
            &ServerMessage::Delta(Cow::Borrowed(self.sim.delta())),
        ) else {
            return report;
        };
        let unsent_limit = self.unsent_limit(delta.len());
        let sent = fanout.for_each(&mut self.members, |member| match &member.kind {
            Kind::Controller { .. } => Fanned {
                controllers: true,
                ..Fanned::default()
            },
            Kind::Viewer {
                welcomed: false, ..
            } => Fanned::snapshot(),
            Kind::Viewer { .. } if member.outbox.wants_snapshot() => Fanned::snapshot(),
            Kind::Viewer { .. } => match member.outbox.offer_delta(&delta, unsent_limit) {
                Offer::Sent => Fanned {
                    sent: 1,
                    ..Fanned::default()
                },
                Offer::Dropped => Fanned {
                    dropped: 1,
                    ..Fanned::default()
                },
                Offer::Closed => Fanned::default(),
            },
        });
        report.dropped = sent.dropped;
        report.messages = sent.sent;
        report.bytes = sent.sent * delta.len() as u64;
        if sent.snapshot {
            let (resyncs, bytes) = self.send_snapshots();
            report.resyncs = resyncs;
            report.messages += resyncs;
            report.bytes += bytes;
        }
        if sent.controllers {
            self.feed_controllers();
        }
        report
    }

    /// A send of a world with interest management, to the cohort due this tick:
    /// joiners welcomed, each of its viewers' views brought up to date, the parts
    /// encoded once, and each of its viewers' message gathered from its head and the
    /// parts of the cells it sees. Controllers are fed on the whole world's send ticks.
    fn send_views(&mut self, fanout: &FanoutPool) -> TickReport {
        let sending = std::time::Instant::now();
        let joining = self.members.iter().any(|m| {
            matches!(
                m.kind,
                Kind::Viewer {
                    welcomed: false,
                    ..
                }
            )
        });
        if joining {
            self.send_snapshots();
        }
        let mut report = TickReport::default();
        let unsent_limit = self.unsent_limit(self.view_bytes);
        let Some(parts) = self.parts.as_deref_mut() else {
            return report;
        };
        let (Some(cells), Some((cohort, _))) = (self.sim.cells(), self.sim.cohort_due()) else {
            return report;
        };
        if !self.members.is_sorted_by_key(|m| m.cohort) {
            self.members.sort_by_key(|m| m.cohort);
        }
        let controllers = self
            .members
            .last()
            .is_some_and(|m| m.cohort == NOT_SENT_VIEWS);
        let first = self.members.partition_point(|m| m.cohort < cohort);
        let end = first + self.members[first..].partition_point(|m| m.cohort == cohort);
        let due = &mut self.members[first..end];
        parts.start();
        let encoding = std::time::Instant::now();
        parts.encode_news(cells);
        report.encode = encoding.elapsed();
        // Every viewer's view brought up to date (each reads the cells only, so a big
        // cohort's are split over the threads), and the cells coming into someone's
        // view asked for in full.
        let wanting = &*parts;
        let updating = if due.len() < UPDATE_SPLIT_MIN {
            &FanoutPool::inline()
        } else {
            fanout
        };
        updating.for_each_chunk(due, |share| {
            for member in share {
                let Kind::Viewer {
                    sight: Some(sight), ..
                } = &mut member.kind
                else {
                    continue;
                };
                let lagging = member.outbox.lagging();
                if lagging && member.outbox.wants_snapshot() {
                    sight.forget();
                    sight.resync = true;
                }
                if !lagging || sight.resync {
                    sight.update(cells);
                    sight.want_entering(wanting);
                }
            }
            Updated
        });
        let encoding = std::time::Instant::now();
        parts.encode_wanted(cells, fanout);
        report.encode += encoding.elapsed();
        let tick = self.sim.tick();
        let parts = &*parts;
        let send = |member: &mut Member, answering: bool| {
            let Member { outbox, kind, .. } = member;
            let Kind::Viewer {
                sight: Some(sight),
                welcomed: true,
                ..
            } = kind
            else {
                return Fanned::default();
            };
            if sight.answers_input() != answering {
                return Fanned::default();
            }
            if outbox.lagging() && !sight.resync {
                return Fanned::dropped();
            }
            let Some(len) = sight.gather(parts, cells, tick) else {
                return Fanned::default();
            };
            let (head, ranges) = sight.message();
            let offer = if sight.resync {
                outbox.offer_resync(|link| link.send_latest_gathered(head, &parts.body, ranges))
            } else {
                outbox.offer_gathered(head, &parts.body, ranges, unsent_limit)
            };
            match offer {
                Offer::Sent => {
                    let resyncs = u64::from(sight.resync);
                    sight.sent();
                    Fanned {
                        sent: 1,
                        bytes: len as u64,
                        resyncs,
                        ..Fanned::default()
                    }
                }
                Offer::Dropped => Fanned::dropped(),
                Offer::Closed => Fanned::default(),
            }
        };
        // The views that answer a player's input go out first (in each thread's share of
        // the viewers, so the pool is woken once): whoever just steered sees it
        // acknowledged soonest, and a view with nothing of its viewer's own waits the
        // few milliseconds the others take.
        let sent = fanout.for_each_chunk(due, |share| {
            let mut sent = Fanned::default();
            for answering in [true, false] {
                for member in share.iter_mut() {
                    sent += send(member, answering);
                }
            }
            sent
        });
        if let Some(mean) = sent.bytes.checked_div(sent.sent) {
            self.view_bytes = mean as usize;
        }
        report.send = sending.elapsed();
        report.messages = sent.sent;
        report.bytes = sent.bytes;
        report.dropped = sent.dropped;
        report.resyncs = sent.resyncs;
        if controllers && self.sim.is_send_tick() {
            self.feed_controllers();
        }
        report
    }

    /// A spectator's choice of what it watches (interest management). One that follows
    /// a player joins the player's cohort, so that the two are told the same states at
    /// the same ticks; its next message, then, starts from nothing.
    pub fn look(&mut self, conn: ConnId, look: arena_shared::protocol::Look) {
        let see_all = self.sim.view_info().is_some_and(|v| v.see_all);
        let followed = match look {
            arena_shared::protocol::Look::Follow { id } => self.cohort_of(id),
            _ => None,
        };
        for member in &mut self.members {
            if member.conn == conn
                && let Kind::Viewer {
                    player: None,
                    sight: Some(sight),
                    ..
                } = &mut member.kind
            {
                sight.look(look, see_all);
                if let Some(cohort) = followed
                    && cohort != member.cohort
                {
                    member.cohort = cohort;
                    sight.forget();
                }
            }
        }
    }

    /// The cohort of the viewer playing `player`.
    fn cohort_of(&self, player: EntityId) -> Option<u32> {
        self.members.iter().find_map(|m| match &m.kind {
            Kind::Viewer {
                player: Some(id), ..
            } if *id == player => Some(m.cohort),
            _ => None,
        })
    }

    /// The cohort with the fewest viewers (the first of those), for a new one.
    fn quietest_cohort(&self) -> u32 {
        let Some((_, count)) = self.sim.cohort_due() else {
            return 0;
        };
        let mut sizes = vec![0u32; count as usize];
        for member in &self.members {
            if let Some(size) = sizes.get_mut(member.cohort as usize) {
                *size += 1;
            }
        }
        (0..count).min_by_key(|&c| sizes[c as usize]).unwrap_or(0)
    }

    /// Hands the rounds that ended in the last delta to the results writer (a channel
    /// send: nothing here waits for the disk). A round nobody played is not kept.
    fn record_finished_rounds(&self) {
        for event in &self.sim.delta().events {
            let GameEvent::RoundEnded { number, scores } = event else {
                continue;
            };
            if scores.is_empty() {
                continue;
            }
            let ended_at_ms = crate::results::unix_ms();
            let players = scores
                .iter()
                .map(|s| PlayerResult {
                    name: self.sim.name_of(s.id).unwrap_or_default(),
                    points: s.points,
                })
                .collect();
            self.results.record(RoundResult {
                session: self.code.clone(),
                number: *number,
                started_at_ms: ended_at_ms - self.round_ms,
                ended_at_ms,
                players,
            });
        }
    }

    /// Hands the round the simulation finished recording, if it did, to the results
    /// writer as a replay file (written there, off the tick thread).
    fn record_replay(&mut self) {
        let Some(recording) = self.sim.take_recording() else {
            return;
        };
        let number = self.sim.round_state().number;
        let ended_at_ms = crate::results::unix_ms();
        let mut scores = self.sim.scoreboard();
        scores.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.results.record_replay(ReplayFile {
            format: crate::replay::FORMAT,
            session: self.code.clone(),
            round: number,
            started_at_ms: ended_at_ms - self.round_ms,
            ended_at_ms,
            scores,
            tunables: self.tunables_toml.to_string(),
            recording,
        });
    }

    /// The bytes a member's socket may hold unsent in the kernel: `unsent_deltas` of
    /// this tick's delta (of `delta_len` bytes), at least [`MIN_UNSENT_LIMIT`]; 0 for
    /// no bound. Past it the kernel refuses writes, the member's deltas are skipped, and
    /// a snapshot brings it back: a client that stalls and resumes finds a few stale
    /// deltas queued for it, not seconds of them.
    fn unsent_limit(&self, delta_len: usize) -> u32 {
        if self.unsent_deltas == 0 {
            return 0;
        }
        let limit = delta_len
            .saturating_mul(self.unsent_deltas as usize)
            .max(MIN_UNSENT_LIMIT);
        u32::try_from(limit).unwrap_or(u32::MAX)
    }

    /// Sends each controller its player's events and score, if it has any news.
    fn feed_controllers(&mut self) {
        let delta = self.sim.delta();
        let round = self.sim.round_state();
        for member in &mut self.members {
            let Kind::Controller {
                player, fed_score, ..
            } = &mut member.kind
            else {
                continue;
            };
            let player = *player;
            let score = self.sim.score_of(player).unwrap_or(0);
            let events: Vec<GameEvent> = delta
                .events
                .iter()
                .filter(|e| match e {
                    GameEvent::Collided { a, b } => *a == player || *b == player,
                    GameEvent::Still { id } => *id == player,
                    GameEvent::RoundStarted { .. } | GameEvent::RoundEnded { .. } => true,
                    GameEvent::PlayerJoined { .. }
                    | GameEvent::PlayerLeft { .. }
                    | GameEvent::Connection { .. } => false,
                })
                .cloned()
                .collect();
            if events.is_empty() && score == *fed_score {
                continue;
            }
            *fed_score = score;
            let feed = ServerMessage::Feed(Feed {
                tick: delta.tick,
                score,
                round,
                events,
            });
            if let Some(frame) = encode(&mut self.encoder, &feed) {
                member.outbox.offer(Outgoing::Frame(frame));
            }
        }
    }

    /// Welcomes new viewers and resynchronizes drained laggards with this tick's state;
    /// returns the resync snapshots sent and their bytes (the welcomes count themselves).
    fn send_snapshots(&mut self) -> (u64, u64) {
        let interest = self.parts.is_some();
        if interest {
            // The first view brings the entities near the joiner.
            self.sim.write_view_snapshot(&mut self.snapshot);
        } else {
            self.sim.write_snapshot(&mut self.snapshot);
        }
        self.snapshot.away.clear();
        self.snapshot
            .away
            .extend(self.dormant.iter().map(|d| d.player));
        let joining = self.members.iter().any(|m| {
            matches!(
                m.kind,
                Kind::Viewer {
                    welcomed: false,
                    ..
                }
            )
        });
        let chat_history = if joining { self.chat_history() } else { None };
        let mut shared: Option<Bytes> = None;
        let mut resyncs = 0;
        let mut bytes = 0;
        for member in &mut self.members {
            let Kind::Viewer {
                player,
                welcomed,
                reconnect_token,
                resumed,
                ..
            } = &mut member.kind
            else {
                continue;
            };
            if !*welcomed {
                let welcome = ServerMessage::Welcome(Welcome {
                    you: *player,
                    session: Cow::Borrowed(&self.code),
                    tick_hz: self.tick_hz,
                    send_hz: self.send_hz,
                    arena: self.sim.arena_info(),
                    reconnect_token: Cow::Borrowed(reconnect_token),
                    snapshot: Cow::Borrowed(&self.snapshot),
                    resumed: *resumed,
                    view: self.sim.view_info(),
                });
                if let Some(frame) = encode(&mut self.encoder, &welcome) {
                    member.outbox.offer(Outgoing::Frame(frame));
                }
                if let Some(history) = &chat_history {
                    member.outbox.offer(Outgoing::Frame(history.clone()));
                }
                *welcomed = true;
            } else if !interest && member.outbox.wants_snapshot() {
                if shared.is_none() {
                    shared = encode(
                        &mut self.encoder,
                        &ServerMessage::Snapshot(Cow::Borrowed(&self.snapshot)),
                    );
                }
                if let Some(frame) = &shared
                    && member.outbox.offer_snapshot(frame) == Offer::Sent
                {
                    resyncs += 1;
                    bytes += frame.len() as u64;
                }
            }
        }
        (resyncs, bytes)
    }
}

/// Every viewer's view brought up to date (nothing to sum).
#[derive(Default)]
struct Updated;

impl std::ops::AddAssign for Updated {
    fn add_assign(&mut self, Updated: Updated) {}
}

/// What sending one tick's delta found, summed over the members.
#[derive(Debug, Default)]
struct Fanned {
    /// Deltas handed to sockets.
    sent: u64,
    /// Their bytes, when they differ per member (interest management).
    bytes: u64,
    /// Fresh views that brought lagging clients back (interest management).
    resyncs: u64,
    /// Deltas dropped for clients that are behind.
    dropped: u64,
    /// Someone waits for a snapshot: a joiner's welcome, or a drained laggard.
    snapshot: bool,
    /// The session has controllers to feed.
    controllers: bool,
}

impl Fanned {
    fn dropped() -> Fanned {
        Fanned {
            dropped: 1,
            ..Fanned::default()
        }
    }

    fn snapshot() -> Fanned {
        Fanned {
            snapshot: true,
            ..Fanned::default()
        }
    }
}

impl AddAssign for Fanned {
    fn add_assign(&mut self, other: Fanned) {
        self.sent += other.sent;
        self.bytes += other.bytes;
        self.resyncs += other.resyncs;
        self.dropped += other.dropped;
        self.snapshot |= other.snapshot;
        self.controllers |= other.controllers;
    }
}

/// 128 unguessable bits, as 32 hex digits.
fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests;
