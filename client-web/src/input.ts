// Steering input: the keyboard (WASD and arrows, 8 directions) and, on touch screens,
// an on-screen joystick. Whatever the source, the result is a direction of length at
// most 1, read once per tick by the game loop.

const KEYS: Record<string, [number, number]> = {
  KeyW: [0, -1], ArrowUp: [0, -1],
  KeyS: [0, 1], ArrowDown: [0, 1],
  KeyA: [-1, 0], ArrowLeft: [-1, 0],
  KeyD: [1, 0], ArrowRight: [1, 0],
};

export class Steering {
  private readonly held = new Set<string>();
  private stick: [number, number] | null = null;

  constructor(target: Window, joystick: HTMLElement | null) {
    target.addEventListener("keydown", (e) => {
      if (e.code in KEYS && !isTyping(e)) {
        this.held.add(e.code);
        e.preventDefault();
      }
    });
    target.addEventListener("keyup", (e) => this.held.delete(e.code));
    target.addEventListener("blur", () => this.held.clear());
    if (joystick) this.attachJoystick(joystick);
  }

  /** The direction now: (0, 0) when nothing is held. */
  direction(): [number, number] {
    if (this.stick) return this.stick;
    let x = 0;
    let y = 0;
    for (const code of this.held) {
      const [dx, dy] = KEYS[code]!;
      x += dx;
      y += dy;
    }
    x = Math.sign(x);
    y = Math.sign(y);
    const len = Math.hypot(x, y);
    return len > 0 ? [x / len, y / len] : [0, 0];
  }

  private attachJoystick(pad: HTMLElement): void {
    const knob = pad.querySelector<HTMLElement>(".knob");
    let pointer: number | null = null;
    const move = (e: PointerEvent) => {
      const rect = pad.getBoundingClientRect();
      const radius = rect.width / 2;
      let x = (e.clientX - rect.left - radius) / radius;
      let y = (e.clientY - rect.top - radius) / radius;
      const len = Math.hypot(x, y);
      if (len > 1) [x, y] = [x / len, y / len];
      // A small dead zone so that a resting thumb does not drift.
      this.stick = len < 0.15 ? [0, 0] : [x, y];
      if (knob) knob.style.transform = `translate(${x * radius * 0.6}px, ${y * radius * 0.6}px)`;
    };
    pad.addEventListener("pointerdown", (e) => {
      pointer = e.pointerId;
      pad.setPointerCapture(e.pointerId);
      move(e);
    });
    pad.addEventListener("pointermove", (e) => {
      if (e.pointerId === pointer) move(e);
    });
    const release = (e: PointerEvent) => {
      if (e.pointerId !== pointer) return;
      pointer = null;
      this.stick = null;
      if (knob) knob.style.transform = "";
    };
    pad.addEventListener("pointerup", release);
    pad.addEventListener("pointercancel", release);
  }
}

function isTyping(e: KeyboardEvent): boolean {
  const el = e.target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA");
}
