// Three cluster nodes and one Redis: a page and a share link reach the session through
// any node (the page follows the redirect to the owner by itself), and a phone pairs
// through another node with the code the page shows.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { body, connected, inspect, startCluster } from "./common.mjs";

let cluster;
before(async () => (cluster = await startCluster(3)));
after(() => cluster?.stop());

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

async function join(node, name, session) {
  const page = await cluster.page(name);
  await page.goto(`${node}/?s=${session}`);
  await page.fill("#name", name);
  await page.click("#join-button");
  await connected(page);
  return page;
}

const ws = (base) => `${base.replace("http://", "ws://")}/ws`;

test("a share link works through any node and a phone pairs through another", { timeout: 90_000 }, async () => {
  const [a] = cluster.nodes;
  const ann = await join(a, "ann", "SHARE");
  const status = await fetch(`${a}/cluster`).then((r) => r.json());
  const owner = status.sessions.find((s) => s.code === "SHARE")?.url;
  assert.ok(owner, `the session has an owner: ${JSON.stringify(status)}`);
  assert.equal((await inspect(ann)).server, owner, "Ann's page plays on the owner");

  // The share link opened on the two nodes that do not own the session.
  const others = cluster.nodes.filter((n) => ws(n) !== owner);
  assert.equal(others.length, 2);
  const bob = await join(others[1], "bob", "SHARE");
  const seen = await inspect(bob);
  assert.equal(seen.server, owner, "Bob's page was sent to the owner");
  await bob.waitForFunction(() => window.arena.inspect().bodies.some((b) => b.name === "ann"), null, { timeout: 10_000 });
  assert.ok(body(await inspect(bob), "bob"), "one game: Bob sees Ann and himself");

  // Ann's pairing code, typed on a phone that reached yet another node.
  await ann.click("#pair-button");
  await ann.waitForFunction(() => window.arena.inspect().pairCode, null, { timeout: 10_000 });
  const code = (await inspect(ann)).pairCode;
  const phone = await cluster.page("phone", PHONE);
  await phone.goto(`${others[0]}/controller?c=${code}`);
  await phone.click("#start");
  await phone.waitForFunction(() => window.arena.inspect().player !== null, null, { timeout: 10_000 });
  await ann.waitForFunction(() => window.arena.inspect().phoneAttached, null, { timeout: 10_000 });
  assert.deepEqual(cluster.pageErrors, []);
});
