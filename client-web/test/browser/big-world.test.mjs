// A big world with interest management: the page follows its player with a camera,
// knows only the cells around it (no ghost of what it left behind), draws a minimap,
// and a TV that sees everything agrees with it about those cells.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { artifacts, body, connected, hold, inspect, start } from "./common.mjs";

const BIG =
  "[arena]\nwidth = 6000\nheight = 3000\n[balls]\ncount = 300\n[players]\nspeed = 600\n" +
  "[network]\nsend_hz = 10\n[interest]\ncell_size = 500\nview_radius = 500\n";

let arena;
before(async () => (arena = await start(BIG)));
after(() => arena?.stop());

/** Every entity a page knows is in a cell it sees. */
function noGhosts(state) {
  const seen = new Set(state.view.cellsSeen);
  return Object.values(state.view.cellOf).every((cell) => seen.has(cell));
}

test("a player in a big world sees the cells around it, follows itself, and walks", { timeout: 90_000 }, async () => {
  const alice = await arena.joinAs("alice", "BIG");
  // Until its first view arrives the page knows no body of its own and shows the whole
  // world; from then on the camera follows alice.
  await alice.waitForFunction(
    () => {
      const s = window.arena.inspect();
      return s.view?.minimap && s.bodies.some((b) => b.name === "alice") && s.view.shown?.width < 2000;
    },
    null,
    { timeout: 10_000 },
  );
  const first = await inspect(alice);
  assert.deepEqual([first.view.cellSize, first.view.viewRadius], [500, 500]);
  assert.equal(first.view.cellsSeen.length <= 25 && first.view.cellsSeen.length >= 4, true, "a block of cells, not all 72");
  assert.ok(first.bodies.length < 200, `only what is near: ${first.bodies.length} of 301 bodies`);
  assert.ok(noGhosts(first), "everything known is in a cell in view");
  const me = body(first, "alice");
  // The cells in view are those whose nearest point is within 500 of where alice was.
  const [ax, ay] = first.view.around;
  assert.ok(Math.hypot(ax - me.x, ay - me.y) < 100, `around alice: (${ax}, ${ay}) and (${me.x}, ${me.y})`);
  const gap = (v, i) => Math.max(i * 500 - v, v - (i + 1) * 500, 0);
  const inReach = [...Array(72).keys()].filter((c) => Math.hypot(gap(ax, c % 12), gap(ay, Math.floor(c / 12))) <= 500);
  assert.deepEqual(first.view.cellsSeen, inReach, "the cells within reach of that point");
  const shown = first.view.shown;
  assert.ok(shown.width < 2000 && shown.height < 2000, "the camera shows a window, not the world");
  assert.ok(me.x > shown.x && me.x < shown.x + shown.width && me.y > shown.y && me.y < shown.y + shown.height, "around you");
  assert.ok(first.view.minimap.dots >= first.bodies.length - 1, "the minimap shows what is known");
  await alice.screenshot({ path: join(artifacts, "big-world.png") });

  // Walk across cells: the view moves along, and nothing is left behind.
  const key = me.x < 3000 ? "ArrowRight" : "ArrowLeft";
  await hold(alice, [key], 2500);
  await alice.waitForTimeout(300);
  const walked = await inspect(alice);
  const there = body(walked, "alice");
  assert.ok(Math.abs(there.x - me.x) > 800, `alice crossed cells: ${me.x} → ${there.x}`);
  assert.notDeepEqual(walked.view.cellsSeen, first.view.cellsSeen, "the cells in view followed her");
  assert.ok(noGhosts(walked), "no ghost of the cells she left");
  assert.equal(walked.gaps, 0, "every view followed the last");
  assert.ok(walked.view.shown.x !== shown.x, "and so did the camera");

  // A TV of the session sees every cell; in alice's cells it knows what she knows.
  const tv = await arena.page("tv", { viewport: { width: 1280, height: 720 } });
  await tv.goto(`${arena.baseUrl}/?s=BIG&view=tv`);
  await connected(tv);
  // It shows the whole world once it sees every cell.
  await tv.waitForFunction(
    () => {
      const v = window.arena.inspect().view;
      return v?.cellsSeen.length === 72 && (v.shown.width >= 6000 || v.shown.height >= 3000);
    },
    null,
    { timeout: 10_000 },
  );
  // The two are sent on ticks of their own (the server spreads its viewers over the
  // three ticks between sends): compare them a tick or two apart, until no body crossed
  // a cell's edge in between.
  let agreed = false;
  for (let attempt = 0; attempt < 50 && !agreed; attempt++) {
    const [a, t] = [await inspect(alice), await inspect(tv)];
    if (Math.abs(a.tick - t.tick) >= 3) continue;
    const cells = new Set(a.view.cellsSeen);
    const theirs = Object.entries(t.view.cellOf).filter(([, cell]) => cells.has(cell)).map(([id]) => id).sort();
    const mine = Object.keys(a.view.cellOf).sort();
    agreed = JSON.stringify(theirs) === JSON.stringify(mine);
  }
  assert.ok(agreed, "the TV and alice agree on what is in her cells");
  const whole = await inspect(tv);
  assert.ok(whole.bodies.length >= 300, "the TV shows everything in the world");
  assert.deepEqual(whole.view.around, [], "around no point: every cell");
});
