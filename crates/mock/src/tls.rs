//! HTTPS for the mock (`--tls-cert`, `--tls-key`): a listener that does the TLS handshake in
//! front of the same axum router, offering ALPN `h2` and `http/1.1`. axum's server detects the
//! protocol of each connection by itself (hyper-util's `auto` builder), so both are served.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to finish its handshake before the mock gives up on it.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshaken connections waiting for the server to take them; beyond this the handshake tasks
/// wait, which stops the accept loop from running arbitrarily far ahead of the server.
const QUEUE: usize = 1024;

/// The server side of TLS from a PEM certificate chain and its PEM private key.
pub(crate) fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| {
            format!("`--tls-cert`: cannot read certificates from {}", cert.display())
        })?;
    if chain.is_empty() {
        anyhow::bail!("`--tls-cert`: {} holds no PEM certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| {
        format!("`--tls-key`: cannot read a private key from {}", key.display())
    })?;
    // Its own provider rather than the process-wide default, which the client may install.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS: the ring provider offers no safe protocol version")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("`--tls-cert`/`--tls-key`: the key does not fit the certificate")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// An axum [`Listener`](axum::serve::Listener) yielding TLS connections. Each handshake runs in
/// its own task so that a slow or failing client does not hold up the accept loop; a failed
/// handshake is dropped (the client sees the error).
pub(crate) struct TlsListener {
    addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accept_loop: JoinHandle<()>,
}

impl TlsListener {
    /// Takes over `listener`; `on_accept` runs for every TCP connection accepted, before its
    /// handshake.
    pub(crate) fn new(
        listener: TcpListener,
        config: Arc<ServerConfig>,
        on_accept: impl Fn() + Send + 'static,
    ) -> io::Result<TlsListener> {
        let addr = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, ready) = mpsc::channel(QUEUE);
        let accept_loop = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        accept_error(e).await;
                        continue;
                    }
                };
                on_accept();
                // As serving engines do: a small event must not wait for the last one's ACK.
                let _ = tcp.set_nodelay(true);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let handshake = acceptor.accept(tcp);
                    if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                        // Err: the server has stopped; the connection just closes.
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener { addr, ready, accept_loop })
    }
}

/// Per-connection errors (the client gave up) are ignored; others (out of descriptors) get a
/// pause so the loop does not spin, as axum does for plain TCP.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Drop for TlsListener {
    /// The server dropped the listener (graceful shutdown): stop accepting, free the port.
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // Only when the accept loop has ended, which it does only when aborted by `drop`.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
