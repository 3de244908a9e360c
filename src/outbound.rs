//! Every HTTP request the server sends (usage webhooks; OpenID Connect discovery and JWKS)
//! goes through a client built here, so that no tenant can make the server reach inside its
//! own network: loopback, private, link-local, CGNAT, multicast, unspecified and reserved
//! addresses, their IPv4-mapped / 6to4 / NAT64 IPv6 forms, and cloud metadata endpoints.
//!
//! Two checks, both needed:
//! - [`check_url`] when a URL is saved **and right before each request**: scheme, no
//!   `user:pass@`, and a host that is not an internal name or IP literal. The URL parser
//!   (WHATWG) reads `2130706433`, `0x7f.1` and `0177.0.0.1` as 127.0.0.1, so every spelling of
//!   an address is checked as the address it means. An IP literal never reaches a DNS
//!   resolver, so this check is what guards it at connect time.
//! - The resolver of [`client`], at connect time: a name is resolved and refused when any of
//!   its addresses is internal, so a public-looking name that resolves inside (or that is
//!   re-pointed after it was saved) is refused too. The client follows no redirects and uses
//!   no proxy from the environment (a proxy would resolve the name, not us).
//!
//! An operator lets the server reach chosen internal hosts with
//! `SCIM_SEATS_OUTBOUND_ALLOW=host[:port],…` ([`Policy::parse`]); tests allow `127.0.0.1`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
pub use reqwest::Url;

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Host names that are internal whatever they resolve to (cloud metadata services).
const INTERNAL_NAMES: [&str; 6] = [
    "localhost",
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("the URL is not a valid absolute URL")]
    Invalid,
    #[error("the URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("the URL must use http:// or https://")]
    Scheme,
    #[error("the URL must not carry a user name or password")]
    Credentials,
    #[error("the URL has no host")]
    NoHost,
    /// The host is, or resolves to, an address inside the network.
    #[error("the URL points to a loopback, private, link-local or metadata address ({0}); an operator can allow the host with SCIM_SEATS_OUTBOUND_ALLOW")]
    Internal(String),
    #[error("the outbound allow list entry '{0}' is not host or host:port")]
    BadAllowEntry(String),
}

/// One operator-allowed destination: a host (name or IP, lowercase) and maybe one port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Allowed {
    host: String,
    port: Option<u16>,
}

/// What outbound requests may reach besides public addresses. Built once from settings and
/// passed by value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    allow: Vec<Allowed>,
}

impl Policy {
    /// Public destinations only.
    pub fn strict() -> Policy {
        Policy::default()
    }

    /// `host[:port],…` (IPv6 in brackets: `[::1]:8443`); empty entries are skipped.
    pub fn parse(list: &str) -> Result<Policy, OutboundError> {
        let mut allow = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || OutboundError::BadAllowEntry(entry.to_string());
            // Read it as a URL authority so IP spellings normalise as they will in check_url.
            let url = Url::parse(&format!("http://{entry}/")).map_err(|_| bad())?;
            if !url.username().is_empty() || url.password().is_some() {
                return Err(bad());
            }
            let host = url.host_str().ok_or_else(bad)?.to_ascii_lowercase();
            // `Url` drops the scheme's default port; keep an explicit `:80` anyway.
            let port = match url.port() {
                Some(p) => Some(p),
                None if entry.ends_with(":80") => Some(80),
                None => None,
            };
            allow.push(Allowed { host, port });
        }
        Ok(Policy { allow })
    }

    /// Whether the operator allowed this host (on this port, when the entry names one).
    fn allows(&self, host: &str, port: Option<u16>) -> bool {
        self.allow
            .iter()
            .any(|a| a.host.eq_ignore_ascii_case(host) && a.port.is_none_or(|p| port == Some(p)))
    }

    /// Whether any entry names this host, whatever the port (the resolver sees no port).
    fn allows_host(&self, host: &str) -> bool {
        self.allow.iter().any(|a| a.host.eq_ignore_ascii_case(host))
    }
}

/// Check a URL before it is saved and before each request: absolute http(s), no
/// credentials, at most [`MAX_URL_LEN`] long, and not an internal host unless allowed.
/// Names are not resolved here (the client's resolver does it at connect time).
pub fn check_url(policy: &Policy, raw: &str) -> Result<Url, OutboundError> {
    if raw.len() > MAX_URL_LEN {
        return Err(OutboundError::TooLong);
    }
    let url = Url::parse(raw.trim()).map_err(|_| OutboundError::Invalid)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(OutboundError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OutboundError::Credentials);
    }
    let host = url.host().ok_or(OutboundError::NoHost)?;
    let port = url.port_or_known_default();
    let (key, internal) = match host {
        url::Host::Ipv4(ip) => (ip.to_string(), is_internal(IpAddr::V4(ip))),
        url::Host::Ipv6(ip) => (format!("[{ip}]"), is_internal(IpAddr::V6(ip))),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            let internal = is_internal_name(&name);
            (name, internal)
        }
    };
    if internal && !policy.allows(&key, port) {
        return Err(OutboundError::Internal(key));
    }
    Ok(url)
}

/// The one outbound HTTP client: no redirects, no proxy, `timeout` for the whole request
/// (connecting within at most 5 s of it), and a resolver that refuses internal addresses.
/// Call [`check_url`] on every URL before sending: IP literals never reach the resolver.
pub fn client(policy: &Policy, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        // A redirect would send the request somewhere nobody checked (and re-send a signed body).
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver {
            policy: policy.clone(),
        }))
        .user_agent(concat!("scim-seats/", env!("CARGO_PKG_VERSION")))
        .build()
}

struct GuardedResolver {
    policy: Policy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let allowed = self.policy.allows_host(&host);
        Box::pin(async move {
            if !allowed && is_internal_name(&host) {
                return Err(OutboundError::Internal(host).into());
            }
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            vet(&host, &addrs, allowed)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Refuse a resolved name when any of its addresses is inside (unless the operator allowed
/// it): a name that mixes public and internal addresses is a rebinding attempt, not a service.
fn vet(host: &str, addrs: &[SocketAddr], allowed: bool) -> Result<(), OutboundError> {
    match addrs.iter().find(|a| is_internal(a.ip())) {
        Some(bad) if !allowed => Err(OutboundError::Internal(format!("{host} → {}", bad.ip()))),
        _ => Ok(()),
    }
}

fn is_internal_name(name: &str) -> bool {
    INTERNAL_NAMES.contains(&name) || name.ends_with(".localhost") || name.ends_with(".internal")
}

/// Whether an address is anything but a public unicast address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0                                   // "this network", 0.0.0.0
        || a == 10                           // private
        || a == 127                          // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT (Alibaba's metadata is 100.100.100.200)
        || (a == 169 && b == 254)            // link-local, cloud metadata 169.254.169.254
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)    // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)    // documentation
        || (a == 192 && b == 88 && c == 99)  // 6to4 relay anycast
        || (a == 192 && b == 168)            // private
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113)  // documentation
        || a >= 224 // multicast, reserved, broadcast
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if ip.is_unspecified() || ip.is_loopback() {
        return true;
    }
    // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d).
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    if s[..6] == [0; 6] {
        return is_internal_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        return is_internal_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    // 6to4 (2002::/16) carries one in bits 16..48.
    if s[0] == 0x2002 {
        return is_internal_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    (s[0] & 0xfe00) == 0xfc00           // unique local fc00::/7 (AWS metadata fd00:ec2::254)
        || (s[0] & 0xffc0) == 0xfe80    // link-local
        || (s[0] & 0xffc0) == 0xfec0    // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00    // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0)  // Teredo: the real destination is hidden
        || s[0] == 0x0100 && s[1..4] == [0; 3] // discard-only 100::/64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        check_url(&Policy::strict(), url).is_err()
    }

    #[test]
    fn internal_addresses_in_every_spelling_are_refused() {
        for url in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://017700000001/",
            "http://0.0.0.0:5432/",
            "http://0/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://100.100.100.200/latest/meta-data",
            "http://169.254.169.254/latest/meta-data/",
            "http://2852039166/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::127.0.0.1]/",
            "http://[2002:7f00:1::]/",
            "http://[2002:a9fe:a9fe::1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[fe80::1]/",
            "http://[fd00:ec2::254]/",
            "http://[ff02::1]/",
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://metadata/",
            "http://instance-data/",
        ] {
            assert!(refused(url), "{url} was accepted");
        }
    }

    #[test]
    fn bad_shapes_are_refused() {
        let p = Policy::strict();
        assert_eq!(
            check_url(&p, "ftp://hooks.example.com/"),
            Err(OutboundError::Scheme)
        );
        assert_eq!(
            check_url(&p, "file:///etc/passwd"),
            Err(OutboundError::Scheme)
        );
        assert_eq!(
            check_url(&p, "gopher://hooks.example.com/"),
            Err(OutboundError::Scheme)
        );
        assert_eq!(
            check_url(&p, "https://user:pass@hooks.example.com/"),
            Err(OutboundError::Credentials)
        );
        assert_eq!(
            check_url(&p, "https://user@hooks.example.com/"),
            Err(OutboundError::Credentials)
        );
        assert_eq!(check_url(&p, "/relative"), Err(OutboundError::Invalid));
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(check_url(&p, &long), Err(OutboundError::TooLong));
    }

    #[test]
    fn public_hosts_pass() {
        for url in [
            "https://hooks.example.com/seats",
            "http://93.184.216.34/",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/",
            "https://100.128.0.1/",
        ] {
            assert!(check_url(&Policy::strict(), url).is_ok(), "{url} refused");
        }
    }

    #[test]
    fn the_allow_list_opens_named_hosts_and_ports_only() {
        let p = Policy::parse("127.0.0.1:9000, hooks.internal ,[::1]").unwrap();
        assert!(check_url(&p, "http://127.0.0.1:9000/x").is_ok());
        assert!(check_url(&p, "http://2130706433:9000/x").is_ok());
        assert!(check_url(&p, "http://127.0.0.1:9001/x").is_err());
        assert!(check_url(&p, "http://127.0.0.1/x").is_err());
        assert!(check_url(&p, "https://HOOKS.internal:8443/").is_ok());
        assert!(check_url(&p, "http://[::1]:1234/").is_ok());
        assert!(check_url(&p, "http://169.254.169.254/").is_err());
        assert!(Policy::parse("a:b:c").is_err());
        assert!(Policy::parse("u:p@host").is_err());
        assert_eq!(Policy::parse(" , ").unwrap(), Policy::strict());
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_resolve_inside() {
        let client = client(&Policy::strict(), Duration::from_secs(2)).unwrap();
        // `localhost` is refused by name, before any lookup.
        let err = client
            .get("http://localhost:9/")
            .send()
            .await
            .expect_err("localhost must be refused");
        assert!(
            format!("{err:?}").contains("Internal(\"localhost\")"),
            "{err:?}"
        );
        // Addresses a lookup returned are vetted: one inside refuses the name.
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        let public = [addr("93.184.216.34:0")];
        let mixed = [addr("93.184.216.34:0"), addr("[::ffff:10.0.0.1]:0")];
        assert!(vet("hooks.example.com", &public, false).is_ok());
        assert!(vet("rebind.example.com", &mixed, false).is_err());
        assert!(vet("rebind.example.com", &mixed, true).is_ok());
        let r = GuardedResolver {
            policy: Policy::strict(),
        };
        assert!(r
            .resolve("metadata.google.internal".parse().unwrap())
            .await
            .is_err());
        // The same name, allowed by the operator, resolves.
        let open = GuardedResolver {
            policy: Policy::parse("localhost").unwrap(),
        };
        let name: Name = "localhost".parse().unwrap();
        assert!(open.resolve(name).await.is_ok());
    }
}
