//! Connection hygiene over raw TCP: a slowloris client (a request head that never ends) is
//! dropped after the header timeout, a quiet kept-alive connection after the idle timeout, one
//! address cannot open more than its cap (while another address is still served), many idle
//! sockets do not stop `/healthz`, a graceful shutdown still answers the request in flight, and
//! a server out of file descriptors (EMFILE) waits them out and answers `/healthz` again; a
//! stalled body is answered 408, and a WebSocket outlives the HTTP timeouts but counts against
//! the caps until it closes.

use crate::helpers::{TestApp, test_config};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use whale_crm::config::Config;

/// A test config with these connection timeouts and caps.
fn config_with(header: Duration, idle: Duration, max: usize, per_address: usize) -> Config {
    let mut config = test_config();
    let limits = &mut config.http.connections;
    limits.header_timeout = header;
    limits.idle_timeout = idle;
    limits.max_connections = max;
    limits.max_connections_per_address = per_address;
    config
}

/// A TCP connection to `addr` from the loopback address `source` (127.0.0.1, 127.0.0.2, …).
async fn connect_from(source: [u8; 4], addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::from((source, 0))).expect("bind a loopback source address");
    socket.connect(addr).await.expect("connect")
}

/// Sends `GET path` on a kept-alive connection and reads the response: its status, or `None`
/// if the server closed the connection instead of answering.
async fn get(stream: &mut TcpStream, path: &str) -> Option<u16> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: whale\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    read_response(stream).await
}

/// Reads one response (head and `Content-Length` body) off `stream`; `None` on EOF or a reset.
async fn read_response(stream: &mut TcpStream) -> Option<u16> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let length: usize = head.lines().find_map(|line| line.strip_prefix("content-length:")).map_or(0, |n| n.trim().parse().unwrap_or(0));
    while buffer.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    Some(status)
}

/// Waits (up to `within`) for the server to close `stream`, discarding whatever it sends;
/// returns how long that took, or `None` if it is still open.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut chunk = [0u8; 1024];
    let drained = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    drained.await.ok().map(|()| start.elapsed())
}

/// `/healthz` on a new connection from `source`: its status and how long it took.
async fn healthz_from(source: [u8; 4], addr: SocketAddr) -> (Option<u16>, Duration) {
    let start = Instant::now();
    let mut stream = connect_from(source, addr).await;
    let status = get(&mut stream, "/healthz").await;
    (status, start.elapsed())
}

const LOCAL: [u8; 4] = [127, 0, 0, 1];
const OTHER: [u8; 4] = [127, 0, 0, 2];

/// A slowloris client: opens a connection, sends part of a request head, then (if `trickle`)
/// a header byte every 100 ms; returns how long the connection lived (up to 10 s).
async fn slowloris(addr: SocketAddr, trickle: bool) -> Duration {
    let opened = Instant::now();
    let mut stream = connect_from(LOCAL, addr).await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: whale\r\nX-Slow: ").await.unwrap();
    let (mut reader, mut writer) = stream.split();
    let mut chunk = [0u8; 1024];
    let closed = async {
        while let Ok(n) = reader.read(&mut chunk).await {
            if n == 0 {
                break;
            }
        }
    };
    let trickling = async {
        while trickle && writer.write_all(b"a").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        std::future::pending::<()>().await;
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::select! {
            () = closed => {},
            () = trickling => {},
        }
    })
    .await;
    opened.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
async fn slowloris_connections_are_closed_after_the_header_timeout_while_healthz_answers() {
    let header = Duration::from_secs(1);
    let app = TestApp::spawn_with(config_with(header, Duration::from_secs(30), 1024, 1024)).await;
    // 100 of them, 20 trickling header bytes (which must not buy them more time)
    let clients: Vec<_> = (0..100).map(|n| tokio::spawn(slowloris(app.addr, n < 20))).collect();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let (status, took) = healthz_from(LOCAL, app.addr).await;
        assert_eq!(status, Some(200));
        worst = worst.max(took);
    }
    assert!(worst < Duration::from_secs(1), "/healthz took {worst:?} beside 100 slowloris connections");

    let mut lifetimes = Vec::new();
    for client in clients {
        lifetimes.push(client.await.unwrap());
    }
    lifetimes.sort();
    let (shortest, longest) = (lifetimes[0], lifetimes[lifetimes.len() - 1]);
    assert!(shortest >= header - Duration::from_millis(50), "closed before the header timeout: {shortest:?}");
    assert!(longest < header * 4, "a slowloris connection lived {longest:?} (header timeout {header:?})");
    println!("/healthz beside 100 slowloris connections: worst {worst:?}; slowloris connections lived {shortest:?} to {longest:?} (header timeout {header:?})");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kept_alive_connection_is_closed_after_the_idle_timeout_but_not_while_in_use() {
    let idle = Duration::from_secs(1);
    let app = TestApp::spawn_with(config_with(Duration::from_millis(500), idle, 1024, 1024)).await;
    let mut stream = connect_from(LOCAL, app.addr).await;
    // requests closer together than the idle timeout keep the connection, past the header
    // timeout too (a kept-alive connection's next head is not due until its first byte)
    let start = Instant::now();
    let mut answered = Instant::now();
    while start.elapsed() < idle * 2 {
        assert_eq!(get(&mut stream, "/healthz").await, Some(200), "after {:?}", start.elapsed());
        answered = Instant::now();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(closed_within(&mut stream, Duration::from_secs(10)).await.is_some(), "the idle connection is closed");
    let lived = answered.elapsed();
    assert!(lived >= idle - Duration::from_millis(50), "closed after {lived:?} of quiet (idle timeout {idle:?})");
    assert!(lived < idle * 4, "an idle connection lived {lived:?} (idle timeout {idle:?})");
    println!("idle connection closed after {lived:?} of quiet (idle timeout {idle:?})");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_over_its_cap_is_refused_while_its_open_connections_and_other_addresses_are_served() {
    let app = TestApp::spawn_with(config_with(Duration::from_secs(10), Duration::from_secs(30), 1024, 4)).await;
    let mut open = Vec::new();
    for _ in 0..4 {
        let mut stream = connect_from(LOCAL, app.addr).await;
        assert_eq!(get(&mut stream, "/healthz").await, Some(200));
        open.push(stream);
    }
    let start = Instant::now();
    let mut refused = connect_from(LOCAL, app.addr).await;
    assert_eq!(read_response(&mut refused).await, Some(503), "the fifth connection is refused with a 503");
    assert!(closed_within(&mut refused, Duration::from_secs(5)).await.is_some(), "and closed");
    let refusal = start.elapsed();
    assert!(refusal < Duration::from_secs(2), "refusing took {refusal:?}");

    for stream in &mut open {
        assert_eq!(get(stream, "/healthz").await, Some(200));
    }
    assert_eq!(healthz_from(OTHER, app.addr).await.0, Some(200), "another address is served");

    // a closed connection gives its place back
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if healthz_from(LOCAL, app.addr).await.0 == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "a place freed by a closed connection was never given out again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("over-cap connection refused in {refusal:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_instance_cap_refuses_every_address() {
    let app = TestApp::spawn_with(config_with(Duration::from_secs(10), Duration::from_secs(30), 3, 64)).await;
    let mut open = Vec::new();
    for source in [LOCAL, OTHER, LOCAL] {
        let mut stream = connect_from(source, app.addr).await;
        assert_eq!(get(&mut stream, "/healthz").await, Some(200));
        open.push(stream);
    }
    // refused: a 503, or the connection closed before the client could read it
    assert_ne!(healthz_from([127, 0, 0, 3], app.addr).await.0, Some(200), "the fourth connection is refused");
    assert_eq!(get(&mut open[1], "/healthz").await, Some(200), "the open connections are still served");
}

#[tokio::test(flavor = "multi_thread")]
async fn many_idle_connections_do_not_stop_healthz() {
    // all 500 admitted (they come from one address): /healthz is answered beside them
    let app = TestApp::spawn_with(config_with(Duration::from_secs(20), Duration::from_secs(30), 1024, 600)).await;
    let mut idle = Vec::new();
    for _ in 0..500 {
        idle.push(connect_from(LOCAL, app.addr).await);
    }
    let mut times = Vec::new();
    for _ in 0..20 {
        let (status, took) = healthz_from(LOCAL, app.addr).await;
        assert_eq!(status, Some(200));
        times.push(took);
    }
    times.sort();
    let (median, worst) = (times[times.len() / 2], times[times.len() - 1]);
    assert!(worst < Duration::from_secs(2), "/healthz took {worst:?} beside 500 idle connections");

    // at the default cap of 64 per address, 436 of them are refused at once, and the server
    // stays free for the others
    let capped = TestApp::spawn_with(config_with(Duration::from_secs(20), Duration::from_secs(30), 1024, 64)).await;
    let mut crowd = Vec::new();
    for _ in 0..500 {
        crowd.push(connect_from(LOCAL, capped.addr).await);
    }
    let waits = crowd.iter_mut().map(|stream| closed_within(stream, Duration::from_millis(500)));
    let closed = futures_util::future::join_all(waits).await.iter().filter(|closed| closed.is_some()).count();
    assert_eq!(closed, 500 - 64, "every connection over the address's cap is closed at once");
    let (status, other) = healthz_from(OTHER, capped.addr).await;
    assert_eq!(status, Some(200));
    assert!(other < Duration::from_secs(2), "/healthz from another address took {other:?}");
    println!("/healthz beside 500 idle connections: median {median:?}, worst {worst:?}; with 64 admitted and 436 refused, from another address: {other:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graceful_shutdown_finishes_the_request_in_flight() {
    let config = test_config();
    let app = whale_crm::server::prepare(&config).await.expect("server prepares");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shut_down, shutdown) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(whale_crm::http::listener::serve(listener, app.router, config.http.connections, async {
        let _ = shutdown.await;
    }));

    // a request whose body is still to come when the shutdown begins: `100 Continue` says its
    // handler is reading the body
    let body = r#"{"query":"{ __typename }"}"#;
    let mut in_flight = connect_from(LOCAL, addr).await;
    let head = format!("POST /graphql HTTP/1.1\r\nHost: whale\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n", body.len());
    in_flight.write_all(head.as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut in_flight).await, Some(100));
    let mut idle = connect_from(LOCAL, addr).await;
    assert_eq!(get(&mut idle, "/healthz").await, Some(200));
    shut_down.send(()).unwrap();

    assert!(closed_within(&mut idle, Duration::from_secs(5)).await.is_some(), "an idle connection is closed at shutdown");
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting after the shutdown began");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!server.is_finished(), "the server waits for the request in flight");
    in_flight.write_all(body.as_bytes()).await.unwrap();
    // no key: the request is answered (401 or 200), not cut off
    let status = read_response(&mut in_flight).await.expect("the request in flight is answered");
    assert!(status == 200 || status == 401, "status {status}");
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("the server stops once the request is answered").unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_file_descriptors_the_server_backs_off_and_keeps_serving() {
    // a server process allowed 200 file descriptors, sent 300 idle connections
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = SocketAddr::from((LOCAL, port));
    let template = crate::helpers::whale_command(&["serve"]);
    let template = template.as_std();
    let mut command = tokio::process::Command::new("sh");
    command.arg("-c").arg("ulimit -n 200 && exec \"$0\" serve").arg(template.get_program());
    for (name, value) in template.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    command
        .env("WHALE_BIND", addr.to_string())
        .env("WHALE_WORKERS", "0")
        .env("WHALE_HTTP_HEADER_TIMEOUT_SECS", "2")
        .env("WHALE_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "1000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut server = command.spawn().expect("server starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut stream) = TcpStream::connect(addr).await
            && get(&mut stream, "/healthz").await == Some(200)
        {
            break;
        }
        assert!(Instant::now() < deadline, "the server never came up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(connect_from(LOCAL, addr).await);
    }
    let start = Instant::now();
    let (status, took) = tokio::time::timeout(Duration::from_secs(20), healthz_from(LOCAL, addr)).await.expect("/healthz answers within 20 s");
    assert_eq!(status, Some(200));
    assert!(server.try_wait().expect("status").is_none(), "the server is still running");
    assert_eq!(healthz_from(LOCAL, addr).await.0, Some(200));
    println!("/healthz with 300 idle connections against 200 file descriptors: answered after {took:?} ({:?} since the crowd arrived; header timeout 2 s)", start.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_does_not_arrive_within_the_body_timeout_is_answered_408() {
    let mut config = test_config();
    config.http.connections.body_timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(config).await;
    let mut stream = connect_from(LOCAL, app.addr).await;
    let head = format!("POST /graphql HTTP/1.1\r\nHost: whale\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"query\"", app.key);
    stream.write_all(head.as_bytes()).await.unwrap();
    let start = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(10), read_response(&mut stream)).await.expect("answered within 10 s");
    assert_eq!(status, Some(408));
    assert!(start.elapsed() >= Duration::from_millis(900), "answered after {:?}", start.elapsed());
    println!("a stalled body answered 408 after {:?} (body timeout 1 s)", start.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_outlives_the_http_timeouts_and_holds_its_place_until_it_closes() {
    let app = TestApp::spawn_with(config_with(Duration::from_millis(500), Duration::from_millis(500), 1024, 2)).await;
    let mut socket = crate::helpers::ws_session(app.addr, "graphql-transport-ws", &app.key).await;
    let mut plain = connect_from(LOCAL, app.addr).await;
    assert_eq!(get(&mut plain, "/healthz").await, Some(200));
    assert_ne!(healthz_from(LOCAL, app.addr).await.0, Some(200), "the WebSocket counts against the address's cap");

    // past both HTTP timeouts, the upgraded connection is still served
    tokio::time::sleep(Duration::from_millis(1500)).await;
    crate::helpers::ws_send(&mut socket, serde_json::json!({ "type": "ping" })).await;
    let pong = crate::helpers::next_json(&mut socket).await.expect("an answer");
    assert_eq!(pong["type"], "pong", "{pong}");

    socket.close(None).await.unwrap();
    drop(socket);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut stream = connect_from(LOCAL, app.addr).await;
        if get(&mut stream, "/healthz").await == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "the closed WebSocket never gave its place back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
