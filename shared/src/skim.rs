//! Reading only the tick and the acknowledgements from a server frame.
//!
//! A load generator receives every delta of a session on every one of its hundreds of
//! sockets, on the same machine as the server, so its decoding must be cheap: a delta
//! or a view is stepped through marker by marker ([`fast`]); the rarer messages are read from
//! the same bytes as [`crate::codec::decode_server`] into types that skip the entity
//! lists with serde's `IgnoredAny`, which walks MessagePack without allocating.

mod fast;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::codec::DecodeError;
use crate::protocol::{Ack, EntityId, Tick};

/// What a bot needs from one server frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skim {
    /// You joined: your entity, and the snapshot's tick and acknowledgements.
    Welcome {
        /// Your entity (`None` for a spectator).
        you: Option<EntityId>,
        /// The token to reconnect as the same player.
        reconnect_token: String,
        /// Ticks from one delta to the next (`tick_hz / send_hz`).
        send_every: u32,
        /// The snapshot's tick.
        tick: Tick,
        /// Every player's processed input.
        acks: Vec<Ack>,
    },
    /// A resynchronizing snapshot.
    Snapshot {
        /// Its tick.
        tick: Tick,
        /// Every player's processed input.
        acks: Vec<Ack>,
    },
    /// A tick's delta, or the view of a session with interest management.
    Delta {
        /// Its tick.
        tick: Tick,
        /// Inputs processed this tick.
        acks: Vec<Ack>,
    },
    /// The answer to a ping.
    Pong {
        /// The ping's value.
        client_time: u32,
    },
    /// Chat lines: nothing a bot reads.
    Chat,
}

#[derive(Deserialize)]
enum Message {
    Welcome(WelcomeHead),
    Snapshot(SnapshotHead),
    Delta(DeltaHead),
    Pong(PongHead),
    Chat(IgnoredAny),
    View(ViewHead),
}

#[derive(Deserialize)]
struct ViewHead {
    tick: Tick,
    fresh: bool,
    acks: Vec<Ack>,
    _scores: IgnoredAny,
    _around: IgnoredAny,
    _cells: IgnoredAny,
    _world: IgnoredAny,
}

#[derive(Deserialize)]
struct WelcomeHead {
    you: Option<EntityId>,
    _session: IgnoredAny,
    tick_hz: u16,
    send_hz: u16,
    _arena: IgnoredAny,
    reconnect_token: String,
    snapshot: SnapshotHead,
    _resumed: IgnoredAny,
    #[serde(default)]
    _view: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct SnapshotHead {
    tick: Tick,
    _spawns: IgnoredAny,
    _states: IgnoredAny,
    acks: Vec<Ack>,
    _scores: IgnoredAny,
    _round: IgnoredAny,
    _away: IgnoredAny,
}

#[derive(Deserialize)]
struct DeltaHead {
    tick: Tick,
    _spawned: IgnoredAny,
    _moved: IgnoredAny,
    _removed: IgnoredAny,
    acks: Vec<Ack>,
    _scores: IgnoredAny,
    _events: IgnoredAny,
}

#[derive(Deserialize)]
struct PongHead {
    client_time: u32,
}

/// Skims one server frame.
pub fn skim_server(frame: &[u8]) -> Result<Skim, DecodeError> {
    if let Some(skimmed) = fast::skim_send(frame) {
        let fast::Skimmed { tick, acks, fresh } = skimmed?;
        // A fresh view replaces what the client knew, as a snapshot does.
        return Ok(if fresh {
            Skim::Snapshot { tick, acks }
        } else {
            Skim::Delta { tick, acks }
        });
    }
    Ok(match rmp_serde::from_slice::<Message>(frame)? {
        Message::Welcome(w) => Skim::Welcome {
            you: w.you,
            reconnect_token: w.reconnect_token,
            send_every: u32::from(w.tick_hz / w.send_hz.max(1)).max(1),
            tick: w.snapshot.tick,
            acks: w.snapshot.acks,
        },
        Message::Snapshot(s) => Skim::Snapshot {
            tick: s.tick,
            acks: s.acks,
        },
        Message::Delta(d) => Skim::Delta {
            tick: d.tick,
            acks: d.acks,
        },
        Message::Pong(p) => Skim::Pong {
            client_time: p.client_time,
        },
        Message::Chat(_) => Skim::Chat,
        // A fresh view replaces what the client knew, as a snapshot does.
        Message::View(v) if v.fresh => Skim::Snapshot {
            tick: v.tick,
            acks: v.acks,
        },
        Message::View(v) => Skim::Delta {
            tick: v.tick,
            acks: v.acks,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::codec::encode_server;
    use crate::protocol::*;

    fn frame(message: &ServerMessage<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        encode_server(message, &mut out).expect("encodes");
        out
    }

    #[test]
    fn skimming_agrees_with_full_decoding() {
        let snapshot = Snapshot {
            tick: Tick(9),
            spawns: vec![Spawn {
                id: EntityId(2),
                kind: EntityKind::Player,
                radius: 160,
                name: "b".into(),
            }],
            states: vec![EntityState {
                id: EntityId(2),
                x: 1,
                y: 2,
                vx: 3,
                vy: -4,
            }],
            acks: vec![Ack {
                id: EntityId(2),
                seq: 5,
            }],
            scores: vec![Score {
                id: EntityId(2),
                points: 1,
            }],
            round: RoundState::default(),
            away: vec![EntityId(2)],
        };
        let welcome = ServerMessage::Welcome(Welcome {
            you: Some(EntityId(2)),
            session: Cow::Borrowed("s"),
            tick_hz: 30,
            send_hz: 15,
            arena: ArenaInfo {
                width: 8,
                height: 8,
                round_ticks: 1,
                intermission_ticks: 1,
                player_speed: 1600,
            },
            reconnect_token: Cow::Borrowed("t"),
            snapshot: Cow::Borrowed(&snapshot),
            resumed: true,
            view: Some(crate::protocol::ViewInfo {
                cell_size: 3200,
                view_radius: 6400,
                see_all: false,
            }),
        });
        assert_eq!(
            skim_server(&frame(&welcome)).expect("skims"),
            Skim::Welcome {
                you: Some(EntityId(2)),
                reconnect_token: "t".into(),
                send_every: 2,
                tick: Tick(9),
                acks: snapshot.acks.clone()
            }
        );
        let delta = Delta {
            tick: Tick(10),
            moved: vec![EntityState {
                id: EntityId(2),
                x: 1,
                y: 2,
                vx: 3,
                vy: -4,
            }],
            acks: vec![Ack {
                id: EntityId(2),
                seq: 6,
            }],
            events: vec![GameEvent::PlayerJoined {
                id: EntityId(3),
                name: "c".into(),
            }],
            ..Delta::default()
        };
        assert_eq!(
            skim_server(&frame(&ServerMessage::Delta(Cow::Borrowed(&delta)))).expect("skims"),
            Skim::Delta {
                tick: Tick(10),
                acks: delta.acks.clone()
            }
        );
        assert_eq!(
            skim_server(&frame(&ServerMessage::Snapshot(Cow::Borrowed(&snapshot)))).expect("skims"),
            Skim::Snapshot {
                tick: Tick(9),
                acks: snapshot.acks.clone()
            }
        );
        assert_eq!(
            skim_server(&frame(&ServerMessage::Pong(Pong { client_time: 7 }))).expect("skims"),
            Skim::Pong { client_time: 7 }
        );
        let view = crate::protocol::ViewDelta {
            tick: Tick(11),
            fresh: true,
            acks: delta.acks.clone(),
            scores: snapshot.scores.clone(),
            around: Some(Around::Point { x: 1200, y: -40 }),
            cells: vec![None, Some(crate::protocol::CellNews::default())],
            ..crate::protocol::ViewDelta::default()
        };
        let fresh = ServerMessage::View(Box::new(view.clone()));
        assert_eq!(
            skim_server(&frame(&fresh)).expect("skims"),
            Skim::Snapshot {
                tick: Tick(11),
                acks: delta.acks.clone()
            },
            "a fresh view is the bots' snapshot"
        );
        let next = ServerMessage::View(Box::new(crate::protocol::ViewDelta {
            fresh: false,
            tick: Tick(14),
            ..view
        }));
        assert_eq!(
            skim_server(&frame(&next)).expect("skims"),
            Skim::Delta {
                tick: Tick(14),
                acks: delta.acks.clone()
            }
        );
        assert!(skim_server(b"\xc1").is_err());
        // Views and deltas take the fast path, which refuses a frame cut short or with
        // bytes after its end as decoding does.
        for message in [&fresh, &next, &ServerMessage::Delta(Cow::Borrowed(&delta))] {
            let whole = frame(message);
            assert!(fast::skim_send(&whole).is_some(), "the fast path reads it");
            for cut in 1..whole.len() {
                assert!(skim_server(&whole[..cut]).is_err(), "cut at {cut}");
            }
            let mut longer = whole.clone();
            longer.push(0);
            assert!(skim_server(&longer).is_err(), "a byte after its end");
        }
    }
}
