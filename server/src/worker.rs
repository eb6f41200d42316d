//! Tick workers: N threads, each stepping its own sessions on its own fixed cadence.
//!
//! A tick is CPU work on a deadline, so it runs on dedicated threads, off the async
//! runtime: on a small machine it must not queue behind socket tasks, nor they behind
//! it. Each worker owns a disjoint set of sessions (the [`Sessions`] registry says
//! which) and keeps cadence against absolute deadlines, without drift; when it falls
//! behind by more than the ticks between two sends it skips ahead instead of bursting to
//! catch up, and counts the overrun. A worker never waits on a socket: every send is non-blocking (see
//! [`crate::link`]), and a big session's sends are spread over the fan-out pool
//! ([`crate::fanout`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{self, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arena_shared::limits::close_code;
use arena_shared::protocol::{PairCode, ServerMessage};

use crate::commands::{Command, ConnId, ControllerRequest};
use crate::config::Tunables;
use crate::fanout::FanoutPool;
use crate::handover::{Note, Notes};
use crate::monitor::{WorkerReport, percentile};
use crate::pairing::{Binding, Refusal};
use crate::results::ResultsSink;
use crate::session::Session;
use crate::sessions::{Claim, Sessions, WorkerId, WorkerLoad, WorkerPort};
use crate::stats::{Stats, TickRecord};

/// The running tick workers.
#[derive(Debug)]
pub struct TickWorkers {
    sessions: Arc<Sessions>,
    threads: Vec<JoinHandle<()>>,
}

/// What every worker shares.
struct Shared {
    tunables: Tunables,
    sessions: Arc<Sessions>,
    stats: Arc<Stats>,
    fanout: Arc<FanoutPool>,
    /// Where phones on the local network reach the server, for pairing QR codes.
    lan_url: Option<String>,
    /// Where sessions keep their finished rounds.
    results: ResultsSink,
    /// Cluster mode: where checkpoints and pairing codes go.
    notes: Notes,
}

impl TickWorkers {
    /// Starts `count` workers (at least one) and the registry that routes to them.
    pub fn spawn(
        count: usize,
        tunables: Tunables,
        stats: Arc<Stats>,
        lan_url: Option<String>,
        results: ResultsSink,
        notes: Notes,
    ) -> std::io::Result<TickWorkers> {
        let count = count.max(1);
        let (ports, inboxes): (Vec<_>, Vec<_>) = (0..count)
            .map(|_| {
                let (commands, inbox) = mpsc::channel();
                let load = Arc::new(WorkerLoad::default());
                (WorkerPort { commands, load }, inbox)
            })
            .unzip();
        let loads: Vec<Arc<WorkerLoad>> = ports.iter().map(|p| p.load.clone()).collect();
        let sessions = Arc::new(Sessions::new(
            ports,
            tunables.limits.max_sessions,
            Duration::from_secs_f32(tunables.controllers.code_ttl_s),
        ));
        let fanout = Arc::new(FanoutPool::new(count)?);
        let shared = Arc::new(Shared {
            tunables,
            sessions: sessions.clone(),
            stats,
            fanout,
            lan_url,
            results,
            notes,
        });
        let mut threads = Vec::with_capacity(count);
        for (id, (inbox, load)) in inboxes.into_iter().zip(loads).enumerate() {
            let shared = shared.clone();
            let thread = std::thread::Builder::new()
                .name(format!("arena-tick-{id}"))
                .spawn(move || Worker::new(id, shared, load).run(&inbox));
            match thread {
                Ok(thread) => threads.push(thread),
                Err(err) => {
                    sessions.stop_workers();
                    return Err(err);
                }
            }
        }
        Ok(TickWorkers { sessions, threads })
    }

    /// The registry every connection routes its commands through.
    pub fn sessions(&self) -> Arc<Sessions> {
        self.sessions.clone()
    }

    /// Stops every worker and waits for its thread to end.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        self.sessions.stop_workers();
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!("a tick worker panicked");
            }
        }
    }
}

impl Drop for TickWorkers {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// One worker's thread state.
struct Worker {
    id: WorkerId,
    shared: Arc<Shared>,
    load: Arc<WorkerLoad>,
    sessions: HashMap<String, Session>,
    /// Sessions this worker has created, for their seeds.
    created: u64,
    /// This second's tick durations, microseconds, for the admin page's percentiles.
    tick_us: Vec<u32>,
    /// Sessions being handed over to another node: no longer ticked.
    frozen: HashSet<String>,
}

impl Worker {
    fn new(id: WorkerId, shared: Arc<Shared>, load: Arc<WorkerLoad>) -> Worker {
        let tick_hz = usize::from(shared.tunables.tick_hz);
        Worker {
            id,
            shared,
            load,
            sessions: HashMap::new(),
            created: 0,
            tick_us: Vec::with_capacity(tick_hz),
            frozen: HashSet::new(),
        }
    }

    fn run(mut self, inbox: &mpsc::Receiver<Command>) {
        let period = Duration::from_secs_f64(1.0 / f64::from(self.shared.tunables.tick_hz));
        // A send tick (every `send_every` ticks) costs far more than the others, so a
        // worker may fall up to that many periods behind and catch up with the cheap
        // ticks between sends; only beyond it does it skip ahead.
        let slack = period * self.shared.tunables.send_every();
        let mut deadline = Instant::now() + period;
        loop {
            if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let started = Instant::now();
            loop {
                match inbox.try_recv() {
                    Ok(Command::Stop) | Err(TryRecvError::Disconnected) => {
                        return self.drop_all();
                    }
                    Ok(command) => self.handle(command),
                    Err(TryRecvError::Empty) => break,
                }
            }
            let mut record = self.tick_all();
            record.took = started.elapsed();
            record.overran = record.took > period;
            self.load.record(record.took, self.sessions.len());
            self.shared.stats.tick(self.id, record);
            self.tick_us
                .push(u32::try_from(record.took.as_micros()).unwrap_or(u32::MAX));
            if self.tick_us.len() >= usize::from(self.shared.tunables.tick_hz) {
                self.publish_report();
                self.write_checkpoints();
            }

            deadline += period;
            let now = Instant::now();
            if now > deadline + slack {
                tracing::warn!(
                    worker = self.id,
                    late_ms = (now - deadline).as_millis() as u64,
                    "tick worker behind; skipping ahead"
                );
                deadline = now;
            }
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Join(request) => {
                if let Some(session) = self.sessions.get_mut(&request.session) {
                    return session.join(request);
                }
                match self.shared.sessions.claim(&request.session, self.id) {
                    Claim::Create => self.create(&request.session).join(request),
                    Claim::Forward(owner) => {
                        self.shared.sessions.send(owner, Command::Join(request));
                    }
                    Claim::Full => self.shared.sessions.refuse_full(request),
                }
            }
            Command::Leave {
                conn,
                session,
                departure,
            } => {
                if let Some(session) = self.sessions.get_mut(&session) {
                    session.leave(conn, departure);
                }
            }
            Command::RequestPairCode { conn, session } => self.issue_code(conn, session),
            Command::AttachController { session, request } => self.attach(&session, request),
            Command::Say {
                conn,
                session,
                text,
            } => {
                if let Some(session) = self.sessions.get_mut(&session) {
                    session.say(conn, &text);
                }
            }
            Command::Look {
                conn,
                session,
                look,
            } => {
                if let Some(session) = self.sessions.get_mut(&session) {
                    session.look(conn, look);
                }
            }
            Command::CloseSession { session } => {
                if let Some(session) = self.sessions.get_mut(&session) {
                    let reason = "the operator closed this session";
                    session.close_all(close_code::SESSION_CLOSED, reason);
                }
            }
            Command::Kick { session, player } => {
                if let Some(session) = self.sessions.get_mut(&session) {
                    let reason = "the operator removed you from the game";
                    session.kick(player, close_code::KICKED, reason);
                }
            }
            Command::Resume(checkpoint) => self.resume(&checkpoint),
            Command::HandOver { session, reply } => {
                let checkpoint = self.sessions.get_mut(&session).map(|s| {
                    self.frozen.insert(session.clone());
                    s.checkpoint()
                });
                // The directory task may have given up waiting; then nobody needs it.
                let _ = reply.send(checkpoint);
            }
            Command::Moved { session, url, done } => {
                if let Some(mut moved) = self.sessions.remove(&session) {
                    match url {
                        Some(url) => moved.close_all(close_code::MOVED, &url),
                        None => moved.close_all(close_code::GOING_AWAY, "the server is stopping"),
                    }
                    self.frozen.remove(&session);
                    self.shared.sessions.release(&session, self.id);
                    self.shared.stats.session_dropped();
                    tracing::info!(%session, worker = self.id, "session moved to another node");
                }
                let _ = done.send(());
            }
            Command::Stop => {}
        }
    }

    /// Runs the session of a checkpoint taken over from another node. The registry
    /// named this worker its owner when it sent the checkpoint.
    fn resume(&mut self, checkpoint: &crate::checkpoint::Checkpoint) {
        let code = checkpoint.session.clone();
        if self.sessions.contains_key(&code) {
            return;
        }
        let mut session = Session::resume(&self.shared.tunables, checkpoint);
        session.keep_results(self.shared.results.clone());
        tracing::info!(
            session = %code,
            worker = self.id,
            tick = checkpoint.tick,
            players = checkpoint.players.len(),
            "session resumed from its checkpoint"
        );
        self.shared.stats.session_created();
        self.load.created();
        self.sessions.insert(code, session);
    }

    /// Cluster mode, once a second: each session's checkpoint to the directory task,
    /// built here (where the world is) and written to Redis there.
    fn write_checkpoints(&mut self) {
        if !self.shared.notes.wanted() {
            return;
        }
        for (code, session) in &mut self.sessions {
            if self.frozen.contains(code) {
                continue;
            }
            let started = Instant::now();
            match session.checkpoint().encode() {
                Ok(bytes) => self.shared.notes.send(Note::Checkpoint {
                    session: code.clone(),
                    bytes,
                    took: started.elapsed(),
                }),
                Err(err) => tracing::error!(session = %code, %err, "cannot encode a checkpoint"),
            }
        }
    }

    fn create(&mut self, code: &str) -> &mut Session {
        self.created += 1;
        // Seeds differ per worker and per session, and stay reproducible for one worker.
        let seed = self
            .shared
            .tunables
            .seed
            .wrapping_add(self.created)
            .wrapping_add((self.id as u64) << 32);
        tracing::info!(session = %code, worker = self.id, "session created");
        self.shared.stats.session_created();
        self.load.created();
        self.sessions.entry(code.to_owned()).or_insert_with(|| {
            let mut session = Session::new(code.to_owned(), &self.shared.tunables, seed);
            session.keep_results(self.shared.results.clone());
            session
        })
    }

    /// Once a second: what the admin page shows of this worker and its sessions. Built
    /// here, from what the worker owns; published under a lock held for a swap.
    fn publish_report(&mut self) {
        let report = WorkerReport {
            tick_p50_us: percentile(&mut self.tick_us, 50),
            tick_p99_us: percentile(&mut self.tick_us, 99),
            sessions: self
                .sessions
                .values_mut()
                .map(|s| s.report(self.id))
                .collect(),
        };
        self.tick_us.clear();
        self.shared.stats.monitor().publish(self.id, report);
    }

    /// Steps every session once, and drops the ones that have expired.
    fn tick_all(&mut self) -> TickRecord {
        let mut record = TickRecord::default();
        // One clock read per session: each session's tick ends where the next one's starts.
        let mut started = Instant::now();
        for (code, session) in &mut self.sessions {
            if self.frozen.contains(code) {
                continue;
            }
            let report = session.tick(&self.shared.fanout);
            let ended = Instant::now();
            session.measured(ended - started, &report);
            started = ended;
            record.dropped += report.dropped;
            record.resyncs += report.resyncs;
            record.messages += report.messages;
            record.bytes += report.bytes;
            record.entities += session.entity_count();
            record.connections += session.member_count();
        }
        let (registry, stats, id) = (&self.shared.sessions, &self.shared.stats, self.id);
        self.sessions.retain(|code, session| {
            let keep = !session.expired();
            if !keep {
                registry.release(code, id);
                stats.session_dropped();
                tracing::info!(session = %code, worker = id, "empty session dropped");
            }
            keep
        });
        record.sessions = self.sessions.len();
        record
    }

    /// Issues a pairing code for the player of the page on `conn` and sends it there.
    fn issue_code(&mut self, conn: ConnId, code: String) {
        let Some(session) = self.sessions.get_mut(&code) else {
            return;
        };
        let Some(player) = session.player_of(conn) else {
            return;
        };
        let binding = Binding {
            session: code,
            player,
            page: conn,
        };
        match self.shared.sessions.issue_code(binding) {
            Ok(code) => {
                self.shared.notes.send(Note::PairCode {
                    code: code.clone(),
                    session: session.code().to_owned(),
                    ttl: self.shared.sessions.code_ttl(),
                });
                let message = ServerMessage::PairCode(PairCode {
                    code,
                    expires_in_s: self.shared.sessions.code_ttl().as_secs() as u32,
                    lan_url: self.shared.lan_url.clone(),
                });
                session.send_to(conn, &message);
            }
            Err(err) => tracing::error!(%err, "no randomness for a pairing code"),
        }
    }

    fn attach(&mut self, code: &str, request: ControllerRequest) {
        let ControllerRequest {
            conn,
            player,
            outbox,
            input,
            reply,
        } = request;
        let outcome = match self.sessions.get_mut(code) {
            Some(session) => session.attach_controller(conn, player, outbox, input),
            None => Err((Refusal::PlayerLeft, outbox)),
        };
        // The controller may be gone already; then nobody waits for this.
        let _ = reply.send(outcome);
    }

    /// The server is stopping: give every session's code back.
    fn drop_all(&mut self) {
        for code in self.sessions.keys() {
            self.shared.sessions.release(code, self.id);
            self.shared.stats.session_dropped();
        }
        self.sessions.clear();
    }
}
