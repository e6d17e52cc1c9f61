//! Hides secrets (`Authorization`, `*api-key*` headers and `${ENV}` values) from every output.

/// Knows which strings are secret and replaces them.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Remembers `value` as a secret (empty values are ignored).
    pub fn add_secret(&mut self, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() && !self.secrets.contains(&value) {
            self.secrets.push(value);
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

    /// Whether a header of this name carries a credential.
    pub fn is_secret_header(name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        n == "authorization"
            || n == "proxy-authorization"
            || n == "cookie"
            || n.contains("api-key")
            || n.contains("api_key")
            || n.contains("apikey")
            || n.contains("token")
            || n.contains("secret")
    }
}
