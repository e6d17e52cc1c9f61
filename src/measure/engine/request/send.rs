//! Getting the response: sending on the worker's connection, once more on a new one when a
//! kept-alive connection was closed under the request, and following redirects. Apart from the
//! reading loop because none of it runs between a body read and its timestamp.

use std::borrow::Cow;
use std::sync::Arc;

use hyper::body::Incoming;
use tokio::time::Instant;

use super::Progress;
use crate::measure::engine::conn::Connection;
use crate::measure::engine::target::PreparedRequest;
use crate::measure::engine::{Engine, failure, redirect};
use crate::measure::record::Failure;

/// Sends the request and waits for its head, opening a connection when the worker has none.
///
/// A kept-alive connection the server closed just as the request went out (llama.cpp's server
/// closes after every response while advertising keep-alive) loses the request before any
/// response byte: it is sent once more on a new connection, as curl and browsers do, and the
/// time spent stays in this request. A new connection that does the same is a failure.
pub(super) async fn send(
    prepared: &PreparedRequest,
    conn: &mut Option<Connection>,
    progress: &mut Progress,
) -> Result<http::Response<Incoming>, Failure> {
    let mut fresh = false;
    loop {
        let connection = match conn {
            Some(connection) => connection,
            None => {
                progress.connecting = true;
                let started = Instant::now();
                let limit = progress.deadline.saturating_duration_since(started);
                let opened = Connection::open(prepared.target(), limit).await?;
                progress.timeline.connect = Some(started.elapsed());
                progress.connecting = false;
                fresh = true;
                conn.insert(opened)
            }
        };
        let reused = connection.reused();
        match connection.send(prepared.build(connection.is_h2())).await {
            Ok(response) => {
                progress.reused = reused;
                return Ok(response);
            }
            // Closed just before the request was written: it never left, so sending it on a
            // new connection is always safe.
            Err(e) if e.unsent && !fresh => {
                progress.reconnected = true;
                *conn = None;
            }
            Err(e) if reused && !fresh && failure::lost_before_response(&e.error) => {
                progress.reconnected = true;
                progress.resent = true;
                *conn = None;
            }
            Err(e) => return Err(failure::from_send_error(&e.error)),
        }
    }
}

/// [`send`], following redirects (`--max-redirects`): the final response and the request
/// that got it. The redirects' small bodies are read so that a hop to the same server goes on
/// the same connection; each hop's time is in the request's.
pub(super) async fn send_following<'a>(
    engine: &Engine,
    prepared: &'a PreparedRequest,
    conn: &mut Option<Connection>,
    progress: &mut Progress,
) -> Result<(http::Response<Incoming>, Cow<'a, PreparedRequest>), Failure> {
    let mut current = Cow::Borrowed(prepared);
    let mut chain = Vec::new(); // the URLs requested, once a redirect came
    loop {
        let response = send(&current, conn, progress).await?;
        let status = response.status();
        if engine.redirects.max == 0 || !status.is_redirection() {
            return Ok((response, current));
        }
        if chain.is_empty() {
            chain.extend(current.url());
        }
        let location = response.headers().get(http::header::LOCATION);
        let location = location.and_then(|v| v.to_str().ok());
        let max = engine.redirects.max;
        let hop = match redirect::next_hop(status, location, current.method(), &chain, max) {
            None => return Ok((response, current)),
            Some(hop) => hop.inspect_err(|_| progress.status = Some(status.as_u16()))?,
        };
        let next = engine.redirects.follow(&current, &hop)?;
        let mut body = response.into_body();
        let drained = match conn.as_mut() {
            Some(connection) => connection.drain(&mut body, REDIRECT_BODY_LIMIT).await,
            None => false,
        };
        let same_target = conn.as_ref().is_some_and(|c| Arc::ptr_eq(c.target(), next.target()));
        if !(drained && same_target) {
            *conn = None;
        }
        progress.final_url = Some(hop.url.to_string());
        chain.push(hop.url);
        current = Cow::Owned(next);
    }
}

/// A redirect's body is a line of HTML at most; a longer one costs its connection instead.
const REDIRECT_BODY_LIMIT: usize = 64 * 1024;
