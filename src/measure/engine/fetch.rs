//! One request outside the measurement, answered whole: what a run asks a server before it
//! starts (the models an OpenAI-compatible server serves). Same connections, TLS and proxies
//! as the measured requests; nothing is timed.

use std::time::Duration;

use bytes::Bytes;

use super::EngineSettings;
use super::conn::Connection;
use super::target::{self, RequestSpec};

/// The most of an answer kept: a models list is a few KB.
const MAX_BYTES: usize = 1 << 20;

/// `GET url` with `headers`: the status and the body (at most 1 MiB), or why it failed.
pub async fn get(
    settings: &EngineSettings,
    url: &str,
    headers: &[(String, String)],
) -> anyhow::Result<(u16, Bytes)> {
    let spec = RequestSpec { url: url.to_owned(), headers: headers.to_vec(), body: Bytes::new() };
    let prepared = target::prepare_all("GET", &[&spec], &settings.tls, &settings.proxy)?;
    let request = &prepared[0];
    let timeout = settings.timeout.min(Duration::from_secs(30));
    let work = async {
        let mut conn = Connection::open(request.target(), timeout)
            .await
            .map_err(|f| anyhow::anyhow!("{}", f.message))?;
        let response = conn.send(request.build(conn.is_h2())).await.map_err(|e| e.error)?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let (_, Some(frame)) = conn.frame(&mut body).await {
            bytes.extend_from_slice(&frame?);
            anyhow::ensure!(bytes.len() <= MAX_BYTES, "the answer is over {MAX_BYTES} bytes");
        }
        Ok((status, Bytes::from(bytes)))
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {} s", timeout.as_secs()))?
}
