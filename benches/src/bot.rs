//! One headless player: connect, join, steer at random, and measure what arrives.
//!
//! A bot shares the machine with the server, so it does as little as it can per
//! message: it reads frames in place ([`crate::wire`]), skims each for its tick and
//! acknowledgements ([`arena_shared::skim`]) and never builds the world.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use arena_shared::codec::encode_client;
use arena_shared::limits::{SUBPROTOCOL, close_code};
use arena_shared::protocol::{ClientMessage, EntityId, Hello, Move, Role, Say, Tick};
use arena_shared::quantize::direction_to_wire;
use arena_shared::skim::{Skim, skim_server};
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

use crate::target::resolve;
use crate::wire::{BotSocket, Frame};

/// How long a connection and its handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The share of direction changes that are a stop, so that the server emits `Still`.
const STOP_CHANCE: f64 = 0.1;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Bots are connecting; nothing is counted yet.
    Ramp = 0,
    /// The measurement window.
    Measure = 1,
    /// Counting has stopped.
    Done = 2,
}

/// What every bot of a run shares.
pub struct Shared {
    phase: AtomicU8,
    /// Cancelled when the bots should close and report.
    pub stop: CancellationToken,
    /// Bots that have been welcomed and not closed.
    pub connected: AtomicU64,
    /// Deltas received in the measurement window, all bots.
    pub deltas: AtomicU64,
    /// Input-to-observed latencies in microseconds, all bots.
    pub latency: Mutex<Histogram<u64>>,
}

impl Shared {
    /// Fresh shared state.
    pub fn new() -> Shared {
        Shared {
            phase: AtomicU8::new(Phase::Ramp as u8),
            stop: CancellationToken::new(),
            connected: AtomicU64::new(0),
            deltas: AtomicU64::new(0),
            latency: Mutex::new(
                Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds"),
            ),
        }
    }

    /// Moves the run to `phase`.
    pub fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Relaxed);
    }

    fn measuring(&self) -> bool {
        self.phase.load(Relaxed) == Phase::Measure as u8
    }
}

impl Default for Shared {
    fn default() -> Shared {
        Shared::new()
    }
}

/// A server's WebSocket endpoint, resolved.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The WebSocket URL (for the handshake's request line and Host).
    pub ws_url: String,
}

/// How every bot of a run behaves.
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// Where bots connect: bot `i` starts at entry `i mod n` and moves to the next one
    /// when a connection fails (a cluster's nodes, when one dies).
    pub entries: Vec<Endpoint>,
    /// Follow a cluster's redirects (close 4007) to servers that are not loopback.
    pub allow_remote: bool,
    /// The session to join (`None`: the server's default session).
    pub session: Option<String>,
    /// Sessions to spread the bots over: with more than one, bot `i` joins
    /// `{session}-{i % sessions}`.
    pub sessions: usize,
    /// How often each bot changes direction.
    pub move_every: Duration,
    /// How often each bot says a chat line (never, if `None`).
    pub chat_every: Option<Duration>,
    /// Seed of the bots' random directions.
    pub seed: u64,
    /// Hold the connection without saying Hello.
    pub idle: bool,
    /// After the Welcome, read and discard the stream without parsing it (moves are
    /// still sent): the floor a bot's cost is measured against.
    pub bare: bool,
}

/// What one bot measured.
#[derive(Debug, Clone, Default)]
pub struct BotReport {
    /// It could not connect or was not welcomed.
    pub connect_failed: bool,
    /// Deltas received in the window.
    pub deltas: u64,
    /// Payload bytes received in the window.
    pub bytes: u64,
    /// Deltas that never arrived (gaps in delta tick numbers) in the window.
    pub ticks_missed: u64,
    /// Why the connection ended before the run did, if it did (after reconnecting
    /// failed, if it was lost).
    pub unexpected_close: Option<String>,
    /// Times it reconnected after losing its connection.
    pub reconnects: u32,
    /// Times a cluster node sent it to another (close 4007).
    pub redirects: u32,
    /// The longest time from a lost connection to the next Welcome.
    pub longest_outage: Duration,
}

type Socket = BotSocket;

/// Reconnections a bot attempts after losing its connection.
const MAX_RECONNECTS: u32 = 3;

/// Failed connection attempts in a row a reconnecting bot makes before giving up.
const MAX_RECONNECT_ATTEMPTS: u32 = 10;

/// Wait before a reconnection, times the attempt number.
const RECONNECT_DELAY: Duration = Duration::from_millis(200);

/// How one connection of a bot ended.
enum Ended {
    /// The run is over.
    Stopped,
    /// The server refused or closed it on purpose: retrying cannot help.
    Refused(String),
    /// The connection was lost (or the server restarted): reconnect, as a player would.
    Lost(String),
    /// A cluster node sent it to the node that owns its session.
    Moved(String),
}

/// Redirects followed in a row without a Welcome before a bot gives up.
const MAX_REDIRECTS: u32 = 5;

/// Runs bot `index` until `shared.stop`, reconnecting with its token when its
/// connection is lost, like the browser client does.
pub async fn run_bot(index: usize, config: Arc<BotConfig>, shared: Arc<Shared>) -> BotReport {
    let mut report = BotReport::default();
    let mut rng =
        fastrand::Rng::with_seed(config.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut bot = Bot {
        me: None,
        last_tick: None,
        seq: 0,
        pending: VecDeque::new(),
        token: None,
        send_every: 1,
        welcomed_at: None,
        lost_at: None,
    };
    let mut failed_attempts = 0;
    let mut entry = index % config.entries.len().max(1);
    let mut redirect: Option<Endpoint> = None;
    let mut redirects_in_a_row = 0;
    loop {
        let endpoint = match &redirect {
            Some(endpoint) => endpoint.clone(),
            None => config.entries[entry].clone(),
        };
        let connected = timeout(
            CONNECT_TIMEOUT,
            connect(&config, &endpoint, index, bot.token.as_deref()),
        )
        .await;
        let mut ws = match connected {
            Ok(Ok(ws)) => {
                failed_attempts = 0;
                ws
            }
            // A server restarting is not listening for a moment, and a cluster's node
            // may have died: keep trying, through the next entry point.
            Ok(Err(_)) | Err(_)
                if bot.token.is_some()
                    && failed_attempts < MAX_RECONNECT_ATTEMPTS
                    && !shared.stop.is_cancelled() =>
            {
                failed_attempts += 1;
                // A node sent it to one that does not answer (just died, and the
                // directory does not know yet): start again, and count afresh.
                redirect = None;
                redirects_in_a_row = 0;
                entry = (entry + 1) % config.entries.len();
                tokio::time::sleep(RECONNECT_DELAY * failed_attempts).await;
                continue;
            }
            Ok(Err(_)) | Err(_) => {
                if bot.token.is_none() {
                    report.connect_failed = true;
                } else {
                    report.unexpected_close = Some("could not reconnect".into());
                }
                return report;
            }
        };
        if config.idle {
            shared.connected.fetch_add(1, Relaxed);
            tokio::select! {
                () = shared.stop.cancelled() => {}
                _ = ws.next_frame() => report.unexpected_close = Some("the server closed an idle connection".into()),
            }
            shared.connected.fetch_sub(1, Relaxed);
            return report;
        }
        bot.welcomed_at = None;
        let ended = play(&mut ws, &mut bot, &mut rng, &config, &shared, &mut report).await;
        if bot.welcomed_at.is_some() {
            redirects_in_a_row = 0;
        }
        let reason = match ended {
            Ended::Stopped => return report,
            Ended::Refused(reason) => reason,
            Ended::Moved(url) if redirects_in_a_row < MAX_REDIRECTS => {
                match resolve(&url, config.allow_remote).await {
                    Ok(target) => {
                        report.redirects += 1;
                        redirects_in_a_row += 1;
                        redirect = Some(Endpoint {
                            addr: target.addr,
                            ws_url: target.ws_url,
                        });
                        continue;
                    }
                    Err(err) => format!("a redirect to {url}: {err}"),
                }
            }
            Ended::Moved(url) => format!("redirected {MAX_REDIRECTS} times, last to {url}"),
            Ended::Lost(reason) => {
                if bot.token.is_some()
                    && report.reconnects < MAX_RECONNECTS
                    && !shared.stop.is_cancelled()
                {
                    report.reconnects += 1;
                    bot.lost_at = Some(Instant::now());
                    bot.last_tick = None;
                    bot.pending.clear();
                    redirect = None;
                    tokio::time::sleep(RECONNECT_DELAY).await;
                    continue;
                }
                reason
            }
        };
        if bot.token.is_none() {
            report.connect_failed = true;
        }
        report.unexpected_close = Some(reason);
        return report;
    }
}

/// Plays on one connection until it ends.
async fn play(
    ws: &mut Socket,
    bot: &mut Bot,
    rng: &mut fastrand::Rng,
    config: &BotConfig,
    shared: &Shared,
    report: &mut BotReport,
) -> Ended {
    let period = config.move_every;
    let mut next_move = Instant::now() + period.mul_f64(rng.f64());
    let chat_every = config.chat_every.unwrap_or(Duration::MAX);
    let mut next_chat = Instant::now()
        + chat_every
            .min(Duration::from_secs(86_400))
            .mul_f64(rng.f64());
    let mut said = 0u32;
    let mut welcomed = false;
    // Made once and polled again each turn of the loop: a future made afresh every
    // message would register with the token, or the timer wheel, and leave again, per
    // message and bot.
    let stop = shared.stop.cancelled();
    let move_due = sleep_until(next_move);
    let chat_due = sleep_until(next_chat);
    tokio::pin!(stop, move_due, chat_due);
    let ended = loop {
        tokio::select! {
            biased;
            () = &mut stop => {
                let _ = timeout(Duration::from_secs(1), ws.close(1000)).await;
                break Ended::Stopped;
            }
            frame = ws.next(welcomed && config.bare) => match frame {
                Ok(Frame::Discarded(0)) => break Ended::Lost("connection ended".into()),
                Ok(Frame::Discarded(n)) => {
                    if shared.measuring() {
                        report.bytes += n as u64;
                    }
                }
                Ok(Frame::Binary(bytes)) => {
                    let measuring = shared.measuring();
                    if measuring {
                        report.bytes += bytes.len() as u64;
                    }
                    match skim_server(bytes) {
                        Ok(skim) => {
                            if matches!(skim, Skim::Welcome { .. }) && !welcomed {
                                welcomed = true;
                                shared.connected.fetch_add(1, Relaxed);
                                let now = Instant::now();
                                bot.welcomed_at = Some(now);
                                if let Some(lost) = bot.lost_at.take() {
                                    report.longest_outage = report.longest_outage.max(now - lost);
                                }
                            }
                            bot.take(skim, measuring, report, shared);
                        }
                        Err(err) => break Ended::Refused(format!("undecodable frame: {err}")),
                    }
                }
                // A server going away (a restart) is worth coming back to; any other
                // close is the server's decision.
                Ok(Frame::Close(code, reason)) if code == close_code::GOING_AWAY => {
                    break Ended::Lost(format!("{code} {reason}"));
                }
                Ok(Frame::Close(code, reason)) if code == close_code::MOVED => {
                    break Ended::Moved(reason);
                }
                // A cluster whose directory is away for a moment.
                Ok(Frame::Close(code, reason)) if code == close_code::TRY_AGAIN_LATER => {
                    break Ended::Lost(format!("{code} {reason}"));
                }
                Ok(Frame::Close(code, reason)) => break Ended::Refused(format!("{code} {reason}")),
                Ok(Frame::Other) => {}
                Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                    break Ended::Lost("connection ended".into());
                }
                Err(err) => break Ended::Lost(err.to_string()),
            },
            () = &mut chat_due, if welcomed && config.chat_every.is_some() => {
                next_chat += chat_every;
                chat_due.as_mut().reset(next_chat);
                said += 1;
                let line = ClientMessage::Chat(Say { text: format!("bot line {said}") });
                let Ok(bytes) = encode_client(&line) else { continue };
                if let Err(err) = ws.send_binary(&bytes).await {
                    break Ended::Lost(err.to_string());
                }
            }
            () = &mut move_due, if welcomed => {
                next_move += period;
                move_due.as_mut().reset(next_move);
                let (x, y) = if rng.f64() < STOP_CHANCE {
                    (0.0, 0.0)
                } else {
                    let angle = rng.f32() * std::f32::consts::TAU;
                    (angle.cos(), angle.sin())
                };
                bot.seq += 1;
                let (dx, dy) = direction_to_wire(x, y);
                let step = ClientMessage::Move(Move { seq: bot.seq, dx, dy });
                let Ok(bytes) = encode_client(&step) else { continue };
                bot.pending.push_back((bot.seq, Instant::now()));
                if let Err(err) = ws.send_binary(&bytes).await {
                    break Ended::Lost(err.to_string());
                }
            }
        }
    };
    if welcomed {
        shared.connected.fetch_sub(1, Relaxed);
    }
    ended
}

/// A bot's protocol state.
struct Bot {
    me: Option<EntityId>,
    last_tick: Option<Tick>,
    seq: u32,
    /// Moves sent and not yet acknowledged, oldest first.
    pending: VecDeque<(u32, Instant)>,
    /// When the last connection was welcomed.
    welcomed_at: Option<Instant>,
    /// When the connection was lost, until the next Welcome.
    lost_at: Option<Instant>,
    /// The last Welcome's reconnect token.
    token: Option<String>,
    /// Ticks from one delta to the next, from the Welcome.
    send_every: u32,
}

impl Bot {
    fn take(&mut self, skim: Skim, measuring: bool, report: &mut BotReport, shared: &Shared) {
        let (tick, acks) = match skim {
            Skim::Welcome {
                you,
                tick,
                acks,
                reconnect_token,
                send_every,
            } => {
                self.me = you;
                self.token = Some(reconnect_token);
                self.send_every = send_every;
                (tick, acks)
            }
            Skim::Snapshot { tick, acks } => (tick, acks),
            Skim::Delta { tick, acks } => {
                if measuring {
                    report.deltas += 1;
                    shared.deltas.fetch_add(1, Relaxed);
                    if let Some(last) = self.last_tick {
                        let steps = tick.since(last) / self.send_every.max(1);
                        report.ticks_missed += u64::from(steps.saturating_sub(1));
                    }
                }
                (tick, acks)
            }
            Skim::Pong { .. } | Skim::Chat => return,
        };
        self.last_tick = Some(tick);
        let Some(me) = self.me else { return };
        let Some(ack) = acks.iter().find(|a| a.id == me) else {
            return;
        };
        let now = Instant::now();
        while let Some(&(seq, sent)) = self.pending.front() {
            if seq > ack.seq {
                break;
            }
            self.pending.pop_front();
            // Only the acknowledged input itself has a latency; ones it superseded
            // within the same tick were never applied.
            if seq == ack.seq && measuring {
                let micros =
                    u64::try_from(now.duration_since(sent).as_micros()).unwrap_or(u64::MAX);
                let _ = shared.latency.lock().record(micros.max(1));
            }
        }
    }
}

async fn connect(
    config: &BotConfig,
    endpoint: &Endpoint,
    index: usize,
    token: Option<&str>,
) -> Result<Socket, Box<dyn std::error::Error + Send + Sync>> {
    let mut ws = BotSocket::connect(endpoint.addr, &endpoint.ws_url, SUBPROTOCOL).await?;
    if config.idle {
        return Ok(ws);
    }
    let hello = ClientMessage::Hello(Hello {
        name: format!("bot{index}"),
        session: session_of(config, index),
        role: Role::Player,
        reconnect: token.map(Into::into),
    });
    ws.send_binary(&encode_client(&hello)?).await?;
    Ok(ws)
}

/// The session bot `index` joins.
pub fn session_of(config: &BotConfig, index: usize) -> Option<String> {
    match (&config.session, config.sessions) {
        (Some(code), n) if n > 1 => Some(format!("{code}-{}", index % n)),
        (None, n) if n > 1 => Some(format!("bench-{}", index % n)),
        (session, _) => session.clone(),
    }
}
