// A lost connection: the player waits as a dimmed ghost marked "reconnecting" that
// nobody can score against or bump into, comes back as itself, or, after the grace
// period (2 s here), is told it joined again as a new player.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { SMALL_ARENA, artifacts, body, connected, hold, inspect, keysToward, start, told } from "./common.mjs";

let arena;
before(async () => (arena = await start(`${SMALL_ARENA}[sessions]\nreconnect_grace_s = 2\n`)));
after(() => arena?.stop());

test("a lost player is a ghost nobody scores on, then comes back as itself", { timeout: 60_000 }, async () => {
  const ann = await arena.joinAs("ann", "GHOST");
  const ben = await arena.joinAs("ben", "GHOST");
  await ben.waitForFunction(() => window.arena.inspect().bodies.length === 2, null, { timeout: 10_000 });
  const me = (await inspect(ann)).you;

  await ann.evaluate(() => window.arena.simulateNetworkDrop(1500));
  await told(ben, /^ann lost connection$/);
  await ben.waitForFunction((id) => window.arena.inspect().away.includes(id), me, { timeout: 5_000 });
  assert.equal(body(await inspect(ben), "ann").away, true, "drawn as a ghost");
  assert.match(await ben.textContent("#scoreboard"), /ann \(reconnecting\)/);
  await ben.screenshot({ path: join(artifacts, "ghost.png") });
  // Drive at the ghost for a while: nothing touches it, nobody scores.
  for (let i = 0; i < 4; i++) {
    const state = await inspect(ben);
    const [a, b] = [body(state, "ben"), body(state, "ann")];
    await hold(ben, keysToward(b.x - a.x, b.y - a.y), 200);
  }
  const during = await inspect(ben);
  assert.equal(during.effects.collisions, 0, "nothing collides with a ghost");
  assert.ok(during.scores.every((s) => s.points === 0), `nobody scores: ${JSON.stringify(during.scores)}`);

  await told(ben, /^ann is back$/);
  await connected(ann);
  assert.equal((await inspect(ann)).you, me, "the same entity after reconnecting");
  assert.equal((await inspect(ben)).away.length, 0, "no longer a ghost");
  assert.equal((await inspect(ben)).gaps, 0);
  assert.deepEqual(arena.pageErrors, []);
});

test("a page back after the grace period is told it is a new player", { timeout: 60_000 }, async () => {
  const eve = await arena.joinAs("eve", "LATE");
  const fay = await arena.joinAs("fay", "LATE");
  await fay.waitForFunction(() => window.arena.inspect().bodies.length === 2, null, { timeout: 10_000 });
  const me = (await inspect(eve)).you;
  await eve.evaluate(() => window.arena.simulateNetworkDrop(4000));
  await told(fay, /^eve left$/, 15_000);
  await told(eve, /You were away too long: you joined again as a new player/, 20_000);
  assert.notEqual((await inspect(eve)).you, me, "a new entity");
  await eve.screenshot({ path: join(artifacts, "away-too-long.png") });
  assert.deepEqual(arena.pageErrors, []);
});
