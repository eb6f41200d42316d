//! A node's directory task: its heartbeat, its leases, the checkpoints and pairing
//! codes the tick workers hand over, and the hand-over of every session when the node
//! stops.
//!
//! Every `BEAT` the node re-publishes its record, re-reads the live nodes (for
//! placement and origins), renews the lease of each session it runs (taking it anew if
//! Redis lost it: a Redis restart heals within a beat) and releases those of sessions
//! that ended. A lease found in another node's hands means that node took the session
//! over while this one could not renew: this node's copy is sent there and dropped.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Cluster;
use super::directory::LEASE_TTL;
use crate::handover::Note;

/// A lease this node took for a session, and when.
type Held = (String, Instant);

/// How often a node beats: well inside `NODE_TTL` and `LEASE_TTL`.
const BEAT: Duration = Duration::from_millis(500);

/// How long a lease taken for a join may wait for its session to appear here.
const ADOPTION_GRACE: Duration = LEASE_TTL;

/// Runs node `cluster`'s directory task until `stop`; then deregisters it.
pub async fn run(cluster: Arc<Cluster>, mut notes: mpsc::Receiver<Note>, stop: CancellationToken) {
    let mut beat = tokio::time::interval(BEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = beat.tick() => cluster.beat().await,
            Some(note) = notes.recv() => cluster.write(note).await,
        }
    }
    if let Err(err) = cluster.directory.deregister(&cluster.id).await {
        tracing::warn!(%err, "could not deregister from the cluster; the record expires by itself");
    }
}

impl Cluster {
    async fn beat(&self) {
        if let Err(err) = self.beat_once().await {
            self.redis_failed(&err);
        } else {
            self.redis_ok();
        }
    }

    async fn beat_once(&self) -> redis::RedisResult<()> {
        self.directory.register(&self.record()).await?;
        let nodes = self.directory.nodes().await?;
        *self.nodes.write() = nodes;
        self.placed.lock().clear();

        let local: HashSet<String> = self.sessions.codes().into_iter().collect();
        let now = Instant::now();
        // Leases held for sessions not (or no longer) here: those taken for a join
        // still on its way are renewed, the others released.
        let (pending, ended): (Vec<Held>, Vec<Held>) = self
            .held
            .lock()
            .iter()
            .filter(|(code, _)| !local.contains(*code))
            .map(|(code, since)| (code.clone(), *since))
            .partition(|(_, since)| now - *since < ADOPTION_GRACE);
        for code in local.iter().chain(pending.iter().map(|(code, _)| code)) {
            let holder = self.directory.renew(code, &self.id).await?;
            if holder == self.id {
                self.held.lock().entry(code.clone()).or_insert(now);
                continue;
            }
            // Another node took it while this one could not renew: it is theirs.
            self.held.lock().remove(code);
            let url = self.directory.node(&holder).await?.map(|n| n.url);
            tracing::warn!(session = %code, %holder, "the session's lease is another node's: moving its players there");
            self.sessions.moved(code, url).await;
        }
        for (code, _) in ended {
            self.directory.release(&code, &self.id, true).await?;
            self.held.lock().remove(&code);
        }
        Ok(())
    }

    async fn write(&self, note: Note) {
        let written = match &note {
            Note::Checkpoint {
                session,
                bytes,
                took,
            } => {
                let started = Instant::now();
                let saved = self
                    .directory
                    .save(session, bytes, self.checkpoint_ttl)
                    .await;
                if saved.is_ok() {
                    self.counts.checkpoints.fetch_add(1, Relaxed);
                    self.counts
                        .checkpoint_bytes
                        .store(bytes.len() as u64, Relaxed);
                    metrics::counter!("arena_cluster_checkpoints_total").increment(1);
                    metrics::gauge!("arena_cluster_checkpoint_bytes").set(bytes.len() as f64);
                    metrics::histogram!("arena_cluster_checkpoint_build_seconds")
                        .record(took.as_secs_f64());
                    metrics::histogram!("arena_cluster_checkpoint_write_seconds")
                        .record(started.elapsed().as_secs_f64());
                }
                saved
            }
            Note::PairCode { code, session, ttl } => {
                self.directory.pair_code(code, session, *ttl).await
            }
        };
        match written {
            Ok(()) => self.redis_ok(),
            Err(err) => self.redis_failed(&err),
        }
    }

    /// The node is stopping: each of its sessions stops ticking, its final checkpoint
    /// is written, its lease goes to the least-loaded other node and its players are
    /// sent there (close 4007) with nothing lost. With no other node (or no Redis) the
    /// lease is released and the checkpoint kept, so the first node a returning player
    /// reaches resumes the session.
    pub async fn hand_over_all(&self) {
        if let Ok(nodes) = self.directory.nodes().await {
            *self.nodes.write() = nodes;
        }
        let others: Vec<_> = self
            .nodes
            .read()
            .iter()
            .filter(|n| n.id != self.id)
            .cloned()
            .collect();
        for code in self.sessions.codes() {
            let Some(checkpoint) = self.sessions.hand_over(&code).await else {
                continue;
            };
            let url = match self.hand_over(&code, &checkpoint, &others).await {
                Ok(url) => url,
                Err(err) => {
                    self.redis_failed(&err);
                    None
                }
            };
            tracing::info!(session = %code, to = url.as_deref().unwrap_or("nobody"), "session handed over");
            self.held.lock().remove(&code);
            self.sessions.moved(&code, url).await;
        }
    }

    async fn hand_over(
        &self,
        code: &str,
        checkpoint: &crate::checkpoint::Checkpoint,
        others: &[super::NodeRecord],
    ) -> redis::RedisResult<Option<String>> {
        if checkpoint.players.is_empty() {
            // Nobody to send anywhere, nobody to come back: the session just ends.
            self.directory.release(code, &self.id, true).await?;
            return Ok(None);
        }
        let bytes = checkpoint.encode().map_err(|err| {
            redis::RedisError::from((redis::ErrorKind::Client, "checkpoint", err.to_string()))
        })?;
        self.directory
            .save(code, &bytes, self.checkpoint_ttl)
            .await?;
        self.counts.checkpoints.fetch_add(1, Relaxed);
        let target = {
            let mut placed = self.placed.lock();
            let id = super::least_loaded(others.iter(), &placed);
            if !id.is_empty() {
                *placed.entry(id.clone()).or_default() += 1;
            }
            others.iter().find(|n| n.id == id).cloned()
        };
        match target {
            Some(node) if self.directory.move_lease(code, &self.id, &node.id).await? => {
                Ok(Some(node.url))
            }
            _ => {
                self.directory.release(code, &self.id, false).await?;
                Ok(None)
            }
        }
    }
}
