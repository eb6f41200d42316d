//! The tick loop: one dedicated thread that steps every session at the tick rate.
//!
//! It runs off the async runtime on purpose: a tick is CPU work on a deadline, and on
//! 2 cores it must not queue behind socket tasks, nor they behind it. It keeps cadence
//! against absolute deadlines (no drift), never waits on a socket (queues are offered
//! with `try_send`), and when it falls a whole period behind it skips ahead instead of
//! bursting to catch up, counting the overrun.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{self, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arena_shared::protocol::{PairCode, ServerMessage};
use tokio::sync::oneshot;

use crate::config::Tunables;
use crate::input_slot::InputSlot;
use arena_shared::limits::close_code;

use crate::outbox::{Outbox, Outgoing};
use crate::pairing::{Binding, PairingCodes, Refusal};
use crate::session::{ConnId, JoinRequest, Session};
use crate::stats::{Stats, TickRecord};

/// What I/O tasks ask of the tick loop; handled at the start of the next tick.
#[derive(Debug)]
pub enum Command {
    /// Join a session, creating it if its code is new.
    Join(JoinRequest),
    /// A connection is gone.
    Leave {
        /// The connection.
        conn: ConnId,
        /// Its session's code.
        session: String,
    },
    /// A player's page asks for a pairing code.
    RequestPairCode {
        /// The page's connection.
        conn: ConnId,
        /// Its session.
        session: String,
    },
    /// A controller presents a pairing code; the answer comes back on `reply`.
    Pair {
        /// The controller's connection.
        conn: ConnId,
        /// The code it gave.
        code: String,
        /// Its outbox, kept by the session if pairing succeeds.
        outbox: Outbox,
        /// Where its reader leaves inputs.
        input: Arc<InputSlot>,
        /// Where the outcome goes.
        reply: oneshot::Sender<PairOutcome>,
    },
    /// Stop the loop.
    Stop,
}

/// The answer to [`Command::Pair`].
#[derive(Debug)]
pub enum PairOutcome {
    /// Paired: the controller's inputs now steer its player.
    Paired {
        /// The player's session.
        session: String,
    },
    /// Not paired; the outbox is handed back for another try.
    Refused {
        /// Why, for the user.
        reason: String,
        /// The controller's outbox.
        outbox: Outbox,
    },
}

/// The handle to the tick thread.
#[derive(Debug)]
pub struct Ticker {
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Starts the tick thread. `lan_url` is where phones on the local network reach
    /// the server, for pairing QR codes.
    pub fn spawn(
        tunables: Tunables,
        stats: Arc<Stats>,
        lan_url: Option<String>,
    ) -> std::io::Result<Ticker> {
        let (commands, inbox) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("arena-ticker".into())
            .spawn(move || run(&tunables, &inbox, &stats, lan_url))?;
        Ok(Ticker {
            commands,
            thread: Some(thread),
        })
    }

    /// A sender of commands, for the I/O tasks. Sending never blocks.
    pub fn commands(&self) -> mpsc::Sender<Command> {
        self.commands.clone()
    }

    /// Stops the loop and waits for the thread to end.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        // The loop may have ended already (a panic): then there is no one to tell.
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the tick thread panicked");
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn run(
    tunables: &Tunables,
    inbox: &mpsc::Receiver<Command>,
    stats: &Stats,
    lan_url: Option<String>,
) {
    let period = Duration::from_secs_f64(1.0 / f64::from(tunables.tick_hz));
    let mut sessions: HashMap<String, Session> = HashMap::new();
    let mut created: u64 = 0;
    let mut codes = PairingCodes::new(Duration::from_secs_f32(tunables.controllers.code_ttl_s));
    let mut deadline = Instant::now() + period;
    loop {
        if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let started = Instant::now();
        loop {
            match inbox.try_recv() {
                Ok(Command::Join(request)) => {
                    let cap = tunables.limits.max_sessions as usize;
                    if cap > 0 && sessions.len() >= cap && !sessions.contains_key(&request.session)
                    {
                        let reason = format!(
                            "the server runs its maximum of {cap} sessions: join an existing one"
                        );
                        request.outbox.offer(Outgoing::Close {
                            code: close_code::TOO_MANY_SESSIONS,
                            reason,
                        });
                        crate::telemetry::protocol_error("max_sessions");
                        continue;
                    }
                    let session = sessions.entry(request.session.clone()).or_insert_with(|| {
                        created += 1;
                        tracing::info!(session = %request.session, "session created");
                        Session::new(
                            request.session.clone(),
                            tunables,
                            tunables.seed.wrapping_add(created),
                        )
                    });
                    session.join(request);
                }
                Ok(Command::Leave { conn, session }) => {
                    if let Some(session) = sessions.get_mut(&session) {
                        session.leave(conn);
                    }
                }
                Ok(Command::RequestPairCode { conn, session }) => {
                    issue_code(&mut sessions, &mut codes, conn, session, lan_url.as_deref());
                }
                Ok(Command::Pair {
                    conn,
                    code,
                    outbox,
                    input,
                    reply,
                }) => {
                    // The controller may be gone already; then nobody waits for this.
                    let _ = reply.send(pair(&mut sessions, &mut codes, conn, &code, outbox, input));
                }
                Ok(Command::Stop) | Err(TryRecvError::Disconnected) => return,
                Err(TryRecvError::Empty) => break,
            }
        }
        let mut record = TickRecord::default();
        for session in sessions.values_mut() {
            let report = session.tick();
            record.dropped += report.dropped;
            record.resyncs += report.resyncs;
            record.entities += session.entity_count();
        }
        sessions.retain(|code, session| {
            let keep = !session.expired();
            if !keep {
                tracing::info!(session = %code, "empty session dropped");
            }
            keep
        });
        record.took = started.elapsed();
        record.overran = record.took > period;
        record.sessions = sessions.len();
        stats.tick(record);

        deadline += period;
        let now = Instant::now();
        if now > deadline + period {
            tracing::warn!(
                late_ms = (now - deadline).as_millis() as u64,
                "tick loop behind; skipping ahead"
            );
            deadline = now;
        }
    }
}

/// Issues a pairing code for the player of the page on `conn` and sends it there.
fn issue_code(
    sessions: &mut HashMap<String, Session>,
    codes: &mut PairingCodes,
    conn: ConnId,
    session_code: String,
    lan_url: Option<&str>,
) {
    let Some(session) = sessions.get_mut(&session_code) else {
        return;
    };
    let Some(player) = session.player_of(conn) else {
        return;
    };
    let binding = Binding {
        session: session_code,
        player,
        page: conn,
    };
    match codes.issue(binding, Instant::now()) {
        Ok(code) => {
            let message = ServerMessage::PairCode(PairCode {
                code,
                expires_in_s: codes.ttl().as_secs() as u32,
                lan_url: lan_url.map(str::to_owned),
            });
            session.send_to(conn, &message);
        }
        Err(err) => tracing::error!(%err, "no randomness for a pairing code"),
    }
}

/// Redeems a pairing code and attaches the controller to the code's player.
fn pair(
    sessions: &mut HashMap<String, Session>,
    codes: &mut PairingCodes,
    conn: ConnId,
    code: &str,
    outbox: Outbox,
    input: Arc<InputSlot>,
) -> PairOutcome {
    let refused = |refusal: Refusal, outbox| PairOutcome::Refused {
        reason: refusal.to_string(),
        outbox,
    };
    let binding = match codes.redeem(code, Instant::now()) {
        Ok(binding) => binding,
        Err(refusal) => return refused(refusal, outbox),
    };
    let Some(session) = sessions.get_mut(&binding.session) else {
        return refused(Refusal::PlayerLeft, outbox);
    };
    match session.attach_controller(conn, binding.player, outbox, input) {
        Ok(()) => PairOutcome::Paired {
            session: binding.session,
        },
        Err((refusal, outbox)) => refused(refusal, outbox),
    }
}
