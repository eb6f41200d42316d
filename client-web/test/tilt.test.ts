import assert from "node:assert/strict";
import { test } from "node:test";

import { TiltSteering } from "../src/tilt";

test("tilting right steers right, tilting the top away steers up", () => {
  const tilt = new TiltSteering();
  const [x, y] = tilt.direction({ beta: 0, gamma: 40 });
  assert.deepEqual([x, y], [1, 0]);
  const [ux, uy] = tilt.direction({ beta: -40, gamma: 0 });
  assert.deepEqual([ux, uy], [0, -1]);
});

test("a phone held nearly still steers nowhere", () => {
  const tilt = new TiltSteering();
  assert.deepEqual(tilt.direction({ beta: 2, gamma: -3 }), [0, 0]);
});

test("the calibrated pose is neutral, and sensitivity sets where full speed is reached", () => {
  const tilt = new TiltSteering();
  tilt.calibrate({ beta: 35, gamma: -10 });
  assert.deepEqual(tilt.direction({ beta: 35, gamma: -10 }), [0, 0]);
  const [gentle] = tilt.direction({ beta: 35, gamma: 5 });
  tilt.sensitivity = 2;
  const [twitchy] = tilt.direction({ beta: 35, gamma: 5 });
  assert.ok(gentle > 0 && gentle < 1 && twitchy === 1, `${gentle} then ${twitchy}`);
});

test("angles wrap around", () => {
  const tilt = new TiltSteering();
  tilt.calibrate({ beta: 175, gamma: 0 });
  const [, y] = tilt.direction({ beta: -175, gamma: 0 });
  assert.ok(y > 0, "from 175° to -175° is 10° forward, not 350° back");
});
