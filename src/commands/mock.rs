//! `streamperf mock`: the built-in mock server in the foreground, until Ctrl-C.

use std::time::Duration;

use anyhow::Context;

use crate::mock::{MockOptions, MockServer};

/// Serves until Ctrl-C, then prints a one-line summary.
pub async fn run(options: MockOptions) -> anyhow::Result<()> {
    // Every stream served holds a socket: take all the descriptors the hard limit allows.
    crate::limits::raise_descriptor_limit();
    let server = MockServer::start(options).await?;
    crate::outln!("streamperf mock listening on {}\n\n{}", server.url(""), crate::mock::listing());
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    let s = server.stats.snapshot();
    crate::outln!(
        "streamperf mock: {} requests, peak {} in flight ({} generating), first content p50 \
         {:.1} ms, p99 {:.1} ms",
        s.requests,
        s.max_in_flight,
        s.max_generating,
        s.first_content_us.p50 as f64 / 1000.0,
        s.first_content_us.p99 as f64 / 1000.0,
    );
    // Streams still running get a moment to finish; a user who pressed Ctrl-C won't wait long.
    match tokio::time::timeout(Duration::from_secs(2), server.shutdown()).await {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}
