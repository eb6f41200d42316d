// The HUD is laid out around the arena, never on it, on a phone (390×844, touch), a
// tablet (768×1024) and a desktop (1920×1080): the arena takes a fair share of the
// screen, every chip and button is on screen, and none covers the arena or another.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { artifacts, inspect, intersects, start } from "./common.mjs";

let arena;
// The default arena (a square), with balls: what a player meets.
before(async () => (arena = await start("")));
after(() => arena?.stop());

const SCREENS = [
  { name: "phone", options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }, share: 0.3 },
  { name: "tablet", options: { viewport: { width: 768, height: 1024 } }, share: 0.4 },
  { name: "desktop", options: { viewport: { width: 1920, height: 1080 } }, share: 0.4 },
];

for (const screen of SCREENS) {
  test(`the HUD is around the arena on a ${screen.name}`, { timeout: 30_000 }, async () => {
    const page = await arena.joinAs(`on-${screen.name}`, `LAYOUT${screen.name.toUpperCase()}`, screen.options);
    await page.click("#stats-toggle");
    await page.waitForFunction(() => window.arena.inspect().arenaOnPage && document.getElementById("scoreboard").children.length > 0
      && document.getElementById("stats").textContent !== "", null, { timeout: 10_000 });
    await page.screenshot({ path: join(artifacts, `layout-${screen.name}.png`) });
    const { arenaOnPage: field } = await inspect(page);
    const { width, height } = screen.options.viewport;
    const share = (field.width * field.height) / (width * height);
    assert.ok(share >= screen.share, `the arena takes ${(share * 100).toFixed(0)} % of the screen`);

    const selectors = ["#timer", ".hud-chips .chip:nth-child(2)", "#status", "#scoreboard", "#invite-button",
      "#pair-button", "#mute", "#stats-toggle", "#leave-button", "#stats"];
    if (screen.options.hasTouch) selectors.push("#joystick");
    const boxes = [];
    for (const selector of selectors) {
      const box = await page.locator(selector).boundingBox();
      assert.ok(box, `${selector} is shown`);
      assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= width + 0.5 && box.y + box.height <= height + 0.5,
        `${selector} is on screen: ${JSON.stringify(box)}`);
      assert.ok(!intersects(box, field), `${selector} ${JSON.stringify(box)} covers the arena ${JSON.stringify(field)}`);
      boxes.push([selector, box]);
    }
    for (const [i, [a, boxA]] of boxes.entries()) {
      for (const [b, boxB] of boxes.slice(i + 1)) assert.ok(!intersects(boxA, boxB), `${a} and ${b} overlap`);
    }
    assert.deepEqual(arena.pageErrors, []);
  });
}
