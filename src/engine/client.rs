//! The one HTTP client of a run: keep-alive pool, HTTP/1.1 and HTTP/2, rustls TLS.

use std::sync::Once;
use std::time::Duration;

/// Installs rustls' `ring` provider once per process. reqwest is built without a bundled
/// provider so that only one TLS stack is compiled (ring builds much faster than aws-lc).
pub fn install_tls_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client whose pool keeps up to `pool` idle connections per host.
pub fn http_client(pool: usize, connect_timeout: Duration) -> reqwest::Client {
    install_tls_provider();
    reqwest::Client::builder()
        .pool_max_idle_per_host(pool)
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .no_proxy()
        .build()
        .expect("a client with these static options always builds")
}
