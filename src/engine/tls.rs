//! TLS for the engine's connections: rustls with the `ring` provider; certificates checked by
//! the platform's verifier, with the CA certificates of `--cacert` trusted too, or not checked
//! at all with `--insecure`.

use std::sync::{Arc, Once};

use anyhow::Context as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

use crate::config::TlsOptions;

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
/// by the operating system's verifier (so corporate roots work as in a browser) plus the
/// `--cacert` file, or not at all with `--insecure`; ALPN offering HTTP/2 first and HTTP/1.1 as
/// the fallback.
pub fn client_config(options: &TlsOptions) -> anyhow::Result<Arc<ClientConfig>> {
    install_tls_provider();
    let builder = ClientConfig::builder();
    let provider = Arc::clone(builder.crypto_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match options.insecure {
        true => Arc::new(NoCertificateCheck(provider)),
        false => {
            let extra = options.ca_certificates()?;
            let verifier = Verifier::new_with_extra_roots(extra, provider);
            Arc::new(match &options.ca_file {
                Some(file) => verifier.with_context(|| {
                    format!(
                        "cannot set up TLS verification with the CA certificates of {}",
                        file.display()
                    )
                })?,
                None => verifier.context("cannot load the system's TLS certificate verifier")?,
            })
        }
    };
    let mut config =
        builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// `--insecure`: accepts any certificate for any name, like `curl -k`. The handshake
/// signatures are still verified with the provider's algorithms: the peer must hold the key of
/// the certificate it sent, so the session is encrypted to *that* key, only not authenticated.
#[derive(Debug)]
struct NoCertificateCheck(Arc<CryptoProvider>);

impl ServerCertVerifier for NoCertificateCheck {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
