// The client's copy of a session's world, kept from Welcome, Snapshot and Delta
// messages: the TypeScript twin of `arena_shared::mirror::Mirror`.
//
// The server leaves out of a delta every entity whose motion a client can extrapolate
// (dead reckoning). This module keeps, per entity, the last few reports, so it can say
// where the entity was at any recent tick exactly, and between two ticks by linear
// interpolation, which is how other players are drawn smoothly a little in the past.

import type {
  Ack,
  ArenaInfo,
  Delta,
  EntityId,
  EntityState,
  GameEvent,
  RoundState,
  Score,
  Snapshot,
  Spawn,
  Tick,
  ViewDelta,
  ViewInfo,
} from "./protocol";

/** An entity's motion as last reported at `tick`. */
interface Report {
  state: EntityState;
  tick: Tick;
}

/** How many ticks of reports to keep: enough to draw a little in the past. */
const HISTORY_TICKS = 45;

/** How far past the last delta an entity is extrapolated when drawing. */
const MAX_EXTRAPOLATION_TICKS = 3;


/** Where a client that got `base` `ticks` ago places the entity: integer quanta. */
export function extrapolate(base: EntityState, ticks: number): EntityState {
  return { ...base, x: base.x + base.vx * ticks, y: base.y + base.vy * ticks };
}

export class World {
  tick: Tick = 0;
  readonly spawns = new Map<EntityId, Spawn>();
  readonly acks = new Map<EntityId, number>();
  readonly scores = new Map<EntityId, number>();
  round: RoundState = { number: 0, phase: "Playing", ends_at: 0 };
  /** Players whose connection is lost: drawn as ghosts, they touch nothing. */
  readonly away = new Set<EntityId>();
  /** Points each player gained in the last delta (a ball: 1, a ram: 2). */
  readonly gains = new Map<EntityId, number>();
  /** Names of the players the last delta removed, so a leave can say who left. */
  readonly departed = new Map<EntityId, string>();
  /** Deltas refused because they did not follow the previous tick. */
  gaps = 0;
  /** With interest management: the cell whose news last named each entity. */
  readonly cellOf = new Map<EntityId, number>();
  /** With interest management: the cells in view, as the last view's news named them. */
  readonly cellsSeen = new Set<number>();
  /** With interest management: the point the view is around (quanta), `[]` for every
   *  cell, as last told (a view says it when its cells change). */
  around: [number, number] | [] | null = null;
  private readonly reports = new Map<EntityId, Report[]>();

  /**
   * `sendEvery`: ticks from one delta to the next (`tick_hz / send_hz`); `view`: the
   * Welcome's interest management, if the session has it (then `applyView` is fed).
   */
  constructor(
    readonly arena: ArenaInfo,
    readonly tickHz: number,
    readonly sendEvery = 1,
    readonly view: ViewInfo | null = null,
  ) {}

  /** Replaces everything with a snapshot's world. */
  reset(snapshot: Snapshot): void {
    this.tick = snapshot.tick;
    this.spawns.clear();
    this.reports.clear();
    this.cellOf.clear();
    this.cellsSeen.clear();
    this.around = null;
    for (const spawn of snapshot.spawns) this.spawns.set(spawn.id, spawn);
    for (const state of snapshot.states) this.reports.set(state.id, [{ state, tick: snapshot.tick }]);
    this.setAll(this.acks, snapshot.acks.map((a: Ack) => [a.id, a.seq]));
    this.setAll(this.scores, snapshot.scores.map((s: Score) => [s.id, s.points]));
    this.round = snapshot.round;
    this.away.clear();
    for (const id of snapshot.away) this.away.add(id);
  }

  /**
   * Applies the next delta and returns its events, or null if it does not follow the
   * last one by `sendEvery` ticks (a delta was lost; the server sends a snapshot soon).
   */
  apply(delta: Delta): GameEvent[] | null {
    if (delta.tick !== this.tick + this.sendEvery) {
      this.gaps += 1;
      return null;
    }
    this.tick = delta.tick;
    this.gains.clear();
    this.departed.clear();
    for (const spawn of delta.spawned) this.spawns.set(spawn.id, spawn);
    for (const state of delta.moved) this.report(state);
    for (const id of delta.removed) {
      this.forget(id);
      this.acks.delete(id);
      this.scores.delete(id);
    }
    for (const ack of delta.acks) this.acks.set(ack.id, ack.seq);
    this.noteScores(delta.scores);
    this.noteEvents(delta.events);
    return delta.events;
  }

  /**
   * Applies the next view of a session with interest management (the rule is
   * `ViewDelta`'s) and returns its events, or null if it does not follow the last one
   * and is not fresh.
   */
  applyView(view: ViewDelta): GameEvent[] | null {
    if (!view.fresh && view.tick !== this.tick + this.sendEvery) {
      this.gaps += 1;
      return null;
    }
    this.tick = view.tick;
    this.gains.clear();
    this.departed.clear();
    if (view.fresh) {
      for (const id of [...this.spawns.keys()]) this.forget(id);
      this.cellsSeen.clear();
    }
    if (view.around !== null) {
      // The cells in view changed: those seen from its new point, and what was outside goes.
      this.around = view.around;
      const now = this.seen(view.around);
      const kept = new Set(now);
      for (const [id, cell] of this.cellOf) if (!kept.has(cell)) this.forget(id);
      this.cellsSeen.clear();
      for (const cell of now) this.cellsSeen.add(cell);
    }
    const seen = [...this.cellsSeen];
    const events: GameEvent[] = [];
    const news = view.cells.flatMap((n, i) => (n !== null && seen[i] !== undefined ? [{ cell: seen[i]!, n }] : []));
    for (const { cell, n } of news) {
      const origin = this.cellOrigin(cell);
      const spawns = new Map(n.spawns.map((spawn) => [spawn.id, spawn]));
      for (const id of n.crossed) if (this.spawns.has(id)) this.cellOf.set(id, cell);
      for (const a of n.entered) {
        const spawn = spawns.get(a.id);
        if (spawn === undefined) continue;
        this.spawns.set(a.id, spawn);
        this.reports.delete(a.id);
        this.report({ id: a.id, x: origin.x + a.x, y: origin.y + a.y, vx: a.vx, vy: a.vy });
        this.cellOf.set(a.id, cell);
      }
      for (const c of n.moved) {
        const last = this.stateAt(c.id, this.tick);
        if (last === undefined) continue;
        // It followed its old motion until it turned, `turned` ticks ago.
        const x = last.x + (c.vx - last.vx) * c.turned + c.dx;
        const y = last.y + (c.vy - last.vy) * c.turned + c.dy;
        this.report({ id: c.id, x, y, vx: c.vx, vy: c.vy });
        this.cellOf.set(c.id, cell);
      }
      this.noteScores(n.scores);
      for (const { a, b } of n.collided) events.push({ Collided: { a, b } });
      for (const id of n.stopped) events.push({ Still: { id } });
    }
    for (const { cell, n } of news) {
      // Gone from this cell; kept only if it entered another one in view.
      for (const id of n.left) if (this.cellOf.get(id) === cell) this.forget(id);
    }
    for (const ack of view.acks) this.acks.set(ack.id, ack.seq);
    this.noteScores(view.scores);
    for (const event of view.world.events) {
      if ("PlayerLeft" in event) {
        this.acks.delete(event.PlayerLeft.id);
        this.scores.delete(event.PlayerLeft.id);
        this.away.delete(event.PlayerLeft.id);
      }
    }
    events.push(...view.world.events);
    this.noteEvents(events);
    return events;
  }

  /**
   * The cells of a view around `around`, ascending: those whose nearest point is within
   * `view_radius` of the point `[x, y]`, or every cell for `[]` (as
   * `arena_shared::cells::CellGrid::seen`, in the same integers).
   */
  seen(around: [number, number] | []): number[] {
    const size = this.view?.cell_size ?? 0;
    if (size <= 0 || this.view === null) return [];
    const cols = Math.ceil(this.arena.width / size);
    const rows = Math.ceil(this.arena.height / size);
    const out: number[] = [];
    if (around.length === 0) {
      for (let cell = 0; cell < cols * rows; cell++) out.push(cell);
      return out;
    }
    const [x, y] = around;
    const r = this.view.view_radius;
    // How far `v` is from the span of cell `i` along one axis (0 inside it).
    const gap = (v: number, i: number) => Math.max(i * size - v, v - (i + 1) * size, 0);
    const clamp = (i: number, count: number) => Math.min(Math.max(i, 0), count - 1);
    const [r0, r1] = [clamp(Math.floor((y - r) / size) - 1, rows), clamp(Math.floor((y + r) / size), rows)];
    const [c0, c1] = [clamp(Math.floor((x - r) / size) - 1, cols), clamp(Math.floor((x + r) / size), cols)];
    for (let row = r0; row <= r1; row++) {
      const dy = gap(y, row);
      for (let col = c0; col <= c1; col++) {
        const dx = gap(x, col);
        if (dx * dx + dy * dy <= r * r) out.push(row * cols + col);
      }
    }
    return out;
  }

  /** The top-left corner of a cell (quanta): what positions in its news count from. */
  cellOrigin(cell: number): { x: number; y: number } {
    const size = this.view?.cell_size ?? 0;
    const cols = size > 0 ? Math.ceil(this.arena.width / size) : 1;
    return { x: (cell % cols) * size, y: Math.floor(cell / cols) * size };
  }

  /** Whether the world is cut into cells and only those near this client are known. */
  get partial(): boolean {
    return this.view !== null;
  }

  private report(state: EntityState): void {
    const history = this.reports.get(state.id) ?? [];
    history.push({ state, tick: this.tick });
    while (history.length > 1 && history[1]!.tick <= this.tick - HISTORY_TICKS) history.shift();
    this.reports.set(state.id, history);
  }

  /** Drops an entity (it left, or left the view), remembering its name for a leave. */
  private forget(id: EntityId): void {
    const name = this.spawns.get(id)?.name;
    if (name !== undefined) this.departed.set(id, name);
    // Out of view is not gone: whether it is away stays known (the world's news says).
    if (!this.partial) this.away.delete(id);
    this.spawns.delete(id);
    this.reports.delete(id);
    this.cellOf.delete(id);
  }

  private noteScores(scores: Score[]): void {
    for (const score of scores) {
      const gained = score.points - (this.scores.get(score.id) ?? 0);
      if (gained > 0) this.gains.set(score.id, gained);
      this.scores.set(score.id, score.points);
    }
  }

  private noteEvents(events: GameEvent[]): void {
    for (const event of events) {
      if ("Connection" in event) {
        if (event.Connection.connected) this.away.delete(event.Connection.id);
        else this.away.add(event.Connection.id);
      } else if ("RoundStarted" in event) {
        this.round = { number: event.RoundStarted.number, phase: "Playing", ends_at: event.RoundStarted.ends_at };
      } else if ("RoundEnded" in event) {
        this.round = {
          number: event.RoundEnded.number,
          phase: "Intermission",
          ends_at: this.tick + this.arena.intermission_ticks,
        };
      }
    }
  }

  /** The entity's exact motion at a whole tick no later than the current one. */
  stateAt(id: EntityId, tick: Tick): EntityState | undefined {
    const history = this.reports.get(id);
    if (!history || history.length === 0) return undefined;
    let report = history[0]!;
    for (const candidate of history) {
      if (candidate.tick <= tick) report = candidate;
    }
    return extrapolate(report.state, tick - report.tick);
  }

  /**
   * Where the entity is at a fractional tick, in position quanta: interpolated between
   * whole ticks, and extrapolated (exact for straight motion) up to a few ticks past
   * the last delta, so that a late packet does not freeze the picture.
   */
  positionAt(id: EntityId, tick: number): { x: number; y: number } | undefined {
    const clamped = Math.min(tick, this.tick + MAX_EXTRAPOLATION_TICKS);
    const before = Math.floor(clamped);
    const a = this.stateAt(id, before);
    if (!a) return undefined;
    const b = this.stateAt(id, before + 1) ?? a;
    const t = clamped - before;
    return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
  }


  /** A player's name, also in the delta that removed it. */
  nameOf(id: EntityId): string | undefined {
    return this.spawns.get(id)?.name ?? this.departed.get(id);
  }

  /** Players by score, best first. */
  leaderboard(): { id: EntityId; name: string; points: number }[] {
    return [...this.spawns.values()]
      .filter((s) => s.kind === "Player")
      .map((s) => ({ id: s.id, name: s.name, points: this.scores.get(s.id) ?? 0 }))
      .sort((x, y) => y.points - x.points || x.id - y.id);
  }

  private setAll(map: Map<EntityId, number>, entries: [EntityId, number][]): void {
    map.clear();
    for (const [k, v] of entries) map.set(k, v);
  }
}
