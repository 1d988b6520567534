//! Masking secrets in every text that leaves the process.
//!
//! [`Masker::mask`] is the one scrubbing function: it replaces the secret
//! values driftsync knows (and their pieces: each line of a multi-line value,
//! the password of a URL) and every credential of a well-known format
//! ([`crate::secrets::redact`]) with `***`. Live output goes through
//! [`LineMasker`], which also hides the body of a private key printed line by
//! line; reports go through [`Masker::mask_report`].

use driftsync_config::{Config, TargetKind};
use driftsync_core::report::Report;

use crate::secrets::{self, MASK};

/// Shortest value masked: masking shorter ones would garble ordinary text.
const MIN_VALUE: usize = 4;
/// Shortest line of a multi-line value masked on its own.
const MIN_LINE: usize = 6;

/// Parts of an environment variable name that mark a secret wherever they
/// appear in it (`GITHUB_TOKEN`, `DBPASSWORD`).
const SECRET_NAME_PARTS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "PRIVATE_KEY",
    "PRIVATEKEY",
    "APIKEY",
    "ACCESSKEY",
    "DATABASE_URL",
];

/// Words of a name (split at `_`, `-`, `.`) that mark a secret only as a
/// whole word: `API_KEY`, `BASIC_AUTH`, `SENTRY_DSN`, `SMTP_PASS`, but not
/// `KEYBOARD_LAYOUT`, `GIT_AUTHOR_NAME` or `COMPASS_DIR`.
const SECRET_NAME_WORDS: &[&str] = &["KEY", "KEYS", "AUTH", "OAUTH", "DSN", "PASS", "PAT"];

/// Replaces known secret values, and credentials of well-known formats, with `***`.
#[derive(Clone, Debug, Default)]
pub struct Masker {
    values: Vec<String>,
}

impl Masker {
    /// An empty masker: it masks credentials of well-known formats only.
    pub fn new() -> Masker {
        Masker::default()
    }

    /// Mask `value` from now on: the whole value, each line of a multi-line
    /// value (lines shorter than 6 characters and `-----BEGIN …-----`
    /// armour excepted) and the password (`user:password` too) of each URL in
    /// it. Values shorter than 4 characters are ignored: masking them would
    /// garble ordinary text.
    pub fn add(&mut self, value: &str) {
        let mut changed = false;
        for piece in pieces(value) {
            if !self.values.contains(&piece) {
                self.values.push(piece);
                changed = true;
            }
        }
        if changed {
            // Longest first, so a secret containing another is masked whole.
            self.values
                .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        }
    }

    /// What a run must hide: the secret-looking variables of `env` (by name,
    /// or by value: a URL with a password, a credential of a known format);
    /// the values read by `${VAR}` in the config whose name or value looks
    /// secret; and the values the config puts where a secret goes (a command
    /// target's `env` entry or `config:` field with a secret-looking name,
    /// such as `API_TOKEN:` or `auth:`). Other `${VAR}` values (paths, names,
    /// `GIT_AUTHOR_*`) stay readable.
    pub fn from_config(config: &Config, env: impl IntoIterator<Item = (String, String)>) -> Masker {
        let mut m = Masker::from_env(env);
        for r in &config.interpolated {
            if is_secret_name(&r.name) || is_secret_value(r.value.expose()) {
                m.add(r.value.expose());
            }
        }
        for t in &config.targets {
            if let TargetKind::Command(c) = &t.kind {
                for (k, v) in &c.env {
                    if is_secret_name(k) || is_secret_value(v) {
                        m.add(v);
                    }
                }
                m.add_secret_fields(&c.config, false);
            }
        }
        // A webhook URL is a credential whatever its variable is called.
        for n in &config.notify {
            m.add(n.url.expose());
        }
        m
    }

    /// Every string of `value` under a secret-looking key (at any depth), or
    /// that looks secret itself.
    fn add_secret_fields(&mut self, value: &serde_json::Value, secret: bool) {
        match value {
            serde_json::Value::String(s) if secret || is_secret_value(s) => self.add(s),
            serde_json::Value::Array(a) => a.iter().for_each(|v| self.add_secret_fields(v, secret)),
            serde_json::Value::Object(o) => o
                .iter()
                .for_each(|(k, v)| self.add_secret_fields(v, secret || is_secret_name(k))),
            _ => {}
        }
    }

    /// The secret-looking variables of `env`, as in [`Masker::from_config`].
    pub fn from_env(env: impl IntoIterator<Item = (String, String)>) -> Masker {
        let mut m = Masker::new();
        for (k, v) in env {
            if is_secret_name(&k) || is_secret_value(&v) {
                m.add(&v);
            }
        }
        m
    }

    /// The values to mask, longest first. Never print these elsewhere.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// The values to announce with `::add-mask::`: every single-line value
    /// (a multi-line value is announced by its lines, which are values too).
    pub fn add_mask_values(&self) -> impl Iterator<Item = &str> + '_ {
        self.values
            .iter()
            .map(String::as_str)
            .filter(|v| !v.contains('\n'))
    }

    /// `text` with every known secret value and every credential of a
    /// well-known format replaced by `***`. The one scrubbing function:
    /// everything driftsync prints or writes goes through it.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        secrets::redact(&out)
    }

    /// Mask every string of a JSON document, in place (keys stay).
    pub fn mask_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                let masked = self.mask(s);
                if masked != *s {
                    *s = masked;
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|v| self.mask_json(v)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|v| self.mask_json(v)),
            _ => {}
        }
    }

    /// `report` with every string in it masked (messages, output tails,
    /// findings, paths): the report that is written, printed and published.
    pub fn mask_report(&self, report: &Report) -> serde_json::Result<Report> {
        let mut v = serde_json::to_value(report)?;
        self.mask_json(&mut v);
        serde_json::from_value(v)
    }

    /// A masker for one stream of lines (a process's stdout or stderr).
    pub fn lines(&self) -> LineMasker<'_> {
        LineMasker {
            masker: self,
            in_private_key: false,
        }
    }
}

/// Masks a stream line by line. Besides [`Masker::mask`] of each line, it
/// remembers an open `-----BEGIN … PRIVATE KEY-----` and masks the key's body
/// lines up to its `-----END` line (or the first line that is no key line).
pub struct LineMasker<'a> {
    masker: &'a Masker,
    in_private_key: bool,
}

impl LineMasker<'_> {
    /// The masked `line` (given without its newline).
    pub fn mask(&mut self, line: &str) -> String {
        if self.in_private_key {
            if secrets::closes_private_key(line) {
                self.in_private_key = false;
            } else if line.trim().is_empty() {
                return line.to_string();
            } else if is_key_body_line(line) {
                return MASK.to_string();
            } else {
                self.in_private_key = false;
            }
        }
        if secrets::opens_private_key(line) {
            self.in_private_key = true;
        }
        self.masker.mask(line)
    }
}

/// A line of a PEM body: base64, or a `Proc-Type: …` style header.
fn is_key_body_line(line: &str) -> bool {
    let t = line.trim();
    let base64 = t
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='));
    let header = t.split_once(": ").is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    base64 || header
}

/// Does this environment variable name look like it holds a secret?
pub fn is_secret_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|p| up.contains(p))
        || up
            .split(['_', '-', '.'])
            .any(|w| SECRET_NAME_WORDS.contains(&w))
}

/// Does this value look like a secret whatever its name: a URL with a
/// password, or a credential of a well-known format?
pub fn is_secret_value(value: &str) -> bool {
    !url_credentials(value).is_empty() || secrets::redact(value) != value
}

/// What to mask for one secret value (see [`Masker::add`]).
fn pieces(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |s: &str, min: usize| {
        let s = s.trim();
        if s.len() >= min && !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    };
    push(value, MIN_VALUE);
    if value.trim().contains('\n') {
        for line in value.lines().map(str::trim) {
            if !line.starts_with("-----") {
                push(line, MIN_LINE);
            }
        }
    }
    for c in url_credentials(value) {
        push(&c, MIN_VALUE);
    }
    out
}

/// The credentials inside `value`: for `scheme://user:pw@host`, the
/// password and `user:pw` (percent-encoded and decoded); for
/// `scheme://token@host`, the token; the value of a secret-looking key in a
/// query string or key=value connection string (`?token=…`, `password=…`).
fn url_credentials(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(i) = rest.find("://") {
        let after = &rest[i + 3..];
        let end = after
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'') || c.is_whitespace())
            .unwrap_or(after.len());
        if let Some((userinfo, _host)) = after[..end].rsplit_once('@') {
            match userinfo.split_once(':') {
                Some((_user, pw)) if !pw.is_empty() => {
                    out.push(pw.to_string());
                    out.push(userinfo.to_string());
                    let decoded = percent_decode(pw);
                    if decoded != pw {
                        out.push(decoded);
                    }
                }
                Some(_) => {}
                None if !userinfo.is_empty() => out.push(userinfo.to_string()),
                None => {}
            }
        }
        rest = &after[end..];
    }
    // `password=…` in a key=value connection string, `?token=…` in a URL.
    for part in value.split([';', ' ', '\t', '\n', '?', '&']) {
        if let Some((k, v)) = part.split_once('=') {
            let k = k.trim();
            let v = v.trim().trim_matches(['\'', '"']);
            if !v.is_empty() && (k.eq_ignore_ascii_case("pwd") || is_secret_name(k)) {
                out.push(v.to_string());
                let decoded = percent_decode(v);
                if decoded != v {
                    out.push(decoded);
                }
            }
        }
    }
    out
}

/// `%XX` decoded; anything malformed is kept as it is.
fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GHP: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    const KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\nq1w==\n-----END RSA PRIVATE KEY-----\n";

    #[test]
    fn masks_longest_first_and_ignores_tiny_values() {
        let mut m = Masker::new();
        m.add("abcd");
        m.add("abcdef123");
        m.add("ab");
        assert_eq!(m.mask("x abcdef123 abcd ab"), "x *** *** ab");
        assert_eq!(m.values(), ["abcdef123", "abcd"]);
    }

    #[test]
    fn names_that_look_secret() {
        for n in [
            "GITHUB_TOKEN",
            "API_KEY",
            "apikey",
            "AWS_SECRET_ACCESS_KEY",
            "DB_PASSWORD",
            "BASIC_AUTH",
            "SENTRY_DSN",
            "DATABASE_URL",
            "SMTP_PASS",
            "GH_PAT",
            "SSH_PRIVATE_KEY",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "HOME",
            "PWD",
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "KEYBOARD_LAYOUT",
            "OUT_DIR",
            "PATH",
            "COMPASS_DIR",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn detects_credentials_of_known_formats_nobody_declared() {
        let m = Masker::new();
        let aws = "AKIAIOSFODNN7EXAMPLE";
        assert_eq!(
            m.mask(&format!("token {GHP} and key {aws}.")),
            "token *** and key ***."
        );
        assert_eq!(m.mask("password = hunter2hunter"), "password = ***");
        assert_eq!(
            m.mask("password: ${DB_PASSWORD}"),
            "password: ${DB_PASSWORD}"
        );
        assert_eq!(m.mask("plain text, /a/path"), "plain text, /a/path");
        // A key block in one text keeps its armour only.
        assert_eq!(
            m.mask(KEY),
            "-----BEGIN RSA PRIVATE KEY-----\n***\n-----END RSA PRIVATE KEY-----\n"
        );
        // Cut off before its END line: masked to the end.
        assert_eq!(
            m.mask("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq"),
            "-----BEGIN PRIVATE KEY-----\n***"
        );
        // Masking is idempotent.
        let once = m.mask(&format!("{GHP}\n{KEY}"));
        assert_eq!(m.mask(&once), once);
    }

    #[test]
    fn a_multi_line_value_is_masked_line_by_line_too() {
        let mut m = Masker::new();
        m.add(KEY);
        let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun";
        assert!(m.values().iter().any(|v| v == body));
        // Armour and short lines are not values of their own.
        assert!(!m.add_mask_values().any(|v| v.starts_with("-----")));
        assert!(!m.values().iter().any(|v| v == "q1w=="));
        assert_eq!(m.mask(&format!("line: {body}")), "line: ***");
        let announced: Vec<&str> = m.add_mask_values().collect();
        assert_eq!(announced.len(), 2, "{announced:?}");
        assert!(announced.iter().all(|v| !v.contains('\n')));
    }

    #[test]
    fn a_url_secret_masks_its_password_alone() {
        let mut m = Masker::new();
        m.add("postgres://app:pa55%40w0rd@db.internal:5432/app");
        assert_eq!(m.mask("pw is pa55%40w0rd"), "pw is ***");
        assert_eq!(m.mask("pw is pa55@w0rd"), "pw is ***");
        assert_eq!(m.mask("as app:pa55%40w0rd"), "as ***");
        assert_eq!(
            m.mask("host db.internal, user app"),
            "host db.internal, user app"
        );
        let mut m = Masker::new();
        m.add("host=db user=app password='s3cretpw' dbname=app");
        assert_eq!(m.mask("s3cretpw"), "***");
        assert!(is_secret_value(
            "https://x-access-token:abcdefgh@github.com/a/b"
        ));
        assert!(is_secret_value(GHP));
        assert!(!is_secret_value("/home/runner/work/out"));
        assert!(!is_secret_value("https://example.com/a?b=c"));
    }

    #[test]
    fn only_secret_looking_env_is_masked() {
        let m = Masker::from_env([
            ("OUT_DIR".to_string(), "/srv/exports/nightly".to_string()),
            ("GIT_AUTHOR_NAME".to_string(), "Release Bot".to_string()),
            ("DEPLOY_TOKEN".to_string(), "tok-123456".to_string()),
            (
                "MIRROR".to_string(),
                "https://bot:mirrorpw1@git.example.com/x".to_string(),
            ),
        ]);
        assert_eq!(
            m.mask("/srv/exports/nightly by Release Bot"),
            "/srv/exports/nightly by Release Bot"
        );
        assert_eq!(m.mask("tok-123456 mirrorpw1"), "*** ***");
    }

    #[test]
    fn config_values_are_masked_when_they_look_secret_or_sit_where_secrets_go() {
        let yaml = r#"version: "1.0"
targets:
  t:
    type: command
    direction: pull
    run: ./t.sh
    env:
      OUT_DIR: "${EXPORT_DIR}"
      AUTHOR: "${GIT_AUTHOR_NAME}"
      COPY: "${PLANTED}"
      DB: "${MIRROR_URL}"
      API_TOKEN: "literal-token-1"
      CACHE: "${CACHE_TOKEN}"
    config: { nested: { auth: "${PLANTED}" }, depth: "${DEPTH}" }
"#;
        let vars = |k: &str| {
            Some(
                match k {
                    "EXPORT_DIR" => "/srv/exports/nightly-42",
                    "GIT_AUTHOR_NAME" => "Release Robot",
                    "PLANTED" => "planted-value-4f7a",
                    "MIRROR_URL" => "mysql://sync:mirr0r-pw@db.internal/x",
                    "CACHE_TOKEN" => "cache-tok-99",
                    "DEPTH" => "12345",
                    _ => return None,
                }
                .to_string(),
            )
        };
        let config = driftsync_config::parse(
            yaml,
            std::path::Path::new("/r/.driftsync/sync.yaml"),
            std::path::Path::new("/r"),
            &vars,
        )
        .expect("valid config");
        let m = Masker::from_config(&config, std::iter::empty());
        let shown = "/srv/exports/nightly-42 Release Robot depth 12345";
        assert_eq!(m.mask(shown), shown);
        assert_eq!(
            m.mask("planted-value-4f7a mirr0r-pw literal-token-1 cache-tok-99"),
            "*** *** *** ***"
        );
    }

    #[test]
    fn a_key_printed_line_by_line_is_masked_between_its_armour() {
        let m = Masker::new();
        let mut lines = m.lines();
        let out: Vec<String> = format!("before\n{KEY}after ok")
            .lines()
            .map(|l| lines.mask(l))
            .collect();
        assert_eq!(
            out,
            [
                "before",
                "-----BEGIN RSA PRIVATE KEY-----",
                "***",
                "***",
                "***",
                "-----END RSA PRIVATE KEY-----",
                "after ok"
            ]
        );
        // An unterminated block ends at the first line that is no key line.
        let mut lines = m.lines();
        assert_eq!(
            lines.mask("-----BEGIN PRIVATE KEY-----"),
            "-----BEGIN PRIVATE KEY-----"
        );
        assert_eq!(lines.mask("MIIEvQIBADANBgkq"), "***");
        assert_eq!(lines.mask("done, 3 files"), "done, 3 files");
    }

    #[test]
    fn reports_are_masked_in_every_string() {
        let mut m = Masker::new();
        m.add("s3cr3t-value");
        let mut v = serde_json::json!({"a": ["x s3cr3t-value", {"s3cr3t-value": GHP}], "n": 3});
        m.mask_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["x ***", {"s3cr3t-value": "***"}], "n": 3})
        );
    }
}
