//! Following redirects as HTTP clients do (RFC 9110 §15.4, and what curl -L, reqwest and
//! browsers do with a POST): 307 and 308 repeat the method and body; 301 and 302 turn a POST
//! into a GET without a body, and 303 turns anything but HEAD into one. At most
//! `--max-redirects` hops (0: none followed, the 3xx is an `http_status` failure); a loop or a
//! target that is not http(s) is an `http_status` failure naming the hops. [`Redirects`]
//! builds the request a hop asks for, reusing the run's targets for origins it knows.

use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{Method, StatusCode};
use rustls::ClientConfig;

use super::TlsOptions;
use super::proxy::ProxySettings;
use super::target::{PreparedRequest, Target, TlsConfig, assemble};
use crate::measure::record::{ErrorClass, Failure};

/// Headers that carry credentials: not sent to another origin than the one they were
/// configured for (as curl and reqwest drop `Authorization`), so a redirect never leaks a key.
pub const CREDENTIAL_HEADERS: [&str; 6] =
    ["authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-goog-api-key"];

/// The request a redirect asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Where to, resolved against the URL that redirected.
    pub url: url::Url,
    /// The method to use there.
    pub method: Method,
    /// Whether the body goes along (307, 308), else it is dropped with its headers.
    pub keep_body: bool,
}

/// What a response with `status` and `location` asks of the request `method url`, after the
/// hops in `chain` (the URLs requested so far, the first included). `None`: not a redirect to
/// follow, the response is the answer.
pub fn next_hop(
    status: StatusCode,
    location: Option<&str>,
    method: &Method,
    chain: &[url::Url],
    max_redirects: u32,
) -> Option<Result<Hop, Failure>> {
    if max_redirects == 0 || !is_redirect(status) {
        return None;
    }
    let current = chain.last()?;
    let fail = |why: String| Some(Err(Failure::new(ErrorClass::HttpStatus, why)));
    let Some(location) = location.filter(|l| !l.is_empty()) else {
        return fail(format!("HTTP {status} without a Location header from {current}"));
    };
    let url = match current.join(location) {
        Ok(url) => url,
        Err(e) => return fail(format!("HTTP {status} to an invalid Location {location:?}: {e}")),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return fail(format!("HTTP {status} to {url}: only http and https redirects are followed"));
    }
    if chain.contains(&url) {
        return fail(format!("redirect loop: {} → {url}", path(chain)));
    }
    if chain.len() > max_redirects as usize {
        return fail(format!(
            "more than {max_redirects} redirects (--max-redirects): {} → {url}",
            path(chain)
        ));
    }
    let (method, keep_body) = match status.as_u16() {
        307 | 308 => (method.clone(), true),
        303 if *method != Method::HEAD => (Method::GET, false),
        301 | 302 if *method == Method::POST => (Method::GET, false),
        _ => (method.clone(), true),
    };
    Some(Ok(Hop { url, method, keep_body }))
}

/// The statuses that redirect.
fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// `a → b → c`.
fn path(chain: &[url::Url]) -> String {
    chain.iter().map(url::Url::as_str).collect::<Vec<_>>().join(" → ")
}

/// Where redirects lead: the requests they ask for, built during the run with the run's TLS
/// options and proxy settings. An origin the run already knows keeps its [`Target`], so a
/// redirect within one server reuses the worker's connection.
pub struct Redirects {
    /// Hops one request may follow (`--max-redirects`; 0: none).
    pub max: u32,
    tls: TlsOptions,
    proxy: ProxySettings,
    /// Locked only when a redirect is followed, never while a response streams.
    known: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    targets: Vec<Arc<Target>>,
    tls: Option<Arc<ClientConfig>>,
}

impl fmt::Debug for Redirects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redirects(max {})", self.max)
    }
}

impl Redirects {
    /// Redirects of a run that prepared `requests`, at most `max` hops each.
    pub fn new(
        max: u32,
        tls: &TlsOptions,
        proxy: &ProxySettings,
        requests: &[PreparedRequest],
    ) -> Redirects {
        let mut known = Known::default();
        for request in requests {
            if !known.targets.iter().any(|t| Arc::ptr_eq(t, &request.target)) {
                known.targets.push(Arc::clone(&request.target));
            }
            if let (None, Some((config, _))) = (&known.tls, &request.target.tls) {
                known.tls = Some(Arc::clone(config));
            }
        }
        Redirects { max, tls: tls.clone(), proxy: proxy.clone(), known: Mutex::new(known) }
    }

    /// The request `hop` asks for after `from`: its method, the body when kept, and the
    /// configured headers, without credentials when it leaves `from`'s origin.
    pub fn follow(&self, from: &PreparedRequest, hop: &Hop) -> Result<PreparedRequest, Failure> {
        let fail = |e: anyhow::Error| {
            Failure::new(
                ErrorClass::HttpStatus,
                format!("cannot follow the redirect to {}: {e:#}", hop.url),
            )
        };
        let target = self.target(&hop.url).map_err(fail)?;
        let mut headers = from.h2_headers.clone();
        headers.remove(CONTENT_LENGTH);
        headers.remove(HOST);
        if !Arc::ptr_eq(&target, &from.target) {
            for name in CREDENTIAL_HEADERS {
                headers.remove(name);
            }
        }
        let body = match hop.keep_body {
            true => from.body.clone(),
            false => {
                headers.remove(CONTENT_TYPE);
                Bytes::new()
            }
        };
        assemble(&hop.method, target, &hop.url, headers, body).map_err(fail)
    }

    /// The target of `url`: a known one, or a new one with the run's TLS and proxy settings.
    fn target(&self, url: &url::Url) -> anyhow::Result<Arc<Target>> {
        let mut known = self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let port = url.port_or_known_default().unwrap_or(0);
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => url.host_str().unwrap_or_default().to_owned(),
        };
        if let Some(target) =
            known.targets.iter().find(|t| t.same_origin(url.scheme(), &host, port))
        {
            return Ok(Arc::clone(target));
        }
        let mut tls = TlsConfig { options: &self.tls, built: known.tls.clone() };
        let target = Arc::new(Target::new(url, &mut tls, self.proxy.for_url(url)?)?);
        known.tls = tls.built;
        known.targets.push(Arc::clone(&target));
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    fn hop(status: u16, location: &str, method: Method) -> Option<Result<Hop, Failure>> {
        let chain = [url("http://a.test/v1/chat?x=1")];
        next_hop(StatusCode::from_u16(status).unwrap(), Some(location), &method, &chain, 5)
    }

    #[test]
    fn methods_change_as_http_clients_do() {
        let follow = |status, method| hop(status, "/next", method).unwrap().unwrap();
        for status in [307, 308] {
            assert_eq!(follow(status, Method::POST).method, Method::POST);
            assert!(follow(status, Method::POST).keep_body);
        }
        for status in [301, 302, 303] {
            let h = follow(status, Method::POST);
            assert_eq!((h.method, h.keep_body), (Method::GET, false), "{status}");
        }
        assert_eq!(follow(303, Method::HEAD).method, Method::HEAD);
        assert_eq!(follow(303, Method::PUT).method, Method::GET);
        assert_eq!(follow(302, Method::PUT).method, Method::PUT, "only POST turns into GET");
        assert_eq!(follow(307, Method::POST).url.as_str(), "http://a.test/next");
    }

    #[test]
    fn other_statuses_and_disabled_redirects_are_answers() {
        assert!(hop(200, "/x", Method::POST).is_none());
        assert!(hop(304, "/x", Method::POST).is_none());
        let chain = [url("http://a.test/")];
        let moved = StatusCode::PERMANENT_REDIRECT;
        assert!(next_hop(moved, Some("/x"), &Method::POST, &chain, 0).is_none());
    }

    #[test]
    fn loops_excess_and_bad_targets_fail_clearly() {
        let message = |r: Option<Result<Hop, Failure>>| r.unwrap().unwrap_err().message;
        assert!(message(hop(307, "/v1/chat?x=1", Method::POST)).starts_with("redirect loop"));
        assert!(message(hop(307, "ftp://a.test/f", Method::POST)).contains("only http and https"));
        let chain = [url("http://a.test/"), url("http://a.test/1"), url("http://a.test/2")];
        let too_many = next_hop(StatusCode::FOUND, Some("/3"), &Method::GET, &chain, 2);
        let text = message(too_many);
        assert!(text.starts_with("more than 2 redirects (--max-redirects)"), "{text}");
        assert!(text.contains("http://a.test/2 → http://a.test/3"), "{text}");
        let chain = [url("http://a.test/")];
        let none = next_hop(StatusCode::FOUND, None, &Method::GET, &chain, 5);
        assert!(message(none).contains("without a Location"));
    }
}
