//! One HTTP connection per worker, driven inside the worker's own task.
//!
//! hyper's low-level client splits a connection into a `SendRequest` handle and a connection
//! future that does the socket I/O. Pools (hyper-util, and so reqwest) spawn that future as its
//! own task: then each body chunk is read by the connection task and handed over a channel to
//! the task that asked for it, so a timestamp taken there is "when our task got scheduled",
//! and every event costs a cross-task wake-up. Here the future is **not spawned**: the
//! [`Connection`] keeps it and polls it right before the response or body future it waits for
//! (`Connection::poll_io`), so a socket read and the timestamp of the frame it produced
//! happen in the same poll of the same task. HTTP/2 needs the same for the futures hyper hands
//! to its executor: see `local`.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::client::conn::{TrySendError, http1, http2};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

use super::failure;
use super::local::{LocalExec, Tasks};
use super::socket::{self, Socket};
use super::target::{RequestBody, Target};
use crate::measure::record::{ErrorClass, Failure, TimeoutPhase};

type Io = TokioIo<Socket>;

/// The most headers an HTTP/1.1 response head may have. hyper's default, 100, fails real
/// gateways that add tracing and CORS headers (#17); past it the head is `malformed`. Any
/// bound moves hyper's header buffer to the heap: one allocation per response head, before
/// its first body byte.
const MAX_RESPONSE_HEADERS: usize = 1000;

/// The request side of a connection.
enum Sender {
    H1(http1::SendRequest<RequestBody>),
    H2(http2::SendRequest<RequestBody>),
}

/// The connection future hyper gives back: it reads and writes the socket when polled.
// One per worker and rarely moved; boxing HTTP/1.1, the common case, would only add an
// indirection to every poll.
#[allow(clippy::large_enum_variant)]
enum Driver {
    H1(http1::Connection<Io, RequestBody>),
    H2(http2::Connection<Io, RequestBody, LocalExec>),
}

/// An open HTTP/1.1 or HTTP/2 connection, owned and driven by one worker.
pub struct Connection {
    target: Arc<Target>,
    sender: Sender,
    /// `None` once the connection future has finished (the server closed, or an I/O error).
    driver: Option<Driver>,
    /// HTTP/2 only: the futures hyper would otherwise spawn.
    tasks: Tasks,
    /// Response heads received on this connection so far.
    answered: u64,
}

/// Why a request could not be sent or got no response head.
#[derive(Debug)]
pub struct SendError {
    /// hyper's error.
    pub error: hyper::Error,
    /// Whether the request was never written, so it is safe to send it on a new connection.
    pub unsent: bool,
}

impl Connection {
    /// Connects to `target` (TCP with `TCP_NODELAY`, TLS for https with ALPN `h2` then
    /// `http/1.1`) and does the HTTP handshake, all within `timeout`.
    ///
    /// Errors are classified: `connect`, `tls`, or `timeout` in phase `connect`.
    pub async fn open(target: &Arc<Target>, timeout: Duration) -> Result<Connection, Failure> {
        match tokio::time::timeout(timeout, Self::open_now(target)).await {
            Ok(result) => result,
            Err(_) => Err(failure::timeout(TimeoutPhase::Connect, timeout)),
        }
    }

    async fn open_now(target: &Arc<Target>) -> Result<Connection, Failure> {
        let (socket, h2) = socket::connect(target).await?;
        let io = TokioIo::new(socket);
        let tasks = Tasks::default();
        let handshake_failed = |e: hyper::Error| {
            Failure::new(ErrorClass::Connect, format!("HTTP handshake with {target} failed: {e}"))
        };
        // Neither handshake waits for the server: they queue the preface (HTTP/2) and return.
        let (sender, driver) = match h2 {
            true => {
                let (sender, conn) =
                    http2::handshake(tasks.executor(), io).await.map_err(handshake_failed)?;
                (Sender::H2(sender), Driver::H2(conn))
            }
            false => {
                let (sender, conn) = http1::Builder::new()
                    .max_headers(MAX_RESPONSE_HEADERS)
                    .handshake(io)
                    .await
                    .map_err(handshake_failed)?;
                (Sender::H1(sender), Driver::H1(conn))
            }
        };
        Ok(Connection {
            target: Arc::clone(target),
            sender,
            driver: Some(driver),
            tasks,
            answered: 0,
        })
    }

    /// The target this connection goes to.
    pub fn target(&self) -> &Arc<Target> {
        &self.target
    }

    /// Whether an earlier request was answered on this connection (it is kept alive).
    pub fn reused(&self) -> bool {
        self.answered > 0
    }

    /// Whether the connection speaks HTTP/2.
    pub fn is_h2(&self) -> bool {
        matches!(self.sender, Sender::H2(_))
    }

    /// Whether the connection can take another request (keep-alive): `false` once the server
    /// has closed it. For HTTP/1.1 this lets the connection finish the previous exchange.
    pub async fn ready(&mut self) -> bool {
        poll_fn(|cx| {
            self.poll_io(cx);
            match &mut self.sender {
                Sender::H1(s) => s.poll_ready(cx),
                Sender::H2(s) => s.poll_ready(cx),
            }
        })
        .await
        .is_ok()
    }

    /// Sends `request` and waits for the response head, driving the connection meanwhile.
    pub async fn send(
        &mut self,
        request: http::Request<RequestBody>,
    ) -> Result<Response<Incoming>, SendError> {
        // Neither future borrows the sender: it only hands the request to the connection.
        let response = match &mut self.sender {
            Sender::H1(s) => futures_util::future::Either::Left(s.try_send_request(request)),
            Sender::H2(s) => futures_util::future::Either::Right(s.try_send_request(request)),
        };
        let response = self.drive(response).await.map_err(|mut e: TrySendError<_>| SendError {
            unsent: e.take_message().is_some(),
            error: e.into_error(),
        })?;
        self.answered += 1;
        Ok(response)
    }

    /// The next data frame of `body` and the instant it was taken out of the body: the
    /// timestamp of a socket read. `None` at the end of the body; trailers are skipped.
    ///
    /// The connection is polled first, in this same task, so the frame it reads from the
    /// socket is in `body` when `body` is polled; `Instant::now()` follows with nothing in
    /// between.
    pub async fn frame(
        &mut self,
        body: &mut Incoming,
    ) -> (Instant, Option<Result<Bytes, hyper::Error>>) {
        poll_fn(|cx| {
            self.poll_io(cx);
            loop {
                let frame = match Pin::new(&mut *body).poll_frame(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(frame) => frame,
                };
                let now = Instant::now();
                match frame {
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => return Poll::Ready((now, Some(Ok(data)))),
                        Err(_trailers) => continue,
                    },
                    Some(Err(e)) => return Poll::Ready((now, Some(Err(e)))),
                    None => return Poll::Ready((now, None)),
                }
            }
        })
        .await
    }

    /// Reads the rest of `body` if it is at most `limit` bytes, so that the connection can
    /// carry the next request (HTTP/1.1 finishes one response first); whether it ended
    /// cleanly. Nothing is timed: the request's measurements are taken.
    pub async fn drain(&mut self, body: &mut Incoming, limit: usize) -> bool {
        let mut read = 0usize;
        loop {
            match self.frame(body).await.1 {
                Some(Ok(bytes)) if read.saturating_add(bytes.len()) <= limit => read += bytes.len(),
                Some(_) => return false,
                None => return true,
            }
        }
    }

    /// Runs `fut` to completion while driving the connection in the same task.
    async fn drive<F: Future>(&mut self, fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        poll_fn(|cx| {
            self.poll_io(cx);
            fut.as_mut().poll(cx)
        })
        .await
    }

    /// Lets the connection read, write and dispatch what it can; it registers this task to be
    /// woken when the socket is ready again. A finished connection is dropped: the pending
    /// request or body then sees the error.
    fn poll_io(&mut self, cx: &mut Context<'_>) {
        if let Some(driver) = &mut self.driver {
            let finished = match driver {
                Driver::H1(conn) => Pin::new(conn).poll(cx).is_ready(),
                Driver::H2(conn) => Pin::new(conn).poll(cx).is_ready(),
            };
            if finished {
                self.driver = None;
            }
        }
        // HTTP/2: the socket I/O itself (hyper's connection task) and the per-request futures.
        self.tasks.poll(cx);
    }
}
