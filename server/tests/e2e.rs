//! End-to-end tests: the real server on 127.0.0.1 port 0, in-process, and real
//! tokio-tungstenite clients. One test binary, one module per behaviour.

mod e2e {
    mod admin;
    mod bad_input;
    mod chat;
    mod common;
    mod controllers;
    mod faults;
    mod gameplay;
    mod interest;
    mod limits;
    mod observability;
    mod reconnect;
    mod results;
    mod send_rate;
    mod sessions;
    mod shutdown;
    mod slow_clients;
    mod workers;
}
