//! HTTPS end to end: the mock serving TLS with a throwaway CA made at test time (rcgen), and
//! streamperf trusting it with `--cacert`, refusing it without, and skipping the check with
//! `--insecure`. Everything stays on localhost; each test sends a handful of requests.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
#[path = "support/pki.rs"]
mod pki;
mod support;

use pki::{Pki, pki};
use streamperf::cli::RunArgs;
use streamperf::config::Config;
use streamperf::mock::{MockOptions, MockServer};
use streamperf::record::ErrorClass;
use streamperf::report::json::read_result;
use support::{CHAT_BODY, run_args};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

async fn start_tls_mock(pki: &Pki, ttft_ms: u64) -> MockServer {
    let options = MockOptions {
        port: 0,
        ttft_ms,
        itl_ms: 2,
        tokens: 4,
        tls_cert: Some(pki.cert.clone()),
        tls_key: Some(pki.key.clone()),
        ..MockOptions::default()
    };
    MockServer::start(options).await.expect("TLS mock starts")
}

/// The shared flags with a short timeout: a TLS failure must not wait 300 s.
fn args(url: String, requests: u64, concurrency: u64, dir: &Path) -> RunArgs {
    RunArgs { timeout: Some(5.0), ..support::args(url, requests, concurrency, dir) }
}

/// The chat URL by name, so that the certificate's DNS name is what gets checked.
fn chat_url(mock: &MockServer) -> String {
    format!("https://localhost:{}/v1/chat/completions", mock.addr.port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cacert_trusts_a_private_ca_and_alpn_picks_http2() {
    let pki = pki();
    let mock = start_tls_mock(&pki, 200).await;
    let mut args = args(chat_url(&mock), 12, 4, pki.dir.path());
    args.cacert = Some(pki.ca.clone());
    let out = run_args(&args).await;

    let summary = &out.result.summary;
    assert_eq!(summary.success_count, 12, "{:?}", summary.failure_examples);
    let ttft = summary.ttft.as_ref().expect("ttft measured");
    assert!((0.200..=0.215).contains(&ttft.p50), "TTFT p50 {} not in [0.200, 0.215]", ttft.p50);
    assert_eq!(out.result.metrics[0].output_tokens, Some(4));
    let snap = mock.stats.snapshot();
    assert_eq!(snap.requests, 12);
    assert_eq!(snap.http2_requests, 12, "ALPN chose h2 for every connection: {snap:?}");
    assert_eq!(snap.connections, 4, "one TLS connection per worker, kept alive: {snap:?}");
    assert!(out.result.metrics.iter().all(|r| r.connect.is_none()), "all opened before the clock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_ca_fails_every_request_as_tls_and_the_result_stays_valid() {
    let pki = pki();
    let mock = start_tls_mock(&pki, 1).await;
    let out = run_args(&args(chat_url(&mock), 3, 3, pki.dir.path())).await;

    let summary = &out.result.summary;
    assert_eq!(summary.failures.get(&ErrorClass::Tls), Some(&3), "{:?}", summary.failures);
    for record in &out.result.metrics {
        let error = record.error.as_deref().unwrap_or_default();
        assert!(error.contains("UnknownIssuer"), "{error}");
    }
    let path = out.result_path.expect("result written");
    assert_eq!(read_result(&path).expect("valid result file").summary.failed_count, 3);
    assert_eq!(mock.stats.snapshot().requests, 0, "no request got past the handshake");
}

/// `-k` in the seed form (no subcommand), through the binary: the run succeeds and stderr
/// carries exactly one warning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_skips_verification_with_one_warning() {
    let pki = pki();
    let mock = start_tls_mock(&pki, 1).await;
    let (url, dir) = (chat_url(&mock), pki.dir.path().to_owned());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
            .args([
                "-k",
                "-u",
                &url,
                "-n",
                "4",
                "-p",
                "2",
                "-q",
                "--body",
                CHAT_BODY,
                "--no-history",
            ])
            .args(["-o", "r.json"])
            .current_dir(&dir)
            .env("LANG", "C")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.contains("warning")).count(), 1, "{stderr}");
    assert!(stderr.contains("--insecure"), "{stderr}");
    let result = read_result(&pki.dir.path().join("r.json")).expect("valid result file");
    assert_eq!(result.summary.success_count, 4, "{:?}", result.summary.failure_examples);
    assert_eq!(mock.stats.snapshot().http2_requests, 4);
}

#[test]
fn a_cacert_that_is_not_pem_is_a_setup_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not-a-cert.der");
    std::fs::write(&not_pem, [0x30, 0x82, 0x01, 0x0a, 0x02, 0x82]).unwrap();
    let missing = dir.path().join("missing-ca.pem");
    for file in [not_pem, missing] {
        let mut args = args("https://localhost:1/v1".into(), 1, 1, dir.path());
        args.cacert = Some(file.clone());
        let err = Config::resolve(&args).expect_err("bad CA file").to_string();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(err.contains("--cacert") && err.contains(&name), "{err}");
    }
}

/// The mock also speaks HTTP/1.1 over TLS to a client that offers only `http/1.1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_mock_serves_http1_when_alpn_asks_for_it() {
    let pki = pki();
    let mock = start_tls_mock(&pki, 1).await;
    streamperf::engine::tls::install_tls_provider();
    let mut roots = rustls::RootCertStore::empty();
    let ca = std::fs::read(&pki.ca).unwrap();
    roots.add_parsable_certificates(
        rustls::pki_types::pem::PemObject::pem_slice_iter(&ca).map(Result::unwrap),
    );
    let mut config =
        rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let exchange = async {
        let tcp = tokio::net::TcpStream::connect(mock.addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls =
            tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        let request = "POST /v1/stream?tokens=2&ttft_ms=1&itl_ms=1 HTTP/1.1\r\n\
                       Host: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        tls.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        // The server closes after its reply; an unclean TLS close is not this test's concern.
        let _ = tls.read_to_end(&mut response).await;
        String::from_utf8_lossy(&response).into_owned()
    };
    let response = tokio::time::timeout(Duration::from_secs(5), exchange).await.expect("bounded");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let snap = mock.stats.snapshot();
    assert_eq!((snap.requests, snap.http2_requests), (1, 0));
}

#[tokio::test]
async fn the_mock_needs_both_certificate_and_key() {
    let pki = pki();
    let options =
        MockOptions { port: 0, tls_cert: Some(pki.cert.clone()), ..MockOptions::default() };
    let err = MockServer::start(options).await.expect_err("key missing").to_string();
    assert!(err.contains("--tls-key"), "{err}");
}

/// A self-signed certificate as `openssl req -x509` makes it by default: a CA certificate
/// (`CA:TRUE`) for `names`, valid until `not_after`, to be served as the server's own. The
/// files are `cert.pem` and `key.pem` in `dir`.
fn self_signed_ca(dir: &Path, names: &[&str], not_after: (i32, u8, u8)) -> (PathBuf, PathBuf) {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let cert = params.self_signed(&key).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

/// The mock serving `cert`/`key`; a run of 3 requests to it as `url_host`, trusting `cacert`.
async fn run_against_self_signed(
    cert: &Path,
    key: &Path,
    cacert: &Path,
    url_host: &str,
) -> streamperf::run::RunOutput {
    let options = MockOptions {
        port: 0,
        ttft_ms: 1,
        itl_ms: 1,
        tokens: 4,
        tls_cert: Some(cert.to_owned()),
        tls_key: Some(key.to_owned()),
        ..MockOptions::default()
    };
    let mock = MockServer::start(options).await.expect("TLS mock starts");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://{url_host}:{}/v1/chat/completions", mock.addr.port());
    let mut args = args(url, 3, 3, dir.path());
    args.cacert = Some(cacert.to_owned());
    run_args(&args).await
}

/// The README promises `--cacert` for self-signed servers: the default `openssl req -x509`
/// certificate is a CA certificate, which webpki refuses as a server's own ("CA used as end
/// entity"). Trusted explicitly, byte for byte, it is accepted, as curl does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cacert_trusts_a_self_signed_ca_certificate_used_as_the_servers_own() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed_ca(dir.path(), &["localhost", "127.0.0.1"], (4000, 1, 1));
    for host in ["localhost", "127.0.0.1"] {
        let out = run_against_self_signed(&cert, &key, &cert, host).await;
        let summary = &out.result.summary;
        assert_eq!(summary.failed_count, 0, "{host}: {:?}", summary.failure_examples);
        assert_eq!(summary.success_count, 3);
    }
}

/// Trusting the certificate never skips the rest: another self-signed CA is still unknown, the
/// trusted one under a name it was not issued for is refused, and so is an expired one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_server_is_still_checked_for_issuer_name_and_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["localhost"];
    let (cert, key) = self_signed_ca(&dir.path().join("server"), &names, (4000, 1, 1));
    let (other, _) = self_signed_ca(&dir.path().join("other"), &names, (4000, 1, 1));
    let (expired, expired_key) = self_signed_ca(&dir.path().join("expired"), &names, (2001, 1, 1));
    let cases = [
        (&cert, &key, &other, "localhost", "UnknownIssuer"),
        (&cert, &key, &cert, "127.0.0.1", "not valid for name"),
        (&expired, &expired_key, &expired, "localhost", "certificate expired"),
    ];
    for (cert, key, cacert, host, expected) in cases {
        let out = run_against_self_signed(cert, key, cacert, host).await;
        let summary = &out.result.summary;
        assert_eq!(summary.failures.get(&ErrorClass::Tls), Some(&3), "{expected}: {summary:?}");
        for record in &out.result.metrics {
            let error = record.error.as_deref().unwrap_or_default();
            assert!(error.contains("TLS handshake") && error.contains(expected), "{error}");
        }
    }
}

/// A certificate that is never trusted: no request ever gets a connection, so the run stops
/// as `unreachable` and the report suspects the certificate rather than the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_stops_the_run_naming_the_certificate() {
    let pki = pki();
    let mock = start_tls_mock(&pki, 1).await;
    let out = run_args(&args(chat_url(&mock), 100, 10, pki.dir.path())).await;
    let summary = &out.result.summary;
    assert_eq!(out.result.run.stop_reason, Some(streamperf::engine::StopReason::Unreachable));
    assert!(summary.total_requests < 100, "stopped early: {summary:?}");
    assert!(
        out.report.contains("(20 connect failures in a row): is its certificate trusted"),
        "{}",
        out.report
    );
}
