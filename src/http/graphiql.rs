//! GraphiQL, served by the server itself: the page for browsers opening `/graphql`, and its
//! assets under `/graphiql/assets/<file>`, built into the binary from `assets/graphiql/` (the
//! npm packages' own built files; README "GraphiQL" says how to refresh them). The page loads
//! nothing from elsewhere and says so in its `Content-Security-Policy`: scripts and styles from
//! this server only (styles may also be inline, which GraphiQL's dialogs need), requests to this
//! server only (HTTP and its WebSocket). Assets are named by version, and their URLs carry a
//! digest of their content, so they are cached for a year.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Where the assets are served.
pub const ASSETS_PATH: &str = "/graphiql/assets";

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset { name: $name, content_type: $content_type, bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/graphiql/", $name)) }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file the page uses, in the order the page loads them.
static ASSETS: [Asset; 6] = [
    asset!("graphiql-4.1.2.min.css", CSS),
    asset!("whale-graphiql.css", CSS),
    asset!("react-18.3.1.production.min.js", JS),
    asset!("react-dom-18.3.1.production.min.js", JS),
    asset!("graphiql-4.1.2.min.js", JS),
    asset!("whale-graphiql.js", JS),
];

/// The page, with each asset's URL carrying the first bytes of its SHA-256.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    let url = |asset: &Asset| format!("{ASSETS_PATH}/{}?v={}", asset.name, &hex::encode(Sha256::digest(asset.bytes))[..16]);
    let mut head = String::new();
    let mut body = String::new();
    for asset in &ASSETS {
        match asset.content_type {
            CSS => head.push_str(&format!("    <link rel=\"stylesheet\" href=\"{}\">\n", url(asset))),
            JS => body.push_str(&format!("    <script src=\"{}\"></script>\n", url(asset))),
            _ => {}
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\">\n    <meta name=\"robots\" content=\"noindex\">\n    \
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n    <title>Whale CRM</title>\n    \
         <link rel=\"icon\" href=\"data:,\">\n{head}  </head>\n  <body>\n    <div id=\"graphiql\">Loading…</div>\n{body}  </body>\n</html>\n"
    )
});

/// The page's policy; `host` is the `Host` the browser reached us at, for the WebSocket (which
/// not every browser counts as `'self'`).
fn content_security_policy(host: Option<&str>) -> String {
    let sockets = host.map(|h| format!(" ws://{h} wss://{h}")).unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
         connect-src 'self'{sockets}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// A `Host` header fit to repeat in the policy: a host name or address and maybe a port.
fn plain_host(headers: &HeaderMap) -> Option<&str> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty() && host.len() <= 255 && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    plain.then_some(host)
}

/// The GraphiQL page.
pub fn page(headers: &HeaderMap) -> Response {
    let policy = HeaderValue::from_str(&content_security_policy(plain_host(headers))).expect("a valid header");
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        (header::CONTENT_SECURITY_POLICY, policy),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    ];
    (headers, PAGE.as_str()).into_response()
}

/// `GET /graphiql/assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file) else {
        return (StatusCode::NOT_FOUND, "no such asset\n").into_response();
    };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
    ];
    (headers, asset.bytes).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_every_asset_from_this_server() {
        for asset in &ASSETS {
            assert!(PAGE.contains(&format!("\"{ASSETS_PATH}/{}?v=", asset.name)), "{}", asset.name);
        }
        assert!(!PAGE.contains("//unpkg") && !PAGE.contains("https:") && !PAGE.contains("<script>"));
    }

    #[test]
    fn only_plain_hosts_enter_the_policy() {
        let with = |host: &str| HeaderMap::from_iter([(header::HOST, HeaderValue::from_str(host).unwrap())]);
        assert_eq!(plain_host(&with("127.0.0.1:8080")), Some("127.0.0.1:8080"));
        assert_eq!(plain_host(&with("crm.example.com")), Some("crm.example.com"));
        assert_eq!(plain_host(&with("evil; script-src *")), None);
        assert!(content_security_policy(Some("h:1")).contains("connect-src 'self' ws://h:1 wss://h:1;"));
    }
}
