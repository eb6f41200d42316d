// The game page: the join screen, the game loop, and the HUD.
//
// Every animation frame: steering is sampled once per server tick (a Move is sent only
// when the direction changed), your player is predicted locally, everyone else is drawn
// a little in the past between two received ticks, and the HUD follows the world.

import { Sounds } from "./audio";
import { Connection, type ConnectionState } from "./connection";
import { $, socketUrl } from "./page";
import { Steering } from "./input";
import { Predictor } from "./prediction";
import { directionToWire, type Delta, type GameEvent, type ServerMessage } from "./protocol";
import { Renderer, colorOf, type Body } from "./render";
import { World } from "./world";
import QRCode from "qrcode";

/**
 * Others are drawn this many ticks behind the estimated server time, beyond the ticks
 * from one delta to the next: so there is almost always a newer report to interpolate
 * towards.
 */
const INTERPOLATION_MARGIN_TICKS = 0.5;
/** At most this many local ticks are simulated per frame (after a background tab). */
const MAX_CATCH_UP_TICKS = 5;
/** Letters and digits that cannot be mistaken for one another. */
const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/** Estimates the server's current (fractional) tick from when deltas arrive. */
class ServerClock {
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

/** One joined game: the world, prediction, rendering and HUD. */
class Game {
  private world: World | null = null;
  private predictor: Predictor | null = null;
  private renderer: Renderer | null = null;
  private clock: ServerClock | null = null;
  private you: number | null = null;
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
  readonly connection: Connection;

  constructor(
    name: string,
    session: string | null,
    private readonly sounds: Sounds,
    private readonly steering: Steering,
  ) {
    this.connection = new Connection(
      socketUrl(),
      // After a lost connection, the token brings back the same player and score.
      () => ({ Hello: { name, session, role: "Player", reconnect: this.token } }),
      (m) => this.onMessage(m),
      (s) => this.onState(s),
    );
    this.connection.open();
    requestAnimationFrame(() => this.frame());
  }

  private onState(state: ConnectionState): void {
    this.connectionState = state;
    const status = $("status");
    status.className = `status ${state.kind}`;
    status.textContent =
      state.kind === "connected" ? "connected"
      : state.kind === "connecting" ? "connecting…"
      : state.kind === "reconnecting" ? `connection lost: reconnecting in ${(state.inMs / 1000).toFixed(1)} s (attempt ${state.attempt})`
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
      const w = message.Welcome;
      this.tickMs = 1000 / w.tick_hz;
      this.world = new World(w.arena, w.tick_hz, Math.max(1, Math.round(w.tick_hz / w.send_hz)));
      this.world.reset(w.snapshot);
      this.you = w.you;
      this.token = w.reconnect_token;
      this.clock = new ServerClock(this.tickMs);
      this.clock.observe(w.snapshot.tick, now);
      this.renderer = new Renderer($("arena") as HTMLCanvasElement, w.arena);
      const radius = (w.you !== null && this.world.spawns.get(w.you)?.radius) || 160;
      this.predictor = new Predictor(radius, w.arena.width, w.arena.height, w.arena.player_speed / w.tick_hz);
      this.sent = [0, 0];
      this.reconcile();
      history.replaceState(null, "", `/?s=${encodeURIComponent(w.session)}`);
      $("session-name").textContent = w.session;
    } else if ("Snapshot" in message && this.world) {
      this.world.reset(message.Snapshot);
      this.clock?.observe(message.Snapshot.tick, now);
      this.reconcile();
    } else if ("Delta" in message && this.world) {
      this.onDelta(message.Delta, now);
    } else if ("PairCode" in message) {
      void this.showPairCode(message.PairCode.code, message.PairCode.expires_in_s, message.PairCode.lan_url, now);
    } else if ("Controller" in message) {
      this.phoneAttached = message.Controller.attached;
      $("phone-chip").hidden = !this.phoneAttached;
      if (this.phoneAttached) $("pairing").hidden = true;
      toast(this.phoneAttached ? "Phone connected: tilt to steer" : "Phone disconnected");
      this.reconcile();
    }
  }

  private onDelta(delta: Delta, now: number): void {
    const world = this.world!;
    const events = world.apply(delta);
    if (events === null) return; // A lost delta: the server resynchronizes us.
    this.deltasThisSecond += 1;
    this.clock?.observe(delta.tick, now);
    for (const event of events) this.onEvent(event, now);
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
    } else if ("Still" in event) {
      const p = world.stateAt(event.Still.id, world.tick);
      if (p) this.renderer?.still(p.x, p.y, colorOf(event.Still.id), now);
    } else if ("Connection" in event) {
      const who = world.spawns.get(event.Connection.id)?.name ?? "a player";
      if (event.Connection.id !== this.you) toast(`${who} ${event.Connection.connected ? "is back" : "lost connection"}`);
    } else if ("PlayerJoined" in event) {
      toast(`${event.PlayerJoined.name} joined`);
    } else if ("PlayerLeft" in event) {
      toast(`${world.spawns.get(event.PlayerLeft.id)?.name ?? "a player"} left`);
    } else if ("RoundStarted" in event) {
      this.sounds.roundStart();
      this.roundOverUntil = 0;
      $("round-over").hidden = true;
      toast(`Round ${event.RoundStarted.number}!`);
    } else if ("RoundEnded" in event) {
      this.sounds.roundEnd();
      this.showRoundOver(event.RoundEnded.scores, now);
    }
  }

  /** Asks the server for a pairing code (the answer arrives as a PairCode message). */
  requestPairCode(): void {
    this.connection.send("RequestPairCode");
  }

  private async showPairCode(code: string, expiresIn: number, lanUrl: string | null, now: number): Promise<void> {
    // A phone cannot reach "localhost": offer the server's LAN address when the page
    // itself was opened on loopback.
    const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(location.hostname);
    const base = loopback && lanUrl ? lanUrl : location.origin;
    const url = `${base}/controller?c=${code}`;
    $("pair-code").textContent = code;
    const link = $("pair-link") as HTMLAnchorElement;
    link.href = url;
    link.textContent = url;
    this.pairCodeExpires = now + expiresIn * 1000;
    $("pairing").hidden = false;
    await QRCode.toCanvas($("pair-qr") as HTMLCanvasElement, url, { width: 220, margin: 1 });
  }

  private showRoundOver(scores: { id: number; points: number }[], now: number): void {
    const world = this.world!;
    const list = $("final-scores");
    list.replaceChildren(
      ...scores.slice(0, 10).map((s) => {
        const li = document.createElement("li");
        li.textContent = `${world.spawns.get(s.id)?.name ?? "?"}: ${s.points}`;
        if (s.id === this.you) li.className = "me";
        return li;
      }),
    );
    $("round-over").hidden = false;
    this.roundOverUntil = now + (world.arena.intermission_ticks * this.tickMs);
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
    const [x, y] = this.steering.direction();
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
      if (at) bodies.push({ id: spawn.id, kind: spawn.kind, name: spawn.name, x: at.x, y: at.y, radius: spawn.radius, mine });
    }
    renderer.draw(bodies, now);
    this.lastBodies = bodies;
    this.drawHud(now);
  }

  private drawHud(now: number): void {
    const world = this.world!;
    const seconds = Math.max(0, Math.ceil((world.round.ends_at - this.clock!.tick(now)) / world.tickHz));
    $("timer").textContent =
      world.round.phase === "Playing"
        ? `Round ${world.round.number} · ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`
        : `Next round in ${seconds} s`;
    if (!$("pairing").hidden) {
      const left = Math.max(0, Math.ceil((this.pairCodeExpires - now) / 1000));
      $("pair-expires").textContent = String(left);
    }
    if (this.roundOverUntil > 0) $("next-in").textContent = String(Math.max(0, Math.ceil((this.roundOverUntil - now) / 1000)));
    const board = $("scoreboard");
    const rows = world.leaderboard().slice(0, 8);
    const html = rows
      .map((r) => `<li class="${r.id === this.you ? "me" : ""}"><span class="dot" style="background:${colorOf(r.id)}"></span>${escapeHtml(r.name)}<b>${r.points}</b></li>`)
      .join("");
    if (board.innerHTML !== html) board.innerHTML = html;
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

  /** What a test (or a curious player in the console) can read about the game. */
  inspect() {
    const world = this.world;
    return {
      connection: this.connectionState,
      you: this.you,
      tick: world?.tick ?? 0,
      gaps: world?.gaps ?? 0,
      bodies: this.lastBodies.map((b) => ({ id: b.id, name: b.name, kind: b.kind, x: b.x, y: b.y })),
      effects: { ...(this.renderer?.counts ?? { collisions: 0, stills: 0 }) },
      scores: world ? world.leaderboard() : [],
      ping: this.connection.pingMs,
      phoneAttached: this.phoneAttached,
      pairCode: $("pairing").hidden ? null : $("pair-code").textContent,
      stats: this.stats,
    };
  }
}

function toast(text: string): void {
  const el = $("toast");
  el.textContent = text;
  el.classList.remove("show");
  void el.offsetWidth;
  el.classList.add("show");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function randomCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return [...bytes].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join("");
}

function showShareLink(code: string): void {
  const link = $("share-link") as HTMLAnchorElement;
  link.href = `${location.origin}/?s=${encodeURIComponent(code)}`;
  link.textContent = link.href;
  $("share").hidden = code === "";
}

function start(): void {
  const sounds = new Sounds();
  const steering = new Steering(window, document.getElementById("joystick"));
  const nameInput = $("name") as HTMLInputElement;
  const sessionInput = $("session") as HTMLInputElement;
  nameInput.value = localStorage.getItem("arena.name") ?? "";
  const shared = new URLSearchParams(location.search).get("s");
  if (shared) {
    sessionInput.value = shared;
    showShareLink(shared);
  }
  sessionInput.addEventListener("input", () => showShareLink(sessionInput.value.trim()));
  $("create-private").addEventListener("click", () => {
    sessionInput.value = randomCode();
    showShareLink(sessionInput.value);
  });
  const mute = $("mute");
  const showMute = () => (mute.textContent = sounds.muted ? "muted" : "sound on");
  showMute();
  const toggleMute = () => { sounds.toggleMute(); showMute(); };
  mute.addEventListener("click", toggleMute);
  const toggleStats = () => ($("stats").hidden = !$("stats").hidden);
  $("stats-toggle").addEventListener("click", toggleStats);
  window.addEventListener("keydown", (e) => {
    if ((e.target as HTMLElement).tagName === "INPUT") return;
    if (e.code === "KeyM") toggleMute();
    if (e.code === "Backquote" || e.code === "KeyI") toggleStats();
  });

  $("back").addEventListener("click", () => location.reload());
  $("join-form").addEventListener("submit", (e) => {

    e.preventDefault();
    const name = nameInput.value.trim() || "player";
    const code = sessionInput.value.trim();
    localStorage.setItem("arena.name", name);
    sounds.unlock();
    $("join").hidden = true;
    $("game").hidden = false;
    const game = new Game(name, code === "" ? null : code, sounds, steering);
    $("pair-button").addEventListener("click", () => game.requestPairCode());
    $("pair-close").addEventListener("click", () => ($("pairing").hidden = true));
    (window as unknown as { arena: unknown }).arena = {
      inspect: () => game.inspect(),
      simulateNetworkDrop: () => game.connection.simulateDrop(),
    };
  });
}

start();
