// What every browser test file shares: the real arena-server on a free loopback port,
// Debian's Chromium driven by playwright-core, and helpers to join and read a page.
//
//   ARENA_SERVER_BIN=../target/debug/arena-server node --test test/browser/

import { spawn } from "node:child_process";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const artifacts = join(root, "test-artifacts");
const serverBin = process.env.ARENA_SERVER_BIN ?? join(root, "../target/debug/arena-server");
const chromiumBin = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
/** The load-test bots (benches/), built beside the server. */
export const botsBin = process.env.ARENA_BOTS_BIN ?? join(dirname(serverBin), "arena-bots");

/** A small arena without balls unless `config` says otherwise: the only collisions are the players'. */
export const SMALL_ARENA = "[arena]\nwidth = 700\nheight = 450\n[balls]\ncount = 0\n[players]\nspeed = 300\n";

/** Starts arena-server with `file` as its config and `data` as its data directory; resolves with its URL. */
async function launch(file, data, extra) {
  const args = ["--addr", "127.0.0.1:0", "--config", file, "--data-dir", data, ...extra];
  const server = spawn(serverBin, args, { stdio: ["ignore", "pipe", "pipe"] });
  server.stderr.on("data", (d) => process.stderr.write(d));
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("arena-server did not start within 15 s")), 15_000);
    server.on("error", reject);
    server.stdout.on("data", (data) => {
      const match = /open (http:\/\/127\.0\.0\.1:\d+)\//.exec(String(data));
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return { server, baseUrl };
}

/**
 * Headless Chromium, and `page(label, options)`: a fresh context and page, its script
 * errors collected in `pageErrors`.
 */
async function headless() {
  const browser = await chromium.launch({
    executablePath: chromiumBin,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--no-first-run", "--disable-quic", "--disable-sync"],
  });
  const pageErrors = [];
  async function page(label, options = { viewport: { width: 1000, height: 700 } }) {
    const context = await browser.newContext(options);
    const opened = await context.newPage();
    opened.on("pageerror", (err) => pageErrors.push(`${label}: ${err.message}`));
    return opened;
  }
  return { browser, pageErrors, page };
}

/** A free loopback port (for a redis-server of the test's own). */
async function freePort() {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts a cluster: a redis-server of its own on a free loopback port and `count` nodes
 * (each with `config` and its own data directory), and Chromium. `nodes` are their URLs.
 */
export async function startCluster(count, config = SMALL_ARENA) {
  const port = await freePort();
  const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" });
  const { createConnection } = await import("node:net");
  for (let tries = 0; ; tries++) {
    const up = await new Promise((resolve) => {
      const socket = createConnection(port, "127.0.0.1", () => { socket.end(); resolve(true); });
      socket.on("error", () => resolve(false));
    });
    if (up) break;
    if (tries > 200) throw new Error("redis-server did not start");
    await new Promise((r) => setTimeout(r, 25));
  }
  const dir = await mkdtemp(join(tmpdir(), "arena-cluster-"));
  const file = join(dir, "game.toml");
  await writeFile(file, config);
  const servers = [];
  const nodes = [];
  for (let n = 0; n < count; n++) {
    const { server, baseUrl } = await launch(file, join(dir, `data-${n}`), ["--cluster", `redis://127.0.0.1:${port}`]);
    servers.push(server);
    nodes.push(baseUrl);
  }
  // Every node has beaten once and read the others' records.
  for (let tries = 0; ; tries++) {
    const cluster = await fetch(`${nodes[0]}/cluster`).then((r) => r.json()).catch(() => null);
    if (cluster?.nodes?.length === count) break;
    if (tries > 100) throw new Error("the nodes did not form a cluster");
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const { browser, pageErrors, page } = await headless();
  return {
    nodes,
    browser,
    pageErrors,
    page,
    async stop() {
      await browser.close();
      for (const server of servers) server.kill("SIGKILL");
      redis.kill("SIGKILL");
    },
  };
}

/** Starts the server with `config` (TOML) and `extra` arguments on a free loopback port, and Chromium. */
export async function start(config = SMALL_ARENA, extra = []) {
  await mkdir(artifacts, { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), "arena-e2e-"));
  const file = join(dir, "game.toml");
  await writeFile(file, config);
  const data = join(dir, "data");
  let { server, baseUrl } = await launch(file, data, extra);
  const { browser, pageErrors, page } = await headless();
  return {
    get baseUrl() {
      return baseUrl;
    },
    browser,
    pageErrors,
    page,
    /** A page that has joined `session` as `name` and is connected. */
    async joinAs(name, session, options) {
      const page = await this.page(name, options);
      await page.goto(`${baseUrl}/?s=${session}`);
      await page.fill("#name", name);
      await page.click("#join-button");
      await connected(page);
      return page;
    },
    /** Stops the server cleanly (SIGTERM) and starts it again on the same data; its URL changes. */
    async restart() {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
      ({ server, baseUrl } = await launch(file, data, extra));
    },
    async stop() {
      await browser.close();
      server.kill("SIGTERM");
    },
  };
}

export const inspect = (page) => page.evaluate(() => window.arena.inspect());
export const body = (state, name) => state.bodies.find((b) => b.name === name);
/** Waits until the page is connected (until its script runs, `window.arena` may be the canvas of that id). */
export const connected = (page) =>
  page.waitForFunction(
    () => typeof window.arena?.inspect === "function" && window.arena.inspect().connection.kind === "connected",
    null,
    { timeout: 10_000 },
  );

/** Waits until the page has told the player something matching `pattern` (a toast). */
export const told = (page, pattern, timeout = 10_000) =>
  page.waitForFunction((source) => window.arena.inspect().told.some((t) => new RegExp(source).test(t)), pattern.source, { timeout });

/** Keys for the 8-way direction closest to (x, y). */
export function keysToward(x, y) {
  const octant = Math.round(Math.atan2(y, x) / (Math.PI / 4));
  const dirs = { 0: ["ArrowRight"], 1: ["ArrowRight", "ArrowDown"], 2: ["ArrowDown"], 3: ["ArrowLeft", "ArrowDown"],
    4: ["ArrowLeft"], "-4": ["ArrowLeft"], "-3": ["ArrowLeft", "ArrowUp"], "-2": ["ArrowUp"], "-1": ["ArrowRight", "ArrowUp"] };
  return dirs[octant];
}

export async function hold(page, keys, ms) {
  for (const key of keys) await page.keyboard.down(key);
  await page.waitForTimeout(ms);
  for (const key of keys) await page.keyboard.up(key);
}

/** Drives `page`'s player (`me`) into `them` until `done()` holds or 15 s pass. */
export async function ram(page, me, them, done) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await done()) return true;
    const state = await inspect(page);
    const a = body(state, me);
    const b = body(state, them);
    if (a && b) await hold(page, keysToward(b.x - a.x, b.y - a.y), 250);
  }
  return done();
}

/** The phone `page`'s motion sensor, held level: a function that tilts it (degrees). */
export async function motionSensor(page) {
  const sensor = await page.context().newCDPSession(page);
  const tilt = (gamma, beta = 0) => sensor.send("DeviceOrientation.setDeviceOrientationOverride", { alpha: 0, beta, gamma });
  await tilt(0);
  return tilt;
}

/** Whether any two of the drawn name boxes overlap. */
export const anyOverlap = (boxes) =>
  boxes.some((a, i) => boxes.some((b, j) => j > i && a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h));

/** Whether two page rectangles (x, y, width, height) overlap. */
export const intersects = (a, b) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
