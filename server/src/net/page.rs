//! The browser game page, built from client-web/ by the build script and embedded in
//! the binary: one file to deploy, and the page always matches the server's protocol.

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "$OUT_DIR/web/"]
struct Page;

/// Serves the pages' files: `/` (with any query, such as a share link's `?s=CODE`) is
/// the game page, `/controller` (`?c=CODE` from a QR code) the phone controller,
/// `/leaderboard` the standings, `/replays` and `/replay/ID` the replays.
pub(super) async fn file(uri: Uri) -> Response {
    let path = match uri.path().trim_start_matches('/') {
        "" => "index.html",
        "controller" => "controller.html",
        "leaderboard" => "leaderboard.html",
        "admin" => "admin.html",
        "replays" => "replay.html",
        path if path.starts_with("replay/") && !path.contains('.') => "replay.html",
        path => path,
    };
    match Page::get(path) {
        Some(file) => (
            [
                (header::CONTENT_TYPE, file.metadata.mimetype().to_owned()),
                // Small files, and a new server may bring a new page: always revalidate.
                (header::CACHE_CONTROL, "no-cache".to_owned()),
            ],
            file.data,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}
