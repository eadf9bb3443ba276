//! Where a credential may be sent: its `allowedHosts`, and which network addresses no
//! credential may ever reach unless the operator says so (private, loopback, link-local).
//!
//! The host list is checked here, on the URL, before anything is sent. The address rule is
//! checked again by the [`Upstream`](crate::upstream::Upstream) adapter on every address
//! DNS returns, just before it connects: a name that resolves to `127.0.0.1` is as
//! dangerous as the literal.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

/// The most entries an `allowedHosts` list may have.
pub const MAX_ALLOWED_HOSTS: usize = 32;

/// One entry of `allowedHosts`: `host`, `host:port`, `https://host[:port]` or
/// `http://host:port`. Without a scheme the entry means https; plain http is allowed only
/// where an entry names it. Without a port, any port of that scheme matches.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AllowedHost {
    plain_http: bool,
    host: String,
    port: Option<u16>,
}

impl AllowedHost {
    /// Parses an entry.
    ///
    /// # Errors
    /// When it is not a bare host, `host:port` or an http(s) origin.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let bad = || {
            FieldError::new(
                "allowedHosts",
                "entries must be host, host:port, https://host[:port] or http://host:port",
            )
        };
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 300 {
            return Err(bad());
        }
        let (plain_http, authority) = match raw.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (true, rest),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (false, rest),
            Some(_) => return Err(bad()),
            None => (false, raw),
        };
        // An origin may end with one slash; anything else (a path, a query) is not a host.
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', '*']) {
            return Err(bad());
        }
        let scheme = if plain_http { "http" } else { "https" };
        let url = url::Url::parse(&format!("{scheme}://{authority}/")).map_err(|_| bad())?;
        let host = url.host_str().ok_or_else(bad)?.to_owned();
        // `Url` drops a port equal to the scheme's default; an explicit port still counts.
        let explicit_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        let port = if explicit_port {
            url.port_or_known_default()
        } else {
            None
        };
        Ok(Self {
            plain_http,
            host,
            port,
        })
    }

    /// True when `url` is on this entry's scheme, host and (when the entry has one) port.
    #[must_use]
    pub fn matches(&self, url: &url::Url) -> bool {
        let scheme_ok = match url.scheme() {
            "https" => !self.plain_http,
            "http" => self.plain_http,
            _ => false,
        };
        scheme_ok
            && url.host_str() == Some(self.host.as_str())
            && self
                .port
                .is_none_or(|port| url.port_or_known_default() == Some(port))
    }

    /// The host name or address (IPv6 in brackets), lower case.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.plain_http {
            f.write_str("http://")?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AllowedHost({self})")
    }
}

impl Serialize for AllowedHost {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AllowedHost {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// A credential's `allowedHosts`: the only destinations it may be sent to by the proxy (and,
/// for OAuth2, the only token endpoints). Empty means nowhere.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AllowedHosts(Vec<AllowedHost>);

impl AllowedHosts {
    /// Parses a list, dropping duplicates.
    ///
    /// # Errors
    /// When an entry is invalid or there are too many.
    pub fn parse(raw: &[String]) -> Result<Self, FieldError> {
        if raw.len() > MAX_ALLOWED_HOSTS {
            return Err(FieldError::new(
                "allowedHosts",
                format!("must have at most {MAX_ALLOWED_HOSTS} entries"),
            ));
        }
        let mut hosts: Vec<AllowedHost> = Vec::with_capacity(raw.len());
        for entry in raw {
            let host = AllowedHost::parse(entry)?;
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
        Ok(Self(hosts))
    }

    /// True when some entry matches `url`.
    #[must_use]
    pub fn allows(&self, url: &url::Url) -> bool {
        self.0.iter().any(|h| h.matches(url))
    }

    /// The entries.
    #[must_use]
    pub fn entries(&self) -> &[AllowedHost] {
        &self.0
    }

    /// True when no destination is allowed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// True for addresses on the public internet. False for loopback, private (RFC 1918, unique
/// local), link-local, shared (CGNAT), unspecified, multicast, documentation, benchmarking
/// and reserved ranges, and for IPv6 forms that embed such an IPv4 address (mapped,
/// compatible, NAT64, 6to4, Teredo).
#[must_use]
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let private = a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata endpoints
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved, broadcast
    !private
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let first = segments[0];
    let private = ip.is_unspecified()
        || ip.is_loopback()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (first & 0xff00) == 0xff00 // multicast
        || (first == 0x2001 && segments[1] == 0x0db8) // documentation
        || (first == 0x2001 && segments[1] < 0x0200) // IETF protocol assignments
        || first == 0x0100 && segments[1..4] == [0, 0, 0]; // discard-only
    !private
}

/// The IPv4 address inside an IPv6 one, for the forms that route to it.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated but still routed
        // to the IPv4 address by some stacks). `::` and `::1` are not IPv4.
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(v4(hi, lo)),
        [0, 0, 0, 0, 0, 0, hi, lo] if !(hi == 0 && lo <= 1) => Some(v4(hi, lo)),
        // 64:ff9b::a.b.c.d (NAT64 well-known prefix).
        [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        // 2002:AABB:CCDD::/48 (6to4).
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        // 2001:0000::/32 (Teredo): the client address is the last 32 bits, inverted.
        [0x2001, 0, _, _, _, _, hi, lo] => Some(v4(!hi, !lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).expect("test URL")
    }

    #[test]
    fn entries_parse_to_scheme_host_and_port() {
        let cases = [
            ("api.stripe.com", "api.stripe.com"),
            ("API.Stripe.com", "api.stripe.com"),
            ("api.stripe.com:8443", "api.stripe.com:8443"),
            ("https://api.stripe.com", "api.stripe.com"),
            ("https://api.stripe.com:443/", "api.stripe.com:443"),
            ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
            ("[::1]:8080", "[::1]:8080"),
        ];
        for (raw, shown) in cases {
            let host = AllowedHost::parse(raw).expect(raw);
            assert_eq!(host.to_string(), shown, "{raw}");
            assert_eq!(AllowedHost::parse(shown).expect(shown), host);
        }
        for bad in [
            "",
            "ftp://x.com",
            "https://x.com/path",
            "x.com?q",
            "user@x.com",
            "*.x.com",
            "https://",
            "x.com:99999",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn matching_needs_scheme_host_and_given_port() {
        let any_port = AllowedHost::parse("api.example.com").expect("entry");
        assert!(any_port.matches(&url("https://api.example.com/v1?x=1")));
        assert!(any_port.matches(&url("https://API.example.com:8443/")));
        assert!(!any_port.matches(&url("http://api.example.com/")));
        assert!(!any_port.matches(&url("https://evil.api.example.com/")));
        assert!(!any_port.matches(&url("https://api.example.com.evil.com/")));

        let port = AllowedHost::parse("api.example.com:443").expect("entry");
        assert!(port.matches(&url("https://api.example.com/")));
        assert!(!port.matches(&url("https://api.example.com:444/")));

        let http = AllowedHost::parse("http://127.0.0.1:9000").expect("entry");
        assert!(http.matches(&url("http://127.0.0.1:9000/x")));
        assert!(!http.matches(&url("https://127.0.0.1:9000/x")));
        assert!(!http.matches(&url("http://127.0.0.1:9001/x")));
    }

    #[test]
    fn lists_are_bounded_and_deduplicated() {
        let list =
            AllowedHosts::parse(&["a.com".into(), "A.com".into(), "b.com".into()]).expect("list");
        assert_eq!(list.entries().len(), 2);
        let many: Vec<String> = (0..=MAX_ALLOWED_HOSTS)
            .map(|i| format!("h{i}.com"))
            .collect();
        assert!(AllowedHosts::parse(&many).is_err());
        assert!(!AllowedHosts::default().allows(&url("https://a.com/")));
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:db8::1",
        ] {
            let ip: IpAddr = private.parse().expect(private);
            assert!(!is_public_address(ip), "{private} counted as public");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = public.parse().expect(public);
            assert!(is_public_address(ip), "{public} counted as private");
        }
    }
}
