// Honest departures: a page that is closed, or whose player presses Leave, takes its
// player away at once, named; only a lost connection keeps the seat. The grace period
// here is ten minutes, so only a goodbye can make a player leave during the test.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { SMALL_ARENA, inspect, start, told } from "./common.mjs";

let arena;
before(async () => (arena = await start(`${SMALL_ARENA}[sessions]\nreconnect_grace_s = 600\n`)));
after(() => arena?.stop());

const players = async (page) => (await inspect(page)).bodies.filter((b) => b.kind === "Player").map((b) => b.name).sort();

test("a closed tab and a Leave press take their players away at once, by name", { timeout: 45_000 }, async () => {
  const host = await arena.joinAs("host", "BYE");
  const cat = await arena.joinAs("cat", "BYE");
  const dan = await arena.joinAs("dan", "BYE");
  await host.waitForFunction(() => window.arena.inspect().bodies.length === 3, null, { timeout: 10_000 });

  await cat.close(); // the tab is closed
  await told(host, /^cat left$/);
  assert.deepEqual(await players(host), ["dan", "host"], "cat is gone, not a ghost for ten minutes");

  await dan.click("#leave-button");
  await told(host, /^dan left$/);
  assert.deepEqual(await players(host), ["host"]);
  await dan.waitForSelector("#join:not([hidden])");
  assert.match(await dan.textContent("#join-notice"), /You left the game/);
  assert.equal(await dan.inputValue("#session"), "BYE", "ready to join again");
  const lost = (await inspect(host)).told.filter((t) => /lost connection/.test(t));
  assert.deepEqual(lost, [], "nobody was taken for a lost connection");
  assert.deepEqual(arena.pageErrors, []);
});
