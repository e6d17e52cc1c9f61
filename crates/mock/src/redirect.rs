//! Redirects, for testing a client's: `?fail=redirect:<code>` answers `<code>` (301, 302, 303,
//! 307 or 308) with a `Location` of the same URL without that parameter (or `?to=URL`), and
//! `?fail=redirect-loop` one back to itself. The handler never runs for the redirecting
//! request, so the stats count only the request that is finally answered.

use axum::extract::{Query, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::fault::Fault;
use super::plan::MockQuery;

/// Middleware: answers redirect faults before any route sees the request.
pub(crate) async fn redirects(req: Request, next: Next) -> Response {
    let query = Query::<MockQuery>::try_from_uri(req.uri()).ok();
    let fault = query.as_ref().and_then(|q| q.fail.as_deref().and_then(|f| Fault::parse(f).ok()));
    let here = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let (code, location) = match fault {
        Some(Fault::Redirect(code)) => {
            let to = query.and_then(|q| q.0.to).unwrap_or_else(|| without_fault(here));
            (code, to)
        }
        Some(Fault::RedirectLoop) => (307, here.to_owned()),
        _ => return next.run(req).await,
    };
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
    match HeaderValue::try_from(location) {
        Ok(location) => (status, [(header::LOCATION, location)], "redirecting\n").into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "invalid redirect target\n").into_response(),
    }
}

/// `path?query` without its `fail=` (and `to=`) parameters.
fn without_fault(path_and_query: &str) -> String {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("fail=") && !p.starts_with("to="))
        .collect();
    match kept.is_empty() {
        true => path.to_owned(),
        false => format!("{path}?{}", kept.join("&")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_drops_only_the_fault() {
        assert_eq!(without_fault("/v1/x?fail=redirect:307"), "/v1/x");
        assert_eq!(
            without_fault("/v1/x?tokens=3&fail=redirect:303&ttft_ms=1"),
            "/v1/x?tokens=3&ttft_ms=1"
        );
        assert_eq!(without_fault("/v1/x"), "/v1/x");
    }
}
