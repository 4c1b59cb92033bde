//! How many connections may be open at once: in all on this instance, and from one client
//! address. A connection over either cap is refused as soon as it is accepted, so a client
//! holding many sockets cannot take every file descriptor (or every slot) from the others.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// The open connections, counted in all and per client address.
#[derive(Debug, Clone)]
pub struct Admission {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    max_total: usize,
    max_per_address: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The instance has its most connections open.
    Instance,
    /// The client's address has its most connections open.
    Address,
}

/// One admitted connection's place; given back when dropped (with the socket it belongs to).
#[derive(Debug)]
pub struct Permit {
    admission: Arc<Inner>,
    address: IpAddr,
}

impl Admission {
    /// At most `max_total` connections in all and `max_per_address` from one address.
    pub fn new(max_total: usize, max_per_address: usize) -> Self {
        Self { inner: Arc::new(Inner { max_total, max_per_address, open: Mutex::default() }) }
    }

    /// A place for a connection from `peer`, unless a cap is reached.
    pub fn admit(&self, peer: IpAddr) -> Result<Permit, Refusal> {
        let address = client_address(peer);
        let mut open = self.inner.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if open.total >= self.inner.max_total {
            return Err(Refusal::Instance);
        }
        let from_address = open.by_address.entry(address).or_default();
        if *from_address >= self.inner.max_per_address {
            return Err(Refusal::Address);
        }
        *from_address += 1;
        open.total += 1;
        Ok(Permit { admission: self.inner.clone(), address })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.inner.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).total
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.admission.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        open.total -= 1;
        if let Some(count) = open.by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.by_address.remove(&self.address);
            }
        }
    }
}

/// The address a connection is counted against: an IPv4 address (IPv4-mapped IPv6 included) as
/// it is, an IPv6 address by its /64 prefix (one subscriber's network: a client given a /64 has
/// billions of addresses to spread its sockets over).
fn client_address(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_over_its_cap_is_refused_while_another_is_admitted() {
        let admission = Admission::new(10, 2);
        let _a = admission.admit(ip("10.0.0.1")).unwrap();
        let _b = admission.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(admission.admit(ip("10.0.0.1")).unwrap_err(), Refusal::Address);
        assert!(admission.admit(ip("10.0.0.2")).is_ok());
    }

    #[test]
    fn the_instance_cap_counts_every_address() {
        let admission = Admission::new(2, 2);
        let _a = admission.admit(ip("10.0.0.1")).unwrap();
        let _b = admission.admit(ip("10.0.0.2")).unwrap();
        assert_eq!(admission.admit(ip("10.0.0.3")).unwrap_err(), Refusal::Instance);
    }

    #[test]
    fn a_dropped_permit_gives_its_place_back() {
        let admission = Admission::new(1, 1);
        let first = admission.admit(ip("10.0.0.1")).unwrap();
        assert!(admission.admit(ip("10.0.0.1")).is_err());
        drop(first);
        assert_eq!(admission.open(), 0);
        assert!(admission.admit(ip("10.0.0.1")).is_ok());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_prefix_and_mapped_ipv4_as_ipv4() {
        let admission = Admission::new(10, 1);
        let _a = admission.admit(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(admission.admit(ip("2001:db8:1:2:ffff::9")).unwrap_err(), Refusal::Address);
        assert!(admission.admit(ip("2001:db8:1:3::1")).is_ok());
        let _b = admission.admit(ip("192.0.2.7")).unwrap();
        assert_eq!(admission.admit(ip("::ffff:192.0.2.7")).unwrap_err(), Refusal::Address);
    }
}
