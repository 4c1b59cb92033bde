//! Sending webhook deliveries: one POST per attempt, signed at the moment it is sent
//! (`Whale-Signature`), bounded in time and in how much of the answer is read, never redirected
//! to another host, and — unless configured otherwise — never connecting to a loopback, private or
//! link-local address, whatever the endpoint's host name resolves to.

use super::JobContext;
use crate::config::WebhooksConfig;
use crate::db::webhooks::{self, Attempt, Outgoing};
use crate::domain::data_request::DownloadLinks;
use crate::domain::ids::{StoreId, WebhookDeliveryId, WebhookEventId};
use crate::domain::webhook::{self, EventType};
use chrono::{DateTime, Utc};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The most of a receiver's answer that is read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// The most of it kept in the delivery log.
const LOGGED_RESPONSE_CHARS: usize = 1024;
/// Same-host redirects followed at most.
const MAX_REDIRECTS: usize = 3;

/// The HTTP client deliveries go out through.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
}

impl Sender {
    pub fn new(config: &WebhooksConfig) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(config.timeout_secs);
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("Whale-CRM-Webhooks/", env!("CARGO_PKG_VERSION")))
            .redirect(redirect::Policy::custom(same_host_only))
            .no_proxy();
        if !config.allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self { client: builder.build()?, allow_private: config.allow_private, timeout })
    }

    /// POSTs `body` to `url`, signed with `secret`; what came back, as logged.
    async fn send(&self, url: &str, secret: &str, event: (&str, &str), body: String) -> Attempt {
        let at = Utc::now();
        let failed = |error: String| Attempt { at, response_status: None, response_body: None, error: Some(error) };
        // The endpoint was checked when it was created; the rule may have changed since.
        let url = match webhook::parse_url("url", url, self.allow_private) {
            Ok(url) => url,
            Err(err) => return failed(format!("refused: the URL {}", err.message)),
        };
        let signature = webhook::signature_header(secret, at.timestamp(), body.as_bytes());
        let request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Whale-Signature", signature)
            .header("Whale-Event-Id", event.0)
            .header("Whale-Event", event.1)
            .body(body);
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(err) => return failed(self.explain(&err)),
        };
        let status = response.status();
        let mut read = Vec::new();
        let body_error = loop {
            match response.chunk().await {
                Ok(Some(chunk)) if read.len() + chunk.len() <= MAX_RESPONSE_BYTES => read.extend_from_slice(&chunk),
                Ok(Some(chunk)) => {
                    // enough: the rest is not read
                    read.extend_from_slice(&chunk[..MAX_RESPONSE_BYTES - read.len()]);
                    break None;
                }
                Ok(None) => break None,
                Err(err) => break Some(self.explain(&err)),
            }
        };
        // (control characters dropped: PostgreSQL text cannot hold NUL, and a log has no use for them)
        let excerpt: String =
            String::from_utf8_lossy(&read).chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')).take(LOGGED_RESPONSE_CHARS).collect();
        let error = if status.is_redirection() {
            Some(format!("HTTP {}: a redirect that is not followed (only 307 and 308 to the same host, at most {MAX_REDIRECTS})", status.as_u16()))
        } else if !status.is_success() {
            Some(format!("HTTP {}", status.as_u16()))
        } else {
            body_error
        };
        Attempt { at, response_status: Some(i32::from(status.as_u16())), response_body: Some(excerpt).filter(|b| !b.is_empty()), error }
    }

    /// Why a request failed, in words for the delivery log (no internals).
    fn explain(&self, err: &reqwest::Error) -> String {
        if err.is_timeout() {
            return format!("timed out after {} s", self.timeout.as_secs());
        }
        let refused = std::iter::successors(Some(err as &dyn std::error::Error), |e| e.source()).any(|e| e.to_string() == PRIVATE_ONLY);
        if refused {
            format!("refused: the host {PRIVATE_ONLY} (allowed only with WHALE_WEBHOOK_ALLOW_PRIVATE=true, for development)")
        } else if err.is_connect() {
            "could not connect".to_owned()
        } else if err.is_redirect() {
            "too many redirects".to_owned()
        } else {
            "the request failed before an answer".to_owned()
        }
    }
}

/// Follows a redirect only when it keeps the POST and its body (307, 308) and stays on the same
/// scheme, host and port, a few times. (301, 302 and 303 would turn it into an empty GET.)
fn same_host_only(attempt: redirect::Attempt<'_>) -> redirect::Action {
    let origin = |u: &url::Url| (u.scheme().to_owned(), u.host_str().map(str::to_owned), u.port_or_known_default());
    let first = attempt.previous().first().map(origin);
    let keeps_the_post = matches!(attempt.status().as_u16(), 307 | 308);
    if !keeps_the_post || attempt.previous().len() > MAX_REDIRECTS || first != Some(origin(attempt.url())) {
        attempt.stop()
    } else {
        attempt.follow()
    }
}

const PRIVATE_ONLY: &str = "resolves only to loopback, private or link-local addresses";

/// Name resolution that keeps public addresses only (checked when connecting, so a host name
/// cannot be re-pointed at an internal address after the endpoint was created).
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| webhook::is_public(a.ip())).collect();
            if found.is_empty() {
                return Err(PRIVATE_ONLY.into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Sends one delivery and logs the attempt; an error (the receiver did not answer 2xx) makes the
/// job retry. A delivery already made, or gone (endpoint deleted, customer erased), is done.
pub async fn deliver(context: &JobContext, store: StoreId, id: WebhookDeliveryId) -> anyhow::Result<()> {
    let outgoing = {
        let mut conn = context.pool.get().await?;
        webhooks::outgoing(&mut conn, store, id).await?
    };
    let Some(Outgoing { delivery, url, secret }) = outgoing else { return Ok(()) };
    // A download link is a credential: it goes over TLS only (plain http is for development).
    let links = (url.starts_with("https://") || context.webhooks.allow_private).then_some(&context.links);
    let body = body(&delivery.payload, links, Utc::now());
    let event_id = WebhookEventId(delivery.event_id).to_string();
    // no connection is held while the receiver takes its time
    let attempt = context.webhooks.send(&url, &secret, (&event_id, &delivery.event_type), body).await;
    let mut conn = context.pool.get().await?;
    webhooks::record_attempt(&mut conn, store, id, &attempt).await?;
    match attempt.error {
        None => Ok(()),
        Some(error) => Err(anyhow::anyhow!("delivery to the endpoint failed: {error}")),
    }
}

/// The body sent: the logged payload, and for a completed export a fresh download link (valid for
/// an hour from this attempt; the log never holds one) when `links` are given.
fn body(payload: &str, links: Option<&DownloadLinks>, now: DateTime<Utc>) -> String {
    let Ok(mut event) = serde_json::from_str::<Value>(payload) else { return payload.to_owned() };
    if event["event"] != EventType::DataRequestCompleted.as_str() || event["data"]["type"] != "EXPORT" {
        return payload.to_owned();
    }
    let data = &mut event["data"];
    let completed = data["completedAt"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    let link = match (links, data["id"].as_str(), completed) {
        (Some(links), Some(request), Some(completed)) => links.for_export(request, completed.with_timezone(&Utc), now),
        _ => None,
    };
    data["downloadUrl"] = link.map_or(Value::Null, Value::String);
    event.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(allow_private: bool) -> Sender {
        Sender::new(&WebhooksConfig { timeout_secs: 2, first_retry_secs: 1, allow_private }).unwrap()
    }

    #[tokio::test]
    async fn host_names_resolving_to_private_addresses_are_not_reached() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let attempt = send(&sender(false), &format!("http://localhost:{port}/hook")).await;
        assert_eq!(attempt.error.as_deref(), Some("refused: the host resolves only to loopback, private or link-local addresses (allowed only with WHALE_WEBHOOK_ALLOW_PRIVATE=true, for development)"));
        assert_eq!(attempt.response_status, None);
        // nothing connected
        assert!(tokio::time::timeout(Duration::from_millis(200), listener.accept()).await.is_err());
        let literal = send(&sender(false), &format!("http://127.0.0.1:{port}/hook")).await;
        assert!(literal.error.as_deref().is_some_and(|e| e.starts_with("refused: the URL must not point at a private")), "{literal:?}");
    }

    /// A receiver on loopback that answers every POST with `status`, `body` and `location`
    /// after `delay`; returns its URL and a count of the requests it got.
    async fn receiver(status: u16, body: String, delay: Duration, location: Option<String>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use axum::response::IntoResponse;
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = hits.clone();
        let handler = move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (body, location) = (body.clone(), location.clone());
            async move {
                tokio::time::sleep(delay).await;
                let mut response = (axum::http::StatusCode::from_u16(status).unwrap(), body).into_response();
                if let Some(location) = location {
                    response.headers_mut().insert(axum::http::header::LOCATION, location.parse().unwrap());
                }
                response
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/hook", axum::routing::post(handler))).await });
        (url, hits)
    }

    async fn send(sender: &Sender, url: &str) -> Attempt {
        sender.send(url, "whsec_x", ("whevt_1", "customer.created"), "{}".into()).await
    }

    #[tokio::test]
    async fn control_characters_in_an_answer_are_not_logged() {
        let (url, _) = receiver(200, "ok\0\u{7}\tdone\n".into(), Duration::ZERO, None).await;
        let attempt = send(&sender(true), &url).await;
        assert_eq!(attempt.response_body.as_deref(), Some("ok\tdone\n"));
    }

    #[tokio::test]
    async fn a_slow_receiver_times_out() {
        let (url, _) = receiver(200, String::new(), Duration::from_secs(5), None).await;
        let sender = Sender::new(&WebhooksConfig { timeout_secs: 1, first_retry_secs: 1, allow_private: true }).unwrap();
        let attempt = send(&sender, &url).await;
        assert_eq!((attempt.error.as_deref(), attempt.response_status), (Some("timed out after 1 s"), None));
    }

    #[tokio::test]
    async fn only_the_start_of_a_large_answer_is_read_and_kept() {
        let (url, _) = receiver(200, "x".repeat(4 << 20), Duration::ZERO, None).await;
        let attempt = send(&sender(true), &url).await;
        assert_eq!((attempt.error.as_deref(), attempt.response_status), (None, Some(200)));
        assert_eq!(attempt.response_body.map(|b| b.len()), Some(LOGGED_RESPONSE_CHARS));
    }

    #[tokio::test]
    async fn redirects_are_followed_on_the_same_host_only() {
        let (elsewhere, elsewhere_hits) = receiver(200, String::new(), Duration::ZERO, None).await;
        let (away, _) = receiver(307, String::new(), Duration::ZERO, Some(elsewhere)).await;
        let attempt = send(&sender(true), &away).await;
        assert_eq!(attempt.response_status, Some(307));
        assert!(attempt.error.as_deref().is_some_and(|e| e.contains("not followed")), "{attempt:?}");
        assert_eq!(elsewhere_hits.load(std::sync::atomic::Ordering::SeqCst), 0, "another host (port) got nothing");

        // a 302 would resend as an empty GET: not followed, even on the same host
        let (target, target_hits) = receiver(200, String::new(), Duration::ZERO, None).await;
        let (found, _) = receiver(302, String::new(), Duration::ZERO, Some(target)).await;
        let attempt = send(&sender(true), &found).await;
        assert_eq!(attempt.response_status, Some(302));
        assert!(attempt.error.is_some());
        assert_eq!(target_hits.load(std::sync::atomic::Ordering::SeqCst), 0);

        // a redirect to the same origin is followed (307 keeps the POST and its body)
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(|| async { (axum::http::StatusCode::TEMPORARY_REDIRECT, [(axum::http::header::LOCATION, "/moved")]) }))
            .route("/moved", axum::routing::post(|body: String| async move { format!("moved got {body}") }));
        tokio::spawn(async move { axum::serve(listener, router).await });
        let attempt = send(&sender(true), &format!("{origin}/hook")).await;
        assert_eq!((attempt.error.as_deref(), attempt.response_status), (None, Some(200)));
        assert_eq!(attempt.response_body.as_deref(), Some("moved got {}"));
    }

    #[tokio::test]
    async fn an_unreachable_receiver_is_reported_without_internals() {
        let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        let attempt = send(&sender(true), &format!("http://127.0.0.1:{port}/hook")).await;
        assert_eq!(attempt.error.as_deref(), Some("could not connect"));
    }
}
