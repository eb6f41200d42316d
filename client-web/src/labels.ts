// Where names go: above each player, unless that would cover another name; then below
// it, then higher up. A pure function of the bodies, so that it is tested without a
// canvas.

/** A body to name, in arena units: its centre and radius. */
export interface Named { x: number; y: number; radius: number }

/** A label's box: top-left corner, width and height, in the same units. */
export interface LabelBox { x: number; y: number; w: number; h: number }

const overlaps = (a: LabelBox, b: LabelBox) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * One box per body, none overlapping another (greedy, in the order given: put the
 * names that matter most first). `widths[i]` is body i's label width, `height` every
 * label's height, `gap` the space between a body and its label.
 */
export function placeLabels(bodies: Named[], widths: number[], height: number, gap: number): LabelBox[] {
  const placed: LabelBox[] = [];
  bodies.forEach((body, i) => {
    const w = widths[i] ?? 0;
    const x = body.x - w / 2;
    const above = body.y - body.radius - gap - height;
    const below = body.y + body.radius + gap;
    const candidates = [above, below, above - height, below + height, above - 2 * height, below + 2 * height];
    const free = candidates.map((y) => ({ x, y, w, h: height })).find((box) => !placed.some((p) => overlaps(box, p)));
    placed.push(free ?? { x, y: above, w, h: height });
  });
  return placed;
}

/** Whether any two boxes overlap: what a test of the drawn names checks. */
export function anyOverlap(boxes: LabelBox[]): boolean {
  return boxes.some((a, i) => boxes.some((b, j) => j > i && overlaps(a, b)));
}
