//! Chat through real sockets: a line reaches everyone in the session, spectators too,
//! cleaned (control characters gone, cut to 200 characters, masked words, markup left
//! as text); a joiner gets the last lines; a flood is cut to one line a second with a
//! burst of three, the rest dropped and counted.

use arena_shared::limits::MAX_CHAT_CHARS;
use arena_shared::protocol::{ChatLine, ClientMessage, Role, Say};

use super::common::{Client, TestServer};

fn say(text: &str) -> ClientMessage {
    ClientMessage::Chat(Say { text: text.into() })
}

fn line(from: &str, text: &str) -> ChatLine {
    ChatLine {
        from: from.into(),
        text: text.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_reaches_everyone_cleaned_and_a_joiner_gets_the_last_lines() {
    let server = TestServer::start("[balls]\ncount = 0\n[chat]\nmasked_words = [\"darn\"]\n").await;
    let mut ada = Client::join(&server, "ada", Some("talk"), Role::Player).await;
    let mut bob = Client::join(&server, "bob", Some("talk"), Role::Player).await;
    let mut tv = Client::join(&server, "tv", Some("talk"), Role::Spectator).await;
    let mut elsewhere = Client::join(&server, "cy", Some("quiet"), Role::Player).await;

    // Lines from one connection keep their order; across connections, the test waits.
    tv.send(&say("Darn, nice ram")).await;
    ada.until("the spectator's line arrives", |c| c.chat.len() == 1)
        .await;
    ada.send(&say("  hello <b>bob</b>\u{7}  ")).await;
    ada.send(&say(&"x".repeat(300))).await;
    let expected = vec![
        line("spectator", "****, nice ram"),
        line("ada", "hello <b>bob</b>"),
        line("ada", &"x".repeat(MAX_CHAT_CHARS)),
    ];
    for client in [&mut ada, &mut bob, &mut tv] {
        client
            .until("the three lines arrive", |c| c.chat.len() == 3)
            .await;
        assert_eq!(client.chat, expected);
    }
    elsewhere.ticks(10).await;
    assert!(elsewhere.chat.is_empty(), "another session hears nothing");

    let late = Client::join(&server, "dee", Some("talk"), Role::Player).await;
    let mut late = late;
    late.until("the history arrives", |c| !c.chat.is_empty())
        .await;
    assert_eq!(late.chat, expected, "a joiner reads the last lines");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_lines_is_cut_to_a_burst_of_three_and_counted() {
    let server = TestServer::start("[balls]\ncount = 0\n").await;
    let mut loud = Client::join(&server, "loud", Some("flood"), Role::Player).await;
    let mut ear = Client::join(&server, "ear", Some("flood"), Role::Player).await;
    for n in 0..6 {
        loud.send(&say(&format!("line {n}"))).await;
    }
    ear.until("the burst arrives", |c| c.chat.len() >= 3).await;
    ear.ticks(15).await; // anything more would have arrived by now
    let heard: Vec<&str> = ear.chat.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(heard, ["line 0", "line 1", "line 2"]);
    assert_eq!(
        server.stats.chat_lines_dropped(),
        3,
        "the rest was dropped and counted"
    );
    loud.ticks(2).await;
    server.stop().await;
}
