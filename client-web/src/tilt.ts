// Steering by tilting a phone: device orientation angles to a direction.
//
// `gamma` is the left-right tilt and `beta` the front-back tilt, in degrees. Tilting
// right steers right; tilting the top edge away steers up the screen. The pose held
// when the player calibrates is neutral; small tilts inside a dead zone steer nowhere,
// so a phone held still does not drift; full speed is reached at `FULL_TILT_DEG /
// sensitivity` from neutral.

export interface Pose {
  beta: number;
  gamma: number;
}

const DEAD_ZONE_DEG = 4;
const FULL_TILT_DEG = 25;

export class TiltSteering {
  private neutral: Pose = { beta: 0, gamma: 0 };
  /** 0.5 (gentle) to 2 (twitchy). */
  sensitivity = 1;

  /** Takes `pose` as the neutral position. */
  calibrate(pose: Pose): void {
    this.neutral = { ...pose };
  }

  /** The direction for a pose: length 0 inside the dead zone, at most 1. */
  direction(pose: Pose): [number, number] {
    const x = wrap(pose.gamma - this.neutral.gamma);
    const y = wrap(pose.beta - this.neutral.beta);
    const tilt = Math.hypot(x, y);
    if (!Number.isFinite(tilt) || tilt <= DEAD_ZONE_DEG) return [0, 0];
    const full = Math.max(DEAD_ZONE_DEG + 1, FULL_TILT_DEG / this.sensitivity);
    const strength = Math.min(1, (tilt - DEAD_ZONE_DEG) / (full - DEAD_ZONE_DEG));
    return [(x / tilt) * strength, (y / tilt) * strength];
  }
}

/** Angles as the shortest turn: 350° from neutral is -10°. */
function wrap(degrees: number): number {
  return ((((degrees + 180) % 360) + 360) % 360) - 180;
}
