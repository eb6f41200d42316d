// Replays: a round two pages play is kept; /replays lists it and /replay/ID plays it
// with the game's renderer (play, pause, seek, speed, follow), showing at any tick
// exactly the positions the players were sent at that tick.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { artifacts, hold, inspect, start } from "./common.mjs";

const GAME = "[arena]\nwidth = 700\nheight = 450\n[balls]\ncount = 6\n[players]\nspeed = 300\n[round]\nlength_s = 5\nintermission_s = 1\n";

let arena;
before(async () => (arena = await start(GAME)));
after(() => arena?.stop());

test("a played round is replayed exactly as its players saw it", { timeout: 90_000 }, async () => {
  const ann = await arena.joinAs("ann", "REPLAY");
  const bob = await arena.joinAs("bob", "REPLAY");
  await hold(ann, ["ArrowRight", "ArrowDown"], 600);
  await hold(bob, ["ArrowLeft"], 400);
  // What Ann's page was sent, exactly, at one tick of the round.
  const live = (await inspect(ann)).exact;
  assert.ok(live.states.length >= 8, `six balls and two players: ${live.states.length}`);

  // The round ends and is kept.
  const deadline = Date.now() + 20_000;
  let listed = [];
  while (listed.length === 0 && Date.now() < deadline) {
    listed = await fetch(`${arena.baseUrl}/api/replays`).then((r) => r.json());
    if (listed.length === 0) await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(listed.length, 1, "the round is listed");
  assert.equal(listed[0].session, "REPLAY");

  const page = await arena.page("viewer");
  await page.goto(`${arena.baseUrl}/replays`);
  await page.waitForSelector("a.watch");
  await page.click("a.watch");
  // Until the page's script runs, `window.arena` is the canvas of that id.
  await page.waitForFunction(() => typeof window.arena?.inspect === "function" && window.arena.inspect().loaded, null, {
    timeout: 15_000,
  });
  const loaded = await page.evaluate(() => window.arena.inspect());
  assert.ok(loaded.frames >= 140, `a 5 s round's deltas: ${loaded.frames}`);

  // Seek to the tick Ann's page was at: the same states, to the quantum.
  assert.equal(await page.evaluate((tick) => window.arena.seekTick(tick), live.tick), true);
  const shown = await page.evaluate(() => window.arena.inspect());
  assert.equal(shown.tick, live.tick);
  for (const state of live.states) {
    assert.deepEqual(shown.exact.find((s) => s.id === state.id), state, `entity ${state.id} at tick ${live.tick}`);
  }

  // The slider seeks to the middle; play at ×8 moves on, pause stops.
  await page.$eval("#seek", (el) => {
    el.value = String(Math.floor(Number(el.max) / 2));
    el.dispatchEvent(new Event("input"));
  });
  const middle = await page.evaluate(() => window.arena.inspect());
  assert.equal(middle.index, Math.floor(loaded.frames / 2));
  await page.selectOption("#speed", "8");
  await page.selectOption("#follow", { label: "ann" });
  // Played, then paused once 20 deltas have played, from inside the page: ×8 plays the
  // rest of a 5 s round in about 0.3 s, faster than clicks from here could be sure to be.
  const paused = await page.evaluate(
    (from) =>
      new Promise((resolve) => {
        const button = document.getElementById("play");
        const poll = () => {
          if (window.arena.inspect().index <= from + 20) return requestAnimationFrame(poll);
          button.click();
          resolve(window.arena.inspect());
        };
        button.click();
        poll();
      }),
    middle.index,
  );
  assert.ok(paused.index < loaded.frames, `paused before the end: ${paused.index} of ${loaded.frames}`);
  assert.equal(paused.playing, false);
  assert.equal(paused.speed, 8);
  assert.equal(paused.bodies.length, shown.bodies.length, "every body drawn");
  await page.waitForTimeout(300);
  assert.equal((await page.evaluate(() => window.arena.inspect())).index, paused.index, "paused stays put");
  assert.ok(paused.follow !== null, "following Ann");
  await page.screenshot({ path: join(artifacts, "replay.png") });
  assert.deepEqual(arena.pageErrors, []);
});
