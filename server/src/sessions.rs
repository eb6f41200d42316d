//! The registry of live sessions: which tick worker owns each session code, the cap on
//! sessions, and the pairing codes, shared by every worker and every connection.
//!
//! A session lives on one worker for its life. The registry maps its code to that
//! worker; a connection's commands are routed by that map, so every command reaches the
//! worker that owns its session whichever task sends it. A new code goes to the worker
//! with the least measured tick cost (see [`WorkerLoad`]). Only a worker creates or
//! drops a session, and only while the registry names it the owner, so a code is never
//! live on two workers: a join that raced with its session's expiry is re-routed by the
//! worker that receives it ([`Sessions::claim`]).
//!
//! The registry is behind one lock, taken per join, leave and pairing request, never per
//! tick or per input.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use arena_shared::limits::close_code;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::commands::{Command, ConnId, ControllerRequest, Departure, JoinRequest};
use crate::input_slot::InputSlot;
use crate::outbox::{Outbox, Outgoing};
use crate::pairing::{Binding, PairingCodes, Refusal};

/// Which worker, by index.
pub type WorkerId = usize;

/// What a worker's recent ticks cost, published for choosing where new sessions go.
#[derive(Debug, Default)]
pub struct WorkerLoad {
    /// Smoothed duration of the worker's ticks, in nanoseconds.
    tick_ns: AtomicU64,
    /// Sessions it runs.
    sessions: AtomicU32,
    /// Sessions assigned to it whose cost `tick_ns` does not hold yet: not yet created,
    /// or created less than [`SETTLING_TICKS`] ago.
    fresh: AtomicU32,
    /// Ticks left before each recently created session counts through `tick_ns` alone.
    /// Only the worker's thread takes it.
    settling: Mutex<Vec<u32>>,
}

/// A session's assumed cost before its ticks are measured.
const FRESH_SESSION_NS: u64 = 20_000;

/// Ticks a created session still counts as fresh: the average has taken in a sixteenth of
/// its cost after one tick, and 87 % of it (1 - (15/16)^32) after these.
const SETTLING_TICKS: u32 = 32;

impl WorkerLoad {
    /// Records a tick of `took` running `sessions` sessions.
    pub fn record(&self, took: Duration, sessions: usize) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let old = self.tick_ns.load(Relaxed);
        // An exponential average over about 16 ticks: steady, yet quick to see a new load.
        self.tick_ns.store(old - old / 16 + ns / 16, Relaxed);
        self.sessions.store(sessions as u32, Relaxed);
        let mut settling = self.settling.lock();
        settling.retain_mut(|left| {
            *left -= 1;
            if *left == 0 {
                let _ = self
                    .fresh
                    .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
            }
            *left > 0
        });
    }

    /// A new session was assigned to this worker: it counts as fresh until its cost is
    /// in `tick_ns`.
    pub fn assigned(&self) {
        self.fresh.fetch_add(1, Relaxed);
    }

    /// The worker created a session. Its cost enters `tick_ns` a sixteenth a tick, so it
    /// stays fresh a while longer: a session assigned meanwhile must not take the new
    /// one's worker for an idle one.
    pub fn created(&self) {
        self.settling.lock().push(SETTLING_TICKS);
    }

    /// The tick cost this worker is expected to have, counting sessions just assigned.
    fn expected_ns(&self) -> u64 {
        let tick = self.tick_ns.load(Relaxed);
        let sessions = u64::from(self.sessions.load(Relaxed));
        let per_session = tick
            .checked_div(sessions)
            .unwrap_or(0)
            .max(FRESH_SESSION_NS);
        tick + per_session * u64::from(self.fresh.load(Relaxed))
    }
}

/// One worker as the registry reaches it.
#[derive(Debug)]
pub struct WorkerPort {
    /// Its command queue; sending never blocks.
    pub commands: mpsc::Sender<Command>,
    /// Its measured load.
    pub load: Arc<WorkerLoad>,
}

/// What a worker may do with a join for a session it does not have.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// Create it: the registry names this worker its owner.
    Create,
    /// Another worker owns it: forward the join there.
    Forward(WorkerId),
    /// The server runs its maximum of sessions.
    Full,
}

/// Every live session's owner, the session cap and the pairing codes.
pub struct Sessions {
    workers: Vec<WorkerPort>,
    owners: Mutex<HashMap<String, WorkerId>>,
    /// Live sessions at most; 0 for no limit.
    max_sessions: usize,
    codes: Mutex<PairingCodes>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("workers", &self.workers.len())
            .field("live", &self.owners.lock().len())
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// A registry over `workers`, with at most `max_sessions` (0: any number) and
    /// pairing codes that live `code_ttl`.
    pub fn new(workers: Vec<WorkerPort>, max_sessions: u32, code_ttl: Duration) -> Sessions {
        Sessions {
            workers,
            owners: Mutex::default(),
            max_sessions: max_sessions as usize,
            codes: Mutex::new(PairingCodes::new(code_ttl)),
        }
    }

    /// Live sessions.
    pub fn live(&self) -> usize {
        self.owners.lock().len()
    }

    /// Tick workers.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    /// The worker that owns `session`, if it is live.
    pub fn owner(&self, session: &str) -> Option<WorkerId> {
        self.owners.lock().get(session).copied()
    }

    /// Sends `request` to the worker of its session, choosing the least loaded worker
    /// for a new one; refuses it with close 4004 if it would be one session too many.
    pub fn join(&self, request: JoinRequest) {
        let worker = {
            let mut owners = self.owners.lock();
            match owners.get(&request.session) {
                Some(&worker) => worker,
                None if self.full(owners.len()) => {
                    drop(owners);
                    return self.refuse_full(request);
                }
                None => {
                    let worker = self.least_loaded();
                    self.workers[worker].load.assigned();
                    owners.insert(request.session.clone(), worker);
                    worker
                }
            }
        };
        self.send(worker, Command::Join(request));
    }

    /// Hands a chat line from `conn` to its session's worker.
    pub fn say(&self, conn: ConnId, session: &str, text: String) {
        if let Some(worker) = self.owner(session) {
            self.send(
                worker,
                Command::Say {
                    conn,
                    session: session.to_owned(),
                    text,
                },
            );
        }
    }

    /// Hands a spectator's choice of what it watches to its session's worker.
    pub fn look(&self, conn: ConnId, session: &str, look: arena_shared::protocol::Look) {
        if let Some(worker) = self.owner(session) {
            self.send(
                worker,
                Command::Look {
                    conn,
                    session: session.to_owned(),
                    look,
                },
            );
        }
    }

    /// Asks the session's worker to close it (the operator's order); false if no such
    /// session is live.
    pub fn close_session(&self, session: &str) -> bool {
        let Some(worker) = self.owner(session) else {
            return false;
        };
        self.send(
            worker,
            Command::CloseSession {
                session: session.to_owned(),
            },
        );
        true
    }

    /// Asks the session's worker to kick `player` out; false if no such session is live.
    pub fn kick(&self, session: &str, player: arena_shared::protocol::EntityId) -> bool {
        let Some(worker) = self.owner(session) else {
            return false;
        };
        self.send(
            worker,
            Command::Kick {
                session: session.to_owned(),
                player,
            },
        );
        true
    }

    /// Tells the session's worker that `conn` is gone, and how.
    pub fn leave(&self, conn: ConnId, session: String, departure: Departure) {
        if let Some(worker) = self.owner(&session) {
            self.send(
                worker,
                Command::Leave {
                    conn,
                    session,
                    departure,
                },
            );
        }
    }

    /// Asks the session's worker for a pairing code for the player of the page `conn`.
    pub fn request_pair_code(&self, conn: ConnId, session: String) {
        if let Some(worker) = self.owner(&session) {
            self.send(worker, Command::RequestPairCode { conn, session });
        }
    }

    /// Redeems a pairing code and attaches the controller `conn` to the code's player,
    /// on whichever worker runs its session. Returns the session's code, or why not
    /// with the outbox handed back for another try.
    pub async fn pair(
        &self,
        conn: ConnId,
        code: &str,
        outbox: Outbox,
        input: Arc<InputSlot>,
    ) -> Result<String, (Refusal, Outbox)> {
        let binding = match self.codes.lock().redeem(code, Instant::now()) {
            Ok(binding) => binding,
            Err(refusal) => return Err((refusal, outbox)),
        };
        let Some(worker) = self.owner(&binding.session) else {
            return Err((Refusal::PlayerLeft, outbox));
        };
        let link = outbox.link();
        let (reply, answer) = oneshot::channel();
        self.send(
            worker,
            Command::AttachController {
                session: binding.session.clone(),
                request: ControllerRequest {
                    conn,
                    player: binding.player,
                    outbox,
                    input,
                    reply,
                },
            },
        );
        match answer.await {
            Ok(Ok(())) => Ok(binding.session),
            Ok(Err(refused)) => Err(refused),
            // The worker dropped the request: the session is gone, or the server is
            // stopping.
            Err(_) => Err((Refusal::PlayerLeft, Outbox::new(link))),
        }
    }

    /// The codes of the sessions live here.
    pub fn codes(&self) -> Vec<String> {
        self.owners.lock().keys().cloned().collect()
    }

    /// The summed smoothed tick cost of every worker, nanoseconds per tick: this
    /// server's measured load.
    pub fn tick_ns(&self) -> u64 {
        self.workers
            .iter()
            .map(|w| w.load.tick_ns.load(Relaxed))
            .sum()
    }

    /// Runs the session of `checkpoint` (taken over from another node) on the least
    /// loaded worker, unless a session of that code is live here already; true if it
    /// was taken. Joins sent after this reach the same worker, after the resumption.
    pub fn adopt(&self, checkpoint: crate::checkpoint::Checkpoint) -> bool {
        let worker = {
            let mut owners = self.owners.lock();
            if owners.contains_key(&checkpoint.session) {
                return false;
            }
            let worker = self.least_loaded();
            self.workers[worker].load.assigned();
            owners.insert(checkpoint.session.clone(), worker);
            worker
        };
        self.send(worker, Command::Resume(Box::new(checkpoint)));
        true
    }

    /// Stops the session ticking and returns its checkpoint, for another node to take
    /// it over; `None` if it is not live here.
    pub async fn hand_over(&self, session: &str) -> Option<crate::checkpoint::Checkpoint> {
        let worker = self.owner(session)?;
        let (reply, answer) = oneshot::channel();
        self.send(
            worker,
            Command::HandOver {
                session: session.to_owned(),
                reply,
            },
        );
        answer.await.ok().flatten()
    }

    /// The session runs elsewhere now: its connections are sent to `url` (closed with
    /// 1001 without one) and it is dropped here. Returns once every connection has been
    /// asked to close.
    pub async fn moved(&self, session: &str, url: Option<String>) {
        if let Some(worker) = self.owner(session) {
            let (done, closed) = oneshot::channel();
            self.send(
                worker,
                Command::Moved {
                    session: session.to_owned(),
                    url,
                    done,
                },
            );
            let _ = closed.await;
        }
    }

    /// Whether a pairing code was issued here (used or not, until it is purged).
    pub fn knows_code(&self, code: &str) -> bool {
        self.codes.lock().knows(code)
    }

    /// Called by `worker` for a join to a session it does not run.
    pub fn claim(&self, session: &str, worker: WorkerId) -> Claim {
        let mut owners = self.owners.lock();
        match owners.get(session) {
            Some(&owner) if owner == worker => Claim::Create,
            Some(&owner) => Claim::Forward(owner),
            None if self.full(owners.len()) => Claim::Full,
            None => {
                owners.insert(session.to_owned(), worker);
                Claim::Create
            }
        }
    }

    /// Called by `worker` when it drops `session`.
    pub fn release(&self, session: &str, worker: WorkerId) {
        let mut owners = self.owners.lock();
        if owners.get(session) == Some(&worker) {
            owners.remove(session);
        }
    }

    /// Issues a pairing code for `binding`.
    pub fn issue_code(&self, binding: Binding) -> Result<String, getrandom::Error> {
        self.codes.lock().issue(binding, Instant::now())
    }

    /// How long a pairing code lives.
    pub fn code_ttl(&self) -> Duration {
        self.codes.lock().ttl()
    }

    /// Hands `command` to `worker`. If the worker is gone the server is stopping, and
    /// there is nobody left to tell.
    pub fn send(&self, worker: WorkerId, command: Command) {
        let _ = self.workers[worker].commands.send(command);
    }

    /// Asks every worker to stop.
    pub fn stop_workers(&self) {
        for worker in 0..self.workers.len() {
            self.send(worker, Command::Stop);
        }
    }

    fn full(&self, live: usize) -> bool {
        self.max_sessions > 0 && live >= self.max_sessions
    }

    fn least_loaded(&self) -> WorkerId {
        (0..self.workers.len())
            .min_by_key(|&w| self.workers[w].load.expected_ns())
            .unwrap_or(0)
    }

    /// Closes `request`'s connection with 4004: one session too many.
    pub fn refuse_full(&self, request: JoinRequest) {
        let reason = format!(
            "the server runs its maximum of {} sessions: join an existing one",
            self.max_sessions
        );
        request.outbox.offer(Outgoing::Close {
            code: close_code::TOO_MANY_SESSIONS,
            reason,
        });
        crate::telemetry::protocol_error("max_sessions");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(workers: usize, max_sessions: u32) -> (Sessions, Vec<mpsc::Receiver<Command>>) {
        let (ports, inboxes) = (0..workers)
            .map(|_| {
                let (commands, inbox) = mpsc::channel();
                let port = WorkerPort {
                    commands,
                    load: Arc::default(),
                };
                (port, inbox)
            })
            .unzip();
        (
            Sessions::new(ports, max_sessions, Duration::from_secs(60)),
            inboxes,
        )
    }

    #[test]
    fn a_new_session_goes_to_the_worker_with_the_least_measured_cost() {
        let (sessions, _inboxes) = registry(3, 0);
        sessions.workers[0]
            .load
            .record(Duration::from_millis(16), 1);
        sessions.workers[0]
            .load
            .record(Duration::from_millis(16), 1);
        sessions.workers[1]
            .load
            .record(Duration::from_micros(10), 40);
        sessions.workers[2].load.record(Duration::from_millis(3), 2);
        assert_eq!(
            sessions.least_loaded(),
            1,
            "forty cheap sessions weigh less than one dear one"
        );
    }

    #[test]
    fn sessions_assigned_before_a_tick_count_against_their_worker() {
        let (sessions, _inboxes) = registry(2, 0);
        let mut chosen = Vec::new();
        for _ in 0..6 {
            let worker = sessions.least_loaded();
            sessions.workers[worker].load.assigned();
            chosen.push(worker);
        }
        assert_eq!(
            chosen.iter().filter(|&&w| w == 0).count(),
            3,
            "a burst of new sessions is spread: {chosen:?}"
        );
    }

    #[test]
    fn a_created_session_counts_against_its_worker_until_its_ticks_are_averaged_in() {
        let (sessions, _inboxes) = registry(2, 0);
        // Idle, worker 0 ticks in 2 µs and worker 1 in 10: a session goes to worker 0.
        for (load, idle) in [
            (&sessions.workers[0].load, 2),
            (&sessions.workers[1].load, 10),
        ] {
            for _ in 0..64 {
                load.record(Duration::from_micros(idle), 0);
            }
        }
        assert_eq!(sessions.least_loaded(), 0);
        let (busy, idle) = (&sessions.workers[0].load, &sessions.workers[1].load);
        busy.assigned();
        busy.created();
        // Its first ticks cost 30 µs; the average has taken in under 7 µs of that yet.
        for _ in 0..3 {
            busy.record(Duration::from_micros(30), 1);
            idle.record(Duration::from_micros(10), 0);
        }
        assert!(busy.tick_ns.load(Relaxed) < 10_000);
        assert_eq!(
            sessions.least_loaded(),
            1,
            "the next session goes to the other worker"
        );
        // Once settled, the average alone speaks for it.
        for _ in 0..SETTLING_TICKS {
            busy.record(Duration::from_micros(30), 1);
        }
        assert_eq!(busy.fresh.load(Relaxed), 0);
        assert!(busy.expected_ns() > 20_000);
    }

    #[test]
    fn a_code_is_owned_by_one_worker_and_freed_only_by_it() {
        let (sessions, _inboxes) = registry(2, 2);
        assert_eq!(sessions.claim("a", 1), Claim::Create);
        assert_eq!(sessions.claim("a", 0), Claim::Forward(1));
        sessions.release("a", 0);
        assert_eq!(sessions.owner("a"), Some(1), "only the owner releases");
        assert_eq!(sessions.claim("b", 0), Claim::Create);
        assert_eq!(sessions.claim("c", 0), Claim::Full, "the cap holds");
        sessions.release("a", 1);
        assert_eq!(sessions.claim("c", 0), Claim::Create);
    }
}
