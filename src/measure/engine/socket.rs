//! Opening the byte stream under a connection: TCP (`TCP_NODELAY`), to the target or to its
//! proxy (a `CONNECT` tunnel for https), then TLS for https.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OnceCell;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::proxy::{self, Proxy};
use super::target::Target;
use crate::measure::record::{ErrorClass, Failure};

/// A connected socket, plain or TLS. An enum rather than a boxed trait object: the hot path
/// reads through it, and a match is cheaper than dynamic dispatch.
pub enum Socket {
    /// Plain TCP (http).
    Plain(TcpStream),
    /// TLS over TCP (https); boxed because a TLS session is large.
    Tls(Box<TlsStream<TcpStream>>),
}

/// Connects to `target`, through its proxy when it has one; for https also does the TLS
/// handshake (end to end with the target, through a proxy's tunnel). Returns the socket and
/// whether to speak HTTP/2 (ALPN chose `h2`, or the target is HTTP/2 with prior knowledge).
///
/// Errors are `connect` (DNS, refused, unreachable, a proxy's refusal) or `tls` (handshake,
/// certificate).
pub async fn connect(target: &Target) -> Result<(Socket, bool), Failure> {
    let tcp = match target.proxy() {
        Some(proxy) => via_proxy(target, proxy).await?,
        None => tcp_connect(target.addrs().await).await.map_err(|e| {
            Failure::new(ErrorClass::Connect, format!("cannot connect to {target}: {e}"))
        })?,
    };
    let Some((config, name)) = target.tls() else {
        return Ok((Socket::Plain(tcp), target.h2_prior_knowledge()));
    };
    let tls = TlsConnector::from(config.clone()).connect(name.clone(), tcp).await.map_err(|e| {
        let via = target.proxy().map(|p| format!(" (through proxy {p})")).unwrap_or_default();
        Failure::new(ErrorClass::Tls, format!("TLS handshake with {target}{via} failed: {e}"))
    })?;
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    Ok((Socket::Tls(Box::new(tls)), h2))
}

/// A TCP connection to `proxy`; for an https target, tunnelled on to it.
async fn via_proxy(target: &Target, proxy: &Proxy) -> Result<TcpStream, Failure> {
    let mut tcp = tcp_connect(proxy.addrs().await).await.map_err(|e| {
        Failure::new(ErrorClass::Connect, format!("cannot connect to proxy {proxy}: {e}"))
    })?;
    if target.tls().is_some() {
        proxy::open_tunnel(&mut tcp, proxy, &target.host_port()).await?;
    }
    Ok(tcp)
}

/// Tries the addresses in order, like `TcpStream::connect`, but with DNS answered once per
/// run.
async fn tcp_connect(addrs: io::Result<&[SocketAddr]>) -> io::Result<TcpStream> {
    let mut last = None;
    for addr in addrs? {
        match TcpStream::connect(addr).await {
            Ok(tcp) => {
                // Without it, small writes wait for ACKs (Nagle) and add latency to requests.
                tcp.set_nodelay(true)?;
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no address to connect to")))
}

/// The addresses of `host:port`, looked up on first use and kept in `cell` (a failed lookup
/// is retried next time), so 2,048 workers do not each ask DNS.
pub(super) async fn resolve_once<'a>(
    cell: &'a OnceCell<Vec<SocketAddr>>,
    host: &str,
    port: u16,
) -> io::Result<&'a [SocketAddr]> {
    let addrs = cell
        .get_or_try_init(|| async {
            let found: Vec<_> = tokio::net::lookup_host((host, port)).await?.collect();
            match found.is_empty() {
                true => Err(io::Error::other(format!("no address for {host}"))),
                false => Ok(found),
            }
        })
        .await?;
    Ok(addrs)
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Socket::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Socket::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Socket::Tls(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Socket::Plain(s) => s.is_write_vectored(),
            Socket::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Plain(s) => Pin::new(s).poll_flush(cx),
            Socket::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Socket::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
