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

use crate::config::Tunables;
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
    /// Stop the loop.
    Stop,
}

/// The handle to the tick thread.
#[derive(Debug)]
pub struct Ticker {
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Starts the tick thread.
    pub fn spawn(tunables: Tunables, stats: Arc<Stats>) -> std::io::Result<Ticker> {
        let (commands, inbox) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("arena-ticker".into())
            .spawn(move || run(&tunables, &inbox, &stats))?;
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

fn run(tunables: &Tunables, inbox: &mpsc::Receiver<Command>, stats: &Stats) {
    let period = Duration::from_secs_f64(1.0 / f64::from(tunables.tick_hz));
    let mut sessions: HashMap<String, Session> = HashMap::new();
    let mut created: u64 = 0;
    let mut deadline = Instant::now() + period;
    loop {
        if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let started = Instant::now();
        loop {
            match inbox.try_recv() {
                Ok(Command::Join(request)) => {
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
