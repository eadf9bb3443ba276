//! Which address a request comes from, for limits per source.
//!
//! By default the TCP peer, which nobody can forge. Behind a reverse proxy every request
//! has the proxy's address, so an operator may name the proxies they run
//! (`trusted_proxies`); only then is a forwarding header read, and only the hops those
//! proxies added: the rightmost address that is not one of them. Whatever a client writes
//! into the header itself sits left of that and is never used.

use std::net::{IpAddr, Ipv6Addr};

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderName};

/// The header trusted proxies record the client's address in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (the de facto standard).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

impl std::str::FromStr for ForwardedHeader {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err("must be `x-forwarded-for` or `forwarded`".to_owned()),
        }
    }
}

/// An address block, `192.0.2.0/24` or `2001:db8::/32` (a bare address is one host).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Block {
    network: IpAddr,
    prefix: u8,
}

impl Block {
    fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (address, prefix) = raw.split_once('/').unwrap_or((raw, ""));
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("`{raw}` is not an address or address/prefix"))?;
        let network = network.to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            bits
        } else {
            prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("`{raw}` has a prefix length over {bits}"))?
        };
        Ok(Self { network, prefix })
    }

    fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                same_prefix(u32::from(net).into(), u32::from(a).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                same_prefix(u128::from(net), u128::from(a), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn same_prefix(a: u128, b: u128, prefix: u8, bits: u32) -> bool {
    let shift = bits - u32::from(prefix);
    shift >= bits || (a >> shift) == (b >> shift)
}

/// How to find a request's source address.
#[derive(Clone, Debug, Default)]
pub struct SourceAddresses {
    trusted: Vec<Block>,
    header: ForwardedHeader,
}

impl SourceAddresses {
    /// Trusts the proxies at `trusted` (addresses or blocks) to report the client in
    /// `header`. With none, the peer address is the source, whatever headers say.
    ///
    /// # Errors
    /// An entry that is not an address or a block, naming it.
    pub fn new<'a>(
        trusted: impl IntoIterator<Item = &'a str>,
        header: ForwardedHeader,
    ) -> Result<Self, String> {
        let trusted = trusted
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .map(Block::parse)
            .collect::<Result<_, _>>()?;
        Ok(Self { trusted, header })
    }

    fn is_trusted(&self, address: IpAddr) -> bool {
        self.trusted.iter().any(|b| b.contains(address))
    }

    /// The request's source: the peer, or (when the peer is a trusted proxy) the rightmost
    /// untrusted hop of the forwarding header. A header that cannot be read as a list of
    /// addresses counts as absent: the proxy's own address is the source, so a client
    /// cannot escape its limit by sending garbage.
    #[must_use]
    pub fn of(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip().to_canonical();
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let name = match self.header {
            ForwardedHeader::XForwardedFor => HeaderName::from_static("x-forwarded-for"),
            ForwardedHeader::Forwarded => header::FORWARDED,
        };
        let mut hops = Vec::new();
        // Several header lines form one list, in order.
        for line in req.headers().get_all(name) {
            let Ok(line) = line.to_str() else {
                return Some(peer);
            };
            for element in line.split(',') {
                let hop = match self.header {
                    ForwardedHeader::XForwardedFor => parse_hop(element),
                    ForwardedHeader::Forwarded => forwarded_for(element),
                };
                match hop {
                    Some(hop) => hops.push(hop),
                    None => return Some(peer),
                }
            }
        }
        let mut source = peer;
        for hop in hops.into_iter().rev() {
            source = hop;
            if !self.is_trusted(hop) {
                break;
            }
        }
        Some(source)
    }
}

/// One hop of `X-Forwarded-For`: an address, IPv6 possibly in brackets, possibly with a
/// port.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    if let Ok(address) = raw.parse::<IpAddr>() {
        return Some(address.to_canonical());
    }
    if let Ok(socket) = raw.parse::<std::net::SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    let inner = raw.strip_prefix('[')?.split(']').next()?;
    inner
        .parse::<Ipv6Addr>()
        .ok()
        .map(|a| IpAddr::V6(a).to_canonical())
}

/// The `for=` of one `Forwarded` element (`for=192.0.2.1;proto=https`, quoted
/// `for="[2001:db8::1]:4711"`). An obfuscated or `unknown` node is unreadable.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let value = element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim())
    })?;
    parse_hop(value.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn from(peer: &str, sources: &SourceAddresses, headers: &[(&str, &str)]) -> String {
        let mut req = TestRequest::default().peer_addr(peer.parse().expect("peer"));
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        sources
            .of(&req.to_http_request())
            .expect("an address")
            .to_string()
    }

    #[test]
    fn without_trusted_proxies_headers_are_ignored() {
        let sources = SourceAddresses::default();
        let xff = [("x-forwarded-for", "203.0.113.9")];
        assert_eq!(from("127.0.0.1:1", &sources, &xff), "127.0.0.1");
        // An IPv4-mapped peer is its IPv4 address.
        assert_eq!(from("[::ffff:10.0.0.1]:1", &sources, &[]), "10.0.0.1");
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_counts() {
        let sources = SourceAddresses::new(
            ["127.0.0.1/32", "10.0.0.0/8"],
            ForwardedHeader::XForwardedFor,
        )
        .expect("valid");
        let one = |value: &'static str| [("x-forwarded-for", value)];
        // The client forged a first hop; the proxy appended the real one.
        assert_eq!(
            from("127.0.0.1:1", &sources, &one("1.2.3.4, 203.0.113.9")),
            "203.0.113.9"
        );
        // Two trusted proxies in a row.
        assert_eq!(
            from("127.0.0.1:1", &sources, &one("203.0.113.9, 10.1.2.3")),
            "203.0.113.9"
        );
        // Several header lines are one list.
        assert_eq!(
            from(
                "127.0.0.1:1",
                &sources,
                &[
                    ("x-forwarded-for", "1.2.3.4"),
                    ("x-forwarded-for", "[2001:db8::1]:80")
                ]
            ),
            "2001:db8::1"
        );
        // Garbage, or no header: the proxy itself.
        assert_eq!(
            from("127.0.0.1:1", &sources, &one("203.0.113.9, nonsense")),
            "127.0.0.1"
        );
        assert_eq!(from("127.0.0.1:1", &sources, &[]), "127.0.0.1");
        // An untrusted peer's header is ignored.
        assert_eq!(
            from("192.0.2.1:1", &sources, &one("203.0.113.9")),
            "192.0.2.1"
        );
    }

    #[test]
    fn the_forwarded_header_when_configured() {
        let sources = SourceAddresses::new(["::1"], ForwardedHeader::Forwarded).expect("valid");
        let value = "for=1.2.3.4, for=\"[2001:db8::7]:4711\";proto=https";
        assert_eq!(
            from("[::1]:1", &sources, &[("forwarded", value)]),
            "2001:db8::7"
        );
        // The other header is not read.
        assert_eq!(
            from("[::1]:1", &sources, &[("x-forwarded-for", "203.0.113.9")]),
            "::1"
        );
        assert_eq!(
            from("[::1]:1", &sources, &[("forwarded", "for=unknown")]),
            "::1"
        );
    }

    #[test]
    fn blocks_parse_and_refuse_nonsense() {
        assert!(
            SourceAddresses::new(
                ["10.0.0.0/8", "::1", "fd00::/8"],
                ForwardedHeader::default()
            )
            .is_ok()
        );
        for bad in ["10.0.0.0/33", "proxy.example", "10.0.0.0/x", "::/129"] {
            assert!(
                SourceAddresses::new([bad], ForwardedHeader::default()).is_err(),
                "{bad}"
            );
        }
        let block = Block::parse("0.0.0.0/0").expect("all");
        assert!(block.contains("8.8.8.8".parse().expect("ip")));
        assert!(!block.contains("::2".parse().expect("ip")));
    }
}
