// The operator's live page against a real server with bots playing: without the token
// only the login shows, a wrong token is refused, and once in, the live sessions and
// players show, the charts move, and closing a session closes the bots' sockets with
// the documented code (4005) and its reason.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { artifacts, botsBin, start } from "./common.mjs";

const TOKEN = "admin-test-token";
let arena;
before(async () => (arena = await start("", ["--admin-token", TOKEN])));
after(() => arena?.stop());

test("the admin page shows the bots' sessions live and closes one", { timeout: 60_000 }, async () => {
  const port = new URL(arena.baseUrl).port;
  // Six bots in BOTS-0 and BOTS-1, for long enough to be closed from the page.
  const bots = spawn(botsBin, ["--url", `ws://127.0.0.1:${port}/ws`, "--clients", "6", "--sessions", "2", "--session", "BOTS",
    "--ramp", "1s", "--duration", "14s", "--threads", "1", "--json"], { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  bots.stdout.on("data", (d) => (output += d));
  const finished = new Promise((resolve) => bots.on("exit", resolve));

  // And a browser player in BOTS-0, whose page answers the server's pings.
  const player = await arena.joinAs("iris", "BOTS-0");
  const page = await arena.page("admin", { viewport: { width: 1280, height: 900 } });
  await page.goto(`${arena.baseUrl}/admin`);
  await page.waitForSelector("#admin-login:not([hidden])");
  assert.equal(await page.isVisible("#admin-live"), false, "nothing but the login without the token");
  await page.fill("#admin-token", "not-the-token");
  await page.click("#admin-login-button");
  await page.waitForSelector("#admin-login-error:not([hidden])");
  assert.match(await page.textContent("#admin-login-error"), /Wrong token/);

  await page.fill("#admin-token", TOKEN);
  await page.click("#admin-login-button");
  await page.waitForSelector("#admin-live:not([hidden])");
  await page.waitForFunction(() => {
    const text = document.getElementById("admin-sessions").textContent;
    return text.includes("BOTS-0") && text.includes("BOTS-1");
  }, null, { timeout: 15_000 });
  await page.waitForFunction(() => window.admin.inspect().updates >= 3, null, { timeout: 10_000 });
  assert.ok((await page.evaluate(() => window.admin.inspect().samples)) >= 3, "the charts have moved");
  await page.click("#admin-sessions tr:has-text('BOTS-0')");
  await page.waitForFunction(() => document.querySelectorAll("#admin-players tbody tr").length === 4, null, { timeout: 5_000 });
  assert.match(await page.textContent("#admin-figures"), /connections\s*7/);
  // The browser player's round trip, measured by the server's WebSocket pings.
  await page.waitForFunction(() => /iris\s*\d+\s*\d+\.\d ms/.test(document.getElementById("admin-players").textContent),
    null, { timeout: 10_000 });
  await page.screenshot({ path: join(artifacts, "admin.png") });

  await page.click("#admin-sessions tr:has-text('BOTS-0') button");
  await finished;
  await player.waitForFunction(() => /operator closed this session/.test(document.getElementById("status").textContent),
    null, { timeout: 5_000 });
  const report = JSON.parse(output.trim().split("\n").pop());
  assert.equal(report.unexpected_closes, 3, `the three bots of BOTS-0 were closed: ${output}`);
  assert.ok(report.close_reasons.some((r) => /^4005 the operator closed this session/.test(r)), report.close_reasons.join("; "));
  assert.deepEqual(arena.pageErrors, []);
});
