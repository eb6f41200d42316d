//! The cluster's shared state in Redis: its keys, the atomic lease operations, and
//! typed reads and writes over one reconnecting connection.
//!
//! | key | holds | lives |
//! |---|---|---|
//! | `arena:node:ID` | the node's record (JSON) | `NODE_TTL`, renewed by its heartbeat |
//! | `arena:nodes` | the ids of nodes that registered (a set; dead ones pruned on read) | — |
//! | `arena:lease:CODE` | the id of the node that owns the session | `LEASE_TTL`, renewed by the owner |
//! | `arena:sessions` | codes with a lease (a set; expired ones pruned on read) | — |
//! | `arena:checkpoint:CODE` | the session's last checkpoint (MessagePack) | `checkpoint_ttl` |
//! | `arena:pair:CODE` | the session of a pairing code | the code's lifetime |
//!
//! A lease changes hands only by compare-and-set (Lua scripts, atomic in Redis): set
//! if absent, renewed or released only by its holder, moved only from a named holder.
//! So two nodes never both believe they own a session for longer than a lease.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{RedisResult, Script};
use serde::{Deserialize, Serialize};

/// How long a node's record lives without a heartbeat: how soon a dead node is known
/// to be dead.
pub(crate) const NODE_TTL: Duration = Duration::from_millis(2000);

/// How long a lease lives without renewal.
pub(crate) const LEASE_TTL: Duration = Duration::from_millis(2000);

const NODES: &str = "arena:nodes";
const SESSIONS: &str = "arena:sessions";

fn node_key(id: &str) -> String {
    format!("arena:node:{id}")
}
fn lease_key(code: &str) -> String {
    format!("arena:lease:{code}")
}
fn checkpoint_key(code: &str) -> String {
    format!("arena:checkpoint:{code}")
}
fn pair_key(code: &str) -> String {
    format!("arena:pair:{}", code.to_ascii_uppercase())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What a node publishes about itself with each heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// Its id.
    pub id: String,
    /// Where clients reach it (`ws://HOST:PORT/ws`).
    pub url: String,
    /// Its HTTP origin (`http://HOST:PORT`), which its pages send.
    pub origin: String,
    /// Sessions it runs.
    pub sessions: usize,
    /// Connections it holds.
    pub clients: u64,
    /// Its measured tick load: CPU seconds its tick workers spend per second.
    pub load: f64,
}

/// Renews `KEYS[1]` for `ARGV[1]`, or takes it if nobody holds it; returns the holder.
const RENEW: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return holder
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
  return ARGV[1]
end
return holder
";

/// Moves `KEYS[1]` from `ARGV[1]` to `ARGV[2]` if `ARGV[1]` holds it; 1 if moved.
const MOVE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

/// Drops `KEYS[1]` (and the checkpoint, `KEYS[2]`, if `ARGV[2]` is 1) if `ARGV[1]`
/// holds it; 1 if released.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if ARGV[2] == '1' then redis.call('DEL', KEYS[2]) end
  return 1
end
return 0
";

/// The Redis side of one node: a connection that reconnects by itself, and the scripts.
#[derive(Clone)]
pub(crate) struct Directory {
    redis: ConnectionManager,
    renew: Script,
    moving: Script,
    release: Script,
}

impl Directory {
    /// A directory over `url` (`redis://HOST:PORT`). Connects lazily: a node starts
    /// while Redis is away, and every operation fails quickly until it is back.
    pub(crate) fn new(url: &str) -> RedisResult<Directory> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        Ok(Directory {
            redis: ConnectionManager::new_lazy_with_config(client, config)?,
            renew: Script::new(RENEW),
            moving: Script::new(MOVE),
            release: Script::new(RELEASE),
        })
    }

    fn con(&self) -> ConnectionManager {
        self.redis.clone()
    }

    /// Publishes `record` for `NODE_TTL`.
    pub(crate) async fn register(&self, record: &NodeRecord) -> RedisResult<()> {
        let json = serde_json::to_string(record).unwrap_or_default();
        redis::pipe()
            .cmd("SET")
            .arg(node_key(&record.id))
            .arg(json)
            .arg("PX")
            .arg(millis(NODE_TTL))
            .ignore()
            .cmd("SADD")
            .arg(NODES)
            .arg(&record.id)
            .ignore()
            .exec_async(&mut self.con())
            .await
    }

    /// Removes the node's record at once (a clean stop).
    pub(crate) async fn deregister(&self, id: &str) -> RedisResult<()> {
        redis::pipe()
            .cmd("DEL")
            .arg(node_key(id))
            .ignore()
            .cmd("SREM")
            .arg(NODES)
            .arg(id)
            .ignore()
            .exec_async(&mut self.con())
            .await
    }

    /// Every live node's record; the ids of dead ones are pruned from the set.
    pub(crate) async fn nodes(&self) -> RedisResult<Vec<NodeRecord>> {
        let live = self.live(NODES, node_key).await?;
        let mut records: Vec<NodeRecord> = live
            .iter()
            .filter_map(|(_, json)| serde_json::from_str(json).ok())
            .collect();
        records.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(records)
    }

    /// The members of the set `set` whose own key (`key_of(member)`) still exists, with
    /// its value; members whose key has expired are removed from the set.
    async fn live(
        &self,
        set: &str,
        key_of: fn(&str) -> String,
    ) -> RedisResult<Vec<(String, String)>> {
        let mut con = self.con();
        let members: Vec<String> = redis::cmd("SMEMBERS")
            .arg(set)
            .query_async(&mut con)
            .await?;
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = members.iter().map(|m| key_of(m)).collect();
        let values: Vec<Option<String>> =
            redis::cmd("MGET").arg(&keys).query_async(&mut con).await?;
        let mut live = Vec::with_capacity(members.len());
        for (member, value) in members.into_iter().zip(values) {
            match value {
                Some(value) => live.push((member, value)),
                None => {
                    redis::cmd("SREM")
                        .arg(set)
                        .arg(&member)
                        .exec_async(&mut con)
                        .await?;
                }
            }
        }
        Ok(live)
    }

    /// One node's record, if it is alive.
    pub(crate) async fn node(&self, id: &str) -> RedisResult<Option<NodeRecord>> {
        let json: Option<String> = redis::cmd("GET")
            .arg(node_key(id))
            .query_async(&mut self.con())
            .await?;
        Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// The node holding the session's lease.
    pub(crate) async fn holder(&self, code: &str) -> RedisResult<Option<String>> {
        redis::cmd("GET")
            .arg(lease_key(code))
            .query_async(&mut self.con())
            .await
    }

    /// Gives the session's lease to `node` if nobody holds it.
    pub(crate) async fn lease_if_free(&self, code: &str, node: &str) -> RedisResult<()> {
        let mut con = self.con();
        let _: Option<String> = redis::cmd("SET")
            .arg(lease_key(code))
            .arg(node)
            .arg("NX")
            .arg("PX")
            .arg(millis(LEASE_TTL))
            .query_async(&mut con)
            .await?;
        redis::cmd("SADD")
            .arg(SESSIONS)
            .arg(code)
            .exec_async(&mut con)
            .await
    }

    /// Renews `node`'s lease on the session, taking it if nobody holds it (after Redis
    /// lost its data, say); returns whoever holds it now.
    pub(crate) async fn renew(&self, code: &str, node: &str) -> RedisResult<String> {
        self.renew
            .key(lease_key(code))
            .key(SESSIONS)
            .arg(node)
            .arg(millis(LEASE_TTL))
            .arg(code)
            .invoke_async(&mut self.con())
            .await
    }

    /// Moves the session's lease from `from` to `to`; false if `from` did not hold it.
    pub(crate) async fn move_lease(&self, code: &str, from: &str, to: &str) -> RedisResult<bool> {
        let moved: i64 = self
            .moving
            .key(lease_key(code))
            .arg(from)
            .arg(to)
            .arg(millis(LEASE_TTL))
            .invoke_async(&mut self.con())
            .await?;
        Ok(moved == 1)
    }

    /// Drops `node`'s lease on the session, and its checkpoint too if `ended` (the
    /// session is over, not moving); false if `node` did not hold it.
    pub(crate) async fn release(&self, code: &str, node: &str, ended: bool) -> RedisResult<bool> {
        let released: i64 = self
            .release
            .key(lease_key(code))
            .key(checkpoint_key(code))
            .arg(node)
            .arg(if ended { "1" } else { "0" })
            .invoke_async(&mut self.con())
            .await?;
        Ok(released == 1)
    }

    /// Every leased session and its holder; expired ones are pruned from the set.
    pub(crate) async fn sessions(&self) -> RedisResult<Vec<(String, String)>> {
        let mut leased = self.live(SESSIONS, lease_key).await?;
        leased.sort();
        Ok(leased)
    }

    /// Writes the session's checkpoint, kept `ttl`.
    pub(crate) async fn save(&self, code: &str, bytes: &[u8], ttl: Duration) -> RedisResult<()> {
        redis::cmd("SET")
            .arg(checkpoint_key(code))
            .arg(bytes)
            .arg("PX")
            .arg(millis(ttl))
            .exec_async(&mut self.con())
            .await
    }

    /// The session's last checkpoint, if any.
    pub(crate) async fn load(&self, code: &str) -> RedisResult<Option<Vec<u8>>> {
        redis::cmd("GET")
            .arg(checkpoint_key(code))
            .query_async(&mut self.con())
            .await
    }

    /// Records that pairing code `code` belongs to a player of `session`.
    pub(crate) async fn pair_code(
        &self,
        code: &str,
        session: &str,
        ttl: Duration,
    ) -> RedisResult<()> {
        redis::cmd("SET")
            .arg(pair_key(code))
            .arg(session)
            .arg("PX")
            .arg(millis(ttl).max(1))
            .exec_async(&mut self.con())
            .await
    }

    /// The session of a pairing code issued anywhere in the cluster.
    pub(crate) async fn session_of_code(&self, code: &str) -> RedisResult<Option<String>> {
        redis::cmd("GET")
            .arg(pair_key(code))
            .query_async(&mut self.con())
            .await
    }
}
