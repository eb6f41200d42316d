// The phone controller page (/controller): steer a player by tilting (or with a
// joystick where there is no motion sensor), and feel your collisions.
//
// Two ways in: `?c=CODE` pairs with the player of a game page that showed the code;
// `?s=SESSION` (the TV view's QR code) joins that session as a new player of its own,
// whose arena is the shared screen. Whatever ends the connection is said on the page
// in words, with a way back: the phone never sits on a dead screen.

import { Connection, type ConnectionState } from "./connection";
import { $, socketUrl } from "./page";
import { Steering } from "./input";
import { directionToWire, type ClientMessage, type GameEvent, type RoundState, type ServerMessage } from "./protocol";
import { showChat } from "./hud";
import { TiltSteering, type Pose } from "./tilt";
import { World } from "./world";

/** Without a motion reading this soon after Start, the joystick takes over. */
const SENSOR_GRACE_MS = 1500;
/** How often the round's countdown is redrawn between updates from the server. */
const CLOCK_MS = 250;

type Mode = "tilt" | "joystick";

/** How this phone is in the game: by a pairing code, or as a player of its own. */
type Entry = { pair: string } | { join: string; name: string };

class Controller {
  private connection: Connection | null = null;
  private readonly tilt = new TiltSteering();
  private readonly stick: Steering;
  private pose: Pose | null = null;
  private mode: Mode = "tilt";
  private player: number | null = null;
  private tickHz = 30;
  /** The last tick the server told of, and when (ms) it arrived: the countdown runs on from it. */
  private tick = 0;
  private tickAt = 0;
  private round: RoundState | null = null;
  private score = 0;
  private seq = 0;
  private sent: [number, number] = [0, 0];
  private hits = 0;
  private state: ConnectionState = { kind: "connecting" };
  /** A session joined directly (the TV's QR code): its world, for the score and round. */
  private world: World | null = null;
  private sensorTimer: ReturnType<typeof setTimeout> | null = null;
  /** A player of its own comes back after a lost connection with this (the last Welcome's). */
  private token: string | null = null;

  constructor() {
    this.stick = new Steering(window, $("joystick"));
    window.addEventListener("deviceorientation", (e: DeviceOrientationEvent) => {
      if (e.beta === null || e.gamma === null) return;
      const first = this.pose === null;
      this.pose = { beta: e.beta, gamma: e.gamma };
      // The pose held when the first reading arrives is neutral until recalibrated.
      if (first) this.tilt.calibrate(this.pose);
    });
    $("calibrate").addEventListener("click", () => this.pose && this.tilt.calibrate(this.pose));
    $<HTMLInputElement>("sensitivity").addEventListener("input", (e) => {
      this.tilt.sensitivity = Number((e.target as HTMLInputElement).value);
    });
    setInterval(() => this.steer(), 1000 / 30);
    setInterval(() => this.showScore(), CLOCK_MS);
  }

  /** Whether a connection is open (or opening) that another code can be tried on. */
  get live(): boolean {
    return this.connection !== null && (this.state.kind === "connected" || this.state.kind === "connecting");
  }

  /** Starts from the Start button: motion permission first, where a browser asks. */
  async start(entry: Entry): Promise<void> {
    const request = (DeviceOrientationEvent as unknown as { requestPermission?: () => Promise<string> }).requestPermission;
    if (typeof request === "function") {
      try {
        if ((await request()) !== "granted") this.useJoystick("motion access was not granted");
      } catch {
        this.useJoystick("motion access is not available");
      }
    }
    if (this.sensorTimer === null) {
      this.sensorTimer = setTimeout(() => {
        if (this.pose === null) this.useJoystick("no motion sensor found");
      }, SENSOR_GRACE_MS);
    }
    this.connection?.leave();
    this.player = null;
    this.world = null;
    this.token = null;
    const first = (): ClientMessage =>
      "pair" in entry
        ? { Pair: { code: entry.pair } }
        : { Hello: { name: entry.name, session: entry.join, role: "Player", reconnect: this.token } };
    this.connection = new Connection(socketUrl(), first, (m) => this.onMessage(m), (s) => this.onState(s));
    this.connection.open();
  }

  /** Leaves for good (the page is closing). */
  leave(): void {
    this.connection?.leave();
  }

  /** Tries another code on the same connection, after a refusal. */
  retry(code: string): void {
    $("pair-error").hidden = true;
    this.connection?.send({ Pair: { code } });
  }

  private useJoystick(why: string): void {
    if (this.mode === "joystick") return;
    this.mode = "joystick";
    $("tilt-view").hidden = true;
    $("joystick").hidden = false;
    $("calibrate").hidden = true;
    $("mode").textContent = `Joystick mode: ${why}.`;
  }

  private onState(state: ConnectionState): void {
    this.state = state;
    const el = $("link-status");
    el.className = `status ${state.kind}`;
    el.textContent =
      state.kind === "connected" ? "connected"
      : state.kind === "connecting" ? "connecting…"
      : state.kind === "reconnecting" ? "connection lost: reconnecting…"
      : state.kind === "left" ? "left"
      : `closed: ${state.reason}`;
    if (state.kind !== "refused") return;
    if (this.player === null) {
      // Refused before pairing (too many wrong codes, say): say it where the code is typed.
      this.showPairError(`${state.reason}. Check the code on the game screen and press Start to try again.`);
    } else {
      // The game page went away (or the session is over): say so, offer to pair again.
      this.player = null;
      $("pad").hidden = true;
      $("gone-reason").textContent = state.reason;
      $("gone").hidden = false;
      navigator.vibrate?.([200]);
    }
  }

  private showPairError(reason: string): void {
    $("pad").hidden = true;
    $("pair").hidden = false;
    $("pair-error").textContent = reason;
    $("pair-error").hidden = false;
  }

  private onMessage(message: ServerMessage): void {
    const now = performance.now();
    if ("Paired" in message) {
      const p = message.Paired;
      this.onPlaying(p.player, p.name, p.tick_hz);
      this.score = p.score;
      this.round = p.round;
      this.tick = p.tick;
      this.tickAt = now;
      this.showScore();
    } else if ("Welcome" in message) {
      // Joined a session directly: follow its world for the score and the round.
      const w = message.Welcome;
      this.token = w.reconnect_token;
      this.world = new World(w.arena, w.tick_hz, Math.max(1, Math.round(w.tick_hz / w.send_hz)), w.view ?? null);
      this.world.reset(w.snapshot);
      const me = w.you === null ? undefined : this.world.spawns.get(w.you);
      this.onPlaying(w.you, me?.name ?? "", w.tick_hz);
      this.onTick(w.snapshot.tick, now);
    } else if ("Delta" in message && this.world) {
      const events = this.world.apply(message.Delta);
      if (events === null) return;
      this.onTick(message.Delta.tick, now);
      for (const event of events) this.onEvent(event);
    } else if ("View" in message && this.world) {
      // A big world sends each player only what is near it: the score and round all the same.
      const events = this.world.applyView(message.View);
      if (events === null) return;
      this.onTick(message.View.tick, now);
      for (const event of events) this.onEvent(event);
    } else if ("Snapshot" in message && this.world) {
      this.world.reset(message.Snapshot);
      this.onTick(message.Snapshot.tick, now);
    } else if ("PairRefused" in message) {
      this.showPairError(message.PairRefused.reason);
    } else if ("Chat" in message) {
      showChat("phone-chat", message.Chat.lines, 3);
    } else if ("Feed" in message) {
      this.tick = message.Feed.tick;
      this.tickAt = now;
      this.score = message.Feed.score;
      this.round = message.Feed.round;
      for (const event of message.Feed.events) this.onEvent(event);
      this.showScore();
    }
  }

  private onPlaying(player: number | null, name: string, tickHz: number): void {
    this.player = player;
    this.tickHz = tickHz;
    $("pair").hidden = true;
    $("gone").hidden = true;
    $("pad").hidden = false;
    $("player-name").textContent = name;
    if (this.mode === "tilt") $("mode").textContent = "Tilt to steer; Calibrate takes the way you hold the phone now as still.";
  }

  private onTick(tick: number, now: number): void {
    const world = this.world!;
    this.tick = tick;
    this.tickAt = now;
    this.round = world.round;
    this.score = this.player === null ? 0 : world.scores.get(this.player) ?? 0;
    this.showScore();
  }

  private onEvent(event: GameEvent): void {
    if ("Collided" in event) {
      const { a, b } = event.Collided;
      // A feed has only this player's collisions; a session's deltas have everyone's.
      if (this.world && a !== this.player && b !== this.player) return;
      this.hits += 1;
      navigator.vibrate?.(60);
      const view = $("tilt-view");
      view.classList.add("hit");
      setTimeout(() => view.classList.remove("hit"), 200);
    } else if ("RoundEnded" in event) {
      navigator.vibrate?.([100, 80, 100]);
    }
  }

  /** The server's tick now, run on from the last one told at the tick rate. */
  private tickNow(): number {
    if (this.tickAt === 0) return 0;
    return this.tick + ((performance.now() - this.tickAt) / 1000) * this.tickHz;
  }

  private showScore(): void {
    $("score").textContent = String(this.score);
    const round = this.round;
    if (!round || this.player === null) return;
    const tick = this.tickNow();
    const seconds = tick > 0 ? Math.max(0, Math.ceil((round.ends_at - tick) / this.tickHz)) : null;
    $("round").textContent =
      round.phase === "Playing"
        ? `Round ${round.number}${seconds === null ? "" : ` · ${seconds} s left`}`
        : `Round ${round.number} over${seconds === null ? "" : ` · next in ${seconds} s`}`;
  }

  /** Once per tick: the current direction, sent only if it changed. */
  private steer(): void {
    if (this.player === null || this.state.kind !== "connected") return;
    const [x, y] = this.direction();
    const dot = $("tilt-dot");
    dot.style.transform = `translate(${x * 70}px, ${y * 70}px)`;
    const [dx, dy] = directionToWire(x, y);
    if (dx === this.sent[0] && dy === this.sent[1]) return;
    this.sent = [dx, dy];
    this.seq += 1;
    this.connection?.send({ Move: { seq: this.seq, dx, dy } });
  }

  private direction(): [number, number] {
    if (this.mode === "joystick") return this.stick.direction();
    return this.pose ? this.tilt.direction(this.pose) : [0, 0];
  }

  inspect() {
    return {
      state: this.state, player: this.player, mode: this.mode, sent: this.sent, seq: this.seq, score: this.score,
      hits: this.hits, round: $("round").textContent,
    };
  }
}

const controller = new Controller();
(window as unknown as { arena: { inspect: () => unknown } }).arena = { inspect: () => controller.inspect() };
const params = new URLSearchParams(location.search);
const session = params.get("s");
const codeInput = $<HTMLInputElement>("code");
const nameInput = $<HTMLInputElement>("name");
codeInput.value = params.get("c") ?? "";
nameInput.value = localStorage.getItem("arena.name") ?? "";
if (session !== null) {
  // From the TV's QR code: a player of one's own in that session.
  $("code-label").hidden = true;
  $("name-label").hidden = false;
  $("pair-tagline").textContent = `Join ${session} and steer your player on the big screen by tilting this phone.`;
  $("start").textContent = "Join";
}
window.addEventListener("pagehide", () => controller.leave());
$("pair-again").addEventListener("click", () => {
  $("gone").hidden = true;
  $("pair").hidden = false;
  $("pair-error").hidden = true;
  if (session === null) codeInput.value = "";
  codeInput.focus();
});
$("pair-form").addEventListener("submit", (e) => {
  e.preventDefault();
  $("pair-error").hidden = true;
  if (session !== null) {
    const name = nameInput.value.trim() || "player";
    localStorage.setItem("arena.name", name);
    void controller.start({ join: session, name });
    return;
  }
  const code = codeInput.value.trim().toUpperCase();
  if (code === "") {
    $("pair-error").textContent = "Type the code shown on the game screen.";
    $("pair-error").hidden = false;
  } else if (controller.live) {
    controller.retry(code);
  } else {
    // The first try, or the last connection was closed: a fresh one.
    void controller.start({ pair: code });
  }
});
