//! Rounds and scoring.
//!
//! A round is `round.length_s` of play, then `round.intermission_s` with the final
//! scoreboard, then a new round: scores back to zero and balls scattered anew.
//!
//! Scoring, so that collisions are the game: touching a ball is 1 point; in a bump
//! between two players, the one who was driving into the other faster scores 2.

use arena_shared::protocol::{GameEvent, RoundPhase, Score as WireScore, Tick};
use bevy_ecs::prelude::*;

use super::collision::{Contacts, NewContact};
use super::spawn::{ball_velocity, free_spot};
use super::state::{
    Ball, Clock, NetId, Player, Position, Rules, Score, SimRng, TickEvents, Velocity,
};

/// Points for touching a ball.
const BALL_POINTS: u32 = 1;
/// Points for ramming another player.
const BUMP_POINTS: u32 = 2;
/// Closing speeds (units per second) closer than this are a draw: nobody rammed.
const BUMP_MARGIN: f32 = 5.0;

/// Where the round stands.
#[derive(Resource, Debug, Clone, Copy)]
pub(crate) struct Round {
    /// From 1.
    pub number: u32,
    /// Playing or intermission.
    pub phase: RoundPhase,
    /// The tick this phase ends.
    pub ends_at: Tick,
}

/// The balls' motion, which a new round scatters.
type BallMotion<'w, 's> =
    Query<'w, 's, (&'static mut Position, &'static mut Velocity), (With<Ball>, Without<Player>)>;

/// Awards points for the contacts that began this tick, while a round is being played.
pub(crate) fn score_contacts(
    round: Res<Round>,
    contacts: Res<Contacts>,
    mut players: Query<&mut Score, With<Player>>,
    balls: Query<(), With<Ball>>,
) {
    if round.phase != RoundPhase::Playing {
        return;
    }
    for contact in &contacts.new {
        if let Some((winner, points)) = points_for(contact, &players, &balls)
            && let Ok(mut score) = players.get_mut(winner)
        {
            score.0 += points;
        }
    }
}

fn points_for(
    contact: &NewContact,
    players: &Query<&mut Score, With<Player>>,
    balls: &Query<(), With<Ball>>,
) -> Option<(Entity, u32)> {
    let is_player = |e| players.contains(e);
    let is_ball = |e| balls.contains(e);
    match (is_player(contact.a), is_player(contact.b)) {
        (true, true) => {
            if contact.a_closing > contact.b_closing + BUMP_MARGIN {
                Some((contact.a, BUMP_POINTS))
            } else if contact.b_closing > contact.a_closing + BUMP_MARGIN {
                Some((contact.b, BUMP_POINTS))
            } else {
                None
            }
        }
        (true, false) if is_ball(contact.b) => Some((contact.a, BALL_POINTS)),
        (false, true) if is_ball(contact.a) => Some((contact.b, BALL_POINTS)),
        _ => None,
    }
}

/// Ends rounds, runs intermissions, and starts the next round.
pub(crate) fn run_round(
    clock: Res<Clock>,
    rules: Res<Rules>,
    mut round: ResMut<Round>,
    mut events: ResMut<TickEvents>,
    mut rng: ResMut<SimRng>,
    mut players: Query<(&NetId, &mut Score, &Position), With<Player>>,
    mut balls: BallMotion,
) {
    if clock.tick != round.ends_at {
        return;
    }
    match round.phase {
        RoundPhase::Playing => {
            let mut scores: Vec<WireScore> = players
                .iter()
                .map(|(id, score, _)| WireScore {
                    id: id.0,
                    points: score.0,
                })
                .collect();
            scores.sort_by(|x, y| y.points.cmp(&x.points).then(x.id.cmp(&y.id)));
            events.0.push(GameEvent::RoundEnded {
                number: round.number,
                scores,
            });
            round.phase = RoundPhase::Intermission;
            round.ends_at = Tick(clock.tick.0.wrapping_add(rules.intermission_ticks));
        }
        RoundPhase::Intermission => {
            for (_, mut score, _) in &mut players {
                score.0 = 0;
            }
            let player_spots: Vec<_> = players
                .iter()
                .map(|(_, _, p)| (p.0, rules.player_radius))
                .collect();
            for (mut position, mut velocity) in &mut balls {
                position.0 = free_spot(
                    &mut rng.0,
                    &rules,
                    rules.ball_radius,
                    player_spots.iter().copied(),
                );
                velocity.0 = ball_velocity(&mut rng.0, &rules);
            }
            round.number += 1;
            round.phase = RoundPhase::Playing;
            round.ends_at = Tick(clock.tick.0.wrapping_add(rules.round_ticks));
            events.0.push(GameEvent::RoundStarted {
                number: round.number,
                ends_at: round.ends_at,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use arena_shared::protocol::{GameEvent, RoundPhase};
    use glam::Vec2;

    use crate::sim::test_world::TestSim;

    #[test]
    fn touching_a_ball_scores_and_ramming_beats_standing() {
        let mut sim = TestSim::empty();
        let runner = sim.player_at("runner", Vec2::new(400.0, 300.0));
        let sitter = sim.player_at("sitter", Vec2::new(480.0, 300.0));
        sim.steer(runner, 1, 127, 0);
        sim.step_n(10);
        assert_eq!(sim.score(runner), 2, "ramming a standing player scores 2");
        assert_eq!(sim.score(sitter), 0, "being rammed scores nothing");

        sim.steer(runner, 2, 0, 0);
        sim.step();
        sim.ball_at(
            sim.position(sitter) + Vec2::new(0.0, 60.0),
            Vec2::new(0.0, -100.0),
        );
        sim.step_n(10);
        assert_eq!(
            sim.score(sitter),
            1,
            "a ball rolling into a player scores 1 for the player"
        );
    }

    #[test]
    fn a_round_ends_with_a_scoreboard_and_the_next_starts_from_zero() {
        let mut sim =
            TestSim::with("[round]\nlength_s = 1\nintermission_s = 0.5\n[balls]\ncount = 0\n");
        let a = sim.player_at("a", Vec2::new(400.0, 300.0));
        sim.player_at("b", Vec2::new(480.0, 300.0));
        sim.steer(a, 1, 127, 0);
        let events = sim.step_n(31);
        let ended = events.iter().find_map(|e| match e {
            GameEvent::RoundEnded { number, scores } => Some((*number, scores.clone())),
            _ => None,
        });
        let (number, scores) = ended.expect("a 1 s round ends within 31 ticks");
        assert_eq!(number, 1);
        assert_eq!(scores[0].id, a, "the scoreboard is best first: {scores:?}");
        assert_eq!(scores[0].points, 2);
        assert_eq!(sim.round().phase, RoundPhase::Intermission);

        let events = sim.step_n(15);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, GameEvent::RoundStarted { number: 2, .. })),
            "round 2 starts after the intermission: {events:?}"
        );
        assert_eq!(sim.score(a), 0, "scores start again from zero");
    }

    #[test]
    fn nothing_scores_during_the_intermission() {
        let mut sim =
            TestSim::with("[round]\nlength_s = 0.1\nintermission_s = 10\n[balls]\ncount = 0\n");
        sim.step_n(4);
        assert_eq!(sim.round().phase, RoundPhase::Intermission);
        let a = sim.player_at("a", Vec2::new(400.0, 300.0));
        sim.player_at("b", Vec2::new(480.0, 300.0));
        sim.steer(a, 1, 127, 0);
        sim.step_n(10);
        assert_eq!(sim.score(a), 0);
    }
}
