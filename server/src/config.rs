//! The game's tunables: what they are, where they come from, and which values make sense.
//!
//! `assets/arena.toml` is compiled into the binary and is the only place defaults are
//! written down; a `--config` file is merged over it key by key, so a scenario file
//! names only what it changes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The built-in defaults, straight from the repository's `assets/arena.toml`.
const BUILTIN: &str = include_str!("../../assets/arena.toml");

/// Everything a game session and its network layer can be tuned by.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tunables {
    /// Simulation steps per second.
    pub tick_hz: u16,
    /// Seed of the per-session random numbers.
    pub seed: u64,
    /// The playing field.
    pub arena: ArenaTunables,
    /// Player bodies and the per-session cap.
    pub players: PlayerTunables,
    /// The NPC balls.
    pub balls: BallTunables,
    /// Round timing.
    pub round: RoundTunables,
    /// Session lifecycle.
    pub sessions: SessionTunables,
    /// Per-connection buffering.
    pub network: NetworkTunables,
    /// Phone controllers.
    pub controllers: ControllerTunables,
    /// Chat in a session.
    pub chat: ChatTunables,
    /// Replays of finished rounds.
    pub replays: ReplayTunables,
    /// Interest management: what each client is sent of a big world.
    pub interest: InterestTunables,
    /// What a client may do, and how much.
    pub limits: LimitTunables,
}

/// Interest management: the world cut into cells, each client sent only those near it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InterestTunables {
    /// A cell's side in units (0: every client sees everything).
    pub cell_size: f32,
    /// How far a player sees, in units (0: every client sees everything).
    pub view_radius: f32,
    /// Whether a spectator may ask to see every cell.
    pub spectators_see_all: bool,
}

/// Most cells a world may be cut into: each costs a little memory and time per send.
const MAX_CELLS: f32 = 65_536.0;

/// Replays of finished rounds, kept in the data directory.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayTunables {
    /// Megabytes of replay files kept at most: past it, the oldest go (0: keep none).
    pub keep_mb: u32,
    /// Replay files kept at most: past it, the oldest go.
    pub keep_files: u32,
}

/// Chat in a session.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChatTunables {
    /// Words masked with asterisks wherever they appear in a line, ignoring case.
    pub masked_words: Vec<String>,
}

/// What a client may do, and how much.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitTunables {
    /// Origins allowed besides the server's own.
    pub allowed_origins: Vec<String>,
    /// Refuse connections without an Origin header.
    pub require_origin: bool,
    /// Messages a connection may send per second.
    pub messages_per_s: u32,
    /// Open connections per client IP address; 0 for no limit.
    pub connections_per_ip: u32,
    /// Whether loopback clients count against `connections_per_ip`.
    pub limit_loopback: bool,
    /// Live sessions at most; 0 for no limit.
    pub max_sessions: u32,
    /// Seconds a new connection has to say Hello.
    pub hello_timeout_s: f32,
    /// The largest WebSocket message or frame a socket reads; bigger ones are refused
    /// with close 1009 before they are buffered whole.
    pub max_message_bytes: usize,
}

/// Phone controllers.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerTunables {
    /// Seconds a pairing code stays valid.
    pub code_ttl_s: f32,
}

/// The playing field, a rectangle from (0, 0) to (width, height).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ArenaTunables {
    /// Width in units.
    pub width: f32,
    /// Height in units.
    pub height: f32,
}

/// Player bodies.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlayerTunables {
    /// Radius in units.
    pub radius: f32,
    /// Speed at full input, in units per second.
    pub speed: f32,
    /// Players allowed in one session.
    pub max_per_session: u32,
}

/// The NPC balls.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BallTunables {
    /// Balls per session.
    pub count: u32,
    /// Radius in units.
    pub radius: f32,
    /// Slowest speed, in units per second; a pushed ball never goes slower.
    pub min_speed: f32,
    /// Fastest speed, in units per second; a pushed ball never goes faster.
    pub max_speed: f32,
}

/// Round timing.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoundTunables {
    /// Seconds of play in a round.
    pub length_s: f32,
    /// Seconds between rounds.
    pub intermission_s: f32,
}

/// Session lifecycle.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionTunables {
    /// Seconds an empty session lives on before it is dropped.
    pub empty_timeout_s: f32,
    /// Seconds a player whose connection was lost stays in the game, waiting for its
    /// client to reconnect with its token; 0 removes it at once.
    pub reconnect_grace_s: f32,
}

/// Per-connection buffering.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkTunables {
    /// Bytes a connection's socket may owe (not yet taken by the kernel); a delta is
    /// skipped whenever any are owed, other frames once this many are.
    pub max_owed_bytes: usize,
    /// SO_SNDBUF of accepted sockets in bytes; 0 keeps the kernel's autotuning.
    pub send_buffer_bytes: u32,
    /// Deltas per second; `None` for one every tick. Must divide `tick_hz`.
    #[serde(default)]
    pub send_hz: Option<u16>,
    /// Deltas' worth of bytes a socket may hold unsent in the kernel
    /// (`TCP_NOTSENT_LOWAT`, sized from the session's recent deltas); 0 leaves the
    /// kernel unbounded.
    pub unsent_deltas: u32,
}

/// Why the tunables could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not TOML, or names an unknown key, or a value of the wrong type.
    #[error("config {origin}: {source}")]
    Parse {
        /// The file, or "built-in defaults".
        origin: String,
        /// Why.
        source: toml::de::Error,
    },
    /// A value is out of its sensible range.
    #[error("config: {0}")]
    Invalid(String),
}

impl Tunables {
    /// The built-in defaults.
    pub fn builtin() -> Result<Tunables, ConfigError> {
        let table = parse_table(BUILTIN, "built-in defaults")?;
        Tunables::from_table(table, "built-in defaults")
    }

    /// The built-in defaults with the TOML file at `path` merged over them.
    pub fn load(path: &Path) -> Result<Tunables, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let origin = path.display().to_string();
        Tunables::merged(&text, &origin)
    }

    /// The built-in defaults with `overrides` (TOML text) merged over them.
    pub fn merged(overrides: &str, origin: &str) -> Result<Tunables, ConfigError> {
        let mut table = parse_table(BUILTIN, "built-in defaults")?;
        merge(&mut table, parse_table(overrides, origin)?);
        Tunables::from_table(table, origin)
    }

    fn from_table(table: toml::Table, origin: &str) -> Result<Tunables, ConfigError> {
        let tunables = Tunables::deserialize(table).map_err(|source| ConfigError::Parse {
            origin: origin.to_owned(),
            source,
        })?;
        tunables.validate()?;
        Ok(tunables)
    }

    /// Checks the values a simulation cannot run with. Called by every constructor;
    /// call it again after changing fields by hand.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |why: String| Err(ConfigError::Invalid(why));
        if !(1..=240).contains(&self.tick_hz) {
            return fail(format!("tick_hz must be 1 to 240, not {}", self.tick_hz));
        }
        let positive = [
            ("arena.width", self.arena.width),
            ("arena.height", self.arena.height),
            ("players.radius", self.players.radius),
            ("balls.radius", self.balls.radius),
            ("round.length_s", self.round.length_s),
        ];
        for (name, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return fail(format!("{name} must be a positive number, not {value}"));
            }
        }
        let non_negative = [
            ("players.speed", self.players.speed),
            ("balls.min_speed", self.balls.min_speed),
            ("round.intermission_s", self.round.intermission_s),
            ("sessions.empty_timeout_s", self.sessions.empty_timeout_s),
            (
                "sessions.reconnect_grace_s",
                self.sessions.reconnect_grace_s,
            ),
            ("controllers.code_ttl_s", self.controllers.code_ttl_s),
            ("limits.hello_timeout_s", self.limits.hello_timeout_s),
        ];
        for (name, value) in non_negative {
            if !(value.is_finite() && value >= 0.0) {
                return fail(format!("{name} must be zero or more, not {value}"));
            }
        }
        if !(self.balls.max_speed.is_finite() && self.balls.max_speed >= self.balls.min_speed) {
            return fail("balls.max_speed must be at least balls.min_speed".into());
        }
        let widest = 4.0 * self.players.radius.max(self.balls.radius);
        if self.arena.width < widest || self.arena.height < widest {
            return fail(format!(
                "the arena must be at least {widest} units on each side"
            ));
        }
        let interest = &self.interest;
        for (name, value) in [
            ("interest.cell_size", interest.cell_size),
            ("interest.view_radius", interest.view_radius),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return fail(format!("{name} must be zero or more, not {value}"));
            }
        }
        if (interest.cell_size > 0.0) != (interest.view_radius > 0.0) {
            return fail(
                "interest.cell_size and interest.view_radius are set together (both 0: \
                 everything visible)"
                    .into(),
            );
        }
        if interest.cell_size > 0.0 {
            let cells = (self.arena.width / interest.cell_size).ceil()
                * (self.arena.height / interest.cell_size).ceil();
            if cells > MAX_CELLS || interest.cell_size < 4.0 * self.players.radius {
                return fail(format!(
                    "interest.cell_size {} cuts the arena into {cells} cells: at most {MAX_CELLS}, \
                     and a cell at least 4 player radii wide",
                    interest.cell_size
                ));
            }
        }
        if self.limits.max_message_bytes < arena_shared::limits::MAX_CLIENT_MESSAGE_BYTES {
            return fail(format!(
                "limits.max_message_bytes must be at least {}, the largest client message",
                arena_shared::limits::MAX_CLIENT_MESSAGE_BYTES
            ));
        }
        if let Some(send_hz) = self.network.send_hz
            && (send_hz == 0 || !self.tick_hz.is_multiple_of(send_hz))
        {
            return fail(format!(
                "network.send_hz ({send_hz}) must divide tick_hz ({}): a delta goes out every \
                 tick_hz / send_hz ticks, a whole number (for tick_hz = {0}: one of {})",
                self.tick_hz,
                divisors(self.tick_hz)
            ));
        }
        if self.network.max_owed_bytes < 4096 {
            return fail("network.max_owed_bytes must be at least 4096".into());
        }
        Ok(())
    }

    /// What clients are told of interest management in their `Welcome`: `None` when
    /// every client sees everything.
    pub fn view_info(&self) -> Option<arena_shared::protocol::ViewInfo> {
        use arena_shared::quantize::position_to_wire;
        (self.interest.cell_size > 0.0 && self.interest.view_radius > 0.0).then(|| {
            arena_shared::protocol::ViewInfo {
                cell_size: position_to_wire(self.interest.cell_size),
                view_radius: position_to_wire(self.interest.view_radius),
                see_all: self.interest.spectators_see_all,
            }
        })
    }

    /// Deltas per second (at most `tick_hz`).
    pub fn send_hz(&self) -> u16 {
        self.network.send_hz.unwrap_or(self.tick_hz)
    }

    /// Ticks from one delta to the next.
    pub fn send_every(&self) -> u32 {
        u32::from(self.tick_hz / self.send_hz().max(1)).max(1)
    }

    /// Seconds per tick.
    pub fn tick_seconds(&self) -> f32 {
        1.0 / f32::from(self.tick_hz)
    }

    /// A duration in seconds as a whole number of ticks (at least one): for phases that
    /// must last, such as a round.
    pub fn ticks(&self, seconds: f32) -> u32 {
        self.ticks_or_none(seconds).max(1)
    }

    /// A duration in seconds as a whole number of ticks, where 0 means none: for
    /// timeouts and grace periods that may be turned off.
    pub fn ticks_or_none(&self, seconds: f32) -> u32 {
        (seconds * f32::from(self.tick_hz)).round() as u32
    }
}

/// The send rates `tick_hz` allows, for the error message.
fn divisors(tick_hz: u16) -> String {
    let all: Vec<String> = (1..=tick_hz)
        .filter(|d| tick_hz.is_multiple_of(*d))
        .map(|d| d.to_string())
        .collect();
    all.join(", ")
}

fn parse_table(text: &str, origin: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>()
        .map_err(|source| ConfigError::Parse {
            origin: origin.to_owned(),
            source,
        })
}

/// Merges `over` into `base`: tables recursively, any other value replaces.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(over_table)) => {
                merge(base_table, over_table);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_defaults_load_and_are_valid() {
        let tunables = Tunables::builtin().expect("assets/arena.toml must be valid");
        assert_eq!(tunables.tick_hz, 30);
        assert_eq!(tunables.ticks(1.0), 30);
    }

    #[test]
    fn overrides_merge_key_by_key() {
        let tunables = Tunables::merged("tick_hz = 60\n[balls]\ncount = 3\n", "test")
            .expect("a partial override is valid");
        assert_eq!(tunables.tick_hz, 60);
        assert_eq!(tunables.balls.count, 3);
        assert_eq!(
            tunables.balls.radius, 15.0,
            "keys not named keep their default"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(matches!(
            Tunables::merged("[balls]\ncolour = 1\n", "test"),
            Err(ConfigError::Parse { .. })
        ));
        assert!(matches!(
            Tunables::merged("tick_hz = 0\n", "test"),
            Err(ConfigError::Invalid(_))
        ));
        assert!(matches!(
            Tunables::merged("[balls]\nmin_speed = 10\nmax_speed = 5\n", "test"),
            Err(ConfigError::Invalid(_))
        ));
    }

    #[test]
    fn send_hz_defaults_to_the_tick_rate_and_must_divide_it() {
        let builtin = Tunables::builtin().expect("valid");
        assert_eq!((builtin.send_hz(), builtin.send_every()), (30, 1));
        let half = Tunables::merged("[network]\nsend_hz = 15\n", "test").expect("15 divides 30");
        assert_eq!((half.send_hz(), half.send_every()), (15, 2));
        let err = Tunables::merged("[network]\nsend_hz = 20\n", "test")
            .expect_err("20 does not divide 30");
        assert!(
            err.to_string().contains("1, 2, 3, 5, 6, 10, 15, 30"),
            "the message names the rates that work: {err}"
        );
    }

    #[test]
    fn a_missing_file_is_a_clear_error() {
        let err = Tunables::load(Path::new("/nonexistent/arena.toml"))
            .expect_err("a missing file cannot load");
        assert!(err.to_string().contains("/nonexistent/arena.toml"), "{err}");
    }
}
