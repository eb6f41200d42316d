// Generated from arena-shared's Rust message types (shared/src/protocol.rs) by ts-rs.
// Do not edit: change the Rust types, then run
//   ARENA_UPDATE_GENERATED=1 cargo test -p arena-shared generated
// These are the messages as serde_json writes them; on the wire, structs are
// MessagePack arrays in field order (see protocol.ts and docs/PROTOCOL.md).

export type Tick = number;

export type EntityId = number;

export type Role = "Player" | "Spectator";

export type ClientMessage = { "Hello": Hello } | { "Move": Move } | { "Ping": Ping } | "RequestPairCode" | { "Pair": Pair } | "Leave" | { "Chat": Say } | { "Look": Look };

export type Hello = { 
/**
 * Shown to other players; at most [`crate::limits::MAX_NAME_CHARS`] characters.
 */
name: string, 
/**
 * The session to join: an unknown code creates it, none (or empty) joins
 * [`crate::limits::DEFAULT_SESSION`].
 */
session: string | null, 
/**
 * Player or spectator.
 */
role: Role, 
/**
 * The `reconnect_token` of an earlier `Welcome`: within the grace period after a
 * lost connection, the player comes back as the same entity with the same score.
 * `None`, or a token the session does not know, joins as a new player. It may be
 * left out on the wire.
 */
reconnect: string | null, };

export type Move = { 
/**
 * Increases with every `Move` the client sends; echoed back in
 * [`Delta::acks`] once the server has applied it, so the client can reconcile
 * its prediction.
 */
seq: number, 
/**
 * Direction x in `-127..=127` (see [`crate::quantize::direction_to_wire`]).
 */
dx: number, 
/**
 * Direction y in `-127..=127`; +y points down the screen.
 */
dy: number, };

export type Ping = { 
/**
 * Opaque to the server, echoed back: typically the client's clock in ms.
 */
client_time: number, };

export type Pair = { 
/**
 * The code, as shown on the game page (case-insensitive).
 */
code: string, };

export type Say = { 
/**
 * The line. The server strips control characters, trims it, cuts it to
 * [`crate::limits::MAX_CHAT_CHARS`] and masks the words its config lists.
 */
text: string, };

export type Look = { "At": { 
/**
 * x (quanta).
 */
x: number, 
/**
 * y (quanta).
 */
y: number, } } | { "Follow": { 
/**
 * The player.
 */
id: EntityId, } } | "Everything";

export type ServerMessage = { "Welcome": Welcome } | { "Snapshot": Snapshot } | { "Delta": Delta } | { "Pong": Pong } | { "PairCode": PairCode } | { "Paired": Paired } | { "PairRefused": PairRefused } | { "Feed": Feed } | { "Controller": ControllerStatus } | { "Chat": ChatLines } | { "View": ViewDelta };

export type Welcome = { 
/**
 * Your player's entity; `None` for a spectator.
 */
you: EntityId | null, 
/**
 * The session joined (the default session's code when none was given).
 */
session: string, 
/**
 * Simulation ticks per second: velocities are per tick, and tick numbers count
 * them.
 */
tick_hz: number, 
/**
 * Deltas per second: one every `tick_hz / send_hz` ticks (a whole number), each
 * carrying everything since the one before.
 */
send_hz: number, 
/**
 * The arena's fixed facts.
 */
arena: ArenaInfo, 
/**
 * Proves this player's identity when reconnecting (see [`Hello::reconnect`]);
 * unguessable, 32 hex digits.
 */
reconnect_token: string, 
/**
 * The world as of the tick the player joined; deltas follow from the next tick.
 */
snapshot: Snapshot, 
/**
 * True when the `Hello`'s reconnect token brought back its player, score and all.
 * A client that sent a token and reads false was away too long (or its session
 * ended): it is a new player now, and should say so.
 */
resumed: boolean, 
/**
 * Present when the session has interest management: the client is then sent
 * [`ServerMessage::View`]s of the cells near it (the snapshot holds no entities;
 * the first `View` brings them). Absent on the wire otherwise.
 */
view?: ViewInfo, };

export type ArenaInfo = { 
/**
 * Width in position quanta; x runs from 0 to this.
 */
width: number, 
/**
 * Height in position quanta; y runs from 0 to this.
 */
height: number, 
/**
 * Ticks in a round.
 */
round_ticks: number, 
/**
 * Ticks between a round's end and the next one's start.
 */
intermission_ticks: number, 
/**
 * A player's speed at full input, in position quanta per second: what a client
 * needs to predict its own player's motion.
 */
player_speed: number, };

export type ViewInfo = { 
/**
 * A cell's side, in position quanta. Cell `c` covers columns
 * `c % cols` and rows `c / cols`, `cols = ceil(arena width / cell_size)`.
 */
cell_size: number, 
/**
 * How far a player sees, in position quanta: it is sent the cells whose nearest
 * point is at most this far from it ([`crate::cells::CellGrid::within_reach`]).
 */
view_radius: number, 
/**
 * Whether a spectator may ask to see every cell ([`Look::Everything`]).
 */
see_all: boolean, };

export type Snapshot = { 
/**
 * The tick this snapshot describes.
 */
tick: Tick, 
/**
 * Every entity's fixed facts.
 */
spawns: Array<Spawn>, 
/**
 * Every entity's motion at [`Snapshot::tick`].
 */
states: Array<EntityState>, 
/**
 * Every player's last processed input sequence number.
 */
acks: Array<Ack>, 
/**
 * Every player's score.
 */
scores: Array<Score>, 
/**
 * Where the round stands.
 */
round: RoundState, 
/**
 * Players whose connection is lost: they wait out the reconnect grace period as
 * ghosts, touching nothing and scoring nothing. Later changes arrive as
 * [`GameEvent::Connection`].
 */
away: Array<EntityId>, };

export type Delta = { 
/**
 * The tick this delta brings the client to.
 */
tick: Tick, 
/**
 * Entities that appeared this tick (their motion is in `moved`).
 */
spawned: Array<Spawn>, 
/**
 * Entities whose motion a client could no longer extrapolate: velocity changed
 * or drift exceeded the threshold. Entities not listed keep moving as extrapolated.
 */
moved: Array<EntityState>, 
/**
 * Entities gone this tick.
 */
removed: Array<EntityId>, 
/**
 * Players whose last processed input sequence number changed this tick.
 */
acks: Array<Ack>, 
/**
 * Players whose score changed this tick.
 */
scores: Array<Score>, 
/**
 * What happened this tick.
 */
events: Array<GameEvent>, };

export type ViewDelta = { 
/**
 * The tick this message brings the client to.
 */
tick: Tick, 
/**
 * Forget everything known: this message has every cell in view in full (the first
 * after a `Welcome`, or after messages were skipped for a slow client). It need
 * not follow the last tick by one step.
 */
fresh: boolean, 
/**
 * Your own player's last processed input, when it changed (always in a fresh one).
 */
acks: Array<Ack>, 
/**
 * Your own player's score, when it changed (always in a fresh one). Other players'
 * scores come with the cells they are in.
 */
scores: Array<Score>, 
/**
 * What your view is around, when the cells in it changed (always in a fresh one):
 * the cells in view are then [`crate::cells::CellGrid::seen`] from it.
 */
around: [number, number] | [] | null, 
/**
 * The news of each cell in view, in ascending order of cell: in full (every
 * entity in it `entered`) for a cell that came into view, since the last message
 * otherwise, `None` where there is none.
 */
cells: Array<CellNews | null>, 
/**
 * What everyone is told: scores, joins, leaves, rounds, connections.
 */
world: WorldNews, };

export type CellNews = { 
/**
 * Entities of this cell whose motion a client could no longer extrapolate, each
 * as its offset from where dead reckoning puts it. In binary one flat list, each
 * correction `id, vx, vy, form` and then `dx, dy` if `form` is odd, where `form =
 * 2 × turned`, plus 1 if there is an offset: a turn is four numbers.
 */
moved: Array<Correction>, 
/**
 * Entities that were in this cell and are not any more (moved out, or gone).
 */
left: Array<EntityId>, 
/**
 * Entities that came into this cell from cells the client sees, and so knows:
 * only their cell changed (a change of motion is in `moved`).
 */
crossed: Array<EntityId>, 
/**
 * Entities that came into this cell, with their motion, for a client that may not
 * know them; every entity in it when the cell is sent in full.
 */
entered: Array<Arrival>, 
/**
 * Contacts that began in this cell (each placed at its lower id's cell).
 */
collided: Array<Contact>, 
/**
 * Players of this cell that came to rest.
 */
stopped: Array<EntityId>, 
/**
 * The scores of this cell's players that changed (every score above zero when
 * the cell is sent in full).
 */
scores: Array<Score>, 
/**
 * The fixed facts of the entities in `entered`.
 */
spawns: Array<Spawn>, };

export type Arrival = { 
/**
 * The entity.
 */
id: EntityId, 
/**
 * x (quanta) from the cell's left edge.
 */
x: number, 
/**
 * y (quanta) from the cell's top edge.
 */
y: number, 
/**
 * Velocity x (quanta per tick).
 */
vx: number, 
/**
 * Velocity y (quanta per tick).
 */
vy: number, };

export type Correction = { 
/**
 * The entity.
 */
id: EntityId, 
/**
 * Velocity x (quanta per tick).
 */
vx: number, 
/**
 * Velocity y (quanta per tick).
 */
vy: number, 
/**
 * Ticks since the entity took this velocity.
 */
turned: number, 
/**
 * x (quanta) minus the extrapolated x, turn included.
 */
dx: number, 
/**
 * y (quanta) minus the extrapolated y, turn included.
 */
dy: number, };

export type Contact = { 
/**
 * The lower id.
 */
a: EntityId, 
/**
 * The higher id.
 */
b: EntityId, };

export type WorldNews = { 
/**
 * Joins, leaves, connections lost and back, rounds started and ended (a round's
 * end with the best [`MAX_ROUND_SCORES`] scores only).
 */
events: Array<GameEvent>, };

export type Spawn = { 
/**
 * Its id.
 */
id: EntityId, 
/**
 * Player or ball.
 */
kind: EntityKind, 
/**
 * Radius in position quanta.
 */
radius: number, 
/**
 * Display name; empty for balls.
 */
name: string, };

export type EntityKind = "Player" | "Ball";

export type EntityState = { 
/**
 * Its id.
 */
id: EntityId, 
/**
 * Position x (quanta).
 */
x: number, 
/**
 * Position y (quanta).
 */
y: number, 
/**
 * Velocity x (quanta per tick).
 */
vx: number, 
/**
 * Velocity y (quanta per tick).
 */
vy: number, };

export type Ack = { 
/**
 * The player.
 */
id: EntityId, 
/**
 * The highest input sequence number applied so far.
 */
seq: number, };

export type Score = { 
/**
 * The player.
 */
id: EntityId, 
/**
 * Points this round.
 */
points: number, };

export type RoundState = { 
/**
 * Round number, from 1.
 */
number: number, 
/**
 * Whether points are being scored.
 */
phase: RoundPhase, 
/**
 * The tick at which this phase ends.
 */
ends_at: Tick, };

export type RoundPhase = "Playing" | "Intermission";

export type GameEvent = { "Collided": { 
/**
 * The lower id.
 */
a: EntityId, 
/**
 * The higher id.
 */
b: EntityId, } } | { "Still": { 
/**
 * The player.
 */
id: EntityId, } } | { "PlayerJoined": { 
/**
 * The player.
 */
id: EntityId, 
/**
 * Its display name.
 */
name: string, } } | { "PlayerLeft": { 
/**
 * The player.
 */
id: EntityId, } } | { "RoundStarted": { 
/**
 * Its number.
 */
number: number, 
/**
 * The tick at which it ends.
 */
ends_at: Tick, } } | { "RoundEnded": { 
/**
 * Its number.
 */
number: number, 
/**
 * Final scores, best first.
 */
scores: Array<Score>, } } | { "Connection": { 
/**
 * The player.
 */
id: EntityId, 
/**
 * Whether it is connected now.
 */
connected: boolean, } };

export type Pong = { 
/**
 * The ping's `client_time`, echoed. Answered by the connection's reader at once,
 * not by the tick loop, so the round trip measures the network alone.
 */
client_time: number, };

export type PairCode = { 
/**
 * Six characters from an alphabet without look-alikes (no 0/O, 1/I/L).
 */
code: string, 
/**
 * Seconds until the code expires; it works once.
 */
expires_in_s: number, 
/**
 * The controller page's address on the server's local network
 * (`http://192.168.1.20:8080`), for a QR code a phone can reach, if known.
 */
lan_url: string | null, };

export type Paired = { 
/**
 * The player it steers.
 */
player: EntityId, 
/**
 * That player's name.
 */
name: string, 
/**
 * The session.
 */
session: string, 
/**
 * Ticks per second (a feed's `tick` and `round.ends_at` count them).
 */
tick_hz: number, 
/**
 * Its current score.
 */
score: number, 
/**
 * Where the round stands.
 */
round: RoundState, 
/**
 * The tick this was sent at: with `tick_hz`, the phone counts the round down
 * between feeds, which come only when something happens to its player.
 */
tick: Tick, };

export type PairRefused = { 
/**
 * For the user: unknown, expired, already used, or the player left.
 */
reason: string, };

export type Feed = { 
/**
 * The tick.
 */
tick: Tick, 
/**
 * The player's score.
 */
score: number, 
/**
 * Where the round stands.
 */
round: RoundState, 
/**
 * Its player's collisions and stops, and round starts and ends.
 */
events: Array<GameEvent>, };

export type ControllerStatus = { 
/**
 * True while at least one controller is paired.
 */
attached: boolean, };

export type ChatLines = { 
/**
 * The lines.
 */
lines: Array<ChatLine>, };

export type ChatLine = { 
/**
 * Who said it: a player's name, or "spectator".
 */
from: string, 
/**
 * What was said: plain text, to be shown as text, never as markup.
 */
text: string, };

export type ReplayFrames = { 
/**
 * The session's code.
 */
session: string, 
/**
 * The round's number.
 */
round: number, 
/**
 * Ticks per second.
 */
tick_hz: number, 
/**
 * Deltas per second: one every `tick_hz / send_hz` ticks.
 */
send_hz: number, 
/**
 * The arena.
 */
arena: ArenaInfo, 
/**
 * The world at the round's start.
 */
snapshot: Snapshot, 
/**
 * Every delta of the round, in order.
 */
deltas: Array<Delta>, };
