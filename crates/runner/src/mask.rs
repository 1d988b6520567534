//! Masking secret values in every text that leaves the process.

use driftsync_config::Config;

/// Environment variable names whose values are treated as secrets.
const SECRET_NAME_PARTS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "KEY",
    "CREDENTIAL",
    "AUTH",
    "DATABASE_URL",
    "DSN",
];

/// Replaces known secret values with `***`.
#[derive(Clone, Debug, Default)]
pub struct Masker {
    values: Vec<String>,
}

impl Masker {
    /// An empty masker.
    pub fn new() -> Masker {
        Masker::default()
    }

    /// Mask `value` from now on (values shorter than 4 characters are ignored:
    /// masking them would garble ordinary text).
    pub fn add(&mut self, value: &str) {
        let v = value.trim();
        if v.len() >= 4 && !self.values.iter().any(|x| x == v) {
            self.values.push(v.to_string());
            // Longest first, so a secret containing another is masked whole.
            self.values.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Values read by `${VAR}` in the config, the target `env` values that
    /// came from them, and every secret-looking variable of `env`.
    pub fn from_config(config: &Config, env: impl IntoIterator<Item = (String, String)>) -> Masker {
        let mut m = Masker::new();
        for r in &config.interpolated {
            m.add(r.value.expose());
        }
        for (k, v) in env {
            if is_secret_name(&k) {
                m.add(&v);
            }
        }
        m
    }

    /// The values to mask (for `::add-mask::`). Never print these elsewhere.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// `text` with every secret value replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        out
    }
}

/// Does this environment variable name look like it holds a secret?
pub fn is_secret_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|p| up.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_longest_first_and_ignores_tiny_values() {
        let mut m = Masker::new();
        m.add("abcd");
        m.add("abcdef123");
        m.add("ab");
        assert_eq!(m.mask("x abcdef123 abcd ab"), "x *** *** ab");
        assert!(is_secret_name("GITHUB_TOKEN"));
        assert!(!is_secret_name("HOME"));
    }
}
