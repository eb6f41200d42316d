// Inviting from inside the game: every session, the open lobby too, has an Invite
// button with the link, a copy button and a QR code.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { artifacts, connected, start } from "./common.mjs";

let arena;
before(async () => (arena = await start()));
after(() => arena?.stop());

test("the lobby's Invite panel has the link, copies it, and shows its QR code", { timeout: 30_000 }, async () => {
  const page = await arena.page("inviter");
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: arena.baseUrl });
  await page.goto(`${arena.baseUrl}/`);
  await page.fill("#name", "ivy");
  await page.click("#join-button"); // no code: the open lobby
  await connected(page);
  await page.click("#invite-button");
  await page.waitForSelector("#invite:not([hidden])");
  const link = await page.inputValue("#invite-link");
  assert.equal(link, `${arena.baseUrl}/?s=lobby`, "the lobby has a link too");
  await page.click("#invite-copy");
  await page.waitForSelector("#invite-copied:not([hidden])");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link, "Copy puts the link on the clipboard");
  const inked = await page.evaluate(() => {
    const canvas = document.getElementById("invite-qr");
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let dark = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 64) dark += 1;
    return dark / (pixels.length / 4);
  });
  assert.ok(inked > 0.2 && inked < 0.8, `the QR code is drawn (${(inked * 100).toFixed(0)} % dark)`);
  await page.screenshot({ path: join(artifacts, "invite.png") });

  // The link works: it opens the join screen of the same session.
  const guest = await arena.page("guest");
  await guest.goto(link);
  assert.equal(await guest.inputValue("#session"), "lobby");
  assert.deepEqual(arena.pageErrors, []);
});
