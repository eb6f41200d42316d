// A phone controller: pairs by code and steers by tilting; every refusal is said on
// the pairing screen and another Start works; the countdown runs between updates; when
// the game page goes away the phone says so and offers to pair again.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { artifacts, body, inspect, motionSensor, start } from "./common.mjs";

let arena;
before(async () => (arena = await start()));
after(() => arena?.stop());

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

async function pairCode(game) {
  await game.click("#pair-button");
  await game.waitForFunction(() => window.arena.inspect().pairCode, null, { timeout: 10_000 });
  return (await inspect(game)).pairCode;
}

test("a phone pairs by code and steers its player by tilting", { timeout: 60_000 }, async () => {
  const game = await arena.joinAs("carol", "PHONE");
  const code = await pairCode(game);
  assert.match(code, /^[2-9A-HJ-NP-Z]{6}$/, `a six-character code without look-alikes: ${code}`);
  assert.equal(await game.isVisible("#pair-qr"), true, "with a QR code of the controller link");
  assert.match(await game.textContent("#pair-link"), new RegExp(`/controller\\?c=${code}$`));
  await game.screenshot({ path: join(artifacts, "game-pairing-code.png") });

  const phone = await arena.page("phone", PHONE);
  const tilt = await motionSensor(phone);
  await phone.goto(`${arena.baseUrl}/controller?c=${code}`);
  assert.equal(await phone.inputValue("#code"), code, "the QR link fills in the code");
  await phone.click("#start");
  await phone.waitForFunction(() => window.arena.inspect().player !== null, null, { timeout: 10_000 });
  await game.waitForFunction(() => window.arena.inspect().phoneAttached, null, { timeout: 10_000 });
  assert.equal((await inspect(phone)).mode, "tilt", "the phone steers by tilt, its sensor being there");

  // The round's countdown runs on the phone though nothing happens to carol.
  const countdown = async () => Number(/(\d+) s left/.exec((await inspect(phone)).round)?.[1]);
  const first = await countdown();
  await phone.waitForTimeout(2_200);
  const later = await countdown();
  assert.ok(first - later >= 1, `the countdown ticks between updates: ${first} then ${later}`);

  const before = body(await inspect(game), "carol");
  const sign = before.x < 700 / 2 ? 1 : -1;
  await tilt(30 * sign);
  await game.waitForTimeout(700);
  await tilt(0);
  const after = body(await inspect(game), "carol");
  const moved = (after.x - before.x) * sign;
  assert.ok(moved > 60, `tilting moved carol ${moved} units the way the phone leaned`);
  assert.ok(Math.abs(after.y - before.y) < 4, "and not up or down");
  await game.screenshot({ path: join(artifacts, "game-steered-by-phone.png") });
  await phone.screenshot({ path: join(artifacts, "phone-controller.png") });

  // The game page goes away: the phone says so and offers to pair again.
  await game.close();
  await phone.waitForSelector("#gone:not([hidden])", { timeout: 10_000 });
  assert.match(await phone.textContent("#gone-reason"), /game page of your player has left/);
  await phone.screenshot({ path: join(artifacts, "phone-page-gone.png") });
  await phone.click("#pair-again");
  assert.equal(await phone.isVisible("#pair-form"), true, "back on the pairing screen");
  assert.deepEqual(arena.pageErrors, [], "no script errors");
});

test("every refusal shows on the phone in words, and Start tries again", { timeout: 60_000 }, async () => {
  const game = await arena.joinAs("dora", "PHONE2");
  const phone = await arena.page("phone2", PHONE);
  await phone.goto(`${arena.baseUrl}/controller?c=WRONG2`);
  await phone.click("#start");
  await phone.waitForSelector("#pair-error:not([hidden])", { timeout: 10_000 });
  assert.match(await phone.textContent("#pair-error"), /no such code/);
  // Four more wrong codes: the server closes the connection; the phone says why.
  for (let i = 0; i < 4; i++) {
    await phone.fill("#code", `WRONG${3 + i}`);
    await phone.click("#start");
    await phone.waitForFunction(() => !document.getElementById("pair-error").hidden, null, { timeout: 10_000 });
    await phone.waitForTimeout(700);
  }
  await phone.waitForFunction(() => /too many wrong pairing codes/.test(document.getElementById("pair-error").textContent), null, { timeout: 10_000 });
  await phone.screenshot({ path: join(artifacts, "phone-refused.png") });
  // Start with the right code opens a new connection and pairs.
  const code = await pairCode(game);
  await phone.fill("#code", code);
  await phone.click("#start");
  await phone.waitForFunction(() => window.arena.inspect().player !== null, null, { timeout: 10_000 });
  assert.equal(await phone.isVisible("#pad"), true);
  assert.deepEqual(arena.pageErrors, []);
});
