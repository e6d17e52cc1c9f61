//! Connections the server closes on purpose, as real servers do, for the keep-alive faults:
//!
//! - `--close-after-response`: close right after each response while advertising keep-alive
//!   (no `Connection: close`), as llama.cpp's server does. A client that sends its next request
//!   before it sees the close loses that request on a reused connection.
//! - `fail=status-close:<code>`: the same for one error response (`status:<code>`'s), as a
//!   server that recycles a worker after an error does.
//! - `fail=close-idle`: keep the connection, but drop the next request that arrives on it
//!   unanswered and close, as an idle timeout firing just as a request comes in. Always the
//!   stale keep-alive case, so a test of the client's re-send is deterministic.
//! - `fail=connection-close` (`Connection: close`) and `fail=http10` (an HTTP/1.0 answer, its
//!   body ending at the close): the server says it closes, and hyper does.
//!
//! hyper closes a server connection cleanly when a read on an idle connection returns EOF, so
//! [`ClosingListener`] wraps each connection's I/O in [`Closable`], which fakes that EOF once
//! asked to. The [`close_connections`] layer finds the request's [`ConnHandle`] (axum's
//! `ConnectInfo`) and asks when the response's last frame leaves the body.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, ready};

use axum::body::{Body, Bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderValue, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use futures_util::task::AtomicWaker;
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::fault::{ConnFault, Fault};
use super::plan::MockQuery;
use super::request::App;
use super::stats::MockStats;

/// How a connection is to end.
const OPEN: u8 = 0;
/// Reads return EOF from now on: hyper closes the connection once it is idle.
const CLOSE_NOW: u8 = 1;
/// The next request's bytes are dropped and reads return EOF: closed without an answer.
const DROP_NEXT_REQUEST: u8 = 2;

/// One connection's close state, shared by its I/O and the requests it carries.
#[derive(Debug)]
struct CloseState {
    state: AtomicU8,
    /// The connection task's last read, woken when a close is asked for so that it happens
    /// now rather than when the client next writes.
    reader: AtomicWaker,
    stats: Arc<MockStats>,
}

/// A request's way to its connection's close state (`ConnectInfo<ConnHandle>`).
#[derive(Debug, Clone)]
pub(crate) struct ConnHandle(Arc<CloseState>);

impl ConnHandle {
    fn set(&self, state: u8) {
        if state == CLOSE_NOW {
            self.0.stats.record_server_close();
        }
        self.0.state.store(state, Ordering::Release);
        self.0.reader.wake();
    }
}

/// A listener whose connections can be closed on purpose ([`Closable`]).
pub(crate) struct ClosingListener<L> {
    inner: L,
    stats: Arc<MockStats>,
}

impl<L> ClosingListener<L> {
    pub(crate) fn new(inner: L, stats: Arc<MockStats>) -> Self {
        ClosingListener { inner, stats }
    }
}

impl<L: Listener> Listener for ClosingListener<L> {
    type Io = Closable<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.inner.accept().await;
        let state = CloseState {
            state: AtomicU8::new(OPEN),
            reader: AtomicWaker::new(),
            stats: Arc::clone(&self.stats),
        };
        (Closable { io, handle: ConnHandle(Arc::new(state)) }, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl<L: Listener> Connected<IncomingStream<'_, ClosingListener<L>>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, ClosingListener<L>>) -> Self {
        stream.io().handle.clone()
    }
}

/// A connection's I/O that reads EOF once its close is asked for.
pub(crate) struct Closable<I> {
    io: I,
    handle: ConnHandle,
}

impl<I: AsyncRead + Unpin> AsyncRead for Closable<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let close = &this.handle.0;
        close.reader.register(cx.waker());
        match close.state.load(Ordering::Acquire) {
            CLOSE_NOW => Poll::Ready(Ok(())),
            DROP_NEXT_REQUEST => {
                let before = buf.filled().len();
                ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
                if buf.filled().len() > before {
                    buf.set_filled(before);
                    close.stats.record_dropped_request();
                    this.handle.set(CLOSE_NOW);
                }
                Poll::Ready(Ok(()))
            }
            _ => Pin::new(&mut this.io).poll_read(cx, buf),
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Closable<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Middleware: with `--close-after-response`, `?fail=status-close:<code>` or
/// `?fail=close-idle`, the response's body asks for its connection's close as its last frame
/// leaves; `?fail=connection-close` and `?fail=http10` answer so that hyper closes after the
/// response.
pub(crate) async fn close_connections(
    State(app): State<Arc<App>>,
    req: Request,
    next: Next,
) -> Response {
    let conn = req.extensions().get::<ConnectInfo<ConnHandle>>().map(|c| c.0.clone());
    let fault = Query::<MockQuery>::try_from_uri(req.uri())
        .ok()
        .and_then(|q| q.fail.as_deref().and_then(|f| Fault::parse(f).ok()));
    let mut response = next.run(req).await;
    let state = match fault {
        Some(Fault::Connection(ConnFault::CloseIdle)) => DROP_NEXT_REQUEST,
        // hyper closes these itself after the response.
        Some(Fault::Connection(ConnFault::ConnectionClose)) => {
            let close = HeaderValue::from_static("close");
            response.headers_mut().insert(header::CONNECTION, close);
            return response;
        }
        Some(Fault::Connection(ConnFault::Http10)) => {
            *response.version_mut() = Version::HTTP_10;
            return response;
        }
        // Only this response's connection, as `--close-after-response` does for all.
        Some(Fault::StatusClose(_)) => CLOSE_NOW,
        _ if app.options.close_after_response => CLOSE_NOW,
        _ => return response,
    };
    match conn {
        Some(conn) => {
            response.map(|body| Body::new(CloseOnEnd { body, close: Some((conn, state)) }))
        }
        None => response,
    }
}

/// A response body that sets its connection's close state once its last frame is out.
struct CloseOnEnd {
    body: Body,
    close: Option<(ConnHandle, u8)>,
}

impl http_body::Body for CloseOnEnd {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        // hyper stops polling a body that says it has ended (a whole JSON answer), so the
        // last frame, not only the end, sets the state.
        if frame.is_none() || http_body::Body::is_end_stream(&self.body) {
            if let Some((conn, state)) = self.close.take() {
                conn.set(state);
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
