// One joined game: the connection, the world, prediction, drawing, and what the page
// says about it.
//
// Every animation frame: steering is sampled once per server tick (a Move is sent only
// when the direction changed), your player is predicted locally, everyone else is drawn
// a little in the past between two received ticks, and the HUD follows the world. A
// spectator (the TV view) does the same without a player.

import { Sounds } from "./audio";
import { Connection, type ConnectionState } from "./connection";
import { drawScoreboard, showChat, showRoundOver, timerText, toast } from "./hud";
import { Steering } from "./input";
import { drawQr, onLoopback, shareOrigin } from "./invite";
import { $, socketUrl } from "./page";
import { Predictor } from "./prediction";
import {
  POS_SCALE,
  directionToWire,
  type GameEvent,
  type Role,
  type ServerMessage,
  type Tick,
  type Welcome,
} from "./protocol";
import { Renderer, colorOf, type Body } from "./render";
import { World } from "./world";

/**
 * Others are drawn this many ticks behind the estimated server time, beyond the ticks
 * from one delta to the next: so there is almost always a newer report to interpolate
 * towards.
 */
const INTERPOLATION_MARGIN_TICKS = 0.5;
/** At most this many local ticks are simulated per frame (after a background tab). */
const MAX_CATCH_UP_TICKS = 5;

/** Estimates the server's current (fractional) tick from when deltas arrive. */
export class ServerClock {
  private offset: number | null = null;
  constructor(private readonly tickMs: number) {}

  observe(tick: number, now: number): void {
    const estimate = tick * this.tickMs - now;
    if (this.offset === null) this.offset = estimate;
    // Early arrivals are the truest (least delayed); late ones pull back slowly.
    else this.offset += (estimate - this.offset) * (estimate > this.offset ? 0.5 : 0.02);
  }

  tick(now: number): number {
    return ((this.offset ?? 0) + now) / this.tickMs;
  }
}

export interface GameOptions {
  name: string;
  session: string | null;
  role: Role;
  /** The TV view: a spectator's full-screen arena with a QR code to join from a phone. */
  tv: boolean;
}

export class Game {
  private world: World | null = null;
  private predictor: Predictor | null = null;
  private renderer: Renderer | null = null;
  private clock: ServerClock | null = null;
  private you: number | null = null;
  private session: string | null = null;
  private tickMs = 1000 / 30;
  private accumulator = 0;
  private lastFrame = performance.now();
  private seq = 0;
  private sent: [number, number] = [0, 0];
  private deltasThisSecond = 0;
  private bytesAtSecond = 0;
  private secondStarted = performance.now();
  private stats = { updatesPerSecond: 0, bytesPerSecond: 0 };
  private roundOverUntil = 0;
  private connectionState: ConnectionState = { kind: "connecting" };
  /** The last Welcome's reconnect token. */
  private token: string | null = null;
  /** True while a paired phone steers this page's player. */
  private phoneAttached = false;
  private pairCodeExpires = 0;
  /** The bodies as last drawn, for `inspect`. */
  private lastBodies: Body[] = [];
  /** What the page told the player (toasts and notices), newest last, for `inspect`. */
  private readonly told: string[] = [];
  /** Chat lines received, newest last, for `inspect`. */
  private readonly chat: { from: string; text: string }[] = [];
  readonly connection: Connection;

  constructor(
    private readonly options: GameOptions,
    private readonly sounds: Sounds,
    private readonly steering: Steering,
  ) {
    const { name, session, role } = options;
    this.connection = new Connection(
      socketUrl(),
      // After a lost connection, the token brings back the same player and score.
      () => ({ Hello: { name, session, role, reconnect: this.token } }),
      (m) => this.onMessage(m),
      (s) => this.onState(s),
    );
    this.connection.open();
    requestAnimationFrame(() => this.frame());
  }

  /** Leaves for good: the player goes at once, not after the reconnect grace period. */
  leave(): void {
    this.connection.leave();
  }

  /** Says a chat line to the session. */
  sayInChat(text: string): void {
    if (text.trim() !== "") this.connection.send({ Chat: { text } });
  }

  /** Asks the server for a pairing code (the answer arrives as a PairCode message). */
  requestPairCode(): void {
    this.connection.send("RequestPairCode");
  }

  /** The session joined, once welcomed. */
  sessionCode(): string | null {
    return this.session;
  }

  private say(text: string): void {
    this.told.push(text);
    if (this.told.length > 20) this.told.shift();
    toast(text);
  }

  private onState(state: ConnectionState): void {
    this.connectionState = state;
    const status = $("status");
    status.className = `status ${state.kind}`;
    status.textContent =
      state.kind === "connected" ? "connected"
      : state.kind === "connecting" ? "connecting…"
      : state.kind === "reconnecting" ? `connection lost: reconnecting in ${(state.inMs / 1000).toFixed(1)} s (attempt ${state.attempt})`
      : state.kind === "left" ? "left"
      : `refused: ${state.reason}`;
    if (state.kind === "reconnecting") this.world = null;
    if (state.kind === "refused") {
      $("refused-reason").textContent = state.reason;
      $("refused").hidden = false;
    }
  }

  private onMessage(message: ServerMessage): void {
    const now = performance.now();
    if ("Welcome" in message) {
      this.onWelcome(message.Welcome, now);
    } else if ("Snapshot" in message && this.world) {
      this.world.reset(message.Snapshot);
      this.clock?.observe(message.Snapshot.tick, now);
      this.reconcile();
    } else if ("Delta" in message && this.world) {
      this.onUpdate(this.world.apply(message.Delta), message.Delta.tick, now);
    } else if ("View" in message && this.world) {
      this.onUpdate(this.world.applyView(message.View), message.View.tick, now);
    } else if ("PairCode" in message) {
      void this.showPairCode(message.PairCode.code, message.PairCode.expires_in_s, message.PairCode.lan_url, now);
    } else if ("Chat" in message) {
      showChat("chat-lines", message.Chat.lines);
      this.chat.push(...message.Chat.lines);
      if (this.chat.length > 50) this.chat.splice(0, this.chat.length - 50);
    } else if ("Controller" in message) {
      this.phoneAttached = message.Controller.attached;
      $("phone-chip").hidden = !this.phoneAttached;
      if (this.phoneAttached) $("pairing").hidden = true;
      this.say(this.phoneAttached ? "Phone connected: tilt to steer" : "Phone disconnected");
      this.reconcile();
    }
  }

  private onWelcome(w: Welcome, now: number): void {
    const cameBack = this.token !== null;
    this.tickMs = 1000 / w.tick_hz;
    this.world = new World(w.arena, w.tick_hz, Math.max(1, Math.round(w.tick_hz / w.send_hz)), w.view ?? null);
    this.world.reset(w.snapshot);
    this.you = w.you;
    this.session = w.session;
    this.token = w.reconnect_token;
    this.clock = new ServerClock(this.tickMs);
    this.clock.observe(w.snapshot.tick, now);
    this.renderer = new Renderer($("arena") as HTMLCanvasElement, w.arena, w.view ?? null);
    // The TV view of a big world shows all of it, where the session allows that.
    if (w.view?.see_all && w.you === null && this.options.tv) this.connection.send({ Look: "Everything" });
    const mine = w.you === null ? undefined : this.world.spawns.get(w.you);
    this.predictor = new Predictor(mine?.radius || 160, w.arena.width, w.arena.height, w.arena.player_speed / w.tick_hz);
    this.sent = [0, 0];
    this.reconcile();
    const view = this.options.tv ? "&view=tv" : "";
    history.replaceState(null, "", `/?s=${encodeURIComponent(w.session)}${view}`);
    $("session-name").textContent = w.session;
    if (cameBack && !w.resumed && w.you !== null) {
      this.say("You were away too long: you joined again as a new player.");
    }
    const wanted = this.options.name.trim() || "player";
    if (mine && !cameBack && mine.name !== wanted) {
      this.say(`The name ${wanted} is taken here: you play as ${mine.name}.`);
    }
    if (this.options.tv) void this.showTvJoin(w.session);
  }

  private async showTvJoin(session: string): Promise<void> {
    const url = `${await shareOrigin()}/controller?s=${encodeURIComponent(session)}`;
    $("tv-link").textContent = url;
    $("tv-join").hidden = false;
    await drawQr($("tv-qr") as HTMLCanvasElement, url, 200);
  }

  /** A delta or a view applied: its events told, its points shown. */
  private onUpdate(events: GameEvent[] | null, tick: Tick, now: number): void {
    const world = this.world!;
    if (events === null) return; // A lost delta: the server resynchronizes us.
    this.deltasThisSecond += 1;
    this.clock?.observe(tick, now);
    for (const event of events) this.onEvent(event, now);
    for (const [id, points] of world.gains) {
      const at = world.stateAt(id, world.tick);
      if (at) this.renderer?.popup(at.x, at.y, `+${points}`, now);
    }
    this.reconcile();
  }

  private onEvent(event: GameEvent, now: number): void {
    const world = this.world!;
    if ("Collided" in event) {
      const { a, b } = event.Collided;
      const pa = world.stateAt(a, world.tick);
      const pb = world.stateAt(b, world.tick);
      const mine = a === this.you || b === this.you;
      if (pa && pb) this.renderer?.collision((pa.x + pb.x) / 2, (pa.y + pb.y) / 2, mine, now);
      this.sounds.bump(mine);
      const other = a === this.you ? b : a;
      // A ram scores 2 for the rammer: that is how you know who hit you.
      if (mine && world.gains.get(other) === 2) this.say(`${world.nameOf(other) ?? "someone"} rammed you`);
    } else if ("Still" in event) {
      const p = world.stateAt(event.Still.id, world.tick);
      if (p) this.renderer?.still(p.x, p.y, colorOf(event.Still.id), now);
    } else if ("Connection" in event) {
      const who = world.nameOf(event.Connection.id);
      // In a big world, only the comings and goings of the players near you are told.
      if (event.Connection.id !== this.you && (who !== undefined || !world.partial)) {
        this.say(`${who ?? "a player"} ${event.Connection.connected ? "is back" : "lost connection"}`);
      }
    } else if ("PlayerJoined" in event) {
      const near = !world.partial || world.spawns.has(event.PlayerJoined.id);
      if (event.PlayerJoined.id !== this.you && near) this.say(`${event.PlayerJoined.name} joined`);
    } else if ("PlayerLeft" in event) {
      const who = world.nameOf(event.PlayerLeft.id);
      if (who !== undefined || !world.partial) this.say(`${who ?? "a player"} left`);
    } else if ("RoundStarted" in event) {
      this.sounds.roundStart();
      this.roundOverUntil = 0;
      $("round-over").hidden = true;
      this.say(`Round ${event.RoundStarted.number}!`);
    } else if ("RoundEnded" in event) {
      this.sounds.roundEnd();
      showRoundOver(world, this.you, event.RoundEnded.scores);
      this.roundOverUntil = now + world.arena.intermission_ticks * this.tickMs;
    }
  }

  private async showPairCode(code: string, expiresIn: number, lanUrl: string | null, now: number): Promise<void> {
    // A phone cannot reach "localhost": offer the server's LAN address when the page
    // itself was opened on loopback.
    const base = onLoopback() && lanUrl ? lanUrl : location.origin;
    const url = `${base}/controller?c=${code}`;
    $("pair-code").textContent = code;
    const link = $("pair-link") as HTMLAnchorElement;
    link.href = url;
    link.textContent = url;
    this.pairCodeExpires = now + expiresIn * 1000;
    $("pairing").hidden = false;
    await drawQr($("pair-qr") as HTMLCanvasElement, url, 220);
  }

  /** Takes the server's word on where you are. */
  private reconcile(): void {
    const world = this.world;
    if (!world || this.you === null || !this.predictor) return;
    const me = world.stateAt(this.you, world.tick);
    if (me) this.predictor.reconcile(world.tick, me.x, me.y, world.acks.get(this.you) ?? 0);
  }

  private frame(): void {
    requestAnimationFrame(() => this.frame());
    const now = performance.now();
    this.accumulator = Math.min(this.accumulator + now - this.lastFrame, this.tickMs * MAX_CATCH_UP_TICKS);
    this.lastFrame = now;
    while (this.accumulator >= this.tickMs) {
      this.accumulator -= this.tickMs;
      this.localTick();
    }
    this.updateStats(now);
    this.render(now);
  }

  /** One tick of input: send a Move if the direction changed, advance the prediction. */
  private localTick(): void {
    if (!this.world || this.you === null || this.connectionState.kind !== "connected") return;
    const [sx, sy] = this.steering.direction();
    const [x, y] = this.renderer?.toWorldDirection(sx, sy) ?? [sx, sy];
    const [dx, dy] = directionToWire(x, y);
    if (dx !== this.sent[0] || dy !== this.sent[1]) {
      this.seq += 1;
      this.sent = [dx, dy];
      this.connection.send({ Move: { seq: this.seq, dx, dy } });
    }
    this.predictor?.advance(this.seq, this.sent[0], this.sent[1]);
  }

  private render(now: number): void {
    const world = this.world;
    const renderer = this.renderer;
    if (!world || !renderer || !this.clock) return;
    const renderTick = this.clock.tick(now) - world.sendEvery - INTERPOLATION_MARGIN_TICKS;
    const bodies: Body[] = [];
    for (const spawn of world.spawns.values()) {
      const mine = spawn.id === this.you;
      // Your own player is predicted from your keys, unless a phone steers it: then it
      // is drawn like everyone else.
      const predicted = mine && this.predictor && !this.phoneAttached;
      const at = predicted ? this.predictor!.render(this.accumulator / this.tickMs) : world.positionAt(spawn.id, renderTick);
      if (!at) continue;
      const away = world.away.has(spawn.id);
      bodies.push({ id: spawn.id, kind: spawn.kind, name: spawn.name, x: at.x, y: at.y, radius: spawn.radius, mine, away });
    }
    renderer.follow(this.cameraAt(world, bodies), world.cellsSeen);
    renderer.draw(bodies, now);
    this.lastBodies = bodies;
    $("timer").textContent = timerText(world, this.clock.tick(now));
    if (!$("pairing").hidden) {
      $("pair-expires").textContent = String(Math.max(0, Math.ceil((this.pairCodeExpires - now) / 1000)));
    }
    if (this.roundOverUntil > 0) $("next-in").textContent = String(Math.max(0, Math.ceil((this.roundOverUntil - now) / 1000)));
    drawScoreboard(world, this.you, this.options.tv ? 12 : 8);
  }

  /** Where the camera looks in a big world: your player, or the point a spectator's
   *  view is around; null (the whole arena) without interest management or when a
   *  spectator sees every cell. */
  private cameraAt(world: World, bodies: Body[]): { x: number; y: number } | null {
    if (!world.view) return null;
    const mine = bodies.find((b) => b.mine);
    if (mine) return { x: mine.x, y: mine.y };
    const around = world.around;
    return around === null || around.length === 0 ? null : { x: around[0], y: around[1] };
  }

  private updateStats(now: number): void {
    if (now - this.secondStarted < 1000) return;
    const seconds = (now - this.secondStarted) / 1000;
    this.stats = {
      updatesPerSecond: this.deltasThisSecond / seconds,
      bytesPerSecond: (this.connection.bytes - this.bytesAtSecond) / seconds,
    };
    this.deltasThisSecond = 0;
    this.bytesAtSecond = this.connection.bytes;
    this.secondStarted = now;
    const ping = this.connection.pingMs;
    $("stats").textContent =
      `ping ${ping === null ? "…" : `${ping} ms`}\n` +
      `updates ${this.stats.updatesPerSecond.toFixed(1)}/s\n` +
      `down ${(this.stats.bytesPerSecond / 1000).toFixed(1)} kB/s\n` +
      `entities ${this.world?.spawns.size ?? 0}`;
  }

  /**
   * What a test (or a curious player in the console) can read about the game.
   * Positions and radii are in game units (the server's config units: an arena of
   * `width = 700` is 700 wide), not the wire's quanta.
   */
  inspect() {
    const world = this.world;
    const units = (q: number) => q / POS_SCALE;
    const canvas = $("arena").getBoundingClientRect();
    const rect = this.renderer?.arenaRect();
    return {
      connection: this.connectionState,
      server: this.connection.server,
      you: this.you,
      session: this.session,
      tick: world?.tick ?? 0,
      /** Every entity's exact state (wire quanta) at the last delta's tick: what the
       *  server sent, to compare with a replay of the round. */
      exact: world
        ? { tick: world.tick, states: [...world.spawns.keys()].map((id) => world.stateAt(id, world.tick)).filter((s) => s !== undefined) }
        : null,
      gaps: world?.gaps ?? 0,
      arena: world ? { width: units(world.arena.width), height: units(world.arena.height) } : null,
      bodies: this.lastBodies.map((b) => ({ id: b.id, name: b.name, kind: b.kind, x: units(b.x), y: units(b.y), radius: units(b.radius), away: b.away })),
      /** Where the names are drawn, in CSS pixels on the canvas. */
      labels: this.renderer?.labels ?? [],
      rotated: this.renderer?.rotated ?? false,
      effects: { ...(this.renderer?.counts ?? { collisions: 0, stills: 0, popups: 0, shakes: 0 }), lastPopup: this.renderer?.lastPopup ?? "" },
      scores: world ? world.leaderboard() : [],
      away: world ? [...world.away] : [],
      told: [...this.told],
      chat: [...this.chat],
      ping: this.connection.pingMs,
      phoneAttached: this.phoneAttached,
      pairCode: $("pairing").hidden ? null : $("pair-code").textContent,
      stats: this.stats,
      /** Interest management: the cells in view and the point they are around, what the
       *  camera shows (game units) and the minimap; null without it. */
      view: world?.view
        ? {
            cellSize: units(world.view.cell_size),
            viewRadius: units(world.view.view_radius),
            cellsSeen: [...world.cellsSeen].sort((a, b) => a - b),
            around: world.around?.length === 2 ? [units(world.around[0]), units(world.around[1])] : world.around,
            cellOf: Object.fromEntries(world.cellOf),
            shown: this.renderer ? (({ x, y, width, height }) => ({ x: units(x), y: units(y), width: units(width), height: units(height) }))(this.renderer.shown()) : null,
            minimap: this.renderer?.minimap ?? null,
          }
        : null,
      /** Where the arena is drawn on the page, in CSS pixels. */
      arenaOnPage: rect ? { x: canvas.x + rect.x, y: canvas.y + rect.y, width: rect.width, height: rect.height } : null,
    };
  }
}
