// Client-side prediction of your own player, reconciled with the server.
//
// Steering must feel immediate, so your player moves locally the moment you press a
// key, in fixed steps of one server tick, exactly as the server moves it (no inertia,
// speed from the Welcome, velocity on the wire's grid, stopped by walls). The server's word still wins: when a
// delta says "at tick T you were at P, having applied input s", the predictor restarts
// from P and replays the local steps taken since the one that corresponds to T.
// Local step k and server tick T are matched through the input sequence numbers: when
// the server first acknowledges input s at tick T, and s was first applied locally at
// step k, then server tick T corresponds to local step k from then on. On a clean
// connection the replay lands where the prediction already was, so nothing moves; a
// push from another body is corrected smoothly over a few frames rather than snapped.

import { directionFromWire } from "./protocol";

/** One local step: which input was in effect and the direction it gave. */
interface Step {
  seq: number;
  dx: number;
  dy: number;
}

/** Beyond this error (quanta) the correction is a snap, not a glide: 40 units. */
const SNAP_QUANTA = 320;
/** Share of the visual correction left after each rendered frame. */
const SMOOTHING = 0.85;
/** Local steps remembered: a few seconds, far more than any round trip. */
const STEPS_KEPT = 300;

export class Predictor {
  /** Predicted position in quanta, as of the last local step. */
  x = 0;
  y = 0;
  /** The position one step earlier, to draw between steps. */
  private prevX = 0;
  private prevY = 0;
  /** What to add when drawing, decaying to zero: hides corrections. */
  private offsetX = 0;
  private offsetY = 0;
  private step = 0;
  private readonly steps = new Map<number, Step>();
  /** Local step at which each input was first applied. */
  private readonly firstStepOf = new Map<number, number>();
  /** Server tick minus local step, once an acknowledgement has tied them. */
  private tickOffset: number | null = null;
  private lastAck = -1;
  private initialized = false;

  constructor(
    private readonly radius: number,
    private readonly width: number,
    private readonly height: number,
    /** Quanta per tick at full input. */
    private readonly speedPerTick: number,
  ) {}

  /** Advances one tick with the input currently held. */
  advance(seq: number, dx: number, dy: number): void {
    this.step += 1;
    this.prevX = this.x;
    this.prevY = this.y;
    this.steps.set(this.step, { seq, dx, dy });
    this.steps.delete(this.step - STEPS_KEPT);
    if (!this.firstStepOf.has(seq)) this.firstStepOf.set(seq, this.step);
    [this.x, this.y] = this.move(this.x, this.y, dx, dy);
  }

  /**
   * Takes the server's word: at `tick` the player was at (x, y) having applied input
   * `ack`. Returns how far (quanta) the prediction was off.
   */
  reconcile(tick: number, x: number, y: number, ack: number): number {
    if (!this.initialized) {
      this.initialized = true;
      this.x = this.prevX = x;
      this.y = this.prevY = y;
      return 0;
    }
    // Input 0 is "no input yet": it ties no local step to a server tick.
    if (ack !== this.lastAck && ack > 0) {
      const first = this.firstStepOf.get(ack);
      if (first !== undefined) this.tickOffset = tick - first;
      for (const seq of this.firstStepOf.keys()) if (seq < ack) this.firstStepOf.delete(seq);
    }
    this.lastAck = ack;
    // The local steps the server has not simulated yet: those after the one matching
    // `tick`, or, before any input is acknowledged, every step since the first input.
    const from = this.tickOffset !== null ? tick - this.tickOffset + 1 : ack === 0 ? this.firstStepOf.get(1) : undefined;
    let px = x;
    let py = y;
    if (from !== undefined) {
      for (let k = from; k <= this.step; k++) {
        const s = this.steps.get(k);
        if (s) [px, py] = this.move(px, py, s.dx, s.dy);
      }
    }

    const errX = this.x - px;
    const errY = this.y - py;
    const error = Math.hypot(errX, errY);
    if (error > SNAP_QUANTA) {
      this.offsetX = this.offsetY = 0;
    } else {
      this.offsetX += errX;
      this.offsetY += errY;
    }
    this.prevX += px - this.x;
    this.prevY += py - this.y;
    this.x = px;
    this.y = py;
    return error;
  }

  /** Where to draw the player, `alpha` (0..1) of the way into the current step. */
  render(alpha: number): { x: number; y: number } {
    const x = this.prevX + (this.x - this.prevX) * alpha + this.offsetX;
    const y = this.prevY + (this.y - this.prevY) * alpha + this.offsetY;
    this.offsetX *= SMOOTHING;
    this.offsetY *= SMOOTHING;
    return { x, y };
  }

  private move(x: number, y: number, dx: number, dy: number): [number, number] {
    const [ux, uy] = directionFromWire(dx, dy);
    // The server keeps velocities on the wire's grid, whole quanta per tick (rounded
    // half away from zero, as Rust rounds).
    const onGrid = (v: number) => Math.sign(v) * Math.round(Math.abs(v));
    const nx = x + onGrid(ux * this.speedPerTick);
    const ny = y + onGrid(uy * this.speedPerTick);
    const clamp = (v: number, max: number) => Math.max(this.radius, Math.min(max - this.radius, v));
    return [clamp(nx, this.width), clamp(ny, this.height)];
  }
}
