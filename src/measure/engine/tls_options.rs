//! How https servers are verified: `--cacert FILE` (extra CA certificates, PEM) and
//! `-k/--insecure`. Flags only: the config file keeps the original tool's keys and has no TLS keys.

use std::path::{Path, PathBuf};

use anyhow::bail;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject as _};

/// TLS verification options of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file with one or more CA certificates, trusted in addition to the system's roots
    /// (`--cacert`): for servers behind a private CA or with a self-signed certificate.
    pub ca_file: Option<PathBuf>,
    /// Skip certificate verification (`-k/--insecure`). Handshake signatures are still checked,
    /// so the connection is encrypted, but the server is not authenticated.
    pub insecure: bool,
}

impl TlsOptions {
    /// The certificates of [`TlsOptions::ca_file`] (none without one), each checked to be
    /// usable as a trust anchor, so that a bad file fails setup, naming the file, rather than
    /// every handshake of the run.
    pub fn ca_certificates(&self) -> anyhow::Result<Vec<CertificateDer<'static>>> {
        match &self.ca_file {
            Some(path) => read_ca_file(path),
            None => Ok(Vec::new()),
        }
    }
}

fn read_ca_file(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let shown = path.display();
    let certs: Vec<_> =
        CertificateDer::pem_file_iter(path).and_then(Iterator::collect).map_err(|e| match e {
            pem::Error::Io(e) => anyhow::anyhow!("`--cacert`: cannot read {shown}: {e}"),
            e => anyhow::anyhow!("`--cacert`: {shown} is not a valid PEM file: {e}"),
        })?;
    if certs.is_empty() {
        bail!(
            "`--cacert`: {shown} holds no PEM certificate \
             (expected `-----BEGIN CERTIFICATE-----` blocks)"
        );
    }
    // The same check the verifier makes when it loads them; doing it here names the file.
    let mut store = RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        if let Err(e) = store.add(cert.clone()) {
            bail!("`--cacert`: certificate {} in {shown} cannot be used as a CA: {e}", i + 1);
        }
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(path: &Path) -> TlsOptions {
        TlsOptions { ca_file: Some(path.to_owned()), insecure: false }
    }

    #[test]
    fn no_file_no_certificates() {
        assert!(TlsOptions::default().ca_certificates().unwrap().is_empty());
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = options(&missing).ca_certificates().unwrap_err().to_string();
        assert!(err.contains("cannot read") && err.contains("missing.pem"), "{err}");

        let text = dir.path().join("text.pem");
        std::fs::write(&text, "not a certificate\n").unwrap();
        let err = options(&text).ca_certificates().unwrap_err().to_string();
        assert!(err.contains("no PEM certificate") && err.contains("text.pem"), "{err}");

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .unwrap();
        let err = options(&garbage).ca_certificates().unwrap_err().to_string();
        assert!(err.contains("cannot be used as a CA") && err.contains("garbage.pem"), "{err}");
    }
}
