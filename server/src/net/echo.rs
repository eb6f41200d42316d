//! `/echo`: every message sent back as it came, for the Autobahn conformance suite.
//!
//! Off unless the server runs with `--echo`. It goes through the same upgrade, socket
//! limits and link as `/ws`, so what the suite finds holds for the game's sockets.

use tungstenite::Message;

use super::connection::Connection;

/// Echoes until the client closes or breaks the protocol.
pub(super) async fn serve(mut connection: Connection) {
    let end = loop {
        match connection.next_raw().await {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                if let Err(end) = connection.send_raw(message).await {
                    break end;
                }
            }
            // tungstenite answers pings itself.
            Ok(_) => {}
            // The same limit, and the same answer, as on /ws.
            Err(end) => break end,
        }
    };
    connection.finish(end).await;
}
