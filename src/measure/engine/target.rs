//! Where requests go and what they carry, parsed once before the run: [`Target`] (one scheme,
//! host and port: the unit a connection is opened to, with the proxy it goes through) and
//! [`PreparedRequest`] (head and body ready to be copied into a hyper request for HTTP/1.1 or
//! HTTP/2).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HOST, PROXY_AUTHORIZATION};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::sync::OnceCell;

use super::TlsOptions;
use super::proxy::{Proxy, ProxySettings};

/// One fully rendered request.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// Final URL.
    pub url: String,
    /// Final headers.
    pub headers: Vec<(String, String)>,
    /// Serialized JSON body (empty: no body).
    pub body: Bytes,
}

/// The request body type of every request: the whole body, known up front.
pub type RequestBody = Full<Bytes>;

/// One origin (`scheme://host:port`); every connection of a run goes to one of these.
pub struct Target {
    /// Host to resolve (an IPv6 address without its brackets).
    host: String,
    port: u16,
    /// `Host` header and HTTP/2 `:authority`: the port only when it is not the default.
    authority: Authority,
    scheme: Scheme,
    /// Config and server name for https; `None` for plain http.
    pub(super) tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    /// Resolved once per run and shared by all workers, so 2,048 workers do not each ask DNS.
    /// Never used through a proxy, which resolves the target itself.
    addrs: OnceCell<Vec<SocketAddr>>,
    /// The proxy connections go through, decided once before the run.
    proxy: Option<Arc<Proxy>>,
    /// Plain http through `proxy`: requests carry the absolute URL (HTTP/1.1 only).
    forward_proxy: bool,
    /// Speak HTTP/2 without TLS ("prior knowledge"). Only tests set it: plain-http targets
    /// otherwise use HTTP/1.1, and https targets use what ALPN picks.
    h2_prior_knowledge: bool,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}

impl Target {
    /// The target of `url` (http or https), through `proxy` when given. `tls` builds the
    /// shared TLS config when needed.
    pub(super) fn new(
        url: &url::Url,
        tls: &mut TlsConfig<'_>,
        proxy: Option<Arc<Proxy>>,
    ) -> anyhow::Result<Target> {
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            other => bail!("unsupported URL scheme `{other}` in {url}: use http or https"),
        };
        let host = match url.host() {
            Some(url::Host::Domain(name)) => name.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => bail!("the URL {url} has no host"),
        };
        let port = url.port_or_known_default().unwrap_or(if https { 443 } else { 80 });
        // `host_str` keeps IPv6 brackets; `port()` is `None` for the scheme's default port.
        let authority = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or(&host)),
            None => url.host_str().unwrap_or(&host).to_owned(),
        };
        let authority = Authority::try_from(authority.as_str())
            .with_context(|| format!("invalid host in URL {url}"))?;
        let tls = match https {
            true => {
                let name = ServerName::try_from(host.clone())
                    .with_context(|| format!("`{host}` is not a valid TLS server name"))?;
                Some((tls.get()?, name))
            }
            false => None,
        };
        let scheme = if https { Scheme::HTTPS } else { Scheme::HTTP };
        Ok(Target {
            host,
            port,
            authority,
            scheme,
            tls,
            addrs: OnceCell::new(),
            forward_proxy: proxy.is_some() && !https,
            proxy,
            h2_prior_knowledge: false,
        })
    }

    /// Whether connections to this target use `other`'s origin (same scheme, host and port).
    pub(super) fn same_origin(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.scheme.as_str() == scheme && self.host == host && self.port == port
    }

    /// Whether to speak HTTP/2 over plain TCP.
    pub(super) fn h2_prior_knowledge(&self) -> bool {
        self.h2_prior_knowledge
    }

    /// The proxy connections to this target go through.
    pub(super) fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_deref()
    }

    /// `host:port`, the port always written (a `CONNECT` request's target).
    pub(super) fn host_port(&self) -> String {
        match self.host.contains(':') {
            true => format!("[{}]:{}", self.host, self.port),
            false => format!("{}:{}", self.host, self.port),
        }
    }

    /// The TLS config and server name, for https targets.
    pub(super) fn tls(&self) -> Option<&(Arc<ClientConfig>, ServerName<'static>)> {
        self.tls.as_ref()
    }

    /// The target's addresses, resolved on first use (a failed lookup is retried next time).
    pub(super) async fn addrs(&self) -> std::io::Result<&[SocketAddr]> {
        super::socket::resolve_once(&self.addrs, &self.host, self.port).await
    }
}

/// The TLS client config, built on first need (plain-http runs never load the system's
/// roots) and shared by every https target.
pub(super) struct TlsConfig<'a> {
    pub(super) options: &'a TlsOptions,
    pub(super) built: Option<Arc<ClientConfig>>,
}

impl TlsConfig<'_> {
    fn get(&mut self) -> anyhow::Result<Arc<ClientConfig>> {
        if self.built.is_none() {
            self.built = Some(super::tls::client_config(self.options)?);
        }
        self.built.clone().context("TLS config was just set")
    }
}

/// A request ready to send, built once per data row: only clones happen per request.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    pub(super) target: Arc<Target>,
    method: Method,
    /// `/path?query`, the HTTP/1.1 request target.
    origin_form: Uri,
    /// `scheme://authority/path?query`, from which HTTP/2 takes its pseudo-headers; also the
    /// HTTP/1.1 request target through a forward proxy.
    absolute: Uri,
    /// The configured headers plus `Host` and `Content-Length` (HTTP/1.1), and
    /// `Proxy-Authorization` through a forward proxy with credentials.
    h1_headers: HeaderMap,
    /// The same without `Host` (HTTP/2 sends `:authority` instead).
    pub(super) h2_headers: HeaderMap,
    pub(super) body: Bytes,
}

impl PreparedRequest {
    /// The target this request goes to.
    pub fn target(&self) -> &Arc<Target> {
        &self.target
    }

    /// The URL path (`/v1/chat/completions`), which hints at the stream's protocol.
    pub fn path(&self) -> &str {
        self.origin_form.path()
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The whole URL, `scheme://authority/path?query`.
    pub fn url(&self) -> Option<url::Url> {
        url::Url::parse(&self.absolute.to_string()).ok()
    }

    /// The same request with `body` instead, its `Content-Length` to match: a request whose
    /// body is made for its number (synthetic prompts), built before its clock starts.
    pub fn with_body(&self, body: Bytes) -> PreparedRequest {
        let mut request = self.clone();
        let length = HeaderValue::from(body.len());
        request.h1_headers.insert(CONTENT_LENGTH, length.clone());
        request.h2_headers.insert(CONTENT_LENGTH, length);
        request.body = body;
        request
    }

    /// The same request with `headers` set over its own (a trace row's); a name or value
    /// that is not valid HTTP is left out (the workload checks them when it reads them).
    pub fn with_headers(mut self, headers: &[(String, String)]) -> PreparedRequest {
        for (name, value) in headers {
            let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
            else {
                continue;
            };
            self.h1_headers.insert(name.clone(), value.clone());
            self.h2_headers.insert(name, value);
        }
        self
    }

    /// A hyper request for HTTP/2 (`h2`) or HTTP/1.1.
    pub fn build(&self, h2: bool) -> Request<RequestBody> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        let (uri, headers) = match (h2, self.target.forward_proxy) {
            (true, _) => (&self.absolute, &self.h2_headers),
            // A forward proxy learns where the request goes from its absolute URL.
            (false, true) => (&self.absolute, &self.h1_headers),
            (false, false) => (&self.origin_form, &self.h1_headers),
        };
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = headers.clone();
        request
    }
}

/// Parses every rendered request; requests to the same origin share one [`Target`]; https
/// targets are verified as `tls` says; `proxy` decides, once per target, the proxy it goes
/// through.
pub fn prepare_all(
    method: &str,
    specs: &[&RequestSpec],
    tls: &TlsOptions,
    proxy: &ProxySettings,
) -> anyhow::Result<Vec<PreparedRequest>> {
    prepare_each(method, specs, tls, proxy, false)
}

/// [`prepare_all`] without proxies, speaking HTTP/2 to plain-http targets when asked (h2c with
/// prior knowledge, as the mock and some internal gateways do); tests/engine.rs uses it.
pub fn prepare_all_with(
    method: &str,
    specs: &[&RequestSpec],
    tls: &TlsOptions,
    h2_prior_knowledge: bool,
) -> anyhow::Result<Vec<PreparedRequest>> {
    prepare_each(method, specs, tls, &ProxySettings::default(), h2_prior_knowledge)
}

fn prepare_each(
    method: &str,
    specs: &[&RequestSpec],
    tls: &TlsOptions,
    proxy: &ProxySettings,
    h2_prior_knowledge: bool,
) -> anyhow::Result<Vec<PreparedRequest>> {
    let method = Method::from_bytes(method.as_bytes())
        .with_context(|| format!("invalid HTTP method `{method}`"))?;
    let mut targets: Vec<Arc<Target>> = Vec::new();
    let mut tls = TlsConfig { options: tls, built: None };
    let mut prepared = Vec::with_capacity(specs.len());
    for spec in specs {
        let url =
            url::Url::parse(&spec.url).with_context(|| format!("invalid URL `{}`", spec.url))?;
        let port = url.port_or_known_default().unwrap_or(0);
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => url.host_str().unwrap_or_default().to_owned(),
        };
        let target = match targets.iter().find(|t| t.same_origin(url.scheme(), &host, port)) {
            Some(target) => Arc::clone(target),
            None => {
                let mut target = Target::new(&url, &mut tls, proxy.for_url(&url)?)?;
                target.h2_prior_knowledge =
                    h2_prior_knowledge && target.tls.is_none() && target.proxy.is_none();
                let target = Arc::new(target);
                targets.push(Arc::clone(&target));
                target
            }
        };
        prepared.push(prepare(&method, target, &url, spec)?);
    }
    Ok(prepared)
}

fn prepare(
    method: &Method,
    target: Arc<Target>,
    url: &url::Url,
    spec: &RequestSpec,
) -> anyhow::Result<PreparedRequest> {
    let mut headers = HeaderMap::with_capacity(spec.headers.len() + 2);
    for (name, value) in &spec.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .with_context(|| format!("invalid header name `{name}`"))?;
        let value = HeaderValue::from_str(value)
            .with_context(|| format!("invalid value for header `{name}`"))?;
        headers.append(name, value);
    }
    assemble(method, target, url, headers, spec.body.clone())
}

/// The request `method url` with the configured `headers` and `body`, for HTTP/1.1 and
/// HTTP/2.
pub(super) fn assemble(
    method: &Method,
    target: Arc<Target>,
    url: &url::Url,
    mut headers: HeaderMap,
    body: Bytes,
) -> anyhow::Result<PreparedRequest> {
    let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let path = PathAndQuery::try_from(if path.is_empty() { "/" } else { path })
        .with_context(|| format!("invalid path in URL `{url}`"))?;
    let origin_form = Uri::from(path.clone());
    let absolute = Uri::builder()
        .scheme(target.scheme.clone())
        .authority(target.authority.clone())
        .path_and_query(path)
        .build()
        .with_context(|| format!("invalid URL `{url}`"))?;
    // A body, or a method that expects one, says how long it is (as curl and reqwest do).
    let expects_body = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !body.is_empty() || expects_body {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let h2_headers = headers.clone();
    if !headers.contains_key(HOST) {
        let host = HeaderValue::from_str(target.authority.as_str())
            .with_context(|| format!("invalid host in URL `{url}`"))?;
        headers.insert(HOST, host);
    }
    if let Some(auth) = target.proxy().and_then(Proxy::authorization)
        && target.forward_proxy
    {
        headers.insert(PROXY_AUTHORIZATION, auth.clone());
    }
    Ok(PreparedRequest {
        target,
        method: method.clone(),
        origin_form,
        absolute,
        h1_headers: headers,
        h2_headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::engine::redirect::{Hop, Redirects};

    fn spec(url: &str) -> RequestSpec {
        RequestSpec {
            url: url.into(),
            headers: vec![("X-Key".into(), "v".into())],
            body: Bytes::from_static(b"{}"),
        }
    }

    #[test]
    fn host_header_has_the_port_only_when_not_default() {
        let a = spec("http://example.test/v1/chat?x=1");
        let b = spec("http://example.test:8080/v1");
        let c = spec("http://[::1]:9000/");
        let all = prepare_all("POST", &[&a, &b, &c], &TlsOptions::default(), &Default::default())
            .unwrap();
        let h1 = |i: usize| all[i].build(false);
        assert_eq!(h1(0).headers()[HOST], "example.test");
        assert_eq!(h1(0).uri(), "/v1/chat?x=1");
        assert_eq!(h1(0).headers()[CONTENT_LENGTH], "2");
        assert_eq!(h1(0).headers()["x-key"], "v");
        assert_eq!(h1(1).headers()[HOST], "example.test:8080");
        assert_eq!(h1(2).headers()[HOST], "[::1]:9000");
        assert!(!Arc::ptr_eq(all[0].target(), all[1].target()), "another port, another origin");
        let h2 = all[1].build(true);
        assert_eq!(h2.uri(), "http://example.test:8080/v1");
        assert!(!h2.headers().contains_key(HOST));
    }

    #[test]
    fn a_made_body_and_its_own_headers_go_over_the_configured_ones() {
        let a = spec("http://example.test/v1");
        let all = prepare_all("POST", &[&a], &TlsOptions::default(), &Default::default()).unwrap();
        let own = [("X-Key".into(), "row".into()), ("x-trace".into(), "1".into())];
        let bad = [("bad name".into(), "x".into()), ("x-ok".into(), "a\nb".into())];
        let made = all[0].with_body(Bytes::from_static(b"[1,2]")).with_headers(&own);
        let made = made.with_headers(&bad);
        for h2 in [false, true] {
            let request = made.build(h2);
            let headers = request.headers();
            assert_eq!(
                (headers["x-key"].as_bytes(), headers["x-trace"].as_bytes()),
                (&b"row"[..], &b"1"[..]),
                "h2: {h2}"
            );
            assert_eq!(headers[CONTENT_LENGTH], "5");
            assert!(!headers.contains_key("x-ok"), "an invalid value is left out");
        }
    }

    #[test]
    fn requests_to_one_origin_share_a_target() {
        let (a, b) = (spec("http://127.0.0.1:1/a"), spec("http://127.0.0.1:1/b"));
        let all =
            prepare_all("POST", &[&a, &b], &TlsOptions::default(), &Default::default()).unwrap();
        assert!(Arc::ptr_eq(all[0].target(), all[1].target()));
        assert_eq!(all[0].target().to_string(), "http://127.0.0.1:1");
    }

    #[test]
    fn through_a_forward_proxy_http1_sends_the_absolute_url_and_the_credentials() {
        let mut redactor = crate::redact::Redactor::default();
        let proxy =
            ProxySettings::explicit("http://u:s3cr3t@127.0.0.1:3128", "`--proxy`", &mut redactor)
                .unwrap();
        let (a, b) = (spec("http://api.test:8000/v1?x=1"), spec("https://api.test/v1"));
        let all = prepare_all("POST", &[&a, &b], &TlsOptions::default(), &proxy).unwrap();
        let forwarded = all[0].build(false);
        assert_eq!(forwarded.uri(), "http://api.test:8000/v1?x=1");
        assert_eq!(forwarded.headers()[HOST], "api.test:8000");
        assert_eq!(forwarded.headers()[PROXY_AUTHORIZATION], "Basic dTpzM2NyM3Q=");
        // Tunnelled: the proxy sees only CONNECT; the request itself is as without a proxy.
        let tunnelled = all[1].build(false);
        assert_eq!(tunnelled.uri(), "/v1");
        assert!(!tunnelled.headers().contains_key(PROXY_AUTHORIZATION));
        assert_eq!(all[1].target().host_port(), "api.test:443");
        assert_eq!(all[0].target().proxy().unwrap().to_string(), "http://u:***@127.0.0.1:3128");
    }

    #[test]
    fn redirects_keep_credentials_only_on_their_origin() {
        let mut a = spec("http://a.test/v1");
        a.headers.push(("Authorization".into(), "Bearer sk-secret".into()));
        let (tls, proxy) = (TlsOptions::default(), ProxySettings::default());
        let all = prepare_all("POST", &[&a], &tls, &proxy).unwrap();
        let redirects = Redirects::new(5, &tls, &proxy, &all);
        let hop = |to: &str, method: Method, keep_body| Hop {
            url: url::Url::parse(to).unwrap(),
            method,
            keep_body,
        };
        let same = redirects.follow(&all[0], &hop("http://a.test/v2", Method::POST, true));
        let same = same.unwrap();
        assert!(Arc::ptr_eq(same.target(), all[0].target()), "a known origin keeps its target");
        let head = same.build(false);
        assert_eq!(head.uri().path(), "/v2");
        assert_eq!(head.headers()["authorization"], "Bearer sk-secret");
        assert_eq!(head.headers()[CONTENT_LENGTH], "2");
        let other = redirects.follow(&all[0], &hop("http://b.test/v1", Method::POST, true));
        let head = other.unwrap().build(false);
        assert!(!head.headers().contains_key("authorization"), "no key for another server");
        assert_eq!(head.headers()[HOST], "b.test");
        assert_eq!(head.headers()["x-key"], "v");
        let get = redirects.follow(&all[0], &hop("http://a.test/v3", Method::GET, false));
        let head = get.unwrap().build(false);
        assert_eq!(head.method(), Method::GET);
        assert!(!head.headers().contains_key(CONTENT_LENGTH), "a GET without a body");
    }
}
