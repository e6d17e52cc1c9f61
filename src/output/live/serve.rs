//! The `--metrics-listen ADDR` endpoint: a small HTTP/1.1 server that hands Prometheus the
//! newest live page ([`live_exposition`](super::exposition::live_exposition)).
//!
//! The run renders the page on its own schedule into a shared string; a scrape only copies that
//! string under the lock, so a scraper, however slow or frequent, never waits on the run and
//! the run never waits on it. HTTP/1.1 only: it is what Prometheus scrapes with, and the server
//! side of hyper's HTTP/1 is all it takes.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::output::export::prometheus::CONTENT_TYPE;

/// The type of the answers that are not the exposition.
const TEXT: &str = "text/plain; charset=utf-8";

/// What `GET /` says: where the metrics are.
const POINTER: &str = "streamperf: Prometheus metrics are at /metrics\n";

/// What any other path says.
const NOT_FOUND: &str = "not found; Prometheus metrics are at /metrics\n";

/// How long open scrapes may take to finish once the server is told to stop.
const GRACE: Duration = Duration::from_secs(1);

/// How long to wait after a failed accept (out of file descriptors): not a busy loop.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Listens on `addr` (`HOST:PORT`; `:PORT` is every IPv4 interface, as exporters write it).
/// The error names the address and the flag, so "port in use" says which setting to change.
pub async fn bind_metrics(addr: &str) -> anyhow::Result<TcpListener> {
    let host_port = listen_address(addr);
    TcpListener::bind(&host_port)
        .await
        .with_context(|| format!("--metrics-listen {addr}: cannot listen on {host_port}"))
}

/// `addr` as the socket API takes it: `:PORT` becomes `0.0.0.0:PORT`.
fn listen_address(addr: &str) -> String {
    match addr.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => addr.to_string(),
    }
}

/// Serves `text` at `/metrics` on `listener` until `stop` becomes true (or its sender is
/// dropped: nobody is left to stop it). Then it stops accepting, lets open scrapes finish for
/// up to a second, and returns; the listener is closed.
pub async fn serve_metrics(
    listener: TcpListener,
    text: Arc<Mutex<String>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, text.clone(), stop.clone()));
                }
                Err(_) => tokio::time::sleep(ACCEPT_PAUSE).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, async { while connections.join_next().await.is_some() {} })
        .await;
}

/// Resolves once `stop` is true or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|&stop| stop).await;
}

/// One client's connection (keep-alive: Prometheus reuses it), closed gracefully on stop.
async fn connection(stream: TcpStream, text: Arc<Mutex<String>>, mut stop: watch::Receiver<bool>) {
    let service = service_fn(move |request| {
        let response = answer(&request, &text);
        async move { Ok::<_, Infallible>(response) }
    });
    // The timer makes hyper's header-read timeout (30 s) apply: a silent client is let go.
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// The response to `request`: the page, the pointer, 405 for another method, else 404.
fn answer<B>(request: &Request<B>, text: &Mutex<String>) -> Response<Full<Bytes>> {
    let readable = matches!(*request.method(), Method::GET | Method::HEAD);
    match (request.uri().path(), readable) {
        ("/metrics", true) => plain(StatusCode::OK, CONTENT_TYPE, lock(text).clone()),
        ("/", true) => plain(StatusCode::OK, TEXT, POINTER.into()),
        ("/metrics" | "/", false) => {
            let mut response =
                plain(StatusCode::METHOD_NOT_ALLOWED, TEXT, "only GET and HEAD\n".into());
            let allow = header::HeaderValue::from_static("GET, HEAD");
            response.headers_mut().insert(header::ALLOW, allow);
            response
        }
        _ => plain(StatusCode::NOT_FOUND, TEXT, NOT_FOUND.into()),
    }
}

fn plain(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    response
}

/// The text, even if a writer panicked while holding it (a page is replaced whole).
fn lock(text: &Mutex<String>) -> std::sync::MutexGuard<'_, String> {
    text.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A running server on a free port of 127.0.0.1: its address, its text, its stop switch.
    struct Running {
        addr: SocketAddr,
        text: Arc<Mutex<String>>,
        stop: watch::Sender<bool>,
        task: tokio::task::JoinHandle<()>,
    }

    async fn start(page: &str) -> Running {
        let listener = bind_metrics("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let text = Arc::new(Mutex::new(page.to_string()));
        let (stop, stopping) = watch::channel(false);
        let task = tokio::spawn(serve_metrics(listener, text.clone(), stopping));
        Running { addr, text, stop, task }
    }

    /// `METHOD path` over a plain socket: the status code, the Content-Type and the body.
    async fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let status = head[9..12].parse().unwrap();
        let content_type = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_string))
            .unwrap_or_default();
        (status, content_type, body.to_string())
    }

    #[tokio::test]
    async fn get_metrics_returns_the_newest_text_as_prometheus_text() {
        let server = start("# HELP a x\n# TYPE a gauge\na 1\n").await;
        let (status, content_type, body) = request(server.addr, "GET", "/metrics").await;
        assert_eq!((status, content_type.as_str()), (200, CONTENT_TYPE));
        assert_eq!(body, "# HELP a x\n# TYPE a gauge\na 1\n");
        *server.text.lock().unwrap() = "# HELP a x\n# TYPE a gauge\na 2\n".into();
        let (_, _, body) = request(server.addr, "GET", "/metrics?from=prometheus").await;
        assert!(body.ends_with("a 2\n"), "the page as it is now: {body}");
    }

    #[tokio::test]
    async fn the_root_points_to_metrics_and_other_paths_are_not_found() {
        let server = start("a 1\n").await;
        let (status, _, body) = request(server.addr, "GET", "/").await;
        assert_eq!((status, body.as_str()), (200, POINTER));
        let (status, _, body) = request(server.addr, "GET", "/metric").await;
        assert_eq!(status, 404);
        assert!(body.contains("/metrics"), "{body}");
        assert_eq!(request(server.addr, "POST", "/metrics").await.0, 405);
        let (status, _, body) = request(server.addr, "HEAD", "/metrics").await;
        assert_eq!((status, body.as_str()), (200, ""), "HEAD: the head only");
    }

    #[tokio::test]
    async fn stop_ends_the_server_even_with_a_connection_kept_open() {
        let server = start("a 1\n").await;
        let mut idle = TcpStream::connect(server.addr).await.unwrap();
        idle.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut first = [0; 12];
        idle.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        server.stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server.task).await.unwrap().unwrap();
        assert!(TcpStream::connect(server.addr).await.is_err(), "the port is closed");
    }

    #[tokio::test]
    async fn dropping_the_stop_switch_ends_the_server_too() {
        let Running { stop, task, .. } = start("a 1\n").await;
        drop(stop);
        tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_port_in_use_names_the_address_and_the_flag() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let error = format!("{:#}", bind_metrics(&addr).await.unwrap_err());
        assert!(error.starts_with(&format!("--metrics-listen {addr}: cannot listen")), "{error}");
        assert!(error.to_lowercase().contains("in use"), "the cause is kept: {error}");
    }

    #[test]
    fn a_bare_port_means_every_interface() {
        assert_eq!(listen_address(":9464"), "0.0.0.0:9464");
        assert_eq!(listen_address("127.0.0.1:9464"), "127.0.0.1:9464");
        assert_eq!(listen_address("localhost:9464"), "localhost:9464");
    }
}
