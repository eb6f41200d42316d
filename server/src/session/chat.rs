//! Chat in a session: a line said by a page or a spectator is cleaned, kept (the last
//! [`CHAT_HISTORY`]) and sent, encoded once, to everyone in the session, phones
//! included; a connection that joins gets the lines kept.

use arena_shared::limits::{CHAT_HISTORY, MAX_CHAT_CHARS};
use arena_shared::protocol::{ChatLine, ChatLines, ServerMessage};

use super::{Kind, Session};
use crate::commands::ConnId;
use crate::frame::encode;
use crate::outbox::Outgoing;

impl Session {
    /// `conn` says `text`. Dropped if `conn` is not a page or spectator of the
    /// session, or if nothing is left of the line once cleaned.
    pub fn say(&mut self, conn: ConnId, text: &str) {
        let Some(member) = self.members.iter().find(|m| m.conn == conn) else {
            return;
        };
        let from = match member.kind {
            Kind::Viewer {
                player: Some(id), ..
            } => self.sim.name_of(id).unwrap_or_default(),
            Kind::Viewer { player: None, .. } => "spectator".to_owned(),
            Kind::Controller { .. } => return,
        };
        let Some(text) = clean_line(text, &self.masked_words) else {
            return;
        };
        let line = ChatLine { from, text };
        if self.chat.len() == CHAT_HISTORY {
            self.chat.pop_front();
        }
        self.chat.push_back(line.clone());
        let message = ServerMessage::Chat(ChatLines { lines: vec![line] });
        if let Some(frame) = encode(&mut self.encoder, &message) {
            for member in &self.members {
                member.outbox.offer(Outgoing::Frame(frame.clone()));
            }
        }
    }

    /// The lines kept, for a connection that just joined; `None` if there are none.
    pub(super) fn chat_history(&mut self) -> Option<bytes::Bytes> {
        if self.chat.is_empty() {
            return None;
        }
        let lines = self.chat.iter().cloned().collect();
        encode(&mut self.encoder, &ServerMessage::Chat(ChatLines { lines }))
    }
}

/// The line as others will read it: control characters gone, trimmed, cut to
/// [`MAX_CHAT_CHARS`], each masked word (ignoring case) turned into asterisks; `None`
/// if nothing is left.
pub(super) fn clean_line(text: &str, masked: &[String]) -> Option<String> {
    let mut line: String = text
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_CHAT_CHARS)
        .collect();
    for word in masked.iter().filter(|w| !w.is_empty()) {
        line = mask(&line, word);
    }
    (!line.is_empty()).then_some(line)
}

/// `line` with every occurrence of `word`, ignoring case, replaced by as many `*`.
fn mask(line: &str, word: &str) -> String {
    let lower_line = line.to_lowercase();
    let lower_word = word.to_lowercase();
    // Lowercasing can change byte lengths (rarely): then mask nothing rather than cut
    // a character in two.
    if lower_line.len() != line.len() {
        return line.to_owned();
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = 0;
    for (at, _) in lower_line.match_indices(&lower_word) {
        if at < rest {
            continue;
        }
        out.push_str(&line[rest..at]);
        out.extend(std::iter::repeat_n('*', word.chars().count()));
        rest = at + lower_word.len();
    }
    out.push_str(&line[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_stripped_cut_and_masked_and_markup_stays_text() {
        let masked = vec!["darn".to_owned()];
        assert_eq!(
            clean_line("  hi\u{7}\n there  ", &masked).as_deref(),
            Some("hi there")
        );
        assert_eq!(
            clean_line("DARN it, darnation", &masked).as_deref(),
            Some("**** it, ****ation")
        );
        assert_eq!(
            clean_line("<b>bold</b>", &masked).as_deref(),
            Some("<b>bold</b>"),
            "text, never markup: the page shows it as such"
        );
        assert_eq!(
            clean_line(&"é".repeat(300), &masked).map(|l| l.chars().count()),
            Some(MAX_CHAT_CHARS)
        );
        assert_eq!(
            clean_line(" \u{1}\t ", &masked),
            None,
            "nothing left: nothing said"
        );
    }
}
