//! Hides secrets (`Authorization`, `*api-key*` headers, `?key=` URL parameters, the
//! `user:password@` of proxy URLs and `${ENV}` values) from every output.
//!
//! Secrets are plain strings: everything that prints text (errors, result file, terminal) passes
//! it through [`Redactor::redact`], so a key that a server echoes back in an error body is hidden
//! too, not only the header that carried it.

/// Credentials shorter than this, found in a secret header or URL parameter, are not remembered:
/// hiding every `1` or `abc` in the output would garble it and such values protect nothing.
/// Values read from `${NAME}` are always remembered, whatever their length.
const MIN_IMPLICIT_SECRET_LEN: usize = 6;

/// Knows which strings are secret and replaces them.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so that a secret containing another is replaced whole.
    secrets: Vec<String>,
}

impl Redactor {
    /// Remembers `value` as a secret (empty values are ignored).
    pub fn add_secret(&mut self, value: impl Into<String>) {
        let value = value.into();
        if value.is_empty() || self.secrets.contains(&value) {
            return;
        }
        let at = self.secrets.partition_point(|s| s.len() >= value.len());
        self.secrets.insert(at, value);
    }

    /// Remembers the value of header `name` when the header carries a credential: the whole
    /// value and, for `Bearer xxx`-style values, the credential after the scheme.
    pub fn add_header(&mut self, name: &str, value: &str) {
        if !Self::is_secret_header(name) {
            return;
        }
        let value = value.trim();
        if value.len() >= MIN_IMPLICIT_SECRET_LEN {
            self.add_secret(value);
        }
        if let Some((_scheme, credential)) = value.split_once(' ') {
            let credential = credential.trim();
            if credential.len() >= MIN_IMPLICIT_SECRET_LEN {
                self.add_secret(credential);
            }
        }
    }

    /// Remembers the values of credential-like query parameters of `url` (`?key=…` as Gemini
    /// uses, `api_key`, `access_token`, …).
    pub fn add_url(&mut self, url: &str) {
        let Some((_, query)) = url.split_once('?') else {
            return;
        };
        let query = query.split('#').next().unwrap_or_default();
        for pair in query.split('&') {
            if let Some((name, value)) = pair.split_once('=')
                && Self::is_secret_param(name)
                && value.len() >= MIN_IMPLICIT_SECRET_LEN
            {
                self.add_secret(value);
            }
        }
    }

    /// Remembers the credentials of a URL's userinfo (`http://user:password@proxy:3128`):
    /// `user:password` as written and percent-decoded, always, and the password alone when it
    /// is long enough to be told apart from ordinary text.
    pub fn add_url_credentials(&mut self, url: &url::Url) {
        let Some(password) = url.password() else {
            return;
        };
        let decode =
            |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        for (user, password) in [
            (url.username().to_owned(), password.to_owned()),
            (decode(url.username()), decode(password)),
        ] {
            if password.len() >= MIN_IMPLICIT_SECRET_LEN {
                self.add_secret(password.clone());
            }
            self.add_secret(format!("{user}:{password}"));
        }
    }

    /// `text` with every secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }

    /// `value` with every string inside it (not object keys) redacted.
    pub fn redact_json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), self.redact_json(v))).collect())
            }
            other => other.clone(),
        }
    }

    /// Whether a header of this name carries a credential.
    pub fn is_secret_header(name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        n == "cookie"
            || n.contains("auth")
            || n.contains("api-key")
            || n.contains("api_key")
            || n.contains("apikey")
            || n.contains("token")
            || n.contains("secret")
            || n.contains("password")
            || n.contains("session")
    }

    /// Whether a URL query parameter of this name carries a credential.
    fn is_secret_param(name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        n == "key" || n == "sig" || n == "signature" || Self::is_secret_header(&n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_secret_wins() {
        let mut r = Redactor::default();
        r.add_secret("abc");
        r.add_secret("abcdef");
        assert_eq!(r.redact("x abcdef y abc"), "x *** y ***");
    }

    #[test]
    fn header_credentials() {
        let mut r = Redactor::default();
        r.add_header("Authorization", "Bearer sk-live-123456");
        r.add_header("Content-Type", "application/json");
        assert_eq!(r.redact("bad key sk-live-123456"), "bad key ***");
        assert_eq!(r.redact("application/json"), "application/json");
        assert!(Redactor::is_secret_header("X-Api-Key"));
        assert!(Redactor::is_secret_header("x-goog-api-key"));
        assert!(!Redactor::is_secret_header("Accept"));
    }

    #[test]
    fn url_parameters() {
        let mut r = Redactor::default();
        r.add_url("https://h/v1/models/x:streamGenerateContent?alt=sse&key=AIzaSecret#f");
        assert_eq!(
            r.redact("https://h/v1/models/x:streamGenerateContent?alt=sse&key=AIzaSecret"),
            "https://h/v1/models/x:streamGenerateContent?alt=sse&key=***"
        );
    }

    #[test]
    fn url_credentials() {
        let mut r = Redactor::default();
        r.add_url_credentials(&url::Url::parse("http://me:p%40ss-word@proxy:3128").unwrap());
        r.add_url_credentials(&url::Url::parse("http://only-user@proxy:3128").unwrap());
        assert_eq!(r.redact("http://me:p%40ss-word@proxy:3128"), "http://***@proxy:3128");
        assert_eq!(r.redact("me:p@ss-word p@ss-word"), "*** ***");
        assert_eq!(r.redact("only-user"), "only-user", "a user alone is no secret");
    }

    #[test]
    fn json_strings() {
        let mut r = Redactor::default();
        r.add_secret("s3cr3t");
        let v = serde_json::json!({"a": ["x s3cr3t"], "s3cr3t": 1});
        assert_eq!(r.redact_json(&v), serde_json::json!({"a": ["x ***"], "s3cr3t": 1}));
    }
}
