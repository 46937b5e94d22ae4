//! Where a base URL sends requests, and how far that is (this machine, a private
//! network, anywhere): what the configuration checks before a key or code is sent.

/// Where a base URL sends requests (and keys), read by the same parser reqwest uses, so
/// that a check on it is a check on the real destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// `http` or `https`.
    pub scheme: String,
    /// The host as a request names it: a lower-case domain (IDNs in punycode), an IPv4
    /// address, or an IPv6 address in brackets (`[::1]`).
    pub host: String,
    /// The port connected to (the scheme's default when the URL names none).
    pub port: Option<u16>,
}

/// How far a request to a host travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// This machine: exactly `localhost` (RFC 6761: every resolver answers loopback), 127.0.0.0/8,
    /// `::1`. Not `localhost.`: glibc does not map that spelling from /etc/hosts but asks DNS,
    /// which may answer any address.
    Loopback,
    /// A private network: 10/8, 172.16/12, 192.168/16, link-local (169.254/16,
    /// fe80::/10) and IPv6 unique-local (fc00::/7) addresses.
    Private,
    /// Anywhere: any other address, and any other name (it may resolve anywhere).
    Public,
}

impl Destination {
    /// The destination of `url`; `None` when it is not a URL with a host.
    pub fn of(url: &str) -> Option<Destination> {
        let url = reqwest::Url::parse(url.trim()).ok()?;
        Some(Destination {
            scheme: url.scheme().to_string(),
            host: url.host_str().filter(|h| !h.is_empty())?.to_string(),
            port: url.port_or_known_default(),
        })
    }

    /// `scheme://host:port`: where requests go, for people to read (not terminal-safe
    /// by itself: a host may hold any character the URL parser allows).
    pub fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// How far requests to this host travel.
    pub fn reach(&self) -> Reach {
        use std::net::IpAddr;
        if self.host.eq_ignore_ascii_case("localhost") {
            return Reach::Loopback;
        }
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        let (loopback, private) = match bare.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => (ip.is_loopback(), ip.is_private() || ip.is_link_local()),
            Ok(IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
                Some(v4) => (v4.is_loopback(), v4.is_private() || v4.is_link_local()),
                None => (ip.is_loopback(), ip.is_unique_local() || ip.is_unicast_link_local()),
            },
            Err(_) => (false, false),
        };
        match (loopback, private) {
            (true, _) => Reach::Loopback,
            (false, true) => Reach::Private,
            (false, false) => Reach::Public,
        }
    }

    /// Whether the host is this machine.
    pub fn is_loopback(&self) -> bool {
        self.reach() == Reach::Loopback
    }

    /// Whether the host is this machine or an address on a private network, where
    /// traffic does not cross the internet.
    pub fn is_private_network(&self) -> bool {
        self.reach() <= Reach::Private
    }
}

#[cfg(test)]
mod tests;
