// The phone controller page (/controller): pair with a code, then steer by tilting
// (or with a joystick where there is no motion sensor), and feel your collisions.

import { Connection, type ConnectionState } from "./connection";
import { $, socketUrl } from "./page";
import { Steering } from "./input";
import { directionToWire, type Feed, type GameEvent, type RoundState, type ServerMessage } from "./protocol";
import { TiltSteering, type Pose } from "./tilt";

/** Without a motion reading this soon after Start, the joystick takes over. */
const SENSOR_GRACE_MS = 1500;

type Mode = "tilt" | "joystick";

class Controller {
  private connection: Connection | null = null;
  private readonly tilt = new TiltSteering();
  private readonly stick: Steering;
  private pose: Pose | null = null;
  private mode: Mode = "tilt";
  private player: number | null = null;
  private tickHz = 30;
  private tick = 0;
  private round: RoundState | null = null;
  private score = 0;
  private seq = 0;
  private sent: [number, number] = [0, 0];
  private hits = 0;
  private state: ConnectionState = { kind: "connecting" };

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
  }

  /** Starts from the Start button: motion permission first, where a browser asks. */
  async start(code: string): Promise<void> {
    const request = (DeviceOrientationEvent as unknown as { requestPermission?: () => Promise<string> }).requestPermission;
    if (typeof request === "function") {
      try {
        if ((await request()) !== "granted") this.useJoystick("motion access was not granted");
      } catch {
        this.useJoystick("motion access is not available");
      }
    }
    setTimeout(() => {
      if (this.pose === null) this.useJoystick("no motion sensor found");
    }, SENSOR_GRACE_MS);
    this.connection = new Connection(
      socketUrl(),
      () => ({ Pair: { code } }),
      (m) => this.onMessage(m),
      (s) => this.onState(s),
    );
    this.connection.open();
    setInterval(() => this.steer(), 1000 / 30);
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
      state.kind === "connected" ? "paired"
      : state.kind === "connecting" ? "connecting…"
      : state.kind === "reconnecting" ? "connection lost: reconnecting…"
      : `closed: ${state.reason}`;
  }

  private onMessage(message: ServerMessage): void {
    if ("Paired" in message) {
      const p = message.Paired;
      this.player = p.player;
      this.tickHz = p.tick_hz;
      this.score = p.score;
      this.round = p.round;
      $("pair").hidden = true;
      $("pad").hidden = false;
      $("player-name").textContent = p.name;
      if (this.mode === "tilt") $("mode").textContent = "Tilt to steer; Calibrate takes the way you hold the phone now as still.";
      this.showScore();
    } else if ("PairRefused" in message) {
      $("pair").hidden = false;
      $("pad").hidden = true;
      $("pair-error").hidden = false;
      $("pair-error").textContent = message.PairRefused.reason;
    } else if ("Feed" in message) {
      this.onFeed(message.Feed);
    }
  }

  private onFeed(feed: Feed): void {
    this.tick = feed.tick;
    this.score = feed.score;
    this.round = feed.round;
    for (const event of feed.events) this.onEvent(event);
    this.showScore();
  }

  private onEvent(event: GameEvent): void {
    if ("Collided" in event) {
      this.hits += 1;
      navigator.vibrate?.(60);
      const view = $("tilt-view");
      view.classList.add("hit");
      setTimeout(() => view.classList.remove("hit"), 200);
    } else if ("RoundEnded" in event) {
      navigator.vibrate?.([100, 80, 100]);
    }
  }

  private showScore(): void {
    $("score").textContent = String(this.score);
    const round = this.round;
    if (!round) return;
    const seconds = this.tick > 0 ? Math.max(0, Math.ceil((round.ends_at - this.tick) / this.tickHz)) : null;
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
    return { state: this.state, player: this.player, mode: this.mode, sent: this.sent, seq: this.seq, score: this.score, hits: this.hits };
  }
}

const controller = new Controller();
(window as unknown as { arena: { inspect: () => unknown } }).arena = { inspect: () => controller.inspect() };
const codeInput = $<HTMLInputElement>("code");
codeInput.value = new URLSearchParams(location.search).get("c") ?? "";
let started = false;
$("pair-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const code = codeInput.value.trim().toUpperCase();
  if (!started) {
    started = true;
    void controller.start(code);
  } else {
    controller.retry(code);
  }
});
