// Chat in the game page: two pages chat, a line shows as text (markup too), and typing
// in the chat box does not steer.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { artifacts, body, inspect, start } from "./common.mjs";

let arena;
before(async () => (arena = await start()));
after(() => arena?.stop());

test("two pages chat, and typing in the chat box does not steer", { timeout: 60_000 }, async () => {
  const kim = await arena.joinAs("kim", "CHAT");
  const lou = await arena.joinAs("lou", "CHAT");
  await lou.waitForFunction(() => window.arena.inspect().bodies.length === 2, null, { timeout: 10_000 });

  const before = body(await inspect(lou), "kim");
  await kim.keyboard.press("Enter"); // opens the chat box
  assert.equal(await kim.isVisible("#chat-input"), true);
  // Arrow keys and WASD type while the box is open; held long enough to steer if they did.
  await kim.keyboard.type("wasd <b>hi</b>", { delay: 80 });
  await kim.keyboard.down("ArrowRight");
  await kim.waitForTimeout(400);
  await kim.keyboard.up("ArrowRight");
  await kim.keyboard.press("Enter"); // sends and closes
  assert.equal(await kim.isVisible("#chat-input"), false, "Enter sent the line and closed the box");

  await lou.waitForFunction(() => window.arena.inspect().chat.length === 1, null, { timeout: 10_000 });
  assert.deepEqual((await inspect(lou)).chat, [{ from: "kim", text: "wasd <b>hi</b>" }]);
  assert.match(await lou.textContent("#chat-lines"), /kimwasd <b>hi<\/b>/, "shown as text, markup and all");
  assert.equal(await lou.locator("#chat-lines b").count(), 1, "only the name is bold: the line's markup is not markup");
  const after = body(await inspect(lou), "kim");
  assert.ok(Math.abs(after.x - before.x) < 1 && Math.abs(after.y - before.y) < 1,
    `typing did not steer kim: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);

  // Esc closes the box without saying anything; the keys steer again.
  await kim.keyboard.press("Enter");
  await kim.keyboard.type("never mind");
  await kim.keyboard.press("Escape");
  assert.equal(await kim.isVisible("#chat-input"), false);
  const key = after.y < 450 / 2 ? "ArrowDown" : "ArrowUp"; // towards the middle
  await kim.keyboard.down(key);
  await kim.waitForTimeout(400);
  await kim.keyboard.up(key);
  await lou.waitForTimeout(300);
  const moved = Math.abs(body(await inspect(lou), "kim").y - after.y);
  assert.ok(moved > 20, `closed, the arrows steer again: kim moved ${moved}`);
  assert.equal((await inspect(lou)).chat.length, 1, "Esc said nothing");
  await lou.screenshot({ path: join(artifacts, "chat.png") });
  assert.deepEqual(arena.pageErrors, []);
});
