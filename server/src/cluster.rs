//! Cluster mode (`--cluster redis://…`): several nodes, one game. Redis holds the
//! directory (see [`directory`]): which nodes are alive, which node owns each session
//! (a lease), each session's checkpoint of the last second, the pairing codes.
//!
//! A join may reach any node. The node that owns its session runs it; any other node
//! answers the `Hello` with close code 4007 and the owner's URL, and the client
//! reconnects there. A session nobody owns is placed on the least-loaded live node. A
//! session whose owner died (its record expired) is taken by the node its first
//! returning player reaches, from its checkpoint: same code, same players by their
//! reconnect tokens, scores of a second ago. A node that stops cleanly hands its
//! sessions over first (see [`beat`]).
//!
//! Nothing here runs on a tick thread, and the tick never waits on Redis: a session
//! this node owns keeps playing while Redis is away; only joins that need the directory
//! fail, with 1013, until it is back.

mod beat;
mod directory;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use serde::Serialize;

use crate::checkpoint::Checkpoint;
use crate::config::Tunables;
use crate::sessions::Sessions;
use crate::stats::Stats;
pub use beat::run;
use directory::Directory;
pub use directory::NodeRecord;

/// Why cluster mode cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The Redis URL does not parse.
    #[error("bad --cluster URL: {0}")]
    Redis(#[from] redis::RedisError),
    /// The public URL is not `http(s)://HOST:PORT` or `ws(s)://HOST:PORT/ws`.
    #[error("bad --public-url {0:?}: give http://HOST:PORT (or ws://HOST:PORT/ws), at most {max} bytes", max = arena_shared::limits::MAX_NODE_URL_BYTES)]
    PublicUrl(String),
    /// No randomness for the node's id.
    #[error("no randomness for the node id: {0}")]
    Random(String),
}

/// Where a client should play a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Here: this node runs the session, or will run it from the client's join on.
    Here,
    /// On another node: its WebSocket URL.
    Moved(String),
    /// The directory cannot be reached to know.
    Unavailable,
}

/// A cluster node's public address, in the two forms clients need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `ws://HOST:PORT/ws`: where its game connections go.
    pub ws: String,
    /// `http://HOST:PORT`: its pages' origin.
    pub origin: String,
}

impl PublicUrl {
    /// Reads `http://HOST:PORT`, `https://…`, `ws://HOST:PORT/ws` or `wss://…`, with
    /// an optional path prefix (`https://play.example.org/node-a`: a reverse proxy's
    /// route to this node).
    pub fn parse(url: &str) -> Result<PublicUrl, ClusterError> {
        let bad = || ClusterError::PublicUrl(url.to_owned());
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let secure = match scheme {
            "http" | "ws" => false,
            "https" | "wss" => true,
            _ => return Err(bad()),
        };
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = path.trim_end_matches('/');
        let prefix = if prefix == "ws" {
            ""
        } else {
            prefix.strip_suffix("/ws").unwrap_or(prefix)
        };
        let clean = |s: &str| !s.contains(|c: char| c.is_whitespace() || "?#".contains(c));
        if host.is_empty() || !clean(host) || !clean(prefix) {
            return Err(bad());
        }
        let (ws, http) = if secure {
            ("wss", "https")
        } else {
            ("ws", "http")
        };
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("/{prefix}")
        };
        let public = PublicUrl {
            ws: format!("{ws}://{host}{prefix}/ws"),
            origin: format!("{http}://{host}"),
        };
        if public.ws.len() > arena_shared::limits::MAX_NODE_URL_BYTES {
            return Err(bad());
        }
        Ok(public)
    }
}

/// What `/metrics` and `/cluster` count for this node.
#[derive(Debug, Default)]
pub struct ClusterCounts {
    /// Checkpoints written to Redis.
    pub checkpoints: AtomicU64,
    /// The last checkpoint's size, bytes.
    pub checkpoint_bytes: AtomicU64,
    /// Joins sent to another node (close 4007).
    pub redirects: AtomicU64,
    /// Sessions resumed here from another node's checkpoint.
    pub takeovers: AtomicU64,
    /// Redis operations that failed.
    pub redis_errors: AtomicU64,
}

/// How a node joins a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The Redis holding the directory (`redis://HOST:PORT`).
    pub redis_url: String,
    /// Where clients reach this node.
    pub public_url: PublicUrl,
}

/// One node of a cluster.
pub struct Cluster {
    id: String,
    url: PublicUrl,
    directory: Directory,
    sessions: Arc<Sessions>,
    stats: Arc<Stats>,
    tick_hz: u16,
    /// How long a checkpoint is kept: long enough for players to come back to it.
    checkpoint_ttl: Duration,
    /// The live nodes as of the last heartbeat, this one included.
    nodes: RwLock<Vec<NodeRecord>>,
    /// Sessions placed on each node since the last heartbeat, not yet in its record.
    placed: Mutex<HashMap<String, u32>>,
    /// Leases this node took, and when: renewed while the session lives here.
    held: Mutex<HashMap<String, Instant>>,
    /// Whether the last Redis operation worked (for logging changes, not each error).
    healthy: AtomicBool,
    counts: ClusterCounts,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("id", &self.id)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A session's assumed load before its node's record shows it (CPU seconds per
/// second): spreads a burst of new sessions between heartbeats.
const FRESH_SESSION_LOAD: f64 = 0.002;

impl Cluster {
    /// A node of the cluster `config` names, running `sessions` under `tunables`, with
    /// a fresh random id.
    pub fn new(
        config: &ClusterConfig,
        sessions: Arc<Sessions>,
        stats: Arc<Stats>,
        tunables: &Tunables,
    ) -> Result<Cluster, ClusterError> {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).map_err(|err| ClusterError::Random(err.to_string()))?;
        let id = format!(
            "node-{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let grace = Duration::from_secs_f32(tunables.sessions.reconnect_grace_s.max(0.0));
        Ok(Cluster {
            id,
            url: config.public_url.clone(),
            directory: Directory::new(&config.redis_url)?,
            sessions,
            stats,
            tick_hz: tunables.tick_hz,
            checkpoint_ttl: (grace * 4).max(Duration::from_secs(60)),
            nodes: RwLock::default(),
            placed: Mutex::default(),
            held: Mutex::default(),
            healthy: AtomicBool::new(true),
            counts: ClusterCounts::default(),
        })
    }

    /// This node's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// This node's public address.
    pub fn url(&self) -> &PublicUrl {
        &self.url
    }

    /// What this node counted.
    pub fn counts(&self) -> &ClusterCounts {
        &self.counts
    }

    /// Where a client should play `code`: here if this node runs it or now takes it
    /// (resuming its checkpoint if another node left one), else the owner's URL. A
    /// session nobody owns is given to the least-loaded live node.
    pub async fn route(&self, code: &str) -> Route {
        if self.sessions.owner(code).is_some() {
            return Route::Here;
        }
        match self.place(code).await {
            Ok(route) => {
                self.redis_ok();
                if let Route::Moved(_) = route {
                    self.counts.redirects.fetch_add(1, Relaxed);
                    metrics::counter!("arena_cluster_redirects_total").increment(1);
                }
                route
            }
            Err(err) => {
                self.redis_failed(&err);
                Route::Unavailable
            }
        }
    }

    async fn place(&self, code: &str) -> redis::RedisResult<Route> {
        // Each turn settles who holds the lease a little more; four are plenty unless
        // nodes are dying faster than the loop turns.
        for _ in 0..4 {
            match self.directory.holder(code).await? {
                Some(holder) if holder == self.id => {
                    self.adopt(code).await?;
                    return Ok(Route::Here);
                }
                Some(holder) => match self.directory.node(&holder).await? {
                    Some(node) => return Ok(Route::Moved(node.url)),
                    None => {
                        tracing::info!(session = %code, dead = %holder, "taking over a session from a dead node");
                        self.directory.move_lease(code, &holder, &self.id).await?;
                    }
                },
                None => {
                    let target = self.least_loaded();
                    self.directory.lease_if_free(code, &target).await?;
                }
            }
        }
        Ok(Route::Unavailable)
    }

    /// This node holds the session's lease: run it here, from its checkpoint if it has
    /// one (it was running elsewhere), else fresh when the join arrives.
    async fn adopt(&self, code: &str) -> redis::RedisResult<()> {
        self.held.lock().insert(code.to_owned(), Instant::now());
        let Some(bytes) = self.directory.load(code).await? else {
            return Ok(());
        };
        match Checkpoint::decode(&bytes) {
            Ok(checkpoint) if checkpoint.session == code => {
                let players = checkpoint.players.len();
                if self.sessions.adopt(checkpoint) {
                    self.counts.takeovers.fetch_add(1, Relaxed);
                    metrics::counter!("arena_cluster_takeovers_total").increment(1);
                    tracing::info!(session = %code, players, "session taken over from its checkpoint");
                }
            }
            Ok(_) => tracing::error!(session = %code, "a checkpoint of another session: ignored"),
            Err(err) => {
                tracing::error!(session = %code, %err, "unreadable checkpoint: starting afresh")
            }
        }
        Ok(())
    }

    /// Where a phone with pairing code `code` should pair: here if the code was issued
    /// here or is unknown to the cluster, else the node of the code's session.
    pub async fn route_pair(&self, code: &str) -> Route {
        if self.sessions.knows_code(code) {
            return Route::Here;
        }
        match self.directory.session_of_code(code).await {
            Ok(Some(session)) => self.route(&session).await,
            Ok(None) => Route::Here,
            Err(err) => {
                self.redis_failed(&err);
                Route::Unavailable
            }
        }
    }

    /// Whether `origin` is a node of this cluster: its pages may connect here.
    pub fn knows_origin(&self, origin: &str) -> bool {
        self.url.origin.eq_ignore_ascii_case(origin)
            || self
                .nodes
                .read()
                .iter()
                .any(|n| n.origin.eq_ignore_ascii_case(origin))
    }

    /// The least-loaded live node's id (this one when it knows no other).
    fn least_loaded(&self) -> String {
        let nodes = self.nodes.read();
        let mut placed = self.placed.lock();
        let mine = self.record();
        // The others as their records say, this node as it is now.
        let others = nodes.iter().filter(|n| n.id != self.id);
        let chosen = least_loaded(others.chain(std::iter::once(&mine)), &placed);
        *placed.entry(chosen.clone()).or_default() += 1;
        chosen
    }

    /// This node's record as of now.
    fn record(&self) -> NodeRecord {
        NodeRecord {
            id: self.id.clone(),
            url: self.url.ws.clone(),
            origin: self.url.origin.clone(),
            sessions: self.sessions.live(),
            clients: self.stats.snapshot().connections,
            load: self.sessions.tick_ns() as f64 * f64::from(self.tick_hz) / 1e9,
        }
    }

    /// The whole cluster as `/cluster` shows it.
    pub async fn status(&self) -> Result<ClusterStatus, String> {
        let nodes = self
            .directory
            .nodes()
            .await
            .map_err(|e| self.unavailable(&e))?;
        let leased = self
            .directory
            .sessions()
            .await
            .map_err(|e| self.unavailable(&e))?;
        let url_of: HashMap<&str, &str> = nodes
            .iter()
            .map(|n| (n.id.as_str(), n.url.as_str()))
            .collect();
        let sessions = leased
            .iter()
            .map(|(code, owner)| SessionEntry {
                code: code.clone(),
                owner: owner.clone(),
                url: url_of.get(owner.as_str()).map(|u| (*u).to_owned()),
            })
            .collect();
        Ok(ClusterStatus {
            node: self.id.clone(),
            nodes,
            sessions,
        })
    }

    fn unavailable(&self, err: &redis::RedisError) -> String {
        self.redis_failed(err);
        format!("the cluster directory (Redis) is unreachable: {err}")
    }

    fn redis_ok(&self) {
        if !self.healthy.swap(true, Relaxed) {
            tracing::info!("Redis is reachable again");
        }
    }

    fn redis_failed(&self, err: &redis::RedisError) {
        self.counts.redis_errors.fetch_add(1, Relaxed);
        metrics::counter!("arena_cluster_redis_errors_total").increment(1);
        if self.healthy.swap(false, Relaxed) {
            tracing::warn!(%err, "Redis is unreachable: sessions here play on, joins that need the directory are refused");
        }
    }
}

/// The node to place a new session on: the least expected load, counting sessions
/// placed since the records were written; ties go to fewer sessions, then the id.
fn least_loaded<'a>(
    nodes: impl Iterator<Item = &'a NodeRecord>,
    placed: &HashMap<String, u32>,
) -> String {
    nodes
        .map(|n| {
            let pending = placed.get(&n.id).copied().unwrap_or(0);
            let per_session = (n.load / n.sessions.max(1) as f64).max(FRESH_SESSION_LOAD);
            let expected = n.load + per_session * f64::from(pending);
            (expected, n.sessions + pending as usize, n.id.clone())
        })
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)))
        .map(|(_, _, id)| id)
        .unwrap_or_default()
}

/// `/cluster`: the live nodes and the sessions with their owners.
#[derive(Debug, Serialize)]
pub struct ClusterStatus {
    /// The node that answered.
    pub node: String,
    /// Live nodes.
    pub nodes: Vec<NodeRecord>,
    /// Leased sessions.
    pub sessions: Vec<SessionEntry>,
}

/// A session and its owner.
#[derive(Debug, Serialize)]
pub struct SessionEntry {
    /// Its code.
    pub code: String,
    /// The owning node's id.
    pub owner: String,
    /// The owning node's WebSocket URL, if it is alive.
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, sessions: usize, load: f64) -> NodeRecord {
        NodeRecord {
            id: id.into(),
            url: format!("ws://{id}/ws"),
            origin: format!("http://{id}"),
            sessions,
            clients: 0,
            load,
        }
    }

    #[test]
    fn a_new_session_goes_to_the_least_loaded_node_and_a_burst_is_spread() {
        let nodes = [node("a", 10, 0.30), node("b", 2, 0.006), node("c", 0, 0.0)];
        let mut placed = HashMap::new();
        assert_eq!(least_loaded(nodes.iter(), &placed), "c");
        let mut chosen = Vec::new();
        for _ in 0..12 {
            let id = least_loaded(nodes.iter(), &placed);
            *placed.entry(id.clone()).or_default() += 1;
            chosen.push(id);
        }
        assert!(
            chosen.contains(&"b".to_owned()),
            "a burst is spread: {chosen:?}"
        );
        assert!(
            !chosen.contains(&"a".to_owned()),
            "the busy node is spared: {chosen:?}"
        );
    }

    #[test]
    fn a_public_url_gives_the_socket_url_and_the_origin() {
        let url = PublicUrl::parse("http://10.0.0.5:8080").expect("valid");
        assert_eq!(url.ws, "ws://10.0.0.5:8080/ws");
        assert_eq!(url.origin, "http://10.0.0.5:8080");
        let url = PublicUrl::parse("wss://play.example.org/ws").expect("valid");
        assert_eq!(url.ws, "wss://play.example.org/ws");
        assert_eq!(url.origin, "https://play.example.org");
        let url = PublicUrl::parse("https://play.example.org/node-a/").expect("valid");
        assert_eq!(
            url.ws, "wss://play.example.org/node-a/ws",
            "a proxy's route to the node"
        );
        assert_eq!(url.origin, "https://play.example.org");
        let url = PublicUrl::parse("http://h:1/news").expect("valid");
        assert_eq!(url.ws, "ws://h:1/news/ws");
        assert!(PublicUrl::parse("ftp://x").is_err());
        assert!(PublicUrl::parse("http://").is_err());
        assert!(PublicUrl::parse(&format!("http://{}", "a".repeat(130))).is_err());
    }
}
