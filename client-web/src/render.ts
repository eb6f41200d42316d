// Drawing the arena on a canvas: bodies, names, and the short-lived effects that make
// collisions and stops visible. Positions come in as wire quanta; the arena is scaled
// to fit the window.

import { POS_SCALE, type ArenaInfo, type EntityKind } from "./protocol";

export interface Body {
  id: number;
  kind: EntityKind;
  name: string;
  /** Position and radius in quanta. */
  x: number;
  y: number;
  radius: number;
  mine: boolean;
}

interface Particle { x: number; y: number; vx: number; vy: number; born: number; life: number; color: string }
interface Ring { x: number; y: number; born: number; life: number; color: string; grow: number }

/** A player's colour: spread around the hue circle by id, stable across clients. */
export function colorOf(id: number): string {
  return `hsl(${(id * 137.508) % 360}, 75%, 58%)`;
}

export class Renderer {
  /** Effects started, for tests and the stats overlay. */
  readonly counts = { collisions: 0, stills: 0 };
  private readonly ctx: CanvasRenderingContext2D;
  private particles: Particle[] = [];
  private rings: Ring[] = [];
  private scale = 1;
  private originX = 0;
  private originY = 0;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly arena: ArenaInfo) {
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("this browser cannot draw on a canvas");
    this.ctx = ctx;
  }

  /** A collision at (x, y) quanta: a flash and a burst of sparks. */
  collision(x: number, y: number, mine: boolean, now: number): void {
    this.counts.collisions += 1;
    const color = mine ? "#ffe066" : "#ffffff";
    this.rings.push({ x, y, born: now, life: 350, color, grow: mine ? 60 : 35 });
    for (let i = 0; i < (mine ? 18 : 10); i++) {
      const angle = Math.random() * Math.PI * 2;
      const speed = 0.05 + Math.random() * 0.15;
      this.particles.push({
        x, y, vx: Math.cos(angle) * speed, vy: Math.sin(angle) * speed, born: now, life: 400 + Math.random() * 300, color,
      });
    }
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
    ctx.translate(this.originX, this.originY);
    ctx.scale(this.scale, this.scale);
    this.drawFloor();
    for (const body of bodies) if (body.kind === "Ball") this.drawBall(body);
    for (const body of bodies) if (body.kind === "Player") this.drawPlayer(body);
    this.drawEffects(now);
    ctx.restore();
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
    this.scale = Math.min((w - 2 * margin) / this.arena.width, (h - 2 * margin) / this.arena.height);
    this.originX = (w - this.arena.width * this.scale) / 2;
    this.originY = (h - this.arena.height * this.scale) / 2;
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
    ctx.beginPath();
    ctx.arc(p.x, p.y, p.radius, 0, Math.PI * 2);
    ctx.fillStyle = colorOf(p.id);
    ctx.fill();
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
    ctx.font = `${(p.mine ? 14 : 12) / this.scale}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.fillStyle = p.mine ? "#ffffff" : "rgba(255,255,255,0.8)";
    ctx.fillText(p.name, p.x, p.y - p.radius - 6 / this.scale);
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
