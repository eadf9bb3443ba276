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
        // The URL parser drops tabs and line breaks anywhere ("api.exa\nmple.com" would
        // become api.example.com): an entry must mean what it shows.
        if raw.chars().any(char::is_control) {
            return Err(FieldError::new(
                "allowedHosts",
                "entries must not contain control characters (CR, LF, tab)",
            ));
        }
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

    /// True when every URL `other` matches, this entry matches too: same scheme and host,
    /// and this entry's port is `other`'s or any.
    #[must_use]
    pub fn covers(&self, other: &Self) -> bool {
        self.plain_http == other.plain_http
            && self.host == other.host
            && (self.port.is_none() || self.port == other.port)
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

/// True for addresses on the public internet: everything but the rows of the IANA IPv4 and
/// IPv6 special-purpose address registries (RFC 6890 and successors), IPv4 multicast and
/// reserved space, and IPv6 outside global unicast (`2000::/3`). IPv6 forms that embed an
/// IPv4 address and route to it (mapped, NAT64 `64:ff9b::/96`, 6to4) are judged by that
/// address; other embedding forms (IPv4-compatible, IPv4-translated, local-use NAT64,
/// Teredo) are refused outright.
///
/// Rows the registry marks globally reachable are refused too (AS112, AMT, the PCP, TURN
/// and DNS-SD anycast addresses, ORCHIDv2, DRIP): no API a credential is meant for lives
/// there, and one rule per row is easier to check than exceptions.
#[must_use]
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// The IPv4 blocks that are never public: (network, prefix length, registry name).
const NON_PUBLIC_V4: [(Ipv4Addr, u8, &str); 20] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8, "this network"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private use"),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "shared address space (CGNAT)",
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        "link local (cloud metadata)",
    ),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private use"),
    // Every row inside it too: DS-Lite, dummy, PCP and TURN anycast, NAT64 discovery.
    (Ipv4Addr::new(192, 0, 0, 0), 24, "IETF protocol assignments"),
    (
        Ipv4Addr::new(192, 0, 2, 0),
        24,
        "documentation (TEST-NET-1)",
    ),
    (Ipv4Addr::new(192, 31, 196, 0), 24, "AS112-v4"),
    (Ipv4Addr::new(192, 52, 193, 0), 24, "AMT"),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "deprecated 6to4 relay anycast",
    ),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private use"),
    (
        Ipv4Addr::new(192, 175, 48, 0),
        24,
        "direct delegation AS112 service",
    ),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking"),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "documentation (TEST-NET-2)",
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        "documentation (TEST-NET-3)",
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved"),
    (Ipv4Addr::new(255, 255, 255, 255), 32, "limited broadcast"),
    // Covered by 0.0.0.0/8; its own row in the registry.
    (Ipv4Addr::new(0, 0, 0, 0), 32, "this host on this network"),
];

/// The IPv6 blocks inside global unicast (`2000::/3`) that are never public, and the
/// embedding forms refused whatever they embed: (network, prefix length, registry name).
/// Everything outside `2000::/3` is refused by [`is_public_v6`] before this table is read
/// (loopback, unspecified, IPv4-compatible and -translated, local-use NAT64, discard-only,
/// dummy prefix, SRv6 SIDs, unique local, link local, site local, multicast).
const NON_PUBLIC_V6: [(Ipv6Addr, u8, &str); 5] = [
    // Teredo (2001::/32), benchmarking, AMT, AS112-v6, ORCHID(v2), DRIP, anycast rows.
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments",
    ),
    (
        Ipv6Addr::new(0x2001, 0x0db8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation",
    ),
    (
        Ipv6Addr::new(0x2620, 0x004f, 0x8000, 0, 0, 0, 0, 0),
        48,
        "direct delegation AS112 service",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation",
    ),
    // 6to4 is judged by its embedded address before this table is read; listed so that
    // a 6to4 address is never public by default should that order change.
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16, "6to4"),
];

const fn in_v4(ip: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    ip.to_bits() & mask == net.to_bits() & mask
}

const fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, len: u8) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    ip.to_bits() & mask == net.to_bits() & mask
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !NON_PUBLIC_V4
        .iter()
        .any(|&(net, len, _)| in_v4(ip, net, len))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = routed_v4(ip) {
        return is_public_v4(v4);
    }
    // Only 2000::/3 is global unicast; the rest of the space is reserved, local or
    // multicast, and holds the embedding forms that are refused outright.
    let global_unicast = in_v6(ip, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);
    global_unicast
        && !NON_PUBLIC_V6
            .iter()
            .any(|&(net, len, _)| in_v6(ip, net, len))
}

/// The IPv4 address an IPv6 one routes to, for the forms judged by it: IPv4-mapped
/// (`::ffff:0:0/96`), well-known NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`).
fn routed_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        // 2002:AABB:CCDD::/48.
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
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
            "api.exa\nmple.com",
            "api.example.com\r\n",
            "http://127.0.0.1:9\r\n000",
            "api.example.com\tx",
            "\napi.example.com",
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

    /// Every row of the IANA IPv4 Special-Purpose Address Registry (as of 2025), plus
    /// multicast: none is public. Each row is probed at its first, last and a middle address.
    const IPV4_REGISTRY: [(&str, u8); 26] = [
        ("0.0.0.0", 8),
        ("0.0.0.0", 32),
        ("10.0.0.0", 8),
        ("100.64.0.0", 10),
        ("127.0.0.0", 8),
        ("169.254.0.0", 16),
        ("172.16.0.0", 12),
        ("192.0.0.0", 24),
        ("192.0.0.0", 29),
        ("192.0.0.8", 32),
        ("192.0.0.9", 32),
        ("192.0.0.10", 32),
        ("192.0.0.170", 32),
        ("192.0.0.171", 32),
        ("192.0.2.0", 24),
        ("192.31.196.0", 24),
        ("192.52.193.0", 24),
        ("192.88.99.0", 24),
        ("192.168.0.0", 16),
        ("192.175.48.0", 24),
        ("198.18.0.0", 15),
        ("198.51.100.0", 24),
        ("203.0.113.0", 24),
        ("240.0.0.0", 4),
        ("255.255.255.255", 32),
        ("224.0.0.0", 4),
    ];

    /// Every row of the IANA IPv6 Special-Purpose Address Registry (as of 2025), plus the
    /// other non-global blocks of the address space (multicast, site local, reserved).
    /// Rows that embed an IPv4 address and are judged by it are in
    /// [`embedded_forms_are_judged_by_their_ipv4_or_refused`].
    const IPV6_REGISTRY: [(&str, u8); 28] = [
        ("::1", 128),
        ("::", 128),
        ("::ffff:0:0:0", 96), // IPv4-translated (RFC 2765)
        ("::", 96),           // IPv4-compatible (deprecated)
        ("64:ff9b:1::", 48),  // local-use NAT64 (RFC 8215)
        ("100::", 64),        // discard-only
        ("100:0:0:1::", 64),  // dummy prefix (RFC 9780)
        ("2001::", 23),
        ("2001::", 32), // Teredo
        ("2001:1::1", 128),
        ("2001:1::2", 128),
        ("2001:1::3", 128),
        ("2001:2::", 48),
        ("2001:3::", 32),
        ("2001:4:112::", 48),
        ("2001:10::", 28),
        ("2001:20::", 28),
        ("2001:30::", 28),
        ("2001:db8::", 32),
        ("2620:4f:8000::", 48),
        ("3fff::", 20),
        ("5f00::", 16), // SRv6 SIDs
        ("fc00::", 7),
        ("fe80::", 10),
        ("fec0::", 10),
        ("ff00::", 8),
        ("4000::", 3), // reserved by the IETF, outside global unicast
        ("::", 8),
    ];

    fn v4_probes(net: &str, len: u8) -> [Ipv4Addr; 3] {
        let base = net.parse::<Ipv4Addr>().expect(net).to_bits();
        let size = if len == 0 {
            u32::MAX
        } else {
            (1_u32 << (32 - len)).wrapping_sub(1)
        };
        let size = if len == 32 { 0 } else { size };
        [base, base + size / 2, base + size].map(Ipv4Addr::from_bits)
    }

    fn v6_probes(net: &str, len: u8) -> [Ipv6Addr; 3] {
        let base = net.parse::<Ipv6Addr>().expect(net).to_bits();
        let size = if len == 128 {
            0
        } else {
            (1_u128 << (128 - len)) - 1
        };
        [base, base + size / 2, base + size].map(Ipv6Addr::from_bits)
    }

    #[test]
    fn every_special_purpose_registry_row_is_refused() {
        for (net, len) in IPV4_REGISTRY {
            for ip in v4_probes(net, len) {
                assert!(
                    !is_public_address(ip.into()),
                    "{ip} ({net}/{len}) counted as public"
                );
                // The same address in the IPv6 forms that route to it.
                let [a, b, c, d] = ip.octets();
                let (hi, lo) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
                for embedded in [
                    ip.to_ipv6_mapped(),
                    Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo),
                    Ipv6Addr::new(0x2002, hi, lo, 0, 0, 0, 0, 1),
                ] {
                    assert!(
                        !is_public_address(embedded.into()),
                        "{embedded} counted as public"
                    );
                }
            }
        }
        for (net, len) in IPV6_REGISTRY {
            for ip in v6_probes(net, len) {
                assert!(
                    !is_public_address(ip.into()),
                    "{ip} ({net}/{len}) counted as public"
                );
            }
        }
    }

    #[test]
    fn embedded_forms_are_judged_by_their_ipv4_or_refused() {
        for (ip, public) in [
            // Mapped, well-known NAT64 and 6to4: the IPv4 they route to decides.
            ("::ffff:8.8.8.8", true),
            ("::ffff:127.0.0.1", false),
            ("64:ff9b::8.8.8.8", true),
            ("64:ff9b::a00:1", false),
            ("2002:808:808::1", true),
            ("2002:7f00:1::", false),
            ("2002:a9fe:a9fe::1", false),
            // Refused whatever they embed: the review's two spellings of 127.0.0.1, the
            // deprecated compatible form, local-use NAT64 at every RFC 6052 prefix length,
            // and Teredo (the client address is hidden inverted; no API is Teredo-only).
            ("::ffff:0:7f00:1", false),
            ("::ffff:0:808:808", false),
            ("64:ff9b:1::7f00:1", false),
            ("64:ff9b:1:7f00:1::", false),
            ("64:ff9b:1:0:7f:0:100::", false),
            ("64:ff9b:1::808:808", false),
            ("::8.8.8.8", false),
            ("::127.0.0.1", false),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", false),
            ("2001::f7f7:f7f7", false),
        ] {
            let addr: IpAddr = ip.parse().expect(ip);
            assert_eq!(is_public_address(addr), public, "{ip}");
        }
    }

    #[test]
    fn public_neighbours_of_the_rows_stay_public() {
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.1",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.0",
            "192.0.3.0",
            "192.88.98.255",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2000::1",
            "2001:200::1",
            "2001:db7:ffff::1",
            "2001:db9::1",
            "2003::1",
            "2606:4700:4700::1111",
            "2620:4f:7fff::1",
            "2a00:1450:4001::1",
            "3ffe:ffff::1",
        ] {
            let ip: IpAddr = public.parse().expect(public);
            assert!(is_public_address(ip), "{public} counted as private");
        }
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
    }
}
