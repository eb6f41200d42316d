// The replay pages: /replays lists the rounds the server kept, /replay/ID plays one.
//
// The server re-plays the round from its recording and sends the very messages its
// players were sent (a snapshot, then every delta: GET /api/replays/ID). The page
// applies them to the client's own World and draws them with the game's Renderer, so
// what it shows is what the players saw. Seeking back starts again from the snapshot
// and applies the deltas up to the chosen one: a round is a few thousand small deltas.

import { $ } from "./page";
import { POS_SCALE, decodeReplayFrames, type ReplayFrames } from "./protocol";
import { Renderer, type Body } from "./render";
import { World } from "./world";

interface Listed { id: string; session: string; round: number; ended_at_ms: number; scores: [string, number][]; bytes: number }

/** The /replays list: plain text cells, names being the players'. */
async function showList(): Promise<void> {
  $("replay-list").hidden = false;
  const response = await fetch("/api/replays");
  const error = $("list-error");
  if (!response.ok) {
    error.textContent = (await response.text()).trim();
    error.hidden = false;
    return;
  }
  const listed = (await response.json()) as Listed[];
  const body = $("replays").querySelector("tbody")!;
  const rows = listed.map((r) => {
    const tr = document.createElement("tr");
    const winner = r.scores[0] ? `${r.scores[0][0]} (${r.scores[0][1]})` : "";
    for (const cell of [new Date(r.ended_at_ms).toLocaleString(), r.session, String(r.round), winner, String(r.scores.length)]) {
      const td = document.createElement("td");
      td.textContent = cell;
      tr.append(td);
    }
    const link = document.createElement("a");
    link.href = `/replay/${encodeURIComponent(r.id)}`;
    link.textContent = "Watch";
    link.className = "watch";
    const td = document.createElement("td");
    td.append(link);
    tr.append(td);
    return tr;
  });
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 6;
    td.textContent = "No round has ended here yet.";
    tr.append(td);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

/** One round being watched. */
class Player {
  private readonly world: World;
  private readonly renderer: Renderer;
  /** The deltas applied so far: `index` of them (0: the snapshot only). */
  private index = 0;
  private playing = false;
  private speed = 1;
  /** Ticks (fractional) past the current frame, while playing. */
  private phase = 0;
  private follow: number | null = null;
  private last = 0;
  private bodies: Body[] = [];

  constructor(private readonly frames: ReplayFrames) {
    const sendEvery = Math.max(1, Math.round(frames.tick_hz / Math.max(1, frames.send_hz)));
    this.world = new World(frames.arena, frames.tick_hz, sendEvery);
    this.world.reset(frames.snapshot);
    this.renderer = new Renderer($("arena") as HTMLCanvasElement, frames.arena);
    const seek = $("seek") as HTMLInputElement;
    seek.max = String(frames.deltas.length);
    seek.addEventListener("input", () => this.seek(Number(seek.value)));
    $("play").addEventListener("click", () => this.toggle());
    ($("speed") as HTMLSelectElement).addEventListener("change", (e) => {
      this.speed = Number((e.target as HTMLSelectElement).value);
    });
    const follow = $("follow") as HTMLSelectElement;
    const names = new Map<number, string>();
    for (const spawn of frames.snapshot.spawns) if (spawn.kind === "Player") names.set(spawn.id, spawn.name);
    for (const delta of frames.deltas) {
      for (const spawn of delta.spawned) if (spawn.kind === "Player") names.set(spawn.id, spawn.name);
    }
    for (const [id, name] of names) {
      const option = document.createElement("option");
      option.value = String(id);
      option.textContent = name;
      follow.append(option);
    }
    follow.addEventListener("change", () => {
      this.follow = follow.value === "" ? null : Number(follow.value);
    });
    $("replay-title").textContent = `${frames.session}, round ${frames.round}`;
    requestAnimationFrame((now) => this.frame(now));
  }

  /** Shows the world after `index` deltas. */
  seek(index: number): void {
    this.advanceTo(index);
    this.phase = 0;
    // Drawn now, not at the next frame: a paused replay shows (and reports) where it was sought.
    this.draw(performance.now());
  }

  /** Applies deltas (from the snapshot again if `index` is behind) until `index` of them are in. */
  private advanceTo(index: number): void {
    const target = Math.max(0, Math.min(this.frames.deltas.length, Math.round(index)));
    if (target < this.index) {
      this.world.reset(this.frames.snapshot);
      this.index = 0;
    }
    while (this.index < target) {
      this.world.apply(this.frames.deltas[this.index]!);
      this.index += 1;
    }
    ($("seek") as HTMLInputElement).value = String(this.index);
  }

  /** Shows the world at `tick`, if the round has a delta of it. */
  seekTick(tick: number): boolean {
    const at = this.frames.deltas.findIndex((d) => d.tick === tick);
    if (at < 0) return false;
    this.seek(at + 1);
    return true;
  }

  toggle(): void {
    this.playing = !this.playing;
    if (this.playing && this.index >= this.frames.deltas.length) this.seek(0);
    $("play").textContent = this.playing ? "Pause" : "Play";
  }

  private frame(now: number): void {
    const dt = this.last === 0 ? 0 : Math.min(250, now - this.last);
    this.last = now;
    if (this.playing) {
      this.phase += (dt / 1000) * this.frames.tick_hz * this.speed;
      const step = this.world.sendEvery;
      while (this.phase >= step && this.index < this.frames.deltas.length) {
        this.phase -= step;
        this.advanceTo(this.index + 1);
      }
      if (this.index >= this.frames.deltas.length) this.toggle();
    }
    this.draw(now);
    requestAnimationFrame((t) => this.frame(t));
  }

  private draw(now: number): void {
    const world = this.world;
    const tick = world.tick + (this.playing ? Math.min(this.phase, world.sendEvery) : 0);
    const bodies: Body[] = [];
    for (const spawn of world.spawns.values()) {
      const at = world.positionAt(spawn.id, tick);
      if (!at) continue;
      bodies.push({
        id: spawn.id, kind: spawn.kind, name: spawn.name, x: at.x, y: at.y, radius: spawn.radius,
        mine: spawn.id === this.follow, away: world.away.has(spawn.id),
      });
    }
    this.renderer.draw(bodies, now);
    this.bodies = bodies;
    const start = this.frames.snapshot.tick;
    $("clock").textContent = `${((world.tick - start) / this.frames.tick_hz).toFixed(1)} s`;
    const scores = $("replay-scores");
    scores.replaceChildren(
      ...world.leaderboard().map((s) => {
        const li = document.createElement("li");
        li.textContent = `${s.name}: ${s.points}`;
        if (s.id === this.follow) li.className = "followed";
        return li;
      }),
    );
  }

  inspect() {
    const world = this.world;
    return {
      loaded: true,
      index: this.index,
      frames: this.frames.deltas.length,
      tick: world.tick,
      playing: this.playing,
      speed: this.speed,
      follow: this.follow,
      /** Every entity's exact state (wire quanta) at the current tick. */
      exact: [...world.spawns.keys()].map((id) => world.stateAt(id, world.tick)).filter((s) => s !== undefined),
      bodies: this.bodies.map((b) => ({ id: b.id, name: b.name, x: b.x / POS_SCALE, y: b.y / POS_SCALE })),
      scores: world.leaderboard(),
    };
  }
}

async function showReplay(id: string): Promise<void> {
  // Until the round is here (the canvas, id "arena", would otherwise answer to the name).
  (window as unknown as { arena: unknown }).arena = { inspect: () => ({ loaded: false }) };
  $("replay-player").hidden = false;
  const response = await fetch(`/api/replays/${encodeURIComponent(id)}`);
  if (!response.ok) {
    const error = $("replay-error");
    error.textContent = (await response.text()).trim();
    error.hidden = false;
    return;
  }
  const frames = decodeReplayFrames(new Uint8Array(await response.arrayBuffer()));
  const player = new Player(frames);
  (window as unknown as { arena: unknown }).arena = {
    inspect: () => player.inspect(),
    seekTick: (tick: number) => player.seekTick(tick),
  };
}

const match = /^\/replay\/([A-Za-z0-9_-]+)$/.exec(location.pathname);
void (match ? showReplay(match[1]!) : showList());
