import assert from "node:assert/strict";
import { test } from "node:test";

import type { Delta } from "../src/protocol";
import { World, extrapolate } from "../src/world";

const arena = { width: 12800, height: 7200, round_ticks: 2700, intermission_ticks: 150, player_speed: 1600 };
const empty = (tick: number): Delta => ({ tick, spawned: [], moved: [], removed: [], acks: [], scores: [], events: [] });

function world(): World {
  const w = new World(arena, 30);
  w.reset({
    tick: 10,
    spawns: [{ id: 1, kind: "Ball", radius: 120, name: "" }, { id: 7, kind: "Player", radius: 160, name: "ada" }],
    states: [{ id: 1, x: 1000, y: 1000, vx: 10, vy: -5 }, { id: 7, x: 5000, y: 3000, vx: 0, vy: 0 }],
    acks: [{ id: 7, seq: 3 }],
    scores: [{ id: 7, points: 2 }],
    round: { number: 1, phase: "Playing", ends_at: 2700 },
    away: [],
  });
  return w;
}

test("entities not in a delta keep moving by dead reckoning", () => {
  const w = world();
  for (let t = 11; t <= 14; t++) assert.notEqual(w.apply(empty(t)), null);
  assert.deepEqual(w.stateAt(1, 14), extrapolate({ id: 1, x: 1000, y: 1000, vx: 10, vy: -5 }, 4));
  assert.deepEqual(w.stateAt(1, 14), { id: 1, x: 1040, y: 980, vx: 10, vy: -5 });
});

test("past positions use the report that was valid then, and interpolate between ticks", () => {
  const w = world();
  w.apply(empty(11));
  w.apply({ ...empty(12), moved: [{ id: 1, x: 2000, y: 1000, vx: 0, vy: 0 }] });
  assert.equal(w.stateAt(1, 11)!.x, 1010, "tick 11 still follows the tick-10 report");
  assert.equal(w.stateAt(1, 12)!.x, 2000);
  assert.deepEqual(w.positionAt(1, 11.5), { x: 1505, y: 997.5 });
  assert.deepEqual(w.positionAt(1, 40), { x: 2000, y: 1000 }, "far-future ticks are clamped near the last delta");
});

test("a delta that skips a tick is refused and counted", () => {
  const w = world();
  assert.equal(w.apply(empty(12)), null);
  assert.equal(w.gaps, 1);
  assert.equal(w.tick, 10);
});

test("spawns, removals, acks, scores and rounds are kept", () => {
  const w = world();
  w.apply({
    ...empty(11),
    spawned: [{ id: 8, kind: "Player", radius: 160, name: "bob" }],
    moved: [{ id: 8, x: 100, y: 100, vx: 1, vy: 0 }],
    removed: [1],
    acks: [{ id: 7, seq: 4 }],
    scores: [{ id: 8, points: 5 }],
    events: [{ RoundEnded: { number: 1, scores: [] } }],
  });
  assert.equal(w.spawns.has(1), false);
  assert.equal(w.spawns.get(8)?.name, "bob");
  assert.equal(w.acks.get(7), 4);
  assert.deepEqual(w.leaderboard().map((r) => r.name), ["bob", "ada"]);
  assert.equal(w.round.phase, "Intermission");
});

test("at a send rate below the tick rate, deltas follow each other by that many ticks", () => {
  const w = new World(arena, 30, 2);
  w.reset({ tick: 10, spawns: [], states: [], acks: [], scores: [], round: { number: 1, phase: "Playing", ends_at: 2700 }, away: [] });
  assert.notEqual(w.apply(empty(12)), null, "tick 12 follows tick 10 at one delta every two ticks");
  assert.equal(w.apply(empty(13)), null, "tick 13 does not follow tick 12");
  assert.equal(w.gaps, 1);
});

test("a leave still knows the name, a gain is counted, a lost player is away until back", () => {
  const w = world();
  w.apply({ ...empty(11), events: [{ Connection: { id: 7, connected: false } }] });
  assert.deepEqual([...w.away], [7], "lost: a ghost");
  w.apply({ ...empty(12), scores: [{ id: 7, points: 4 }], events: [{ Connection: { id: 7, connected: true } }] });
  assert.deepEqual([...w.away], [], "back");
  assert.equal(w.gains.get(7), 2, "2 points gained in that delta");
  w.apply({ ...empty(13), removed: [7], events: [{ PlayerLeft: { id: 7 } }] });
  assert.equal(w.spawns.has(7), false);
  assert.equal(w.nameOf(7), "ada", "the delta that removed ada still names her");
  assert.equal(w.gains.size, 0, "gains are per delta");
  w.apply(empty(14));
  assert.equal(w.nameOf(7), undefined);

  const late = new World(arena, 30);
  late.reset({ tick: 1, spawns: [], states: [], acks: [], scores: [], round: { number: 1, phase: "Playing", ends_at: 9 }, away: [7] });
  assert.equal(late.away.has(7), true, "a snapshot says who is away");
});

test("a view of a big world keeps what is in its cells, across crossings and view changes", () => {
  // 4 x 3 cells of 3200 quanta; a view reaches one cell each way.
  const view = { cell_size: 3200, view_radius: 3200, see_all: false };
  const w = new World(arena, 30, 3, view);
  w.reset({ tick: 9, spawns: [], states: [], acks: [], scores: [], round: { number: 1, phase: "Playing", ends_at: 2700 }, away: [] });
  // The cells whose nearest point is within 3200 of the view's point.
  assert.deepEqual(w.seen([1600, 1600]), [0, 1, 4, 5]);
  assert.deepEqual(w.seen([0, 0]), [0, 1, 4], "cell 5's corner is 4525 away");
  assert.deepEqual(w.seen([8000, 4800]), [1, 2, 3, 5, 6, 7, 9, 10, 11]);
  assert.deepEqual(w.seen([6500, 4800]), [1, 2, 5, 6, 7, 9, 10], "cell 7 reached, its corners not");
  assert.equal(w.seen([]).length, 12);
  const ball = (id: number) => ({ id, kind: "Ball" as const, radius: 120, name: "" });
  // Positions in a cell count from its top-left corner (cell 1 starts at x 3200).
  const at = (id: number, x: number) => ({ id, x, y: 100, vx: 1, vy: 0 });
  const news = (more: object) => ({
    moved: [],
    left: [],
    crossed: [],
    entered: [],
    collided: [],
    stopped: [],
    scores: [],
    spawns: [],
    ...more,
  });
  const none = { acks: [], scores: [], around: null, world: { events: [] } };
  // Fresh, around (1600, 1600): cells 0, 1, 4 and 5 in view, a ball in each of the first two.
  const fresh = w.applyView({
    ...none,
    tick: 12,
    fresh: true,
    around: [1600, 1600],
    acks: [{ id: 7, seq: 4 }],
    cells: [news({ entered: [at(1, 3198)], spawns: [ball(1)] }), news({ entered: [at(2, 100)], spawns: [ball(2)] }), null, null],
  });
  assert.notEqual(fresh, null);
  assert.deepEqual([...w.cellsSeen], [0, 1, 4, 5]);
  assert.deepEqual(w.around, [1600, 1600], "the point the view is around");
  assert.deepEqual([...w.spawns.keys()].sort(), [1, 2]);
  assert.equal(w.stateAt(2, 12)!.x, 3300);
  assert.equal(w.acks.get(7), 4);
  // Ball 1 crosses from cell 0 into cell 1 (both in view): kept, and where dead
  // reckoning puts it. Ball 2 leaves into cell 2 (out of view): forgotten.
  const events = w.applyView({
    ...none,
    tick: 15,
    fresh: false,
    cells: [news({ left: [1] }), news({ crossed: [1], left: [2], collided: [{ a: 1, b: 2 }] }), null, null],
  });
  assert.deepEqual(events, [{ Collided: { a: 1, b: 2 } }]);
  assert.deepEqual([...w.spawns.keys()], [1]);
  assert.equal(w.spawns.get(1)?.kind, "Ball");
  assert.equal(w.cellOf.get(1), 1);
  assert.equal(w.stateAt(1, 15)!.x, 3201);
  // A correction: 3 ticks of dead reckoning put it at (3204, 100); it turned to (0, 5)
  // two ticks ago, so it is at (3202, 110), and 2 quanta right, 1 up of that.
  w.applyView({
    ...none,
    tick: 18,
    fresh: false,
    cells: [null, news({ moved: [{ id: 1, vx: 0, vy: 5, turned: 2, dx: 2, dy: -1 }], stopped: [1] }), null, null],
  });
  assert.deepEqual(w.stateAt(1, 18), { id: 1, x: 3204, y: 109, vx: 0, vy: 5 });
  // The view moves to the middle of cell 3: cells 0 and 1 leave it, and their entities go.
  w.applyView({ ...none, tick: 21, fresh: false, around: [11200, 1600], cells: [null, null, null, null] });
  assert.deepEqual([...w.cellsSeen], [2, 3, 6, 7]);
  assert.deepEqual(w.around, [11200, 1600]);
  assert.equal(w.spawns.size, 0);
  assert.equal(w.applyView({ ...none, tick: 23, fresh: false, cells: [] }), null, "a gap waits for a fresh view");
});
