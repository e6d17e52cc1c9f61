//! Following redirects as HTTP clients do (RFC 9110 §15.4, and what curl -L, reqwest and
//! browsers do with a POST): 307 and 308 repeat the method and body; 301 and 302 turn a POST
//! into a GET without a body, and 303 turns anything but HEAD into one. At most
//! `--max-redirects` hops (0: none followed, the 3xx is an `http_status` failure); a loop or a
//! target that is not http(s) is an `http_status` failure naming the hops.

use http::{Method, StatusCode};

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
