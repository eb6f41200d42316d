// The Arena wire protocol (arena.v2) on the browser side: message types and codec.
//
// The types mirror the Rust types of `arena-shared` exactly as serde_json writes them
// (enums as `{ Variant: fields }`, snake_case fields), so the golden messages that Rust
// encodes (test/golden.json) can be compared with what this module decodes, value for
// value. On the wire, structs are MessagePack arrays in field order: the schemas below
// name the fields of each array, in that order. See docs/PROTOCOL.md.

import { decode, encode } from "@msgpack/msgpack";

export const SUBPROTOCOL = "arena.v2";
/** Position quanta per game unit. */
export const POS_SCALE = 8;
/** Direction components are integers in -127..=127. */
export const DIR_SCALE = 127;

// The message types are generated from the Rust types (src/generated/protocol.ts, by
// ts-rs; a Rust test fails when that file is stale). The schemas below are typed
// against them, so a generated type that changes without its schema fails the type check.
export type * from "./generated/protocol";
import type {
  Ack,
  ArenaInfo,
  Arrival,
  CellNews,
  ChatLine,
  ChatLines,
  ClientMessage,
  Contact,
  ControllerStatus,
  Correction,
  Delta,
  EntityKind,
  EntityState,
  Feed,
  GameEvent,
  PairCode,
  PairRefused,
  Paired,
  Pong,
  ReplayFrames,
  RoundPhase,
  RoundState,
  Score,
  ServerMessage,
  Snapshot,
  Spawn,
  ViewDelta,
  ViewInfo,
  Welcome,
  WorldNews,
} from "./generated/protocol";

/** A frame that is not a valid server message. */
export class ProtocolError extends Error {}

// ---- Schemas: how each array on the wire becomes an object. ----

type Decoder<T> = (raw: unknown, path: string) => T;

const fail = (path: string, what: string): never => {
  throw new ProtocolError(`${path}: expected ${what}`);
};

const int: Decoder<number> = (raw, path) =>
  typeof raw === "number" && Number.isInteger(raw) ? raw : fail(path, "an integer");
const str: Decoder<string> = (raw, path) => (typeof raw === "string" ? raw : fail(path, "a string"));
const bool: Decoder<boolean> = (raw, path) => (typeof raw === "boolean" ? raw : fail(path, "a boolean"));
const oneOf = <T extends string>(...names: T[]): Decoder<T> => (raw, path) =>
  typeof raw === "string" && (names as string[]).includes(raw) ? (raw as T) : fail(path, names.join(" or "));
const nullable = <T>(inner: Decoder<T>): Decoder<T | null> => (raw, path) =>
  raw === null || raw === undefined ? null : inner(raw, path);
const list = <T>(inner: Decoder<T>): Decoder<T[]> => (raw, path) =>
  Array.isArray(raw) ? raw.map((item, i) => inner(item, `${path}[${i}]`)) : fail(path, "an array");

/** A field the server leaves out of the array when it has no value (always last). */
const optional = <T>(inner: Decoder<T>): Decoder<T | undefined> =>
  Object.assign((raw: unknown, path: string) => (raw === undefined ? undefined : inner(raw, path)), { optional: true });

/** A struct: an array on the wire, an object here, fields in wire order. */
function struct<T>(fields: { [K in keyof T]-?: Decoder<T[K]> }): Decoder<T> {
  const names = Object.keys(fields) as (keyof T)[];
  const required = names.filter((name) => !("optional" in fields[name])).length;
  return (raw, path) => {
    if (!Array.isArray(raw) || raw.length < required || raw.length > names.length) {
      return fail(path, `an array of ${names.length} fields (${names.join(", ")})`);
    }
    const out = {} as T;
    names.forEach((name, i) => {
      const value = fields[name](raw[i], `${path}.${String(name)}`);
      if (value !== undefined) out[name] = value;
    });
    return out;
  };
}

/** The names of an enum's variants that carry fields. */
type VariantName<U> = U extends string ? never : keyof U & string;
/** The fields of variant `K` of enum `U`. */
type Payload<U, K extends string> = U extends { [P in K]: infer V } ? V : never;

/** An enum: a one-entry map `{ Variant: fields }` on the wire and here; a decoder for
 *  each of the (generated) type's variants, no more, no fewer. */
function variants<T>(typed: { [K in VariantName<T>]: Decoder<Payload<T, K>> }): Decoder<T> {
  const cases = typed as Record<string, Decoder<unknown>>;
  return (raw, path) => {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return fail(path, "a one-entry map");
    const keys = Object.keys(raw as object);
    const name = keys[0];
    if (keys.length !== 1 || name === undefined || !(name in cases)) {
      return fail(path, `one of ${Object.keys(cases).join(", ")}`);
    }
    return { [name]: cases[name]!((raw as Record<string, unknown>)[name], `${path}.${name}`) } as T;
  };
}

const spawn = struct<Spawn>({ id: int, kind: oneOf<EntityKind>("Player", "Ball"), radius: int, name: str });
const entityState = struct<EntityState>({ id: int, x: int, y: int, vx: int, vy: int });
const ack = struct<Ack>({ id: int, seq: int });
const score = struct<Score>({ id: int, points: int });
const roundState = struct<RoundState>({ number: int, phase: oneOf<RoundPhase>("Playing", "Intermission"), ends_at: int });
const arenaInfo = struct<ArenaInfo>({ width: int, height: int, round_ticks: int, intermission_ticks: int, player_speed: int });

const snapshot = struct<Snapshot>({
  tick: int,
  spawns: list(spawn),
  states: list(entityState),
  acks: list(ack),
  scores: list(score),
  round: roundState,
  away: list(int),
});
const gameEvent = variants<GameEvent>({
  Collided: struct({ a: int, b: int }),
  Still: struct({ id: int }),
  PlayerJoined: struct({ id: int, name: str }),
  PlayerLeft: struct({ id: int }),
  RoundStarted: struct({ number: int, ends_at: int }),
  RoundEnded: struct({ number: int, scores: list(score) }),
  Connection: struct({ id: int, connected: bool }),
});
const delta = struct<Delta>({
  tick: int,
  spawned: list(spawn),
  moved: list(entityState),
  removed: list(int),
  acks: list(ack),
  scores: list(score),
  events: list(gameEvent),
});
const viewInfo = struct<ViewInfo>({ cell_size: int, view_radius: int, see_all: bool });
const welcome = struct<Welcome>({
  you: nullable(int),
  session: str,
  tick_hz: int,
  send_hz: int,
  arena: arenaInfo,
  reconnect_token: str,
  snapshot,
  resumed: bool,
  view: optional(viewInfo) as Decoder<ViewInfo>,
});
/** A list the server leaves out of the array when it is empty and last. */
const absentAsEmpty = <T>(decode: Decoder<T[]>): Decoder<T[]> =>
  Object.assign((raw: unknown, path: string) => (raw === undefined ? [] : decode(raw, path)), { optional: true });
const trailing = <T>(inner: Decoder<T>): Decoder<T[]> => absentAsEmpty(list(inner));
/**
 * A cell's corrections, one flat list: `id, vx, vy, form`, then `dx, dy` if `form` is
 * odd; `turned = form >> 1`.
 */
const flatMoved: Decoder<Correction[]> = (raw, path) => {
  const numbers = list(int)(raw, path);
  const out: Correction[] = [];
  let at = 0;
  const next = () => (at < numbers.length ? numbers[at++]! : fail(`${path}[${at}]`, "the rest of a correction"));
  while (at < numbers.length) {
    const [id, vx, vy, form] = [next(), next(), next(), next()];
    if (form < 0) fail(`${path}[${at - 1}]`, "a form of at least 0");
    const [dx, dy] = form % 2 === 1 ? [next(), next()] : [0, 0];
    out.push({ id, vx, vy, turned: form >> 1, dx, dy });
  }
  return out;
};
const cellNews = struct<CellNews>({
  moved: absentAsEmpty(flatMoved),
  left: trailing(int),
  crossed: trailing(int),
  entered: trailing(struct<Arrival>({ id: int, x: int, y: int, vx: int, vy: int })),
  collided: trailing(struct<Contact>({ a: int, b: int })),
  stopped: trailing(int),
  scores: trailing(score),
  spawns: trailing(spawn),
});
/** What a view is around: a point `[x, y]`, or `[]` for every cell. */
const around: Decoder<[number, number] | []> = (raw, path) => {
  const items = list(int)(raw, path);
  return items.length === 2 ? [items[0]!, items[1]!] : items.length === 0 ? [] : fail(path, "[x, y] or []");
};
const viewDelta = struct<ViewDelta>({
  tick: int,
  fresh: bool,
  acks: list(ack),
  scores: list(score),
  around: nullable(around),
  cells: list(nullable(cellNews)),
  world: struct<WorldNews>({ events: list(gameEvent) }),
});
const serverMessage = variants<ServerMessage>({
  Welcome: welcome,
  Snapshot: snapshot,
  Delta: delta,
  Pong: struct<Pong>({ client_time: int }),
  PairCode: struct<PairCode>({ code: str, expires_in_s: int, lan_url: nullable(str) }),
  Paired: struct<Paired>({ player: int, name: str, session: str, tick_hz: int, score: int, round: roundState, tick: int }),
  PairRefused: struct<PairRefused>({ reason: str }),
  Feed: struct<Feed>({ tick: int, score: int, round: roundState, events: list(gameEvent) }),
  Controller: struct<ControllerStatus>({ attached: bool }),
  Chat: struct<ChatLines>({ lines: list(struct<ChatLine>({ from: str, text: str })) }),
  View: viewDelta,
});

/** Decodes one binary frame from the server. Throws ProtocolError if it is not valid. */
export function decodeServer(frame: Uint8Array): ServerMessage {
  return serverMessage(unpack(frame), "message");
}

/** MessagePack bytes as plain values, for a schema to check. */
function unpack(bytes: Uint8Array): unknown {
  try {
    return decode(bytes);
  } catch (err) {
    throw new ProtocolError(`not MessagePack: ${(err as Error).message}`);
  }
}

const replayFrames = struct<ReplayFrames>({
  session: str,
  round: int,
  tick_hz: int,
  send_hz: int,
  arena: arenaInfo,
  snapshot,
  deltas: list(delta),
});

/** Decodes a replayed round (`GET /api/replays/ID`). Throws ProtocolError if invalid. */
export function decodeReplayFrames(body: Uint8Array): ReplayFrames {
  return replayFrames(unpack(body), "replay");
}

/** Encodes a client message: objects become arrays in field order. */
export function encodeClient(message: ClientMessage): Uint8Array {
  // A variant without fields is just its name.
  if (message === "RequestPairCode" || message === "Leave") return encode(message);
  if ("Pair" in message) return encode({ Pair: [message.Pair.code] });
  if ("Chat" in message) return encode({ Chat: [message.Chat.text] });
  if ("Look" in message) {
    const look = message.Look;
    if (look === "Everything") return encode({ Look: look });
    if ("At" in look) return encode({ Look: { At: [Math.round(look.At.x), Math.round(look.At.y)] } });
    return encode({ Look: { Follow: [look.Follow.id] } });
  }
  if ("Hello" in message) {

    const { name, session, role, reconnect } = message.Hello;
    return encode({ Hello: [name, session, role, reconnect] });
  }
  if ("Move" in message) {
    const { seq, dx, dy } = message.Move;
    return encode({ Move: [seq >>> 0, clampDir(dx), clampDir(dy)] });
  }
  return encode({ Ping: [message.Ping.client_time >>> 0] });
}

const clampDir = (v: number) => Math.max(-DIR_SCALE, Math.min(DIR_SCALE, Math.round(v)));

/** A steering direction (any length; clamped to 1) as wire components. */
export function directionToWire(x: number, y: number): [number, number] {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return [0, 0];
  const len = Math.hypot(x, y);
  const [ux, uy] = len > 1 ? [x / len, y / len] : [x, y];
  // `+ 0` turns -0 into 0, so that "no direction" always compares equal.
  return [Math.round(ux * DIR_SCALE) + 0, Math.round(uy * DIR_SCALE) + 0];
}

/** Wire direction components back to a vector of length at most 1, as the server does. */
export function directionFromWire(dx: number, dy: number): [number, number] {
  const x = dx / DIR_SCALE;
  const y = dy / DIR_SCALE;
  const len = Math.hypot(x, y);
  return len > 1 ? [x / len, y / len] : [x, y];
}
