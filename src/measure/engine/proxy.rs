//! HTTP proxies: which proxy a target goes through, decided once per target before the run, and
//! the CONNECT handshake that opens a tunnel to an https target.
//!
//! An explicit proxy (`--proxy`, `proxy:` in the config) applies to every target. Otherwise the
//! environment decides as curl does: `https_proxy` for https targets, `http_proxy` for http
//! ones, `all_proxy` for both, each in lower case first, then upper case; `no_proxy` (or
//! `NO_PROXY`) and loopback addresses go direct. An empty value counts as unset.
//!
//! Through a proxy, `http://` targets are forwarded (the request carries the absolute URL) and
//! `https://` targets are tunnelled (`CONNECT`, then TLS with the target end to end).

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::bail;
use base64::Engine as _;
use http::HeaderValue;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::OnceCell;

use crate::measure::record::{ErrorClass, Failure};
use crate::redact::Redactor;

/// One HTTP proxy: where it is and the `Proxy-Authorization` its URL's credentials make.
pub struct Proxy {
    /// Host to resolve (an IPv6 address without its brackets).
    host: String,
    port: u16,
    /// `http://user:***@host:port`: what reports and errors show.
    shown: String,
    /// `Basic base64(user:password)`, when the URL has a user.
    authorization: Option<HeaderValue>,
    /// Resolved once per run, as a target's addresses are.
    addrs: OnceCell<Vec<SocketAddr>>,
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Shows only the redacted form: the credentials never reach a debug print either.
impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proxy({})", self.shown)
    }
}

impl Proxy {
    /// Parses a proxy URL (`http://[user:password@]host[:port]`; without a scheme `http://` is
    /// assumed, as curl does). `what` names the flag, key or variable for errors. The
    /// credentials are taught to `redactor` before anything can print them.
    fn parse(text: &str, what: &str, redactor: &mut Redactor) -> anyhow::Result<Proxy> {
        let text = text.trim();
        let with_scheme = match text.contains("://") {
            true => text.to_owned(),
            false => format!("http://{text}"),
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| {
            anyhow::anyhow!(
                "{what} is not a valid proxy URL ({e}): {:?}; it must look like \
                 http://host:port or http://user:password@host:port",
                hide_userinfo(text)
            )
        })?;
        redactor.add_url_credentials(&url);
        match url.scheme() {
            "http" => {}
            "https" => bail!(
                "{what}: https:// proxies are not supported; use the proxy's http:// address \
                 (https targets are still TLS end to end through its tunnel)"
            ),
            other => bail!("{what}: unsupported proxy scheme `{other}`; use an http:// proxy"),
        }
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => bail!("{what}: the proxy URL has no host"),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let authorization = basic_authorization(&url);
        if let Some(value) = &authorization {
            redactor.add_header("Proxy-Authorization", value.to_str().unwrap_or_default());
        }
        let user = match (url.username(), url.password()) {
            ("", None) => String::new(),
            (user, None) => format!("{user}@"),
            (user, Some(_)) => format!("{user}:***@"),
        };
        let shown = format!("http://{user}{}:{port}", url.host_str().unwrap_or(&host));
        Ok(Proxy { host, port, shown, authorization, addrs: OnceCell::new() })
    }

    /// The `Proxy-Authorization` header value, when the proxy URL has credentials.
    pub fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }

    /// The proxy's addresses, resolved on first use.
    pub(super) async fn addrs(&self) -> io::Result<&[SocketAddr]> {
        super::socket::resolve_once(&self.addrs, &self.host, self.port).await
    }
}

/// `Basic base64(user:password)` from the URL's userinfo, percent-decoded; `None` without a
/// user.
fn basic_authorization(url: &url::Url) -> Option<HeaderValue> {
    if url.username().is_empty() {
        return None;
    }
    let decode = |s: &str| percent_encoding::percent_decode_str(s).collect::<Vec<u8>>();
    let mut credentials = decode(url.username());
    credentials.push(b':');
    credentials.extend(decode(url.password().unwrap_or_default()));
    let token = base64::engine::general_purpose::STANDARD.encode(credentials);
    let mut value = HeaderValue::try_from(format!("Basic {token}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// `text` with anything between `://` and the last `@` replaced by `***`: for errors about a
/// proxy URL that did not parse, so that its password is not echoed back.
fn hide_userinfo(text: &str) -> String {
    let start = text.find("://").map_or(0, |i| i + 3);
    match text[start..].rfind('@') {
        Some(at) => format!("{}***{}", &text[..start], &text[start + at..]),
        None => text.to_owned(),
    }
}

/// Which proxy, if any, each target goes through.
#[derive(Debug, Clone, Default)]
pub struct ProxySettings(Choice);

#[derive(Debug, Clone, Default)]
enum Choice {
    /// No proxy: `--proxy ''`, or nothing set anywhere.
    #[default]
    Direct,
    /// `--proxy` or `proxy:`: every target.
    Every(Arc<Proxy>),
    /// The environment's proxies.
    Env(Arc<EnvProxies>),
}

/// A proxy variable that did not parse is an error only when a target would use it, so that a
/// stray `ALL_PROXY=socks5://…` does not stop runs against localhost.
type EnvProxy = Option<Result<Arc<Proxy>, String>>;

#[derive(Debug)]
struct EnvProxies {
    http: EnvProxy,
    https: EnvProxy,
    no_proxy: NoProxy,
}

impl ProxySettings {
    /// An explicit proxy for every target; an empty `text` means no proxy at all (the
    /// environment's included). `what` names the flag or key for errors.
    pub fn explicit(text: &str, what: &str, redactor: &mut Redactor) -> anyhow::Result<Self> {
        Ok(match text.trim().is_empty() {
            true => ProxySettings(Choice::Direct),
            false => ProxySettings(Choice::Every(Arc::new(Proxy::parse(text, what, redactor)?))),
        })
    }

    /// The proxies the environment names, read through `get` (tests pass their own).
    pub fn from_env(get: impl Fn(&str) -> Option<String>, redactor: &mut Redactor) -> Self {
        let var = |names: &[&'static str]| {
            names
                .iter()
                .find_map(|name| get(name).filter(|v| !v.trim().is_empty()).map(|v| (*name, v)))
        };
        let mut parse = |names: &[&'static str]| -> EnvProxy {
            let (name, value) = var(names)?;
            let proxy = Proxy::parse(&value, &format!("`{name}`"), redactor);
            Some(proxy.map(Arc::new).map_err(|e| e.to_string()))
        };
        let http = parse(&["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]);
        let https = parse(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]);
        if http.is_none() && https.is_none() {
            return ProxySettings(Choice::Direct);
        }
        let no_proxy = NoProxy::parse(&var(&["no_proxy", "NO_PROXY"]).unwrap_or_default().1);
        ProxySettings(Choice::Env(Arc::new(EnvProxies { http, https, no_proxy })))
    }

    /// The proxy requests to `url` go through (`None`: direct). An error when the proxy the
    /// environment names for it is not usable.
    pub fn for_url(&self, url: &url::Url) -> anyhow::Result<Option<Arc<Proxy>>> {
        let env = match &self.0 {
            Choice::Direct => return Ok(None),
            Choice::Every(proxy) => return Ok(Some(Arc::clone(proxy))),
            Choice::Env(env) => env,
        };
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => return Ok(None),
        };
        let port = url.port_or_known_default().unwrap_or(0);
        if is_loopback(&host) || env.no_proxy.matches(&host, port) {
            return Ok(None);
        }
        match if url.scheme() == "https" { &env.https } else { &env.http } {
            None => Ok(None),
            Some(Ok(proxy)) => Ok(Some(Arc::clone(proxy))),
            Some(Err(e)) => bail!("{e}"),
        }
    }
}

/// `localhost`, `*.localhost`, 127.0.0.0/8 and `::1`: never sent to an environment's proxy,
/// which could not reach this machine's loopback anyway.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The hosts `NO_PROXY` sends direct.
#[derive(Debug, Default)]
struct NoProxy {
    /// `*`: every host.
    all: bool,
    entries: Vec<Exempt>,
}

#[derive(Debug, PartialEq)]
enum Exempt {
    /// `example.com` or `.example.com`: that host and every subdomain.
    Domain { name: String, port: Option<u16> },
    /// `10.0.0.1`, `10.0.0.0/8`, `::1`, `[::1]:8080`: addresses in a network.
    Network { ip: IpAddr, prefix: u8, port: Option<u16> },
}

impl NoProxy {
    /// Comma- (or space-) separated entries; an entry that is neither a name nor an address
    /// matches nothing, as in curl.
    fn parse(text: &str) -> NoProxy {
        let mut no_proxy = NoProxy::default();
        for entry in text.split([',', ' ', '\t']).map(str::trim).filter(|e| !e.is_empty()) {
            match entry {
                "*" => no_proxy.all = true,
                entry => no_proxy.entries.extend(Exempt::parse(entry)),
            }
        }
        no_proxy
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.all || self.entries.iter().any(|e| e.matches(&host, ip, port))
    }
}

impl Exempt {
    fn parse(entry: &str) -> Option<Exempt> {
        let entry = entry.to_ascii_lowercase();
        if let Some((ip, prefix)) = entry.split_once('/') {
            let ip: IpAddr = ip.trim_matches(['[', ']']).parse().ok()?;
            let prefix: u8 = prefix.parse().ok().filter(|p| *p <= max_prefix(ip))?;
            return Some(Exempt::Network { ip, prefix, port: None });
        }
        // A bare IPv6 address has colons of its own: try it whole before splitting a port off.
        let (host, port) = match entry.parse::<IpAddr>() {
            Ok(_) => (entry.as_str(), None),
            Err(_) => match entry.rsplit_once(':') {
                Some((host, port)) => (host, Some(port.parse::<u16>().ok()?)),
                None => (entry.as_str(), None),
            },
        };
        let host = host.trim_matches(['[', ']']);
        Some(match host.parse::<IpAddr>() {
            Ok(ip) => Exempt::Network { ip, prefix: max_prefix(ip), port },
            Err(_) => {
                let name = host.trim_start_matches("*.").trim_start_matches('.');
                Exempt::Domain { name: name.trim_end_matches('.').to_owned(), port }
            }
        })
    }

    /// `host` is lower case without a trailing dot; `ip` is it parsed, when it is an address.
    fn matches(&self, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
        let (hit, want_port) = match self {
            Exempt::Domain { name, port } => {
                let sub = host.strip_suffix(name.as_str()).is_some_and(|rest| rest.ends_with('.'));
                (!name.is_empty() && (host == name || sub), port)
            }
            Exempt::Network { ip: net, prefix, port } => {
                (ip.is_some_and(|ip| in_network(ip, *net, *prefix)), port)
            }
        };
        hit && want_port.is_none_or(|p| p == port)
    }
}

fn max_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let mask = |bits: u32| (!0u128).checked_shl(bits - u32::from(prefix)).unwrap_or(0);
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = mask(32) as u32;
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = mask(128);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The longest answer to CONNECT read. The answer is a status line and a few headers; the bound
/// keeps a misbehaving proxy (or a server that is no proxy and streams a body) from growing
/// memory without end. 8 KiB is also what hyper-util's tunnel allows; a slow answer is bounded
/// by the connect timeout around it.
const MAX_CONNECT_HEAD: usize = 8 * 1024;

/// Asks `proxy`, over `tcp`, for a tunnel to `authority` (`host:port`). On a 2xx answer the
/// stream is the tunnel; anything else is a `connect` failure naming the proxy and its answer.
pub(super) async fn open_tunnel(
    tcp: &mut TcpStream,
    proxy: &Proxy,
    authority: &str,
) -> Result<(), Failure> {
    let failed = |why: String| Failure::new(ErrorClass::Connect, format!("proxy {proxy} {why}"));
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(value) = proxy.authorization().and_then(|v| v.to_str().ok()) {
        request.push_str(&format!("Proxy-Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    let io_failed = |e: io::Error| failed(format!("failed the tunnel to {authority}: {e}"));
    tcp.write_all(request.as_bytes()).await.map_err(io_failed)?;
    let answer = read_head(tcp).await.map_err(io_failed)?;
    let closed = || failed(format!("closed the connection during CONNECT {authority}"));
    let status_line = answer.split(|&b| b == b'\n').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line).trim().to_owned();
    let status = match status_line.split_once(' ') {
        Some((version, rest)) if version.starts_with("HTTP/1.") => rest,
        _ if answer.is_empty() => return Err(closed()),
        _ => {
            return Err(failed(format!(
                "answered CONNECT with something not HTTP: {status_line:?}"
            )));
        }
    };
    match status.get(..3).and_then(|code| code.parse::<u16>().ok()) {
        // Accepted, the proxy has nothing more to say before our TLS hello: more bytes would
        // be lost to the handshake, so they are an error rather than something to keep.
        Some(200..=299) => match head_end(&answer) {
            Some(end) if end == answer.len() => Ok(()),
            Some(_) => Err(failed(format!("sent data into the tunnel to {authority} early"))),
            None => Err(closed()),
        },
        Some(_) => Err(failed(format!("refused the tunnel to {authority}: {status}"))),
        None => Err(failed(format!("answered CONNECT with a bad status line: {status_line:?}"))),
    }
}

/// Reads the answer until its head is complete (the blank line), the stream ends, or
/// [`MAX_CONNECT_HEAD`] bytes came without one. What came after the head, if anything, is
/// returned too.
async fn read_head(tcp: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; MAX_CONNECT_HEAD];
    let mut len = 0;
    loop {
        let n = tcp.read(&mut buf[len..]).await?;
        len += n;
        if n == 0 || head_end(&buf[..len]).is_some() {
            buf.truncate(len);
            return Ok(buf);
        }
        if len == buf.len() {
            return Err(io::Error::other("the proxy's answer head is longer than 8 KiB"));
        }
    }
}

/// Where the head of `answer` ends (after its blank line), once it has one.
fn head_end(answer: &[u8]) -> Option<usize> {
    answer.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    }

    fn proxy_of(settings: &ProxySettings, url: &str) -> Option<String> {
        let url = url::Url::parse(url).unwrap();
        settings.for_url(&url).unwrap().map(|p| p.to_string())
    }

    #[test]
    fn lower_case_wins_and_all_proxy_is_the_fallback() {
        let vars = [
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("ALL_PROXY", "all:3"),
            ("http_proxy", ""),
        ];
        let settings = ProxySettings::from_env(env(&vars), &mut Redactor::default());
        assert_eq!(proxy_of(&settings, "https://api.test/v1").as_deref(), Some("http://lower:2"));
        // An empty `http_proxy` is unset; `ALL_PROXY` (no scheme: http) stands in.
        assert_eq!(proxy_of(&settings, "http://api.test/v1").as_deref(), Some("http://all:3"));
        let none = ProxySettings::from_env(|_| None, &mut Redactor::default());
        assert_eq!(proxy_of(&none, "http://api.test/"), None);
    }

    #[test]
    fn environment_proxies_skip_loopback_and_no_proxy() {
        let vars = [("HTTP_PROXY", "http://p:3128"), ("NO_PROXY", "internal.test, 10.0.0.0/8")];
        let settings = ProxySettings::from_env(env(&vars), &mut Redactor::default());
        for direct in [
            "http://127.0.0.1:8000/",
            "http://127.9.9.9/",
            "http://[::1]:8000/",
            "http://localhost:8000/",
            "http://app.localhost/",
            "http://internal.test/",
            "http://gpu.internal.test/",
            "http://10.1.2.3:8000/",
        ] {
            assert_eq!(proxy_of(&settings, direct), None, "{direct}");
        }
        for proxied in ["http://api.test/", "http://notinternal.test/", "http://11.0.0.1/"] {
            assert_eq!(proxy_of(&settings, proxied).as_deref(), Some("http://p:3128"), "{proxied}");
        }
        let star = [("HTTP_PROXY", "http://p:3128"), ("no_proxy", "*")];
        let settings = ProxySettings::from_env(env(&star), &mut Redactor::default());
        assert_eq!(proxy_of(&settings, "http://api.test/"), None);
    }

    #[test]
    fn an_explicit_proxy_applies_to_every_target_and_empty_turns_proxies_off() {
        let mut r = Redactor::default();
        let every = ProxySettings::explicit("http://p:8080", "`--proxy`", &mut r).unwrap();
        assert_eq!(proxy_of(&every, "http://127.0.0.1:1/").as_deref(), Some("http://p:8080"));
        let off = ProxySettings::explicit("", "`--proxy`", &mut r).unwrap();
        assert_eq!(proxy_of(&off, "https://api.test/"), None);
    }

    #[test]
    fn no_proxy_entries() {
        let no =
            NoProxy::parse(".example.com,host.test:8080 [::1]:9 192.168.1.7,bad:port,fd00::/8");
        let m = |host: &str, port: u16| no.matches(host, port);
        assert!(m("example.com", 80) && m("a.b.example.com", 443) && m("EXAMPLE.COM.", 1));
        assert!(!m("badexample.com", 80));
        assert!(m("host.test", 8080) && !m("host.test", 80));
        assert!(m("::1", 9) && !m("::1", 10));
        assert!(m("192.168.1.7", 1) && !m("192.168.1.8", 1));
        assert!(m("fd12::1", 1) && !m("fe80::1", 1));
        assert!(!m("bad", 80), "an entry with a bad port matches nothing");
        assert_eq!(
            Exempt::parse("10.0.0.0/33"),
            None,
            "a prefix longer than the address is ignored"
        );
    }

    #[test]
    fn credentials_make_basic_auth_and_are_hidden() {
        let mut r = Redactor::default();
        let settings =
            ProxySettings::explicit("http://user:s3cr%40t@127.0.0.1:3128", "`--proxy`", &mut r)
                .unwrap();
        let Choice::Every(proxy) = &settings.0 else { panic!("explicit") };
        assert_eq!(proxy.to_string(), "http://user:***@127.0.0.1:3128");
        // base64("user:s3cr@t"), the password percent-decoded.
        assert_eq!(proxy.authorization().unwrap(), "Basic dXNlcjpzM2NyQHQ=");
        let text = "http://user:s3cr%40t@h s3cr@t dXNlcjpzM2NyQHQ=";
        assert_eq!(r.redact(text), "http://***@h *** ***");
    }

    #[test]
    fn bad_proxy_urls_name_the_flag_and_hide_the_password() {
        let mut r = Redactor::default();
        let err = |text: &str| {
            ProxySettings::explicit(text, "`--proxy`", &mut Redactor::default())
                .unwrap_err()
                .to_string()
        };
        let e = err("https://p:443");
        assert!(e.starts_with("`--proxy`: https:// proxies are not supported"), "{e}");
        let e = err("socks5://p:1080");
        assert!(e.contains("`--proxy`: unsupported proxy scheme `socks5`"), "{e}");
        let e = err("http://user:pw@[bad");
        assert!(e.starts_with("`--proxy` is not a valid proxy URL") && !e.contains("pw"), "{e}");
        // A bad environment proxy fails only the targets that would use it.
        let vars = [("HTTPS_PROXY", "socks5://p:1080")];
        let settings = ProxySettings::from_env(env(&vars), &mut r);
        assert_eq!(proxy_of(&settings, "https://localhost/"), None);
        let url = url::Url::parse("https://api.test/").unwrap();
        let e = settings.for_url(&url).unwrap_err().to_string();
        assert!(e.contains("`HTTPS_PROXY`: unsupported proxy scheme"), "{e}");
    }

    /// `open_tunnel` against a listener that answers CONNECT with `answer`; returns what the
    /// proxy received and the outcome.
    async fn tunnel_answered(answer: &'static [u8]) -> (String, Result<(), Failure>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut r = Redactor::default();
        let url = format!("http://u:pw@{}", listener.local_addr().unwrap());
        let Choice::Every(proxy) = ProxySettings::explicit(&url, "p", &mut r).unwrap().0 else {
            panic!("explicit")
        };
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0; 1024];
            let n = socket.read(&mut request).await.unwrap();
            socket.write_all(answer).await.unwrap();
            String::from_utf8_lossy(&request[..n]).into_owned()
        });
        let mut tcp = TcpStream::connect(proxy.addrs().await.unwrap()[0]).await.unwrap();
        let outcome = open_tunnel(&mut tcp, &proxy, "api.test:443").await;
        (server.await.unwrap(), outcome)
    }

    #[tokio::test]
    async fn connect_sends_the_authority_and_credentials_and_reads_the_answer() {
        let (request, outcome) =
            tunnel_answered(b"HTTP/1.0 200 Connection established\r\n\r\n").await;
        assert_eq!(
            request,
            "CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\
             Proxy-Authorization: Basic dTpwdw==\r\n\r\n"
        );
        assert_eq!(outcome, Ok(()));

        let refusal =
            b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nnope";
        let error = tunnel_answered(refusal).await.1.unwrap_err();
        assert_eq!(error.class, ErrorClass::Connect);
        assert!(error.message.starts_with("proxy http://u:***@127.0.0.1:"), "{}", error.message);
        assert!(
            error
                .message
                .ends_with("refused the tunnel to api.test:443: 407 Proxy Authentication Required"),
            "{}",
            error.message
        );
        let error = tunnel_answered(b"SSH-2.0-OpenSSH\r\n").await.1.unwrap_err();
        assert!(
            error.message.contains("something not HTTP: \"SSH-2.0-OpenSSH\""),
            "{}",
            error.message
        );
        let error = tunnel_answered(b"HTTP/1.1 200 OK\r\n\r\nearly").await.1.unwrap_err();
        assert!(error.message.contains("sent data into the tunnel"), "{}", error.message);
        let error = tunnel_answered(b"").await.1.unwrap_err();
        assert!(
            error.message.contains("closed the connection during CONNECT"),
            "{}",
            error.message
        );
    }
}
