// End to end in a real browser: Debian's Chromium, headless, driven by playwright-core,
// against the real arena-server on 127.0.0.1. Two pages join one session; keys held in
// page A move A's player as page B sees it; driving A into B shows the collision in
// both pages. Screenshots of both pages are written to test-artifacts/.
//
//   ARENA_SERVER_BIN=../target/debug/arena-server node --test test/browser.test.mjs

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const artifacts = join(root, "test-artifacts");
const serverBin = process.env.ARENA_SERVER_BIN ?? join(root, "../target/debug/arena-server");
const chromiumBin = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const QUANTA = 8;

let server;
let browser;
let baseUrl;
const pageErrors = [];

/** Starts the server on a free loopback port; resolves with its URL. */
async function startServer() {
  const dir = await mkdtemp(join(tmpdir(), "arena-e2e-"));
  const config = join(dir, "game.toml");
  // A small arena, no balls: the only collisions are between the two players.
  await writeFile(config, "[arena]\nwidth = 700\nheight = 450\n[balls]\ncount = 0\n[players]\nspeed = 300\n");
  server = spawn(serverBin, ["--addr", "127.0.0.1:0", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  server.stderr.on("data", (d) => process.stderr.write(d));
  return new Promise((resolve, reject) => {
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
}

/** A fresh browser context and page that has joined `session` as `name`. */
async function joinAs(name, session) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(`${name}: ${err.message}`));
  await page.goto(`${baseUrl}/?s=${session}`);
  await page.fill("#name", name);
  if (name === "alice") await page.screenshot({ path: join(artifacts, "join-screen.png") });
  await page.click("#join-button");

  await page.waitForFunction(() => window.arena?.inspect().connection.kind === "connected", null, { timeout: 10_000 });
  return page;
}

const inspect = (page) => page.evaluate(() => window.arena.inspect());
const body = (state, name) => state.bodies.find((b) => b.name === name);

/** Keys for the 8-way direction closest to (x, y). */
function keysToward(x, y) {
  const keys = [];
  const angle = Math.atan2(y, x);
  const octant = Math.round(angle / (Math.PI / 4));
  const dirs = { 0: ["ArrowRight"], 1: ["ArrowRight", "ArrowDown"], 2: ["ArrowDown"], 3: ["ArrowLeft", "ArrowDown"],
    4: ["ArrowLeft"], "-4": ["ArrowLeft"], "-3": ["ArrowLeft", "ArrowUp"], "-2": ["ArrowUp"], "-1": ["ArrowRight", "ArrowUp"] };
  keys.push(...dirs[octant]);
  return keys;
}

async function hold(page, keys, ms) {
  for (const key of keys) await page.keyboard.down(key);
  await page.waitForTimeout(ms);
  for (const key of keys) await page.keyboard.up(key);
}

before(async () => {
  await mkdir(artifacts, { recursive: true });
  baseUrl = await startServer();
  browser = await chromium.launch({
    executablePath: chromiumBin,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--no-first-run", "--disable-quic", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
});

test("two pages play in one session: movement, a collision, screenshots", { timeout: 60_000 }, async () => {
  const alice = await joinAs("alice", "E2E");
  const bob = await joinAs("bob", "E2E");

  // Both pages see both players.
  for (const page of [alice, bob]) {
    await page.waitForFunction(() => window.arena.inspect().bodies.length === 2, null, { timeout: 10_000 });
  }
  assert.match(alice.url(), /\?s=E2E$/, "the address bar is a share link to the session");

  // Keys held in page A move A, as page B sees it.
  const seenBefore = body(await inspect(bob), "alice");
  const key = seenBefore.x < (700 * QUANTA) / 2 ? "ArrowRight" : "ArrowLeft";
  const sign = key === "ArrowRight" ? 1 : -1;
  await hold(alice, [key], 600);
  await bob.waitForTimeout(300);
  const seenAfter = body(await inspect(bob), "alice");
  const moved = (seenAfter.x - seenBefore.x) * sign;
  assert.ok(moved > 60 * QUANTA, `page B saw alice move ${moved / QUANTA} units the way she steered`);
  assert.ok(Math.abs(seenAfter.y - seenBefore.y) < 2 * QUANTA, "and only that way");

  // Drive A into B until both pages show the collision.
  const deadline = Date.now() + 15_000;
  let collided = false;
  while (!collided && Date.now() < deadline) {
    const state = await inspect(alice);
    const a = body(state, "alice");
    const b = body(state, "bob");
    await hold(alice, keysToward(b.x - a.x, b.y - a.y), 250);
    const [sa, sb] = [await inspect(alice), await inspect(bob)];
    collided = sa.effects.collisions > 0 && sb.effects.collisions > 0;
  }
  assert.ok(collided, "both pages show the collision effect");
  await alice.waitForTimeout(150);
  await alice.screenshot({ path: join(artifacts, "page-a-alice.png") });
  await bob.screenshot({ path: join(artifacts, "page-b-bob.png") });

  const scores = (await inspect(bob)).scores;
  assert.equal(scores.find((s) => s.name === "alice")?.points, 2, `ramming bob scored 2 for alice: ${JSON.stringify(scores)}`);
  const board = await bob.textContent("#scoreboard");
  assert.match(board, /alice\s*2/, "and the scoreboard shows it");

  for (const page of [alice, bob]) {
    const state = await inspect(page);
    assert.equal(state.gaps, 0, "no delta was lost on loopback");
    assert.ok(state.stats.updatesPerSecond > 20, `updates flow at about 30/s: ${state.stats.updatesPerSecond}`);
  }
  assert.deepEqual(pageErrors, [], "no script errors in either page");
});

test("a refused join shows the server's reason", { timeout: 30_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${baseUrl}/`);
  await page.fill("#name", "x".repeat(24));
  // A session code the server refuses (the form's pattern is bypassed on purpose).
  await page.evaluate(() => document.getElementById("session").removeAttribute("pattern"));
  await page.fill("#session", "bad code!");
  await page.click("#join-button");
  await page.waitForFunction(() => document.getElementById("status").classList.contains("refused"), null, { timeout: 10_000 });
  const status = await page.textContent("#status");
  assert.match(status, /refused: invalid session/, status);
  assert.equal(await page.isVisible("#refused"), true, "a panel explains the refusal");
  assert.match(await page.textContent("#refused-reason"), /only letters, digits/);

  await page.screenshot({ path: join(artifacts, "refused.png") });
});

test("a phone pairs by code and steers its player by tilting", { timeout: 60_000 }, async () => {
  const game = await joinAs("carol", "PHONE");
  await game.click("#pair-button");
  await game.waitForFunction(() => window.arena.inspect().pairCode, null, { timeout: 10_000 });
  const code = (await inspect(game)).pairCode;
  assert.match(code, /^[2-9A-HJ-NP-Z]{6}$/, `a six-character code without look-alikes: ${code}`);
  assert.equal(await game.isVisible("#pair-qr"), true, "with a QR code of the controller link");
  assert.match(await game.textContent("#pair-link"), new RegExp(`/controller\\?c=${code}$`));
  await game.screenshot({ path: join(artifacts, "game-pairing-code.png") });

  // The phone: a mobile viewport whose motion sensor the DevTools protocol controls.
  const phoneContext = await browser.newContext({ viewport: { width: 390, height: 780 }, isMobile: true, hasTouch: true });
  const phone = await phoneContext.newPage();
  phone.on("pageerror", (err) => pageErrors.push(`phone: ${err.message}`));
  const sensor = await phoneContext.newCDPSession(phone);
  const tilt = (gamma, beta = 0) => sensor.send("DeviceOrientation.setDeviceOrientationOverride", { alpha: 0, beta, gamma });
  await tilt(0);
  await phone.goto(`${baseUrl}/controller?c=${code}`);
  assert.equal(await phone.inputValue("#code"), code, "the QR link fills in the code");
  await phone.click("#start");
  await phone.waitForFunction(() => window.arena.inspect().player !== null, null, { timeout: 10_000 });
  await game.waitForFunction(() => window.arena.inspect().phoneAttached, null, { timeout: 10_000 });
  assert.equal((await inspect(phone)).mode, "tilt", "the phone steers by tilt, its sensor being there");

  // Tilt towards the middle of the arena: the game page shows carol going that way.
  const before = body(await inspect(game), "carol");
  const sign = before.x < (700 * QUANTA) / 2 ? 1 : -1;
  await tilt(30 * sign);
  await game.waitForTimeout(700);
  await tilt(0);
  const after = body(await inspect(game), "carol");
  const moved = (after.x - before.x) * sign;
  assert.ok(moved > 60 * QUANTA, `tilting moved carol ${moved / QUANTA} units the way the phone leaned`);
  assert.ok(Math.abs(after.y - before.y) < 4 * QUANTA, "and not up or down");
  await game.screenshot({ path: join(artifacts, "game-steered-by-phone.png") });
  await phone.screenshot({ path: join(artifacts, "phone-controller.png") });

  // A wrong code is refused, with a reason.
  const other = await (await browser.newContext({ viewport: { width: 390, height: 780 }, isMobile: true })).newPage();
  await other.goto(`${baseUrl}/controller?c=WRONG2`);
  await other.click("#start");
  await other.waitForSelector("#pair-error:not([hidden])", { timeout: 10_000 });
  assert.match(await other.textContent("#pair-error"), /no such code/);
  await other.screenshot({ path: join(artifacts, "phone-wrong-code.png") });
  assert.deepEqual(pageErrors, [], "no script errors");
});

test("a page whose connection drops comes back as the same player", { timeout: 60_000 }, async () => {
  const dave = await joinAs("dave", "BLINK");
  const erin = await joinAs("erin", "BLINK");
  await erin.waitForFunction(() => window.arena.inspect().bodies.length === 2, null, { timeout: 10_000 });
  const me = (await inspect(dave)).you;
  await dave.evaluate(() => window.arena.simulateNetworkDrop());
  await dave.waitForFunction(() => window.arena.inspect().connection.kind === "reconnecting", null, { timeout: 5_000 });
  await dave.waitForFunction(() => window.arena.inspect().connection.kind === "connected", null, { timeout: 15_000 });
  assert.equal((await inspect(dave)).you, me, "the same entity after reconnecting");
  await erin.waitForTimeout(300);
  const seen = await inspect(erin);
  assert.ok(seen.bodies.some((b) => b.id === me && b.name === "dave"), "erin never lost dave");
  assert.equal(seen.gaps, 0);
  assert.deepEqual(pageErrors, [], "no script errors");
});
