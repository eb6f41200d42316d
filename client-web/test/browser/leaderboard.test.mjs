// Results kept: a round played in the browser is on the leaderboard page after the
// server restarts on the same data directory; the join screen links to it.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { artifacts, hold, start } from "./common.mjs";

let arena;
// Two-second rounds in a small arena full of balls: moving scores soon.
before(async () => (arena = await start("[round]\nlength_s = 2\nintermission_s = 1\n[arena]\nwidth = 300\nheight = 300\n[balls]\ncount = 40\n")));
after(() => arena?.stop());

test("a round played is on the leaderboard after a restart", { timeout: 60_000 }, async () => {
  const page = await arena.joinAs("hana", "CUP");
  await hold(page, ["ArrowRight", "ArrowDown"], 600);
  await page.waitForSelector("#round-over:not([hidden])", { timeout: 15_000 });
  const final = await page.textContent("#final-scores");
  const points = Number(/hana: (\d+)/.exec(final)?.[1]);
  assert.ok(Number.isInteger(points), `hana is on the round's scoreboard: ${final}`);
  await page.close();

  await arena.restart();
  const board = await arena.page("board", { viewport: { width: 1000, height: 800 } });
  await board.goto(`${arena.baseUrl}/`);
  await board.click("#leaderboard-link");
  await board.waitForURL(/\/leaderboard/);
  await board.waitForFunction(() => document.querySelector("#by-points tbody td:nth-child(2)")?.textContent === "hana",
    null, { timeout: 10_000 });
  const row = await board.$$eval("#by-points tbody tr:first-child td", (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(row.slice(1, 4), ["hana", String(points), "1"], "name, points, rounds");
  assert.match(await board.textContent("#recent"), /CUP/);
  await board.screenshot({ path: join(artifacts, "leaderboard.png") });

  // A period that does not exist is refused with the server's reason.
  await board.goto(`${arena.baseUrl}/leaderboard?period=year`);
  await board.waitForSelector("#board-error:not([hidden])");
  assert.match(await board.textContent("#board-error"), /period must be day, week or all/);
  assert.deepEqual(arena.pageErrors, []);
});
