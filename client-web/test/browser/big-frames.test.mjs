// A browser that sends a frame over the size limit (16 KiB + 1, 32 KiB, 64 KiB) sees
// the server's close 1009 and its reason every time, never a reset (1006).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { start } from "./common.mjs";

let arena;
before(async () => (arena = await start()));
after(() => arena?.stop());

test("frames of 16 to 64 KiB are refused with a clean 1009, every time", { timeout: 60_000 }, async () => {
  const page = await arena.page("big");
  await page.goto(`${arena.baseUrl}/`);
  const closes = await page.evaluate(async () => {
    const send = (size) =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/ws`, "arena.v2");
        ws.binaryType = "arraybuffer";
        ws.onopen = () => ws.send(new Uint8Array(size).fill(0x41));
        ws.onclose = (e) => resolve({ size, code: e.code, reason: e.reason });
      });
    const out = [];
    for (let round = 0; round < 3; round++) {
      for (const size of [16 * 1024 + 1, 32 * 1024, 64 * 1024]) out.push(await send(size));
    }
    return out;
  });
  for (const close of closes) {
    assert.equal(close.code, 1009, `a ${close.size}-byte frame: ${JSON.stringify(close)}`);
    assert.match(close.reason, /over the size limit/);
  }
});
