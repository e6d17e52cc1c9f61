//! TLS for the engine's connections: rustls with the `ring` provider, the platform's roots.

use std::sync::{Arc, Once};

use anyhow::Context as _;
use rustls::ClientConfig;
use rustls_platform_verifier::BuilderVerifierExt as _;

/// Installs rustls' `ring` provider once per process, so that only one TLS stack is compiled
/// (ring builds much faster than aws-lc) and every `ClientConfig::builder()` finds it.
pub fn install_tls_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The client configuration shared by every https connection of a run: certificates checked
/// by the operating system's verifier (so corporate roots work as in a browser), ALPN offering
/// HTTP/2 first and HTTP/1.1 as the fallback.
pub fn client_config() -> anyhow::Result<Arc<ClientConfig>> {
    install_tls_provider();
    let mut config = ClientConfig::builder()
        .with_platform_verifier()
        .context("cannot load the system's TLS certificate verifier")?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
