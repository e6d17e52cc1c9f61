//! Answers that are not the API's at all, for testing how a client reports them: a reverse
//! proxy's HTML error page (`?fail=html:<code>`), as nginx in front of an LLM server sends when
//! the upstream fails, and bytes of no format (`?fail=garbage:<bytes>`) under an SSE content
//! type, as a broken gateway or a misrouted port may send.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;

use super::plan::XorShift;

/// The answer to `fail=html:<code>`: nginx's error page for `code`, as `text/html` from
/// `Server: nginx`.
pub(crate) fn html_page(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    };
    let page = format!(
        "<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>\
         <hr><center>nginx</center></body></html>"
    );
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/html")),
        (header::SERVER, HeaderValue::from_static("nginx")),
    ];
    (status, headers, page).into_response()
}

/// Bytes a piece of `fail=garbage:<bytes>` holds: the body streams, as an SSE answer does.
const PIECE: usize = 16 << 10;

/// Seed of `fail=garbage:<bytes>`: every answer sends the same bytes, so a failure reproduces.
const SEED: u64 = 0x0067_6172_6261_6765;

/// The answer to `fail=garbage:<bytes>`: a 200 `text/event-stream` whose body is `bytes`
/// pseudo-random bytes (any of 0..=255, the same every time), in pieces, then the end.
pub(crate) fn garbage(bytes: u64) -> Response {
    let left = usize::try_from(bytes).unwrap_or(usize::MAX);
    let pieces = stream::unfold((XorShift::new(SEED), left), |(mut rng, left)| async move {
        (left > 0).then(|| {
            let piece = random_bytes(&mut rng, left.min(PIECE));
            (Ok::<_, std::io::Error>(piece), (rng, left - left.min(PIECE)))
        })
    });
    let mut resp = Response::new(Body::from_stream(pieces));
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// `n` bytes of `rng`, eight a draw.
fn random_bytes(rng: &mut XorShift, n: usize) -> Bytes {
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(n);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(resp: Response) -> Vec<u8> {
        axum::body::to_bytes(resp.into_body(), 32 << 20).await.expect("a body").to_vec()
    }

    #[tokio::test]
    async fn the_page_names_the_code_and_its_reason() {
        let page = String::from_utf8(body_of(html_page(504)).await).unwrap();
        assert!(page.starts_with("<html><head><title>504 Gateway Timeout</title>"), "{page}");
        assert!(page.contains("<h1>504 Gateway Timeout</h1>"));
        let page = String::from_utf8(body_of(html_page(599)).await).unwrap();
        assert!(page.contains("<title>599</title>"), "no reason phrase: the code alone");
    }

    #[tokio::test]
    async fn garbage_is_exactly_as_long_and_the_same_every_time() {
        for n in [0, 1, 7, 8, 9, PIECE as u64, PIECE as u64 * 3 + 5] {
            let bytes = body_of(garbage(n)).await;
            assert_eq!(bytes.len() as u64, n);
            assert_eq!(bytes, body_of(garbage(n)).await, "deterministic");
        }
        let long = body_of(garbage(1 << 16)).await;
        let short = body_of(garbage(100)).await;
        assert_eq!(long[..100], short, "one sequence, whatever the length");
        let mut seen = [false; 256];
        long.iter().for_each(|&b| seen[usize::from(b)] = true);
        assert!(seen.iter().all(|&s| s), "every byte value occurs");
    }
}
