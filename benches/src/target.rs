//! Where the bots may point. Load tests are for one's own machine: a target that does
//! not resolve to loopback only is refused unless `--allow-remote` is given.

use std::net::SocketAddr;

use tokio_tungstenite::tungstenite::http::Uri;

/// A resolved WebSocket endpoint.
#[derive(Debug, Clone)]
pub struct Target {
    /// The `ws://` URL as given.
    pub ws_url: String,
    /// Where to connect.
    pub addr: SocketAddr,
    /// The server's `/metrics`, on the same host and port.
    pub metrics_url: String,
}

/// Why a target is refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Not a `ws://host[:port]/path` URL.
    #[error("{0} is not a ws:// URL")]
    NotWebSocket(String),
    /// The host did not resolve.
    #[error("cannot resolve {url}: {reason}")]
    Unresolved {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// It resolves to something other than this machine.
    #[error(
        "{url} resolves to {addr}, which is not a loopback address; pass --allow-remote to load a remote server"
    )]
    NotLoopback {
        /// The URL.
        url: String,
        /// The offending address.
        addr: SocketAddr,
    },
}

/// Resolves `url`, refusing non-loopback addresses unless `allow_remote`.
pub async fn resolve(url: &str, allow_remote: bool) -> Result<Target, TargetError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| TargetError::NotWebSocket(url.to_owned()))?;
    if uri.scheme_str() != Some("ws") {
        return Err(TargetError::NotWebSocket(url.to_owned()));
    }
    let host = uri
        .host()
        .ok_or_else(|| TargetError::NotWebSocket(url.to_owned()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|err| TargetError::Unresolved {
            url: url.to_owned(),
            reason: err.to_string(),
        })?
        .collect();
    let Some(&addr) = addrs.first() else {
        return Err(TargetError::Unresolved {
            url: url.to_owned(),
            reason: "no address".into(),
        });
    };
    if !allow_remote && let Some(&remote) = addrs.iter().find(|a| !a.ip().is_loopback()) {
        return Err(TargetError::NotLoopback {
            url: url.to_owned(),
            addr: remote,
        });
    }
    let authority = if addr.is_ipv6() {
        format!("[{}]:{port}", addr.ip())
    } else {
        format!("{}:{port}", addr.ip())
    };
    Ok(Target {
        ws_url: url.to_owned(),
        addr,
        metrics_url: format!("http://{authority}/metrics"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loopback_targets_are_accepted() {
        let target = resolve("ws://127.0.0.1:8080/ws", false)
            .await
            .expect("loopback is fine");
        assert_eq!(target.addr, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(target.metrics_url, "http://127.0.0.1:8080/metrics");
        assert!(resolve("ws://[::1]:9000/ws", false).await.is_ok());
        assert!(resolve("ws://localhost:9000/ws", false).await.is_ok());
    }

    #[tokio::test]
    async fn other_targets_are_refused_without_allow_remote() {
        // A documentation address (TEST-NET-3): resolving it sends nothing anywhere.
        let refused = resolve("ws://203.0.113.7:8080/ws", false).await;
        assert!(
            matches!(refused, Err(TargetError::NotLoopback { .. })),
            "{refused:?}"
        );
        assert!(resolve("ws://203.0.113.7:8080/ws", true).await.is_ok());
        assert!(matches!(
            resolve("http://127.0.0.1/ws", false).await,
            Err(TargetError::NotWebSocket(_))
        ));
    }
}
