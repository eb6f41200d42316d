// Two pages play in one session: keys held in page A move A's player as page B sees
// it; driving A into B shows the collision, the "+2", the shake and "alice rammed you";
// names never overlap. Screenshots go to test-artifacts/.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { anyOverlap, artifacts, body, hold, inspect, ram, start, told } from "./common.mjs";

let arena;
before(async () => (arena = await start()));
after(() => arena?.stop());

test("two pages play: movement, a ram felt by both, names apart, a favicon", { timeout: 60_000 }, async () => {
  const notFound = [];
  const alice = await arena.page("alice");
  alice.on("response", (r) => r.status() === 404 && notFound.push(r.url()));
  await alice.goto(`${arena.baseUrl}/?s=E2E`);
  await alice.fill("#name", "alice");
  await alice.screenshot({ path: join(artifacts, "join-screen.png") });
  await alice.click("#join-button");
  const bob = await arena.joinAs("bob", "E2E");
  for (const page of [alice, bob]) {
    await page.waitForFunction(() => window.arena.inspect().bodies.length === 2, null, { timeout: 10_000 });
  }
  assert.match(alice.url(), /\?s=E2E$/, "the address bar is a share link to the session");
  assert.deepEqual(notFound, [], "nothing the page loads is missing (the favicon included)");
  const icon = await alice.evaluate(async () => (await fetch("/favicon.svg")).headers.get("content-type"));
  assert.match(icon, /svg/);

  // Keys held in page A move A, as page B sees it; positions are in game units.
  const seenBefore = body(await inspect(bob), "alice");
  const key = seenBefore.x < 700 / 2 ? "ArrowRight" : "ArrowLeft";
  const sign = key === "ArrowRight" ? 1 : -1;
  await hold(alice, [key], 600);
  await bob.waitForTimeout(300);
  const seenAfter = body(await inspect(bob), "alice");
  const moved = (seenAfter.x - seenBefore.x) * sign;
  assert.ok(moved > 60, `page B saw alice move ${moved} units the way she steered`);
  assert.ok(Math.abs(seenAfter.y - seenBefore.y) < 2, "and only that way");

  // Drive A into B: both pages show the collision, the scorer sees "+2" and the
  // rammed player is told who hit them. While touching, no two names overlap.
  let overlapping = 0;
  const scored = await ram(alice, "alice", "bob", async () => {
    const [sa, sb] = [await inspect(alice), await inspect(bob)];
    if (anyOverlap(sa.labels) || anyOverlap(sb.labels)) overlapping += 1;
    return sa.scores.find((s) => s.name === "alice")?.points === 2 && sb.effects.collisions > 0;
  });
  assert.ok(scored, "alice rammed bob for 2");
  assert.equal(overlapping, 0, "names never overlapped, even touching");
  await alice.waitForFunction(() => window.arena.inspect().effects.lastPopup === "+2", null, { timeout: 5_000 });
  assert.ok((await inspect(alice)).effects.shakes > 0, "a hit of your own shakes the arena");
  await told(bob, /^alice rammed you$/);
  await alice.waitForTimeout(100);
  await alice.screenshot({ path: join(artifacts, "page-a-alice.png") });
  await bob.screenshot({ path: join(artifacts, "page-b-bob.png") });
  assert.match(await bob.textContent("#scoreboard"), /alice\s*2/, "the scoreboard shows it");

  for (const page of [alice, bob]) {
    const state = await inspect(page);
    assert.equal(state.gaps, 0, "no delta was lost on loopback");
    assert.ok(state.stats.updatesPerSecond > 20, `updates flow at about 30/s: ${state.stats.updatesPerSecond}`);
  }
  assert.deepEqual(arena.pageErrors, [], "no script errors in either page");
});
