import assert from "node:assert/strict";
import { test } from "node:test";

import { Predictor } from "../src/prediction";

// 200 units/s at 30 Hz, in quanta: 1600 / 30 per tick.
const SPEED = 1600 / 30;
/** What the server moves a player at full speed each tick: SPEED on the wire's grid. */
const STEP = 53;
const arena = () => new Predictor(160, 12800, 7200, SPEED);

/** A server that applies each input `lag` ticks after the client did. */
function serverRun(inputs: [number, number, number][], lag: number) {
  let x = 5000;
  const positions: { tick: number; x: number; ack: number }[] = [];
  let ack = 0;
  for (let tick = 1; tick <= inputs.length + lag; tick++) {
    const applied = inputs[tick - 1 - lag];
    if (applied) {
      ack = applied[0];
      x = Math.min(12800 - 160, x + Math.round((applied[1] / 127) * SPEED));
    }
    positions.push({ tick: tick + 100, x, ack });
  }
  return positions;
}

test("on a clean connection, the server's word lands where the prediction already is", () => {
  const p = arena();
  p.reconcile(100, 5000, 3000, 0);
  const inputs: [number, number, number][] = [];
  for (let i = 1; i <= 30; i++) inputs.push([i <= 20 ? 1 : 2, i <= 20 ? 127 : 0, 0]);
  const server = serverRun(inputs, 3);
  let worst = 0;
  for (let k = 0; k < inputs.length; k++) {
    const [seq, dx, dy] = inputs[k]!;
    p.advance(seq, dx, dy);
    // The server's state for tick k arrives a few ticks later.
    const heard = server[k - 2];
    if (heard) worst = Math.max(worst, p.reconcile(heard.tick, heard.x, 3000, heard.ack));
  }
  assert.ok(worst < 1e-6, `no correction on a clean connection, worst ${worst}`);
  assert.ok(Math.abs(p.x - (5000 + 20 * STEP)) < 1e-6, "twenty ticks at full speed, then stopped");
});

test("a push by another body is corrected, and smoothly", () => {
  const p = arena();
  p.reconcile(100, 5000, 3000, 0);
  p.advance(1, 127, 0);
  p.advance(1, 127, 0);
  p.reconcile(101, 5000 + STEP, 3000, 1);
  // The server says we were shoved 80 quanta back at tick 102.
  const error = p.reconcile(102, 5000 + 2 * STEP - 80, 3000, 1);
  assert.ok(Math.abs(error - 80) < 1e-6, `the error is the shove: ${error}`);
  assert.ok(Math.abs(p.x - (5000 + 2 * STEP - 80)) < 1e-6, "the prediction now follows the server");
  const drawn = p.render(1).x;
  assert.ok(drawn > p.x, "but it is drawn where it was, gliding over a few frames");
  for (let i = 0; i < 60; i++) p.render(1);
  assert.ok(Math.abs(p.render(1).x - p.x) < 0.01);
});

test("walls stop the predicted player as they stop the server's", () => {
  const p = arena();
  p.reconcile(100, 12800 - 200, 3000, 0);
  for (let i = 0; i < 10; i++) p.advance(1, 127, 0);
  assert.equal(p.x, 12800 - 160);
});
