//! `/admin` through real HTTP: off without a token, a wrong token refused and counted,
//! a login's cookie opens the live feed, which shows the sessions and players, and the
//! operator's close and kick reach the clients with their documented close codes.

use arena_shared::limits::close_code;
use arena_shared::protocol::Role;

use futures_util::{SinkExt, StreamExt};

use super::common::{Client, TestServer, get};

const TOKEN: &str = "s3cret-for-tests";

async fn post(
    server: &TestServer,
    path: &str,
    body: &str,
    cookie: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}{path}", server.addr))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("HTTP answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("a text body"))
}

/// Logs in: the cookie to send back.
async fn log_in(server: &TestServer) -> String {
    let (status, headers, body) =
        post(server, "/admin/login", &format!("token={TOKEN}"), None).await;
    assert_eq!(status, 204, "{body}");
    let set = headers["set-cookie"].to_str().expect("ASCII");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().expect("a cookie").to_owned()
}

/// The first state of the live feed.
async fn first_state(server: &TestServer, cookie: &str) -> serde_json::Value {
    let mut response = reqwest::Client::new()
        .get(format!("http://{}/admin/api/events", server.addr))
        .header("cookie", cookie)
        .send()
        .await
        .expect("HTTP answers");
    assert_eq!(response.status().as_u16(), 200);
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = response
            .chunk()
            .await
            .expect("reads")
            .expect("the feed goes on");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = text
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .expect("an event");
    serde_json::from_str(data.trim()).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_admin_page_is_off() {
    let server = TestServer::start("").await;
    let (status, body) = get(&server, "/admin/api/me").await;
    assert_eq!(status, 404);
    assert!(body.contains("--admin-token"), "{body}");
    let (status, _, _) = post(&server, "/admin/login", "token=anything", None).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_sees_the_sessions_and_closes_and_kicks() {
    let server = TestServer::start_admin("[balls]\ncount = 0\n", TOKEN).await;
    let (status, _, _) = post(&server, "/admin/login", "token=wrong", None).await;
    assert_eq!(status, 401, "a wrong token is refused");
    let (status, _) = get(&server, "/admin/api/events").await;
    assert_eq!(status, 401, "no cookie, no feed");

    let mut ada = Client::join(&server, "ada", Some("ops"), Role::Player).await;
    let mut bob = Client::join(&server, "bob", Some("ops"), Role::Player).await;
    let mut cy = Client::join(&server, "cy", Some("other"), Role::Player).await;
    // A client that breaks the protocol (a text frame) is on the page's list.
    let mut rude = super::common::open(server.addr, None).await;
    rude.send(tungstenite::Message::Text("hello?".into()))
        .await
        .expect("sends");
    while let Some(Ok(message)) = rude.next().await {
        if message.is_close() {
            break;
        }
    }
    ada.ticks(40).await; // the workers' once-a-second reports
    let cookie = log_in(&server).await;
    let state = first_state(&server, &cookie).await;
    let sessions = state["sessions"].as_array().expect("sessions");
    let ops = sessions
        .iter()
        .find(|s| s["code"] == "ops")
        .expect("ops is listed");
    let names: Vec<&str> = ops["players"]
        .as_array()
        .expect("players")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{ops}");
    assert!(names.contains(&"ada") && names.contains(&"bob"), "{ops}");
    assert_eq!(
        state["server"]["admin_logins_refused"], 1,
        "the wrong token was counted"
    );
    let refusal = &state["refusals"][0];
    assert_eq!(refusal["kind"], "text_frame", "{state}");
    assert_eq!(refusal["address"], "127.0.0.1", "{state}");

    // A cross-site page cannot use the API even with the cookie.
    let response = reqwest::Client::new()
        .post(format!(
            "http://{}/admin/api/sessions/ops/close",
            server.addr
        ))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 403);

    let path = format!("/admin/api/sessions/ops/players/{}/kick", bob.me().0);
    let (status, _, body) = post(&server, &path, "", Some(&cookie)).await;
    assert_eq!(status, 202, "{body}");
    let (code, reason) = bob.closed().await;
    assert_eq!(code, close_code::KICKED, "{reason}");

    let (status, _, _) = post(&server, "/admin/api/sessions/ops/close", "", Some(&cookie)).await;
    assert_eq!(status, 202);
    let (code, reason) = ada.closed().await;
    assert_eq!(code, close_code::SESSION_CLOSED, "{reason}");
    assert!(reason.contains("operator"), "{reason}");
    cy.ticks(5).await; // another session plays on
    server.stop().await;
}
