//! Pairing codes: how a phone becomes the controller of a player.
//!
//! A game page asks for a code; the page shows it (and a QR code of the controller URL
//! with it); a phone that presents it within its lifetime, once, steers that player.
//! Codes are six characters from an alphabet without look-alikes: 31^6 ≈ 8.9e8 codes,
//! against which a guesser gets a handful of tries per connection (the connection
//! enforces that) during a code's two minutes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use arena_shared::protocol::EntityId;

use crate::outbox::ConnId;

/// Letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L).
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Characters in a code.
pub const CODE_LENGTH: usize = 6;

/// What a code is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The session of the player.
    pub session: String,
    /// The player the controller will steer.
    pub player: EntityId,
    /// The page that asked for the code.
    pub page: ConnId,
}

/// Why a code was refused; the text is shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No such code was issued (or it expired long ago).
    #[error("no such code: check it on the game page")]
    Unknown,
    /// The code's lifetime is over.
    #[error("this code has expired: ask the game page for a new one")]
    Expired,
    /// The code was used already: codes work once.
    #[error("this code was already used: ask the game page for a new one")]
    Used,
    /// The player the code was for has left.
    #[error("the player of this code has left the game")]
    PlayerLeft,
}

#[derive(Debug)]
struct Issued {
    binding: Binding,
    expires: Instant,
    used: bool,
}

/// The codes in circulation.
#[derive(Debug)]
pub struct PairingCodes {
    codes: HashMap<String, Issued>,
    ttl: Duration,
}

impl PairingCodes {
    /// Codes that live `ttl`.
    pub fn new(ttl: Duration) -> PairingCodes {
        PairingCodes {
            codes: HashMap::new(),
            ttl,
        }
    }

    /// How long a code lives.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Whether `code` was issued here and not yet purged.
    pub fn knows(&self, code: &str) -> bool {
        self.codes.contains_key(&code.to_ascii_uppercase())
    }

    /// Issues a fresh code bound to `binding`.
    pub fn issue(&mut self, binding: Binding, now: Instant) -> Result<String, getrandom::Error> {
        self.purge(now);
        loop {
            let mut bytes = [0u8; CODE_LENGTH];
            getrandom::fill(&mut bytes)?;
            // 256 is not a multiple of 31: rejecting bytes ≥ 248 keeps every character
            // equally likely.
            if bytes
                .iter()
                .any(|&b| usize::from(b) >= CODE_ALPHABET.len() * 8)
            {
                continue;
            }
            let code: String = bytes
                .iter()
                .map(|&b| char::from(CODE_ALPHABET[usize::from(b) % CODE_ALPHABET.len()]))
                .collect();
            if !self.codes.contains_key(&code) {
                self.codes.insert(
                    code.clone(),
                    Issued {
                        binding,
                        expires: now + self.ttl,
                        used: false,
                    },
                );
                return Ok(code);
            }
        }
    }

    /// Redeems a code (case-insensitive), once.
    pub fn redeem(&mut self, code: &str, now: Instant) -> Result<Binding, Refusal> {
        let issued = self
            .codes
            .get_mut(&code.to_ascii_uppercase())
            .ok_or(Refusal::Unknown)?;
        if issued.used {
            return Err(Refusal::Used);
        }
        if now >= issued.expires {
            return Err(Refusal::Expired);
        }
        issued.used = true;
        Ok(issued.binding.clone())
    }

    /// Forgets codes long past their lifetime (kept for one more lifetime so that a late
    /// attempt hears "expired" or "used" rather than "unknown").
    pub fn purge(&mut self, now: Instant) {
        let ttl = self.ttl;
        self.codes.retain(|_, issued| now < issued.expires + ttl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> Binding {
        Binding {
            session: "s".into(),
            player: EntityId(7),
            page: 1,
        }
    }

    #[test]
    fn a_code_works_once_within_its_lifetime() {
        let now = Instant::now();
        let mut codes = PairingCodes::new(Duration::from_secs(120));
        let code = codes.issue(binding(), now).expect("randomness");
        assert_eq!(code.len(), CODE_LENGTH);
        assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
        assert_eq!(
            codes.redeem(&code.to_lowercase(), now),
            Ok(binding()),
            "codes are case-insensitive"
        );
        assert_eq!(codes.redeem(&code, now), Err(Refusal::Used));
    }

    #[test]
    fn expired_and_unknown_codes_are_refused() {
        let now = Instant::now();
        let mut codes = PairingCodes::new(Duration::from_secs(120));
        let code = codes.issue(binding(), now).expect("randomness");
        assert_eq!(
            codes.redeem(&code, now + Duration::from_secs(121)),
            Err(Refusal::Expired)
        );
        assert_eq!(codes.redeem("ZZZZZZ", now), Err(Refusal::Unknown));
        codes.purge(now + Duration::from_secs(241));
        assert_eq!(
            codes.redeem(&code, now),
            Err(Refusal::Unknown),
            "long-expired codes are forgotten"
        );
    }

    #[test]
    fn codes_are_spread_over_the_whole_alphabet() {
        let now = Instant::now();
        let mut codes = PairingCodes::new(Duration::from_secs(120));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            seen.extend(codes.issue(binding(), now).expect("randomness").bytes());
        }
        assert_eq!(
            seen.len(),
            CODE_ALPHABET.len(),
            "every character of the alphabet is used"
        );
    }
}
