//! A small HTTP proxy for the proxy tests, on 127.0.0.1: it forwards absolute-form requests
//! and opens `CONNECT` tunnels, always to one upstream address (the mock, whatever host the
//! client names), and counts what it relays. It can demand a `Proxy-Authorization` value and
//! answers 407 without it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{self, AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy relayed.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Requests forwarded.
    pub forwarded: AtomicU64,
    /// `CONNECT` tunnels opened.
    pub tunnels: AtomicU64,
    /// Answers 407 (missing or wrong `Proxy-Authorization`).
    pub refused: AtomicU64,
    /// Each forwarded request's target and each `CONNECT`'s authority, as the client sent them.
    pub targets: Mutex<Vec<String>>,
    /// Each `Proxy-Authorization` received (`None` where there was none).
    pub authorizations: Mutex<Vec<Option<String>>>,
}

impl ProxyStats {
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::Relaxed)
    }

    pub fn tunnels(&self) -> u64 {
        self.tunnels.load(Ordering::Relaxed)
    }

    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }

    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.authorizations.lock().unwrap().clone()
    }

    /// Remembers what `head` asked for and the credentials it carried.
    fn note(&self, head: &Head) {
        let target = head.line.split(' ').nth(1).unwrap_or_default().to_owned();
        self.targets.lock().unwrap().push(target);
        let auth = head.header("proxy-authorization").map(str::to_owned);
        self.authorizations.lock().unwrap().push(auth);
    }
}

/// The proxy, serving until dropped.
pub struct TestProxy {
    pub addr: SocketAddr,
    pub stats: Arc<ProxyStats>,
    task: JoinHandle<()>,
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestProxy {
    /// Relays to `upstream`; with `require_auth`, only clients sending that
    /// `Proxy-Authorization` value get through.
    pub async fn start(upstream: SocketAddr, require_auth: Option<String>) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = Arc::new(ProxyStats::default());
        let shared = Arc::clone(&stats);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (stats, auth) = (Arc::clone(&shared), require_auth.clone());
                tokio::spawn(async move {
                    let _ = serve(client, upstream, auth, stats).await;
                });
            }
        });
        TestProxy { addr, stats, task }
    }

    /// `http://127.0.0.1:PORT`, for `--proxy`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A request head: its first line and its header lines.
struct Head {
    line: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

async fn read_head(reader: &mut BufReader<OwnedReadHalf>) -> io::Result<Option<Head>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut head = Head { line: line.trim_end().to_owned(), headers: Vec::new() };
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        match line.trim_end().split_once(':') {
            Some((name, value)) => head.headers.push((name.into(), value.trim().into())),
            None => return Ok(Some(head)),
        }
    }
}

async fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    require_auth: Option<String>,
    stats: Arc<ProxyStats>,
) -> io::Result<()> {
    let (read, mut write) = client.into_split();
    let mut reader = BufReader::new(read);
    let Some(mut head) = read_head(&mut reader).await? else { return Ok(()) };
    if require_auth.is_some() && head.header("proxy-authorization") != require_auth.as_deref() {
        stats.refused.fetch_add(1, Ordering::Relaxed);
        let refusal = "HTTP/1.1 407 Proxy Authentication Required\r\n\
                       Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\
                       Connection: close\r\n\r\n";
        return write.write_all(refusal.as_bytes()).await;
    }
    let mut server = TcpStream::connect(upstream).await?;

    if head.line.starts_with("CONNECT ") {
        stats.note(&head);
        stats.tunnels.fetch_add(1, Ordering::Relaxed);
        write.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await?;
        let mut client = reader.into_inner().reunite(write).expect("halves of one stream");
        io::copy_bidirectional(&mut client, &mut server).await?;
        return Ok(());
    }

    // Forwarding: responses flow back untouched; requests are rewritten to origin form.
    let (server_read, mut server_write) = server.into_split();
    let responses = tokio::spawn(async move {
        let mut server_read = server_read;
        io::copy(&mut server_read, &mut write).await
    });
    loop {
        stats.note(&head);
        stats.forwarded.fetch_add(1, Ordering::Relaxed);
        let mut parts = head.line.splitn(3, ' ');
        let (method, target, version) =
            (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let path = match target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
            None => target,
        };
        let mut out = format!("{method} {path} {version}\r\n");
        for (name, value) in &head.headers {
            if !name.eq_ignore_ascii_case("proxy-authorization") {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        out.push_str("\r\n");
        server_write.write_all(out.as_bytes()).await?;
        let length: u64 = head.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        io::copy(&mut (&mut reader).take(length), &mut server_write).await?;
        head = match read_head(&mut reader).await? {
            Some(next) => next,
            None => break,
        };
    }
    server_write.shutdown().await?;
    let _ = responses.await;
    Ok(())
}
