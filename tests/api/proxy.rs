//! A TCP proxy between a test's server and PostgreSQL that the test can cut (every connection
//! through it dropped, new ones refused) and restore: a database outage on demand.

use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    pub addr: SocketAddr,
    cut: watch::Sender<bool>,
}

impl Proxy {
    /// Proxies to `target` (host:port).
    pub async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let (cut, watching) = watch::channel(false);
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { continue };
                if *watching.borrow() {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let mut watching = watching.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&target).await else { return };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watching.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Self { addr, cut }
    }

    /// Drops every connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    pub fn restore(&self) {
        self.cut.send_replace(false);
    }

    /// `url` (a postgres:// URL) going through this proxy.
    pub fn url(&self, url: &str) -> String {
        let (scheme_and_user, rest) = url.split_once('@').expect("a URL with a host");
        let (_, path) = rest.split_once('/').expect("a URL with a database");
        format!("{scheme_and_user}@{}/{path}", self.addr)
    }

    /// The host:port `url` names.
    pub fn target_of(url: &str) -> String {
        let rest = url.split_once('@').expect("a URL with a host").1;
        rest.split_once('/').expect("a URL with a database").0.to_owned()
    }
}
