//! A connection's clock: when its current request head started, whether a request is in
//! flight, when it last went quiet. From these come the two deadlines of an HTTP/1 connection —
//! a request head must arrive whole within the header timeout (counted from the connection's
//! start, or from its first byte on a kept-alive connection), and a connection with nothing in
//! flight is closed after the idle timeout.
//!
//! (hyper's own `header_read_timeout` restarts as soon as a response is written, so on its own
//! it would close kept-alive connections after the header timeout as well.)

use super::admission::Permit;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// "No request head is being read."
const NONE: u64 = u64::MAX;

/// What a connection has been doing, shared by its socket, its service and its watcher.
#[derive(Debug)]
pub struct Activity {
    start: Instant,
    /// Requests whose response has not been produced yet.
    in_flight: AtomicUsize,
    /// Milliseconds from `start` to the first byte of the request head being read, or [`NONE`].
    head_started: AtomicU64,
    /// Milliseconds from `start` to the last time the connection did something (a response
    /// produced, bytes written).
    quiet_since: AtomicU64,
}

/// Which deadline a connection missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Its request head did not arrive whole in time.
    Header,
    /// Nothing was in flight for the idle timeout.
    Idle,
}

/// How long a connection may take.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// For a request head, from its first byte (from the connection's start, for the first).
    pub header: Duration,
    /// For a connection with nothing in flight, from when it last wrote.
    pub idle: Duration,
}

impl Activity {
    /// A new connection: its first request head is due from now.
    pub fn new() -> Arc<Self> {
        Arc::new(Self { start: Instant::now(), in_flight: AtomicUsize::new(0), head_started: AtomicU64::new(0), quiet_since: AtomicU64::new(0) })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0 {
            let now = self.now();
            let _ = self.head_started.compare_exchange(NONE, now, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    fn wrote(&self) {
        self.quiet_since.store(self.now(), Ordering::Release);
    }

    /// A request's head has arrived: it is in flight until the guard is dropped.
    pub fn request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(NONE, Ordering::Release);
        InFlight(self.clone())
    }

    /// When the connection is due to be checked next, and what it will have missed by then if
    /// nothing happens meanwhile (`None`: a request is in flight, look again later).
    fn next_deadline(&self, deadlines: Deadlines) -> (Instant, Option<Expiry>) {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return (Instant::now() + deadlines.header.min(deadlines.idle), None);
        }
        let at = |millis: u64, after: Duration| self.start + Duration::from_millis(millis) + after;
        match self.head_started.load(Ordering::Acquire) {
            NONE => (at(self.quiet_since.load(Ordering::Acquire), deadlines.idle), Some(Expiry::Idle)),
            started => (at(started, deadlines.header), Some(Expiry::Header)),
        }
    }

    /// Resolves with the first deadline the connection misses.
    pub async fn expired(&self, deadlines: Deadlines) -> Expiry {
        loop {
            let (at, expiry) = self.next_deadline(deadlines);
            tokio::time::sleep_until(at).await;
            // something may have happened while asleep: only a deadline still passed counts
            let (now_at, now_expiry) = self.next_deadline(deadlines);
            if let Some(expiry) = now_expiry.filter(|_| now_at <= Instant::now() && now_expiry == expiry) {
                return expiry;
            }
        }
    }
}

/// A request in flight on its connection.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.wrote();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An accepted socket that tells its connection's [`Activity`] when bytes come and go, and
/// holds the connection's [`Permit`] for as long as it is open (a WebSocket's too: an upgraded
/// connection keeps this socket).
#[derive(Debug)]
pub struct Socket {
    stream: TcpStream,
    activity: Arc<Activity>,
    _permit: Permit,
}

impl Socket {
    /// `stream`, reporting to `activity`, holding `permit` until it is dropped.
    pub fn new(stream: TcpStream, activity: Arc<Activity>, permit: Permit) -> Self {
        Self { stream, activity, _permit: permit }
    }

    /// The connection's activity.
    pub fn activity(&self) -> Arc<Activity> {
        self.activity.clone()
    }

    /// Sends small writes at once (responses are written whole).
    pub fn set_nodelay(&self) -> io::Result<()> {
        self.stream.set_nodelay(true)
    }
}

impl AsyncRead for Socket {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Socket {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEADLINES: Deadlines = Deadlines { header: Duration::from_millis(60), idle: Duration::from_millis(1000) };

    #[tokio::test]
    async fn a_new_connection_owes_its_first_head_within_the_header_timeout() {
        let activity = Activity::new();
        assert_eq!(activity.expired(DEADLINES).await, Expiry::Header);
        assert!(activity.start.elapsed() >= DEADLINES.header);
    }

    #[tokio::test]
    async fn after_a_response_the_idle_timeout_counts_until_a_byte_arrives() {
        let activity = Activity::new();
        drop(activity.request());
        let quiet = Instant::now();
        assert_eq!(activity.expired(DEADLINES).await, Expiry::Idle);
        assert!(quiet.elapsed() >= DEADLINES.idle);

        drop(activity.request());
        activity.read();
        let head = Instant::now();
        assert_eq!(activity.expired(DEADLINES).await, Expiry::Header);
        assert!(head.elapsed() >= DEADLINES.header);
        assert!(head.elapsed() < DEADLINES.idle, "a started head is held to the header timeout");
    }

    #[tokio::test]
    async fn a_request_in_flight_never_expires() {
        let activity = Activity::new();
        let in_flight = activity.request();
        let expired = tokio::time::timeout(DEADLINES.idle * 3, activity.expired(DEADLINES)).await;
        assert!(expired.is_err(), "{expired:?}");
        drop(in_flight);
        assert_eq!(activity.expired(DEADLINES).await, Expiry::Idle);
    }
}
