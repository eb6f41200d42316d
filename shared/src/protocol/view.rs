//! The messages of a session with interest management: each client is sent only the
//! cells of the world near it.
//!
//! The world is cut into square cells. Each send, the server encodes each cell's news
//! once ([`CellNews`]) and the news of the whole world once ([`WorldNews`]); a client's
//! [`ViewDelta`] is a small head of its own (tick, its acknowledgement and score, the
//! cells it stopped seeing) followed by those shared parts. Its field order is chosen for that:
//! everything per client comes first, so a message is the head and then the shared
//! bytes, written with one vectored write (see [`crate::codec::write_view_head`]).

use serde::{Deserialize, Serialize};

use super::{Ack, EntityId, EntityState, GameEvent, Score, Spawn, Tick};

/// What a session with interest management tells a client in its `Welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ViewInfo {
    /// A cell's side, in position quanta. Cell `c` covers columns
    /// `c % cols` and rows `c / cols`, `cols = ceil(arena width / cell_size)`.
    pub cell_size: i32,
    /// How far a player sees, in position quanta: it is sent the cells whose nearest
    /// point is at most this far from it ([`crate::cells::CellGrid::within_reach`]).
    pub view_radius: i32,
    /// Whether a spectator may ask to see every cell ([`Look::Everything`]).
    pub see_all: bool,
}

/// What a spectator watches in a session with interest management (a player always
/// watches its own surroundings). Until it says, it watches the arena's centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Look {
    /// The cells around a point (position quanta).
    At {
        /// x (quanta).
        x: i32,
        /// y (quanta).
        y: i32,
    },
    /// The cells around a player, wherever it goes.
    Follow {
        /// The player.
        id: EntityId,
    },
    /// Every cell, if the session allows it ([`ViewInfo::see_all`]); ignored otherwise.
    Everything,
}

/// What a view is around: a point, whose cells within the view radius are in view, or
/// every cell (a spectator that asked to see everything). On the wire `[x, y]`
/// (position quanta) or `[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Around {
    /// The cells within `view_radius` of this point.
    Point {
        /// x (quanta).
        x: i32,
        /// y (quanta).
        y: i32,
    },
    /// Every cell.
    Everything,
}

impl Serialize for Around {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        match *self {
            Around::Point { x, y } => {
                let mut out = serializer.serialize_tuple(2)?;
                out.serialize_element(&x)?;
                out.serialize_element(&y)?;
                out.end()
            }
            Around::Everything => serializer.serialize_tuple(0)?.end(),
        }
    }
}

impl<'de> Deserialize<'de> for Around {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Around, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Around;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a point [x, y] or [] for every cell")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Around, A::Error> {
                use serde::de::Error;
                let Some(x) = seq.next_element()? else {
                    return Ok(Around::Everything);
                };
                let y = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::invalid_length(3, &self));
                }
                Ok(Around::Point { x, y })
            }
        }
        deserializer.deserialize_seq(Visitor)
    }
}

/// One send's news for a client that sees part of the world (sessions with interest
/// management send this instead of [`super::Delta`]).
///
/// Applying it: if `fresh`, forget every entity; if `around` is given, the cells in view
/// are now those seen from it (see [`crate::cells::CellGrid::seen`]): forget the
/// entities of the cells that left view. Then apply each cell's news, `cells` being in
/// the order of the cells in view (an entity in `entered` takes its fixed facts from
/// the cell's `spawns`; one in `crossed` is now in this cell; one in `moved` is
/// corrected from its extrapolation to this tick), and finally forget each entity some
/// cell's `left` named unless another cell of this message has it in `entered` or
/// `crossed` (it crossed between two cells the client sees). So the client keeps, for
/// each entity, the cell whose news last named it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ViewDelta {
    /// The tick this message brings the client to.
    pub tick: Tick,
    /// Forget everything known: this message has every cell in view in full (the first
    /// after a `Welcome`, or after messages were skipped for a slow client). It need
    /// not follow the last tick by one step.
    pub fresh: bool,
    /// Your own player's last processed input, when it changed (always in a fresh one).
    pub acks: Vec<Ack>,
    /// Your own player's score, when it changed (always in a fresh one). Other players'
    /// scores come with the cells they are in.
    pub scores: Vec<Score>,
    /// What your view is around, when the cells in it changed (always in a fresh one):
    /// the cells in view are then [`crate::cells::CellGrid::seen`] from it.
    #[cfg_attr(test, ts(type = "[number, number] | [] | null"))]
    pub around: Option<Around>,
    /// The news of each cell in view, in ascending order of cell: in full (every
    /// entity in it `entered`) for a cell that came into view, since the last message
    /// otherwise, `None` where there is none.
    pub cells: Vec<Option<CellNews>>,
    /// What everyone is told: scores, joins, leaves, rounds, connections.
    pub world: WorldNews,
}

/// One cell's news since the last send, the same bytes for every client that sees it
/// (or, where something entered it, for every client that saw where it came from, and
/// every one that did not).
///
/// It does not say which cell it is: its place in [`ViewDelta::cells`] does. On the
/// wire its lists come in the order of how often they have something (most cells only
/// have `moved`), and the empty ones at the end are left out: a cell where two bodies
/// turned is `[moved]`. Human-readable forms (JSON) have every field.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CellNews {
    /// Entities of this cell whose motion a client could no longer extrapolate, each
    /// as its offset from where dead reckoning puts it. In binary one flat list, each
    /// correction `id, vx, vy, form` and then `dx, dy` if `form` is odd, where `form =
    /// 2 × turned`, plus 1 if there is an offset: a turn is four numbers.
    #[serde(default, deserialize_with = "moved_from_wire")]
    pub moved: Vec<Correction>,
    /// Entities that were in this cell and are not any more (moved out, or gone).
    #[serde(default)]
    pub left: Vec<EntityId>,
    /// Entities that came into this cell from cells the client sees, and so knows:
    /// only their cell changed (a change of motion is in `moved`).
    #[serde(default)]
    pub crossed: Vec<EntityId>,
    /// Entities that came into this cell, with their motion, for a client that may not
    /// know them; every entity in it when the cell is sent in full.
    #[serde(default)]
    pub entered: Vec<Arrival>,
    /// Contacts that began in this cell (each placed at its lower id's cell).
    #[serde(default)]
    pub collided: Vec<Contact>,
    /// Players of this cell that came to rest.
    #[serde(default)]
    pub stopped: Vec<EntityId>,
    /// The scores of this cell's players that changed (every score above zero when
    /// the cell is sent in full).
    #[serde(default)]
    pub scores: Vec<Score>,
    /// The fixed facts of the entities in `entered`.
    #[serde(default)]
    pub spawns: Vec<Spawn>,
}

impl CellNews {
    /// Whether there is nothing to tell.
    pub fn is_empty(&self) -> bool {
        self.moved.is_empty()
            && self.left.is_empty()
            && self.crossed.is_empty()
            && self.entered.is_empty()
            && self.collided.is_empty()
            && self.stopped.is_empty()
            && self.scores.is_empty()
            && self.spawns.is_empty()
    }

    /// Empties every list, keeping their memory.
    pub fn clear(&mut self) {
        self.moved.clear();
        self.left.clear();
        self.crossed.clear();
        self.entered.clear();
        self.collided.clear();
        self.stopped.clear();
        self.scores.clear();
        self.spawns.clear();
    }

    /// The news as a client reads events: its contacts and stops.
    pub fn events(&self) -> impl Iterator<Item = GameEvent> + '_ {
        let contacts = self
            .collided
            .iter()
            .map(|c| GameEvent::Collided { a: c.a, b: c.b });
        let stops = self.stopped.iter().map(|&id| GameEvent::Still { id });
        contacts.chain(stops)
    }

    /// Its lists, as they are encoded.
    pub fn part(&self) -> CellPart<'_> {
        CellPart {
            moved: (&self.moved, &[]),
            left: &self.left,
            crossed: &self.crossed,
            entered: &self.entered,
            collided: &self.collided,
            stopped: &self.stopped,
            scores: &self.scores,
            spawns: &self.spawns,
        }
    }
}

impl Serialize for CellNews {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.part().serialize(serializer)
    }
}

/// A cell's news as the server encodes it, from lists it keeps apart: `moved` in two
/// pieces (what moved in place, and what crossed in and turned), so that the part for
/// the clients that know what crossed and the part for the others are encoded from the
/// same lists without copying them. Encodes exactly as the [`CellNews`] it makes.
#[derive(Debug, Clone, Copy, Default)]
pub struct CellPart<'a> {
    /// `moved`, in two pieces.
    pub moved: (&'a [Correction], &'a [Correction]),
    /// `left`.
    pub left: &'a [EntityId],
    /// `crossed`.
    pub crossed: &'a [EntityId],
    /// `entered`.
    pub entered: &'a [Arrival],
    /// `collided`.
    pub collided: &'a [Contact],
    /// `stopped`.
    pub stopped: &'a [EntityId],
    /// `scores`.
    pub scores: &'a [Score],
    /// `spawns`.
    pub spawns: &'a [Spawn],
}

impl Serialize for CellPart<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let lists = [
            !(self.moved.0.is_empty() && self.moved.1.is_empty()),
            !self.left.is_empty(),
            !self.crossed.is_empty(),
            !self.entered.is_empty(),
            !self.collided.is_empty(),
            !self.stopped.is_empty(),
            !self.scores.is_empty(),
            !self.spawns.is_empty(),
        ];
        // A binary form stops after the last list with something in it.
        let fields = if serializer.is_human_readable() {
            lists.len()
        } else {
            lists
                .iter()
                .rposition(|&some| some)
                .map_or(0, |last| last + 1)
        };
        let mut out = serializer.serialize_struct("CellNews", fields)?;
        let mut field = 0;
        let mut next = |name: &'static str| {
            field += 1;
            (field <= fields).then_some(name)
        };
        if let Some(name) = next("moved") {
            out.serialize_field(name, &FlatMoved(self.moved.0, self.moved.1))?;
        }
        if let Some(name) = next("left") {
            out.serialize_field(name, self.left)?;
        }
        if let Some(name) = next("crossed") {
            out.serialize_field(name, self.crossed)?;
        }
        if let Some(name) = next("entered") {
            out.serialize_field(name, self.entered)?;
        }
        if let Some(name) = next("collided") {
            out.serialize_field(name, self.collided)?;
        }
        if let Some(name) = next("stopped") {
            out.serialize_field(name, self.stopped)?;
        }
        if let Some(name) = next("scores") {
            out.serialize_field(name, self.scores)?;
        }
        if let Some(name) = next("spawns") {
            out.serialize_field(name, self.spawns)?;
        }
        out.end()
    }
}

/// An entity's motion as a cell tells it: where it is, relative to the cell's
/// top-left corner (small numbers, whatever the size of the world), and its velocity.
/// Its fixed facts are in the cell's `spawns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Arrival {
    /// The entity.
    pub id: EntityId,
    /// x (quanta) from the cell's left edge.
    pub x: i32,
    /// y (quanta) from the cell's top edge.
    pub y: i32,
    /// Velocity x (quanta per tick).
    pub vx: i32,
    /// Velocity y (quanta per tick).
    pub vy: i32,
}

impl Arrival {
    /// The arrival of `state` in the cell whose top-left corner is `origin`.
    pub fn of(state: &EntityState, origin: (i32, i32)) -> Arrival {
        Arrival {
            id: state.id,
            x: state.x.wrapping_sub(origin.0),
            y: state.y.wrapping_sub(origin.1),
            vx: state.vx,
            vy: state.vy,
        }
    }

    /// Its motion in world quanta, in the cell whose top-left corner is `origin`.
    pub fn state(&self, origin: (i32, i32)) -> EntityState {
        EntityState {
            id: self.id,
            x: self.x.wrapping_add(origin.0),
            y: self.y.wrapping_add(origin.1),
            vx: self.vx,
            vy: self.vy,
        }
    }
}

/// A correction of an entity a client already follows, from where the client's dead
/// reckoning puts it at this message's tick (its last reported state extrapolated, see
/// [`crate::quantize`]).
///
/// Most corrections are a turn: a player that took a new direction, or a ball that was
/// pushed, some ticks before the send. So a correction says the new velocity and how
/// many ticks ago the entity took it, having followed its old motion until then; only
/// what that leaves unexplained (a bounce, a push, a spawn in the wrong place) travels
/// as an offset. In binary a cell's corrections are one flat list (see
/// [`CellNews::moved`]); human-readable forms (JSON) have each as a struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Correction {
    /// The entity.
    pub id: EntityId,
    /// Velocity x (quanta per tick).
    pub vx: i32,
    /// Velocity y (quanta per tick).
    pub vy: i32,
    /// Ticks since the entity took this velocity.
    #[serde(default)]
    pub turned: u32,
    /// x (quanta) minus the extrapolated x, turn included.
    #[serde(default)]
    pub dx: i32,
    /// y (quanta) minus the extrapolated y, turn included.
    #[serde(default)]
    pub dy: i32,
}

impl Correction {
    /// The correction from `predicted` (the extrapolation clients hold, at its old
    /// velocity) to `now`, naming the turn in the last `within` ticks that explains
    /// `now` best: exactly, for a player that took a new direction.
    pub fn between(predicted: &EntityState, now: &EntityState, within: u32) -> Correction {
        // Having turned `t` ticks ago, it is off by `t` times the change of velocity.
        let turn = (
            now.vx.wrapping_sub(predicted.vx),
            now.vy.wrapping_sub(predicted.vy),
        );
        let off = (
            now.x.wrapping_sub(predicted.x),
            now.y.wrapping_sub(predicted.y),
        );
        let left_over = |turned: u32| {
            let t = turned as i32;
            let dx = off.0.wrapping_sub(turn.0.wrapping_mul(t));
            let dy = off.1.wrapping_sub(turn.1.wrapping_mul(t));
            (dx, dy, dx.unsigned_abs().saturating_add(dy.unsigned_abs()))
        };
        let turned = (0..=within).min_by_key(|&t| left_over(t).2).unwrap_or(0);
        let (dx, dy, _) = left_over(turned);
        Correction {
            id: now.id,
            vx: now.vx,
            vy: now.vy,
            turned,
            dx,
            dy,
        }
    }

    /// Its elements in a flat `moved` list: `id, vx, vy, form`, then `dx, dy` if the
    /// form is odd.
    fn flat_len(&self) -> usize {
        if self.has_offset() { 6 } else { 4 }
    }

    /// `2 × turned + 1` with an offset, `2 × turned` without.
    fn form(&self) -> u32 {
        self.turned.saturating_mul(2) | u32::from(self.has_offset())
    }

    fn has_offset(&self) -> bool {
        self.dx != 0 || self.dy != 0
    }

    /// The state it makes of `predicted`.
    pub fn applied_to(&self, predicted: &EntityState) -> EntityState {
        let turn = |v: i32, old: i32| v.wrapping_sub(old).wrapping_mul(self.turned as i32);
        EntityState {
            id: self.id,
            x: predicted
                .x
                .wrapping_add(turn(self.vx, predicted.vx))
                .wrapping_add(self.dx),
            y: predicted
                .y
                .wrapping_add(turn(self.vy, predicted.vy))
                .wrapping_add(self.dy),
            vx: self.vx,
            vy: self.vy,
        }
    }
}

/// A cell's corrections as one flat list in binary (see [`CellNews::moved`]): a
/// turn costs its four numbers and no array header of its own. A list of structs in
/// human-readable forms.
struct FlatMoved<'a>(&'a [Correction], &'a [Correction]);

impl Serialize for FlatMoved<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let all = self.0.iter().chain(self.1);
        if serializer.is_human_readable() {
            return serializer.collect_seq(all);
        }
        let len = all.clone().map(Correction::flat_len).sum();
        let mut out = serializer.serialize_seq(Some(len))?;
        for c in all {
            out.serialize_element(&c.id)?;
            out.serialize_element(&c.vx)?;
            out.serialize_element(&c.vy)?;
            out.serialize_element(&c.form())?;
            if c.has_offset() {
                out.serialize_element(&c.dx)?;
                out.serialize_element(&c.dy)?;
            }
        }
        out.end()
    }
}

/// Reads [`CellNews::moved`]: the flat list in binary, structs in human-readable forms.
fn moved_from_wire<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Correction>, D::Error> {
    struct Flat;
    impl<'de> serde::de::Visitor<'de> for Flat {
        type Value = Vec<Correction>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a flat list of corrections: id, vx, vy, form[, dx, dy]")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Vec<Correction>, A::Error> {
            use serde::de::Error;
            let mut out = Vec::new();
            while let Some(id) = seq.next_element::<EntityId>()? {
                let mut next = |what: &'static str| -> Result<i32, A::Error> {
                    seq.next_element()?
                        .ok_or_else(|| A::Error::custom(format!("a correction without its {what}")))
                };
                let (vx, vy) = (next("vx")?, next("vy")?);
                let form = u32::try_from(next("form")?)
                    .map_err(|_| A::Error::custom("a correction's form is negative"))?;
                let (dx, dy) = if form & 1 == 1 {
                    (next("dx")?, next("dy")?)
                } else {
                    (0, 0)
                };
                out.push(Correction {
                    id,
                    vx,
                    vy,
                    turned: form >> 1,
                    dx,
                    dy,
                });
            }
            Ok(out)
        }
    }
    if deserializer.is_human_readable() {
        Vec::deserialize(deserializer)
    } else {
        deserializer.deserialize_seq(Flat)
    }
}

/// Two entities that started touching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Contact {
    /// The lower id.
    pub a: EntityId,
    /// The higher id.
    pub b: EntityId,
}

/// The part of a send every client of the session gets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct WorldNews {
    /// Joins, leaves, connections lost and back, rounds started and ended (a round's
    /// end with the best [`MAX_ROUND_SCORES`] scores only).
    pub events: Vec<GameEvent>,
}

/// The final scores a `RoundEnded` of a world with interest management carries: the
/// best ones (each player is told its own in [`ViewDelta::scores`]).
pub const MAX_ROUND_SCORES: usize = 20;
