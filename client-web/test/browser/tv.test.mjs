// The TV view: a spectator page with the whole arena, the scoreboard and a QR code that
// lets a phone join as a player of its own and steer it by tilting, on the shared screen.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { artifacts, body, connected, inspect, motionSensor, start } from "./common.mjs";

let arena;
before(async () => (arena = await start()));
after(() => arena?.stop());

test("a TV shows the party and a phone joins from its QR code", { timeout: 60_000 }, async () => {
  // The join screen's Watch button opens the TV view of the code typed.
  const tv = await arena.page("tv", { viewport: { width: 1920, height: 1080 } });
  await tv.goto(`${arena.baseUrl}/`);
  await tv.fill("#session", "PARTY");
  await tv.click("#watch-button");
  await tv.waitForURL(/\/\?s=PARTY&view=tv$/);
  await connected(tv);
  const state = await inspect(tv);
  assert.equal(state.you, null, "the TV is a spectator, not a player");
  assert.equal(await tv.isVisible("#invite-button"), false, "nothing to press on a TV");
  await tv.waitForSelector("#tv-join:not([hidden])");
  const link = await tv.textContent("#tv-link");
  assert.equal(link, `${arena.baseUrl}/controller?s=PARTY`);

  // A phone follows the QR code's link, names itself, and tilts.
  const phone = await arena.page("party-phone", { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const tilt = await motionSensor(phone);
  await phone.goto(link);
  assert.equal(await phone.isVisible("#code"), false, "no pairing code to type");
  await phone.fill("#name", "gil");
  await phone.click("#start");
  await phone.waitForFunction(() => window.arena.inspect().player !== null, null, { timeout: 10_000 });
  await tv.waitForFunction(() => window.arena.inspect().bodies.some((b) => b.name === "gil"), null, { timeout: 10_000 });
  assert.match(await tv.textContent("#scoreboard"), /gil/);
  const before = body(await inspect(tv), "gil");
  const sign = before.x < 700 / 2 ? 1 : -1;
  await tilt(30 * sign);
  await tv.waitForTimeout(700);
  await tilt(0);
  const after = body(await inspect(tv), "gil");
  assert.ok((after.x - before.x) * sign > 60, `the TV shows gil steered by the phone's tilt: ${before.x} → ${after.x}`);
  await tv.screenshot({ path: join(artifacts, "tv.png") });
  await phone.screenshot({ path: join(artifacts, "tv-phone.png") });
  assert.deepEqual(arena.pageErrors, []);
});
