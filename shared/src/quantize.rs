//! How continuous game values become small integers on the wire.
//!
//! MessagePack writes an integer in 1, 2, 3 or 5 bytes depending on its magnitude, so
//! quantizing is what keeps a delta small: a velocity in "eighths of a unit per tick"
//! fits the one-byte fixint range for every speed in the default game.
//!
//! Velocities are per *tick*, not per second, so that a client can extrapolate an
//! entity exactly in integers: at tick `t` an entity last reported at tick `t0` with
//! `(x, y, vx, vy)` is at `(x + vx * (t - t0), y + vy * (t - t0))`. The server runs the
//! same arithmetic to decide when a client's extrapolation has drifted and the entity
//! must be sent again (see `docs/PROTOCOL.md`, "Dead reckoning").

/// Position quanta per game unit: positions travel as integers in 1/8 unit.
pub const POS_SCALE: f32 = 8.0;

/// Direction components travel as `i8` in `-127..=127`, meaning `-1.0..=1.0`.
pub const DIR_SCALE: f32 = 127.0;

/// A position coordinate (game units) as wire quanta.
#[inline]
pub fn position_to_wire(units: f32) -> i32 {
    round_to_quanta(units * POS_SCALE)
}

/// A wire position coordinate back to game units.
pub fn position_from_wire(quanta: i32) -> f32 {
    quanta as f32 / POS_SCALE
}

/// A velocity coordinate (units per second) as wire quanta per tick.
#[inline]
pub fn velocity_to_wire(units_per_second: f32, tick_hz: u16) -> i32 {
    round_to_quanta(units_per_second * POS_SCALE / f32::from(tick_hz.max(1)))
}

/// `quanta.round() as i32` (halves away from zero, saturating, NaN to 0), without the
/// call into libm that `f32::round` is on the baseline x86-64: every entity's state is
/// quantized on every tick of a big world. In `f64` the sum of an `f32` and one half is
/// exact, so truncating it rounds exactly as `round` does.
#[inline]
fn round_to_quanta(quanta: f32) -> i32 {
    let quanta = f64::from(quanta);
    (quanta + 0.5f64.copysign(quanta)) as i32
}

/// A wire velocity coordinate (quanta per tick) back to units per second.
pub fn velocity_from_wire(quanta_per_tick: i32, tick_hz: u16) -> f32 {
    quanta_per_tick as f32 * f32::from(tick_hz) / POS_SCALE
}

/// A steering direction as wire components. Its length is clamped to 1 first, so a
/// client cannot ask for more than full speed whatever it sends.
pub fn direction_to_wire(x: f32, y: f32) -> (i8, i8) {
    let (x, y) = clamp_unit(x, y);
    ((x * DIR_SCALE).round() as i8, (y * DIR_SCALE).round() as i8)
}

/// Wire direction components back to a vector of length at most 1. `(90, 90)` is the
/// keyboard diagonal, whose raw length is slightly above 1, hence the clamp.
pub fn direction_from_wire(dx: i8, dy: i8) -> (f32, f32) {
    clamp_unit(f32::from(dx) / DIR_SCALE, f32::from(dy) / DIR_SCALE)
}

fn clamp_unit(x: f32, y: f32) -> (f32, f32) {
    if !(x.is_finite() && y.is_finite()) {
        return (0.0, 0.0);
    }
    let len = (x * x + y * y).sqrt();
    if len > 1.0 {
        (x / len, y / len)
    } else {
        (x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_within_half_a_quantum() {
        for units in [0.0, 0.06, 17.3, 1999.99, 4000.0] {
            let back = position_from_wire(position_to_wire(units));
            assert!(
                (back - units).abs() <= 0.5 / POS_SCALE,
                "{units} came back as {back}"
            );
        }
    }

    #[test]
    fn quanta_are_rounded_exactly_as_f32_round_does() {
        let below_half = 0.5f32.next_down();
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            below_half,
            -below_half,
            1.5,
            2.5,
            -2.5,
            8_388_607.5,
            8_388_609.0,
            2.0e9,
            3.0e9,
            -3.0e9,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
        ];
        // Every half-integer up to a few thousand, and the floats on either side of it.
        for k in -5000..5000 {
            let half = k as f32 + 0.5;
            values.extend([half, half.next_down(), half.next_up()]);
        }
        for v in values {
            assert_eq!(
                round_to_quanta(v),
                v.round() as i32,
                "{v:e} ({:#x})",
                v.to_bits()
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        #[test]
        fn any_float_is_rounded_as_f32_round_does(bits: u32) {
            let v = f32::from_bits(bits);
            proptest::prop_assert_eq!(round_to_quanta(v), v.round() as i32);
        }
    }

    #[test]
    fn default_speeds_fit_a_one_byte_fixint() {
        // 200 units/s at 30 Hz is 53 quanta per tick: below 128, so one byte on the wire.
        assert_eq!(velocity_to_wire(200.0, 30), 53);
        assert_eq!(velocity_to_wire(-150.0, 30), -40);
        let back = velocity_from_wire(53, 30);
        assert!(
            (back - 198.75).abs() < 1e-3,
            "53 quanta per tick at 30 Hz is 198.75 units/s"
        );
    }

    #[test]
    fn directions_are_clamped_to_unit_length() {
        let (x, y) = direction_from_wire(127, 127);
        assert!(
            ((x * x + y * y).sqrt() - 1.0).abs() < 1e-5,
            "a diagonal is clamped to length 1"
        );
        assert_eq!(
            direction_to_wire(10.0, 0.0),
            (127, 0),
            "length 10 is clamped to 1"
        );
        assert_eq!(
            direction_to_wire(f32::NAN, 1.0),
            (0, 0),
            "NaN steers nowhere"
        );
        assert_eq!(direction_from_wire(0, -127), (0.0, -1.0));
    }
}
