// Drawing the arena on a canvas: bodies, names, and the short-lived effects that make
// collisions, points and stops visible. Positions come in as wire quanta; the arena is
// scaled to fit its box on the page.

import { placeLabels, type LabelBox } from "./labels";
import { POS_SCALE, type ArenaInfo, type EntityKind, type ViewInfo } from "./protocol";

export interface Body {
  id: number;
  kind: EntityKind;
  name: string;
  /** Position and radius in quanta. */
  x: number;
  y: number;
  radius: number;
  mine: boolean;
  /** Its connection is lost: drawn as a dimmed ghost marked "reconnecting". */
  away: boolean;
}

interface Particle { x: number; y: number; vx: number; vy: number; born: number; life: number; color: string }
interface Ring { x: number; y: number; born: number; life: number; color: string; grow: number }
interface Popup { x: number; y: number; born: number; text: string }

/** How long a "+2" rises and fades, and how long the arena shakes when you are hit. */
const POPUP_MS = 1000;
const SHAKE_MS = 300;

/** A player's colour: spread around the hue circle by id, stable across clients. */
export function colorOf(id: number): string {
  return `hsl(${(id * 137.508) % 360}, 75%, 58%)`;
}

export class Renderer {
  /** Effects started, for tests and the stats overlay. */
  readonly counts = { collisions: 0, stills: 0, popups: 0, shakes: 0 };
  /** The names as last drawn, in CSS pixels on the canvas: a test checks none overlap. */
  labels: LabelBox[] = [];
  /** The last "+N" shown. */
  lastPopup = "";
  private readonly ctx: CanvasRenderingContext2D;
  private particles: Particle[] = [];
  private rings: Ring[] = [];
  private popups: Popup[] = [];
  private shakeUntil = 0;
  /**
   * The arena is drawn turned a quarter clockwise: a wide arena on a tall screen (a phone
   * held upright) fills it instead of a strip of it. Steering follows the screen: see
   * [`Renderer.toWorldDirection`].
   */
  rotated = false;
  private jolt = { x: 0, y: 0 };
  private scale = 1;
  private originX = 0;
  private originY = 0;
  /**
   * In a world with interest management the arena is too big to draw whole: a camera
   * follows a point (your player) and shows a little more than what is in view, and a
   * minimap shows the whole world, the cells you see and what you know is in them.
   */
  private camera: { x: number; y: number } | null = null;
  /** The cells in view (interest management), shaded on the minimap. */
  private seen: ReadonlySet<number> = new Set();
  /** Where the minimap is drawn, in CSS pixels on the canvas, for tests. */
  minimap: { x: number; y: number; width: number; height: number; dots: number; cells: number } | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly arena: ArenaInfo,
    private readonly view: ViewInfo | null = null,
  ) {
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("this browser cannot draw on a canvas");
    this.ctx = ctx;
  }

  /** Centres the camera on (x, y) quanta (interest management only); null: the whole arena. */
  follow(at: { x: number; y: number } | null, seen: ReadonlySet<number>): void {
    this.camera = this.view && at ? at : null;
    this.seen = seen;
  }

  /** The part of the world the camera shows, in quanta (the whole arena without one). */
  shown(): { x: number; y: number; width: number; height: number } {
    const w = this.canvas.width / this.scale;
    const h = this.canvas.height / this.scale;
    return { x: -this.originX / this.scale, y: -this.originY / this.scale, width: w, height: h };
  }

  /** A collision at (x, y) quanta: a flash and a burst of sparks; yours shakes the arena. */
  collision(x: number, y: number, mine: boolean, now: number): void {
    this.counts.collisions += 1;
    const color = mine ? "#ffe066" : "#ffffff";
    this.rings.push({ x, y, born: now, life: mine ? 500 : 350, color, grow: mine ? 90 : 35 });
    if (mine) {
      this.rings.push({ x, y, born: now, life: 700, color: "#ff7b72", grow: 140 });
      this.shakeUntil = now + SHAKE_MS;
      this.counts.shakes += 1;
    }
    for (let i = 0; i < (mine ? 32 : 10); i++) {
      const angle = Math.random() * Math.PI * 2;
      const speed = 0.05 + Math.random() * 0.15;
      this.particles.push({
        x, y, vx: Math.cos(angle) * speed, vy: Math.sin(angle) * speed, born: now, life: 400 + Math.random() * 300, color,
      });
    }
  }

  /** Points scored at (x, y) quanta: "+N" rising from the scorer. */
  popup(x: number, y: number, text: string, now: number): void {
    this.counts.popups += 1;
    this.lastPopup = text;
    this.popups.push({ x, y, born: now, text });
  }

  /** Where the arena is drawn, in CSS pixels relative to the canvas. */
  arenaRect(): { x: number; y: number; width: number; height: number } {
    const dpr = window.devicePixelRatio || 1;
    const [across, down] = this.rotated ? [this.arena.height, this.arena.width] : [this.arena.width, this.arena.height];
    return {
      x: this.originX / dpr,
      y: this.originY / dpr,
      width: (across * this.scale) / dpr,
      height: (down * this.scale) / dpr,
    };
  }

  /** A player stopped at (x, y): a slow ring. */
  still(x: number, y: number, color: string, now: number): void {
    this.counts.stills += 1;
    this.rings.push({ x, y, born: now, life: 900, color, grow: 25 });
  }

  draw(bodies: Body[], now: number): void {
    this.fit();
    const { ctx, canvas } = this;
    ctx.fillStyle = "#0d1117";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.save();
    this.cull = this.shown();
    const shake = Math.max(0, this.shakeUntil - now) / SHAKE_MS;
    const amplitude = shake * 6 * (window.devicePixelRatio || 1);
    this.jolt = { x: (Math.random() - 0.5) * amplitude, y: (Math.random() - 0.5) * amplitude };
    ctx.translate(this.jolt.x, this.jolt.y);
    if (this.rotated) {
      ctx.translate(this.originX + this.arena.height * this.scale, this.originY);
      ctx.rotate(Math.PI / 2);
    } else {
      ctx.translate(this.originX, this.originY);
    }
    ctx.scale(this.scale, this.scale);
    this.drawFloor();
    const visible = this.camera ? bodies.filter((b) => this.onCamera(b)) : bodies;
    for (const body of visible) if (body.kind === "Ball") this.drawBall(body);
    // Yours first: when names would collide, yours keeps its place above.
    const players = visible.filter((b) => b.kind === "Player").sort((a, b) => Number(b.mine) - Number(a.mine));
    for (const body of players) this.drawPlayer(body);
    this.drawEffects(now);
    ctx.restore();
    // Text goes on upright, in screen pixels, whichever way the arena is turned.
    this.drawNames(players);
    this.drawPopups(now);
    if (this.view) this.drawMinimap(bodies);
    else this.minimap = null;
  }

  private cull = { x: 0, y: 0, width: 0, height: 0 };

  private onCamera(b: Body): boolean {
    const c = this.cull;
    return b.x + b.radius >= c.x && b.x - b.radius <= c.x + c.width && b.y + b.radius >= c.y && b.y - b.radius <= c.y + c.height;
  }

  /** The whole world in a corner: its bounds, the cells in view, what is known in them. */
  private drawMinimap(bodies: Body[]): void {
    const { ctx, arena, view } = this;
    if (!view) return;
    const px = window.devicePixelRatio || 1;
    const side = Math.min(160 * px, this.canvas.width * 0.3, this.canvas.height * 0.3);
    const s = side / Math.max(arena.width, arena.height);
    const [w, h] = [arena.width * s, arena.height * s];
    const [x0, y0] = [this.canvas.width - w - 12 * px, 12 * px];
    ctx.fillStyle = "rgba(13,17,23,0.85)";
    ctx.fillRect(x0, y0, w, h);
    const cols = Math.ceil(arena.width / view.cell_size);
    ctx.fillStyle = "rgba(88,166,255,0.22)";
    for (const cell of this.seen) {
      const [cx, cy] = [(cell % cols) * view.cell_size, Math.floor(cell / cols) * view.cell_size];
      ctx.fillRect(x0 + cx * s, y0 + cy * s, view.cell_size * s, view.cell_size * s);
    }
    let dots = 0;
    for (const b of bodies) {
      ctx.fillStyle = b.mine ? "#ffffff" : b.kind === "Player" ? colorOf(b.id) : "#8b949e";
      const r = b.mine ? 3 * px : 1.2 * px;
      ctx.fillRect(x0 + b.x * s - r, y0 + b.y * s - r, 2 * r, 2 * r);
      dots += 1;
    }
    if (this.camera) {
      const c = this.cull;
      ctx.strokeStyle = "rgba(255,255,255,0.6)";
      ctx.lineWidth = px;
      ctx.strokeRect(x0 + c.x * s, y0 + c.y * s, c.width * s, c.height * s);
    }
    ctx.strokeStyle = "#58a6ff";
    ctx.lineWidth = px;
    ctx.strokeRect(x0, y0, w, h);
    this.minimap = { x: x0 / px, y: y0 / px, width: w / px, height: h / px, dots, cells: this.seen.size };
  }

  /** A point of the arena (quanta) on the canvas (device pixels). */
  private toScreen(x: number, y: number): { x: number; y: number } {
    const s = this.scale;
    return this.rotated
      ? { x: this.originX + (this.arena.height - y) * s + this.jolt.x, y: this.originY + x * s + this.jolt.y }
      : { x: this.originX + x * s + this.jolt.x, y: this.originY + y * s + this.jolt.y };
  }

  /** A steering direction as seen on the screen, turned into the arena's axes. */
  toWorldDirection(x: number, y: number): [number, number] {
    // Turned clockwise, the screen's right is the arena's up and its down the arena's right.
    return this.rotated ? [y, -x] : [x, y];
  }

  private fit(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.floor(this.canvas.clientWidth * dpr);
    const h = Math.floor(this.canvas.clientHeight * dpr);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    const margin = 16 * dpr;
    if (this.camera && this.view) {
      // A window a little wider than the view, centred on the camera, never turned.
      const span = this.view.view_radius * 2.2;
      this.rotated = false;
      this.scale = Math.min(w, h) / span;
      this.originX = w / 2 - this.camera.x * this.scale;
      this.originY = h / 2 - this.camera.y * this.scale;
      return;
    }
    const { width, height } = this.arena;
    const fit = (across: number, down: number) => Math.min((w - 2 * margin) / across, (h - 2 * margin) / down);
    // Turn the arena when that makes it markedly bigger on this screen.
    this.rotated = fit(height, width) > fit(width, height) * 1.05;
    this.scale = this.rotated ? fit(height, width) : fit(width, height);
    const [across, down] = this.rotated ? [height, width] : [width, height];
    this.originX = (w - across * this.scale) / 2;
    this.originY = (h - down * this.scale) / 2;
  }

  private drawFloor(): void {
    const { ctx, arena } = this;
    ctx.fillStyle = "#161b22";
    ctx.fillRect(0, 0, arena.width, arena.height);
    ctx.strokeStyle = "rgba(255,255,255,0.05)";
    ctx.lineWidth = 1 / this.scale;
    const step = 100 * POS_SCALE;
    ctx.beginPath();
    for (let x = step; x < arena.width; x += step) { ctx.moveTo(x, 0); ctx.lineTo(x, arena.height); }
    for (let y = step; y < arena.height; y += step) { ctx.moveTo(0, y); ctx.lineTo(arena.width, y); }
    ctx.stroke();
    ctx.strokeStyle = "#58a6ff";
    ctx.lineWidth = 3 / this.scale;
    ctx.strokeRect(0, 0, arena.width, arena.height);
  }

  private drawBall(b: Body): void {
    const { ctx } = this;
    ctx.beginPath();
    ctx.arc(b.x, b.y, b.radius, 0, Math.PI * 2);
    ctx.fillStyle = "#8b949e";
    ctx.fill();
  }

  private drawPlayer(p: Body): void {
    const { ctx } = this;
    ctx.globalAlpha = p.away ? 0.3 : 1;
    ctx.beginPath();
    ctx.arc(p.x, p.y, p.radius, 0, Math.PI * 2);
    ctx.fillStyle = colorOf(p.id);
    ctx.fill();
    if (p.away) {
      ctx.setLineDash([6 / this.scale, 6 / this.scale]);
      ctx.lineWidth = 2 / this.scale;
      ctx.strokeStyle = "#ffffff";
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.globalAlpha = 1;
    if (p.mine) {
      ctx.lineWidth = 4 / this.scale;
      ctx.strokeStyle = "#ffffff";
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(p.x, p.y, p.radius * 1.45, 0, Math.PI * 2);
      ctx.lineWidth = 2 / this.scale;
      ctx.strokeStyle = "rgba(255,255,255,0.35)";
      ctx.stroke();
    }
  }

  /** Names (and "reconnecting" marks), on screen, placed so that no two overlap. */
  private drawNames(players: Body[]): void {
    const { ctx } = this;
    const px = window.devicePixelRatio || 1;
    ctx.font = `${13 * px}px system-ui, sans-serif`;
    const texts = players.map((p) => (p.away ? `${p.name} · reconnecting` : p.name));
    const widths = texts.map((t) => ctx.measureText(t).width + 4 * px);
    const onScreen = players.map((p) => ({ ...this.toScreen(p.x, p.y), radius: p.radius * this.scale }));
    const boxes = placeLabels(onScreen, widths, 14 * px, 4 * px);
    this.labels = boxes.map((b) => ({ x: b.x / px, y: b.y / px, w: b.w / px, h: b.h / px }));
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    players.forEach((p, i) => {
      const box = boxes[i]!;
      ctx.fillStyle = p.away ? "rgba(255,255,255,0.5)" : p.mine ? "#ffffff" : "rgba(255,255,255,0.85)";
      ctx.fillText(texts[i]!, box.x + box.w / 2, box.y + box.h / 2);
    });
    ctx.textBaseline = "alphabetic";
  }

  /** "+N" rising from the scorer, on screen. */
  private drawPopups(now: number): void {
    const { ctx } = this;
    const px = window.devicePixelRatio || 1;
    this.popups = this.popups.filter((p) => now - p.born < POPUP_MS);
    ctx.font = `bold ${22 * px}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.fillStyle = "#ffe066";
    for (const p of this.popups) {
      const t = (now - p.born) / POPUP_MS;
      const at = this.toScreen(p.x, p.y);
      ctx.globalAlpha = 1 - t * t;
      ctx.fillText(p.text, at.x, at.y - (30 + 50 * t) * px);
    }
    ctx.globalAlpha = 1;
  }

  private drawEffects(now: number): void {
    const { ctx } = this;
    this.rings = this.rings.filter((r) => now - r.born < r.life);
    for (const r of this.rings) {
      const t = (now - r.born) / r.life;
      ctx.beginPath();
      ctx.arc(r.x, r.y, (10 + r.grow * t) * POS_SCALE * 0.5, 0, Math.PI * 2);
      ctx.strokeStyle = r.color;
      ctx.globalAlpha = 1 - t;
      ctx.lineWidth = 3 / this.scale;
      ctx.stroke();
    }
    this.particles = this.particles.filter((p) => now - p.born < p.life);
    for (const p of this.particles) {
      const age = now - p.born;
      ctx.globalAlpha = 1 - age / p.life;
      ctx.fillStyle = p.color;
      const s = 3 / this.scale;
      ctx.fillRect(p.x + p.vx * age * POS_SCALE - s / 2, p.y + p.vy * age * POS_SCALE - s / 2, s, s);
    }
    ctx.globalAlpha = 1;
  }
}
