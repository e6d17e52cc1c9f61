//! What a response looks like from outside, for testing a client's inputs: `?ct=TYPE`
//! replaces its `Content-Type` (`?ct=none` leaves it out), as gateways that mislabel streams
//! do, and `?fail=headers:<n>` adds `n` headers (`x-mock-header-1: 1`, …), more than
//! hyper's client accepts by default.

use axum::extract::{Query, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::fault::Fault;
use super::plan::MockQuery;

/// Middleware: applies `ct` and `fail=headers:<n>` to whatever the route answered.
pub(crate) async fn overrides(req: Request, next: Next) -> Response {
    let query = Query::<MockQuery>::try_from_uri(req.uri()).ok().map(|q| q.0);
    let headers = match query.as_ref().and_then(|q| q.fail.as_deref()).map(Fault::parse) {
        Some(Ok(Fault::Headers(n))) => n,
        _ => 0,
    };
    let content_type = match query.and_then(|q| q.ct) {
        None => None,
        Some(ct) if ct == "none" => Some(None),
        Some(ct) => match HeaderValue::try_from(ct) {
            Ok(value) => Some(Some(value)),
            Err(_) => return (StatusCode::BAD_REQUEST, "invalid ct= value\n").into_response(),
        },
    };
    let mut response = next.run(req).await;
    let out = response.headers_mut();
    match content_type {
        Some(Some(value)) => {
            out.insert(header::CONTENT_TYPE, value);
        }
        Some(None) => {
            out.remove(header::CONTENT_TYPE);
        }
        None => {}
    }
    for i in 1..=headers {
        let name = HeaderName::try_from(format!("x-mock-header-{i}")).expect("a valid name");
        out.insert(name, HeaderValue::from(i));
    }
    response
}
