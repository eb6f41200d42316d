// The join screen: refusals in words with a clean way back, no link for a code the
// server would refuse, the name remembered for a share link, and no two players of a
// session with one name.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { artifacts, connected, inspect, start, told } from "./common.mjs";

let arena;
before(async () => (arena = await start()));
after(() => arena?.stop());

test("a refused join shows the reason, and Back is a clean join screen", { timeout: 30_000 }, async () => {
  const page = await arena.page("refused");
  await page.goto(`${arena.baseUrl}/?s=${encodeURIComponent("my room!")}`);
  assert.equal(await page.isVisible("#share"), false, "no link is offered for a code the server refuses");
  assert.equal(await page.isVisible("#session-hint"), true, "the form says what a code may hold");
  await page.fill("#session", "fine-room");
  assert.match(await page.textContent("#share-link"), /\/\?s=fine-room$/, "a good code gets its link");
  await page.fill("#session", "my room!");
  assert.equal(await page.isVisible("#share"), false);

  await page.fill("#name", "x".repeat(24));
  await page.evaluate(() => document.getElementById("session").removeAttribute("pattern"));
  await page.click("#join-button");
  await page.waitForFunction(() => document.getElementById("status").classList.contains("refused"), null, { timeout: 10_000 });
  assert.match(await page.textContent("#status"), /refused: invalid session/);
  assert.equal(await page.isVisible("#refused"), true, "a panel explains the refusal");
  assert.match(await page.textContent("#refused-reason"), /only letters, digits/);
  await page.screenshot({ path: join(artifacts, "refused.png") });

  await page.click("#back");
  await page.waitForURL(`${arena.baseUrl}/`);
  assert.equal(await page.inputValue("#session"), "", "the bad code is gone");
  assert.equal(await page.inputValue("#name"), "x".repeat(24), "the name is kept");
  assert.equal(await page.isVisible("#join"), true);
});

test("a share link keeps the name used last time, and a taken name gets a suffix", { timeout: 30_000 }, async () => {
  const first = await arena.joinAs("Bob", "NAMES");
  // Same browser profile: the name typed last time is there when a share link opens.
  const again = await first.context().newPage();
  await again.goto(`${arena.baseUrl}/?s=NAMES`);
  assert.equal(await again.inputValue("#name"), "Bob");
  assert.equal(await again.inputValue("#session"), "NAMES");
  await again.click("#join-button");
  await connected(again);
  await told(again, /The name Bob is taken here: you play as Bob 2/);
  const state = await inspect(again);
  assert.equal(state.bodies.find((b) => b.id === state.you)?.name, "Bob 2");
  await again.screenshot({ path: join(artifacts, "name-taken.png") });
  assert.deepEqual(arena.pageErrors, []);
});
