//! `/echo`: every message sent back as it came, for the Autobahn conformance suite.
//!
//! Off unless the server runs with `--echo`. It goes through the same upgrade, socket
//! limits and link as `/ws`, so what the suite finds holds for the game's sockets.

use arena_shared::limits::close_code;
use futures_util::{SinkExt, StreamExt};
use tungstenite::Message;

use super::connection::{End, finish};
use super::upgrade::Upgraded;

/// Echoes until the client closes or breaks the protocol.
pub(super) async fn serve(upgraded: Upgraded) {
    let Upgraded {
        link, mut socket, ..
    } = upgraded;
    let end = loop {
        match socket.next().await {
            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                if socket.send(message).await.is_err() {
                    break End::PeerVanished;
                }
            }
            Some(Ok(Message::Close(_))) => break End::PeerClosed,
            // tungstenite answers pings itself.
            Some(Ok(_)) => {}
            // The same limit, and the same answer, as on /ws.
            Some(Err(tungstenite::Error::Capacity(_))) => {
                break End::Refuse(
                    close_code::MESSAGE_TOO_BIG,
                    "message over the size limit".into(),
                );
            }
            Some(Err(_)) | None => break End::PeerVanished,
        }
    };
    finish(end, &link, &mut socket).await;
}
