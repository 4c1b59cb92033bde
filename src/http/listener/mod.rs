//! The accept loop and each connection's HTTP/1.1 life (axum's `serve`, with the hygiene a
//! server on the internet needs): connections over the instance's or an address's cap are
//! refused at once, a request head must arrive within the header timeout, a connection with
//! nothing in flight is closed after the idle timeout, a request body must arrive within the
//! body timeout, and accept errors (out of file descriptors) are waited out rather than fatal.
//! WebSocket upgrades pass through; handlers can extract `ConnectInfo<SocketAddr>`.

mod admission;
mod clock;

pub use admission::{Admission, Refusal};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use clock::{Activity, Deadlines, Expiry, Socket};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower_http::timeout::DeadlineBody;

/// How long connections may take and how many may be open.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// The longest a client may take to send a request head, from connecting (or from the
    /// head's first byte, on a kept-alive connection).
    pub header_timeout: Duration,
    /// How long a connection with no request in flight stays open.
    pub idle_timeout: Duration,
    /// The longest a client may take to send a request body, from the end of its head.
    pub body_timeout: Duration,
    /// Connections open at once on this instance (WebSockets included).
    pub max_connections: usize,
    /// Connections open at once from one client address (an IPv6 client: its /64).
    pub max_connections_per_address: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_connections_per_address: 64,
        }
    }
}

/// How long to wait before accepting again after an accept error such as EMFILE.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What a refused client reads, if it reads at all before the socket closes.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, lets each
/// connection finish its request in flight (the header and idle timeouts still apply, so no
/// client can hold the shutdown open) and returns when every connection is closed.
pub async fn serve(listener: TcpListener, router: Router, limits: ConnectionLimits, shutdown: impl Future<Output = ()> + Send + 'static) {
    let admission = Admission::new(limits.max_connections, limits.max_connections_per_address);
    let (stopping, stop) = watch::channel(false);
    // every connection holds a receiver: `closed` resolves once all are gone
    let (all_closed, connections) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    let mut failing = false;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                if std::mem::take(&mut failing) {
                    tracing::info!("accepting connections again");
                }
                match admission.admit(peer.ip()) {
                    Ok(permit) => {
                        let socket = Socket::new(stream, Activity::new(), permit);
                        tokio::spawn(connection(socket, peer, router.clone(), limits, stop.clone(), connections.clone()));
                    }
                    Err(refusal) => refuse(&stream, peer, refusal),
                }
            }
            Err(err) if is_connection_error(&err) => {}
            Err(err) => {
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(error = %err, open = admission.open(), "cannot accept connections (out of file descriptors?); retrying every {ACCEPT_BACKOFF:?}");
                }
                tokio::select! {
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => {},
                    () = &mut shutdown => break,
                }
            }
        }
    }
    drop(listener);
    let _ = stopping.send(true);
    drop(connections);
    all_closed.closed().await;
}

/// Answers 503 if the socket takes it at once, and closes it.
fn refuse(stream: &TcpStream, peer: SocketAddr, refusal: Refusal) {
    tracing::debug!(%peer, ?refusal, "connection refused: too many open");
    let _ = stream.try_write(REFUSED);
}

/// One connection's life: HTTP/1.1 (with upgrades) until the client closes it, a deadline is
/// missed, or the server shuts down.
async fn connection(socket: Socket, peer: SocketAddr, router: Router, limits: ConnectionLimits, mut stop: watch::Receiver<bool>, _open: watch::Receiver<()>) {
    let _ = socket.set_nodelay();
    let activity = socket.activity();
    let deadlines = Deadlines { header: limits.header_timeout, idle: limits.idle_timeout };
    let service = service_fn({
        let activity = activity.clone();
        move |request: Request<Incoming>| {
            let in_flight = activity.request();
            let mut request = request.map(|body| Body::new(DeadlineBody::new(limits.body_timeout, body)));
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move {
                let response = tower_service::Service::call(&mut router, request).await;
                drop(in_flight);
                response
            }
        }
    });
    let mut builder = http1::Builder::new();
    // the clock below does this, without closing kept-alive connections early
    builder.header_read_timeout(None);
    let mut conn = pin!(builder.serve_connection(TokioIo::new(socket), service).with_upgrades());
    let mut expired = pin!(activity.expired(deadlines));
    let (mut closing, mut stopping) = (false, false);
    loop {
        tokio::select! {
            biased;
            served = conn.as_mut() => {
                if let Err(err) = served {
                    tracing::debug!(%peer, error = %err, "connection ended with an error");
                }
                return;
            }
            expiry = expired.as_mut() => {
                if closing || expiry == Expiry::Header {
                    tracing::debug!(%peer, ?expiry, "connection timed out");
                    return;
                }
                // idle: close it once anything already on its way is answered
                closing = true;
                conn.as_mut().graceful_shutdown();
                expired.set(activity.expired(deadlines));
            }
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Whether reading a request body failed because the body timeout passed.
pub fn is_body_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = err.source();
    }
    false
}

fn is_connection_error(err: &io::Error) -> bool {
    matches!(err.kind(), io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset)
}
