//! The load client's TLS session store: rustls' in-memory cache keeps at most 8 TLS 1.3
//! tickets per server, which a load generator with dozens of handshakes in flight to one
//! server runs through (each connection takes one), so most handshakes became full ones
//! without anyone asking for that. This store keeps up to [`TICKETS_PER_SERVER`] tickets per
//! server name, oldest dropped first; everything else is what rustls' cache does.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use rustls::NamedGroup;

/// TLS 1.3 tickets kept per server name (more than any `--in-flight` in use).
pub const TICKETS_PER_SERVER: usize = 4096;

/// Server names remembered (loadgen talks to one target; a bound all the same).
const SERVERS: usize = 64;

#[derive(Debug, Default)]
struct ServerData {
    kx_hint: Option<NamedGroup>,
    tls12: Option<Tls12ClientSessionValue>,
    tls13: VecDeque<Tls13ClientSessionValue>,
}

/// A [`ClientSessionStore`] with room for [`TICKETS_PER_SERVER`] tickets per server.
#[derive(Debug, Default)]
pub struct TicketPool {
    servers: Mutex<HashMap<ServerName<'static>, ServerData>>,
}

impl TicketPool {
    /// Runs `f` on the entry of `name` (made when missing and there is room).
    fn edit(&self, name: ServerName<'static>, f: impl FnOnce(&mut ServerData)) {
        // A poisoned lock only means another thread panicked mid-edit; the data stays usable.
        let mut servers = self.servers.lock().unwrap_or_else(|p| p.into_inner());
        if !servers.contains_key(&name) && servers.len() >= SERVERS {
            return;
        }
        f(servers.entry(name).or_default());
    }

    fn read<T>(&self, name: &ServerName<'_>, f: impl FnOnce(&mut ServerData) -> T) -> Option<T> {
        let mut servers = self.servers.lock().unwrap_or_else(|p| p.into_inner());
        servers.get_mut(&name.to_owned()).map(f)
    }
}

impl ClientSessionStore for TicketPool {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.edit(server_name, |d| d.kx_hint = Some(group));
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.read(server_name, |d| d.kx_hint).flatten()
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.edit(server_name, |d| d.tls12 = Some(value));
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.read(server_name, |d| d.tls12.clone()).flatten()
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.read(server_name, |d| d.tls12 = None);
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.edit(server_name, |d| {
            if d.tls13.len() >= TICKETS_PER_SERVER {
                d.tls13.pop_front();
            }
            d.tls13.push_back(value);
        });
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        // Newest first, as rustls' cache does: the freshest ticket is the likeliest to be valid.
        self.read(server_name, |d| d.tls13.pop_back()).flatten()
    }
}
