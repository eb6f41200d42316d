// The browser's codec against the golden messages encoded by the Rust protocol crate
// (test/golden.json, regenerated and checked by `cargo test -p arena-shared`).
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";

import { ProtocolError, decodeServer, directionFromWire, directionToWire, encodeClient, type ClientMessage } from "../src/protocol";

interface Sample { name: string; side: "server" | "client"; hex: string; value: unknown }
const golden: Sample[] = JSON.parse(readFileSync(new URL("../test/golden.json", import.meta.url), "utf8"));
const bytes = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
const hexOf = (data: Uint8Array) => [...data].map((b) => b.toString(16).padStart(2, "0")).join("");

test("golden samples cover both directions", () => {
  assert.ok(golden.filter((s) => s.side === "server").length >= 5);
  assert.ok(golden.filter((s) => s.side === "client").length >= 4);
});

for (const sample of golden.filter((s) => s.side === "server")) {
  test(`decodes the server's ${sample.name} exactly as Rust wrote it`, () => {
    assert.deepStrictEqual(decodeServer(bytes(sample.hex)), sample.value);
  });
}

for (const sample of golden.filter((s) => s.side === "client")) {
  test(`encodes ${sample.name} to the bytes the server expects`, () => {
    assert.equal(hexOf(encodeClient(sample.value as ClientMessage)), sample.hex);
  });
}

test("a frame that is not a server message is refused with a reason", () => {
  assert.throws(() => decodeServer(bytes("c1")), ProtocolError);
  assert.throws(() => decodeServer(bytes("81a5446f6e6b6590")), /one of Welcome, Snapshot, Delta, Pong/);
  // A Delta whose tick is a string.
  assert.throws(() => decodeServer(bytes("81a544656c746197a1789090909090 90".replace(/ /g, ""))), /message\.Delta\.tick: expected an integer/);
});

test("a cell's flat list of corrections is read whole or refused", () => {
  // A View of one cell whose `moved` is 8, 2, 5, form 2 (a turn one tick ago).
  const view = (moved: string) => bytes(`81a4566965779 77bc29090c09191${moved}9190`.replace(/ /g, ""));
  const cell = (decoded: unknown) => (decoded as { View: { cells: { moved: unknown[] }[] } }).View.cells[0]!.moved;
  assert.deepEqual(cell(decodeServer(view("9408020502"))), [{ id: 8, vx: 2, vy: 5, turned: 1, dx: 0, dy: 0 }]);
  assert.deepEqual(cell(decodeServer(view("9608020503ff01"))), [{ id: 8, vx: 2, vy: 5, turned: 1, dx: -1, dy: 1 }]);
  assert.throws(() => decodeServer(view("93080205")), /the rest of a correction/);
  assert.throws(() => decodeServer(view("95080205030a")), /the rest of a correction/);
  assert.throws(() => decodeServer(view("94080205ff")), /a form of at least 0/);
});

test("directions are clamped to length 1 and quantized like the server does", () => {
  assert.deepEqual(directionToWire(10, 0), [127, 0]);
  assert.deepEqual(directionToWire(0, 0), [0, 0]);
  assert.deepEqual(directionToWire(Number.NaN, 1), [0, 0]);
  const [x, y] = directionFromWire(127, 127);
  assert.ok(Math.abs(Math.hypot(x, y) - 1) < 1e-9);
});
