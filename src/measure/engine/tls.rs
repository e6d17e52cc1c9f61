//! TLS for the engine's connections: rustls with the `ring` provider; certificates checked by
//! the platform's verifier, with the CA certificates of `--cacert` trusted too, or not checked
//! at all with `--insecure`.
//!
//! A self-signed server certificate made the usual way (`openssl req -x509`) is a CA
//! certificate, which webpki refuses as a server's own. When it is byte for byte one of the
//! `--cacert` certificates it is trusted explicitly, as curl does: its name and validity are
//! still checked, and the handshake proves the server holds its key.

use std::sync::{Arc, Once};

use anyhow::Context as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_platform_verifier::Verifier;

use super::TlsOptions;

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
        false => Arc::new(CacertVerifier::new(options, provider)?),
    };
    let mut config =
        builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The platform's verifier with the `--cacert` certificates as extra roots, which also accepts
/// a server presenting one of those certificates itself (see the module docs).
#[derive(Debug)]
struct CacertVerifier {
    platform: Verifier,
    /// The `--cacert` certificates, as roots for [`verify_server_cert_signed_by_trust_anchor`].
    roots: RootCertStore,
    cacerts: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl CacertVerifier {
    fn new(options: &TlsOptions, provider: Arc<CryptoProvider>) -> anyhow::Result<Self> {
        let cacerts = options.ca_certificates()?;
        let platform = Verifier::new_with_extra_roots(cacerts.clone(), Arc::clone(&provider));
        let platform = match &options.ca_file {
            Some(file) => platform.with_context(|| {
                format!(
                    "cannot set up TLS verification with the CA certificates of {}",
                    file.display()
                )
            })?,
            None => platform.context("cannot load the system's TLS certificate verifier")?,
        };
        let mut roots = RootCertStore::empty();
        // Each was checked to be a usable root when the file was read.
        roots.add_parsable_certificates(cacerts.iter().cloned());
        Ok(CacertVerifier { platform, roots, cacerts, provider })
    }

    /// `end_entity` is one of the `--cacert` certificates: valid now and for `name`?
    fn verify_trusted_itself(
        &self,
        end_entity: &CertificateDer<'_>,
        name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        let algorithms = self.provider.signature_verification_algorithms.all;
        // webpki checks the validity period before it refuses a CA certificate as an end
        // entity: that refusal, and only it, leaves the dates checked and good.
        match verify_server_cert_signed_by_trust_anchor(&cert, &self.roots, &[], now, algorithms) {
            Ok(()) => {}
            Err(e) if is_ca_used_as_end_entity(&e) => {}
            Err(e) => return Err(e),
        }
        verify_server_name(&cert, name)
    }
}

/// webpki's refusal of a CA certificate presented as the server's own.
fn is_ca_used_as_end_entity(err: &rustls::Error) -> bool {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            matches!(other.0.downcast_ref(), Some(webpki::Error::CaUsedAsEndEntity))
        }
        _ => false,
    }
}

impl ServerCertVerifier for CacertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.platform.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let Err(err) = verdict else { return verdict };
        if self.cacerts.iter().any(|ca| ca.as_ref() == end_entity.as_ref()) {
            self.verify_trusted_itself(end_entity, server_name, now)?;
            return Ok(ServerCertVerified::assertion());
        }
        Err(match is_ca_used_as_end_entity(&err) {
            // A self-signed certificate nobody trusted: "unknown issuer" says what to do
            // (`--cacert` it), "CA used as end entity" only what it is.
            true => CertificateError::UnknownIssuer.into(),
            false => err,
        })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.platform.supported_verify_schemes()
    }
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
