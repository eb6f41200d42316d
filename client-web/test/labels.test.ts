import assert from "node:assert/strict";
import { test } from "node:test";

import { anyOverlap, placeLabels } from "../src/labels";

test("names of players who touch do not overlap", () => {
  // Two players of radius 20 touching side by side, with 60-unit-wide names.
  const bodies = [{ x: 100, y: 100, radius: 20 }, { x: 140, y: 100, radius: 20 }];
  const naive = bodies.map((b) => ({ x: b.x - 30, y: b.y - 20 - 4 - 12, w: 60, h: 12 }));
  assert.equal(anyOverlap(naive), true, "both above their player, the names collide");
  const boxes = placeLabels(bodies, [60, 60], 12, 4);
  assert.equal(anyOverlap(boxes), false);
  assert.ok(boxes[1]!.y > 100, "the second name goes below its player");
});

test("a lone player's name sits just above it, and a crowd still gets room", () => {
  const [box] = placeLabels([{ x: 50, y: 80, radius: 10 }], [30], 10, 2);
  assert.deepEqual(box, { x: 35, y: 58, w: 30, h: 10 });
  const crowd = [0, 1, 2, 3, 4].map((i) => ({ x: 100 + i * 5, y: 100, radius: 20 }));
  assert.equal(anyOverlap(placeLabels(crowd, crowd.map(() => 50), 12, 4)), false);
});
