//! Redaction: secret-looking values are replaced by placeholders before code leaves this
//! machine's network.
//!
//! Code under review often carries credentials (a test key, a config with a password).
//! Sending them to a hosted model hands them to a third party, so for providers off
//! the local network each value is replaced by `«redacted:KIND»` on the same line:
//! no newline is added or removed, so every line keeps its number and findings need no
//! mapping. What was replaced is reported by kind and line only, never by value.

use std::sync::LazyLock;

use regex::Regex;

use crate::config::{ProviderConfig, ProviderKind, RedactMode};

/// What a redacted value was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretKind {
    /// Short stable name, used in the placeholder and in `run.json`.
    pub name: &'static str,
    /// Human name, used in titles ("Hard-coded AWS access key").
    pub label: &'static str,
}

pub const PRIVATE_KEY: SecretKind = SecretKind {
    name: "private-key",
    label: "private key",
};

/// The value patterns, checked in order on each line (the specific shapes first, so a
/// token assigned to a name is reported as what it is). The last group of each pattern is
/// the part replaced (so `password = "…"` keeps its name and quotes); in an assignment
/// the first group is the name assigned to.
const VALUE_PATTERNS: &[(SecretKind, Check, &str)] = &[
    (
        SecretKind {
            name: "aws-access-key",
            label: "AWS access key",
        },
        Check::Always,
        r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b",
    ),
    (
        SecretKind {
            name: "anthropic-api-key",
            label: "Anthropic API key",
        },
        Check::Always,
        r"\b(sk-ant-[A-Za-z0-9_\-]{20,})",
    ),
    (
        SecretKind {
            name: "openai-api-key",
            label: "OpenAI API key",
        },
        Check::HasDigit,
        r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,})",
    ),
    (
        SecretKind {
            name: "github-token",
            label: "GitHub token",
        },
        Check::Always,
        r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
    ),
    (
        SecretKind {
            name: "slack-token",
            label: "Slack token",
        },
        Check::Always,
        r"\b(xox[bpars]-[A-Za-z0-9\-]{10,})",
    ),
    (
        SecretKind {
            name: "google-api-key",
            label: "Google API key",
        },
        Check::Always,
        r"\b(AIza[0-9A-Za-z_\-]{35})",
    ),
    (
        SecretKind {
            name: "url-password",
            label: "password in a URL",
        },
        Check::Credential,
        // `scheme://user:password@host`: only the password is replaced, so the model
        // still sees which database or service the code talks to.
        r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]+:([^\s@/]+)@",
    ),
    (
        SecretKind {
            name: "basic-auth-password",
            label: "HTTP basic-auth password",
        },
        Check::Credential,
        // `curl -u user:password`, `curl --user=user:password`.
        r#"\bcurl\b.*?\s(?:-u\s*|--user[\s=])["']?[^\s:"']+:([^\s"']+)"#,
    ),
    (
        SecretKind {
            name: "stripe-api-key",
            label: "Stripe API key",
        },
        Check::Always,
        // Test-mode keys too: they still act on the account (its customers' test data,
        // webhooks, products), and a committed one is a hard-coded credential all the same.
        r"\b((?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,})",
    ),
    (
        SecretKind {
            name: "jwt",
            label: "JSON web token",
        },
        Check::Always,
        r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*)",
    ),
    (
        SecretKind {
            name: "vault-token",
            label: "HashiCorp Vault token",
        },
        Check::Always,
        r"\b(hv[sb]\.[A-Za-z0-9_\-]{20,})",
    ),
    (
        SecretKind {
            name: "docker-auth",
            label: "Docker registry credential",
        },
        Check::Always,
        // A docker config's `"auth": "<base64 of user:password>"`.
        r#""auth"\s*:\s*"([A-Za-z0-9+/]{12,}={0,2})""#,
    ),
    (
        PRIVATE_KEY,
        Check::EncodedPrivateKey,
        // `LS0tLS1CRUdJTi` is base64 of `-----BEGIN`: a PEM block encoded into a string
        // (Kubernetes secrets, env values).
        r"\b(LS0tLS1CRUdJTi[A-Za-z0-9+/]*={0,2})",
    ),
    (
        SecretKind {
            name: "password",
            label: "password or secret",
        },
        Check::Assignment,
        // A name ending in a secret word, an assignment (`=`, `:`, `:=`, `=>`), and a
        // quoted value: `DB_PASSWORD = "…"`, `"api_key": "…"`, `token := "…"`.
        r#"(?i)\b([\w.\-]*(?:password|passwd|pwd|secret|api_?key|apikey|access_?key|secret_?key|auth_?token|token))["']?\]?\s*(?::=|=>|[:=])\s*["']([^"'\n]*)["']"#,
    ),
    (
        SecretKind {
            name: "password",
            label: "password or secret",
        },
        Check::UnquotedAssignment,
        // The same names assigned an unquoted value that ends the line, in the shapes of
        // shell and env files (`export DB_PASSWORD=…`, `ENV …`), YAML (`password: …`) and
        // INI (`secret_key = …` in `.s3cfg`). In code an unquoted value is an expression,
        // so the value is held to more (see [`Check::UnquotedAssignment`]).
        r#"(?i)^\s*(?:export\s+|env\s+|set\s+|-\s+)?([\w.\-]*(?:password|passwd|pwd|secret|secret_?access_?key|secret_?key|api_?key|auth_?token|access_?token))\s*[:=]\s*([^\s"'`;,(){}\[\]]+)\s*[;,]?\s*$"#,
    ),
];

/// How a pattern's match is confirmed as a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// The shape alone is specific enough.
    Always,
    /// `sk-…` keys carry digits; kebab-case names (`sk-button-primary-large`) do not.
    HasDigit,
    /// A quoted `name = "value"`: not a placeholder, reference, label or short word.
    Assignment,
    /// An unquoted `name = value`: as [`Check::Assignment`], and also at least
    /// [`MIN_TOKEN_LEN`] long with a digit or a symbol, so an expression (`password =
    /// newPassword`, `secret: self.secret`) is not taken for a value.
    UnquotedAssignment,
    /// A password with no name (in a URL, after `curl -u user:`): not a placeholder or
    /// reference, at least [`MIN_PASSWORD_LEN`] long.
    Credential,
    /// Base64 that decodes to a private key's BEGIN marker (not a certificate's).
    EncodedPrivateKey,
}

/// Values that are placeholders, not secrets (compared lower-cased).
const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "changeit",
    "password",
    "passwd",
    "secret",
    "example",
    "dummy",
    "test",
    "testing",
    "none",
    "null",
    "nil",
    "undefined",
    "todo",
    "placeholder",
    "redacted",
    "your-password",
    "your_password",
    "yourpassword",
    "your-api-key",
    "your_api_key",
    "your-token",
    "your_token",
];

/// A password shorter than this is not worth redacting (and mostly not a password).
const MIN_PASSWORD_LEN: usize = 4;
/// A token, key or secret is longer than this, and carries a digit or mixed case
/// (`token: "error"`, `"secret": "data"` are not secrets).
const MIN_TOKEN_LEN: usize = 8;

/// How much of a base64-encoded PEM block is decoded to see what it is (its BEGIN line).
const ENCODED_PEM_PREFIX: usize = 64;

static PEM_BEGIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----").expect("valid regex"));
static PEM_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----").expect("valid regex"));
/// A run of base64 in a key's body (its lines may sit inside quotes or concatenations).
static BASE64_RUN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/]{2,}={0,2}").expect("valid regex"));
/// A line of a key's body: base64 with, at most, quoting or an escaped newline around
/// it.
static PEM_BODY_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^\s*["'`]?[A-Za-z0-9+/]+={0,2}(?:\\n)?["'`]?\s*[,+;\\]?\s*$"#).expect("valid regex")
});
/// A header inside an encrypted PEM or a PGP key block.
static PEM_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*["'`]?(?:Proc-Type|DEK-Info|Version|Comment): \S"#).expect("valid regex"));
/// The first body line of a key is a long run of base64 (64 characters in PEM); a
/// shorter one (`continue` after code that names the marker) is code, not a key.
const MIN_FIRST_BODY_LEN: usize = 16;
static VALUE_REGEXES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    VALUE_PATTERNS
        .iter()
        .map(|(_, _, pattern)| Regex::new(pattern).expect("valid regex"))
        .collect()
});

/// One replaced value: its kind and its line (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Secret {
    pub line: u32,
    pub kind: SecretKind,
}

/// A text with its secrets replaced, and what was replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct Redacted {
    pub text: String,
    /// One entry per (line, kind), in line order.
    pub secrets: Vec<Secret>,
}

/// The kind of secret named `name` (as stored in `run.json`).
pub fn kind_by_name(name: &str) -> Option<SecretKind> {
    std::iter::once(PRIVATE_KEY)
        .chain(VALUE_PATTERNS.iter().map(|(kind, _, _)| *kind))
        .find(|kind| kind.name == name)
}

/// The placeholder a value of `kind` is replaced by.
pub fn placeholder(kind: SecretKind) -> String {
    format!("«redacted:{}»", kind.name)
}

/// Replaces every secret-looking value in `text` on its own line; the newlines (and so
/// the line numbers) are exactly those of `text`.
pub fn redact(text: &str) -> Redacted {
    let mut out = String::with_capacity(text.len());
    let mut secrets = Vec::new();
    // The line of an open private-key block's BEGIN marker, while in its body.
    let mut open_key: Option<u32> = None;
    // Whether the open block has had a line of base64 yet.
    let mut seen_body = false;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let number = index as u32 + 1;
        let (line, ending) = split_ending(raw);
        let mut line = line.to_string();
        if let Some(begin) = open_key {
            if PEM_END.is_match(&line) {
                open_key = None;
            } else if PEM_HEADER.is_match(&line) || is_body_line(&line, seen_body) {
                line = BASE64_RUN.replace_all(&line, placeholder(PRIVATE_KEY)).into_owned();
                push_once(&mut secrets, begin, PRIVATE_KEY);
                seen_body = true;
            } else if !line.trim().is_empty() {
                // Not a key's body after all (code that names the marker): stop here.
                open_key = None;
            }
        }
        if open_key.is_none() {
            if let Some(begin) = PEM_BEGIN.find(&line) {
                let after = begin.end();
                match PEM_END.find_at(&line, after) {
                    // The whole key on one line (`"-----BEGIN …-----\nMIIE…\n-----END …-----"`).
                    Some(end) if end.start() > after => {
                        line.replace_range(after..end.start(), &placeholder(PRIVATE_KEY));
                        push_once(&mut secrets, number, PRIVATE_KEY);
                    }
                    Some(_) => {}
                    None => {
                        open_key = Some(number);
                        seen_body = false;
                    }
                }
            }
            line = redact_values(&line, number, &mut secrets);
        }
        out.push_str(&line);
        out.push_str(ending);
    }
    secrets.sort();
    secrets.dedup();
    Redacted { text: out, secrets }
}

/// Whether a line inside an open key block is part of its body.
fn is_body_line(line: &str, seen_body: bool) -> bool {
    let base64_len = || {
        line.bytes()
            .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
            .count()
    };
    PEM_BODY_LINE.is_match(line) && (seen_body || base64_len() >= MIN_FIRST_BODY_LEN)
}

/// The line without its line ending, and the ending (`\n`, `\r\n` or nothing).
fn split_ending(raw: &str) -> (&str, &str) {
    let body = raw.strip_suffix('\n').unwrap_or(raw);
    let body = body.strip_suffix('\r').unwrap_or(body);
    (body, &raw[body.len()..])
}

fn push_once(secrets: &mut Vec<Secret>, line: u32, kind: SecretKind) {
    let secret = Secret { line, kind };
    if !secrets.contains(&secret) {
        secrets.push(secret);
    }
}

/// Replaces the values of [`VALUE_PATTERNS`] in one line.
fn redact_values(line: &str, number: u32, secrets: &mut Vec<Secret>) -> String {
    let mut line = line.to_string();
    for ((kind, check, _), regex) in VALUE_PATTERNS.iter().zip(VALUE_REGEXES.iter()) {
        if !regex.is_match(&line) {
            continue;
        }
        let mut replaced = String::with_capacity(line.len());
        let mut last = 0;
        for caps in regex.captures_iter(&line) {
            let Some(value) = caps.get(caps.len() - 1) else {
                continue;
            };
            let name = (caps.len() > 2)
                .then(|| caps.get(1))
                .flatten()
                .map_or("", |m| m.as_str());
            if !is_secret(*check, name, value.as_str()) {
                continue;
            }
            replaced.push_str(&line[last..value.start()]);
            replaced.push_str(&placeholder(*kind));
            last = value.end();
            push_once(secrets, number, *kind);
        }
        replaced.push_str(&line[last..]);
        line = replaced;
    }
    line
}

/// Whether a matched value is a real-looking secret rather than a placeholder, a
/// reference to one, a name, or an earlier redaction. `name` is what an assignment
/// assigns to (empty for the other patterns).
fn is_secret(check: Check, name: &str, value: &str) -> bool {
    if value.contains("«redacted:") {
        return false;
    }
    match check {
        Check::Always => true,
        Check::HasDigit => value.bytes().any(|b| b.is_ascii_digit()),
        Check::Assignment => is_assigned_secret(name, value),
        Check::UnquotedAssignment => {
            let has_symbol = value
                .chars()
                .any(|c| !c.is_alphanumeric() && !matches!(c, '_' | '.' | '-'));
            let has_digit = value.chars().any(|c| c.is_ascii_digit());
            value.chars().count() >= MIN_TOKEN_LEN
                && (has_digit || has_symbol)
                && !matches!(value.to_ascii_lowercase().as_str(), "true" | "false")
                && is_assigned_secret(name, value)
        }
        Check::Credential => value.chars().count() >= MIN_PASSWORD_LEN && !is_placeholder(value),
        Check::EncodedPrivateKey => decodes_to_private_key(value),
    }
}

/// Whether a value is a placeholder, a reference to a value, or filler.
fn is_placeholder(value: &str) -> bool {
    let lower = value.trim().to_ascii_lowercase();
    let is_reference = ["${", "{{", "$(", "%(", "<", "process.env", "os.getenv", "env("]
        .iter()
        .any(|marker| lower.contains(marker))
        || lower.starts_with('$')
        || lower.starts_with('%');
    let is_filler = lower.chars().all(|c| matches!(c, 'x' | '*' | '.' | '-' | '_' | '•'));
    let is_elided = value.contains("...") || value.contains('…');
    PLACEHOLDERS.contains(&lower.as_str()) || is_reference || is_filler || is_elided
}

/// Whether the start of a base64 value decodes to a private key's BEGIN line.
fn decodes_to_private_key(value: &str) -> bool {
    use base64::Engine as _;
    let prefix: String = value.chars().take(ENCODED_PEM_PREFIX).collect();
    let whole_quads = &prefix[..prefix.len() / 4 * 4];
    base64::engine::general_purpose::STANDARD
        .decode(whole_quads.trim_end_matches('='))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(whole_quads.trim_end_matches('=')))
        .is_ok_and(|bytes| PEM_BEGIN.is_match(&String::from_utf8_lossy(&bytes)))
}

/// Whether the value of `name = "value"` is a real-looking secret.
fn is_assigned_secret(name: &str, value: &str) -> bool {
    let value = value.trim();
    // `ClientSecret => "CLIENT_SECRET"`, `Token = "token"`: a label, not a value.
    let letters = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let names_itself = letters(value) == letters(name.rsplit(['.', '-']).next().unwrap_or(name));
    let is_constant_name = value.contains('_')
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    let name = name.to_ascii_lowercase();
    let long_enough = if name.contains("pass") || name.contains("pwd") {
        value.chars().count() >= MIN_PASSWORD_LEN
    } else {
        let mixed = value.chars().any(|c| c.is_ascii_digit())
            || (value.chars().any(|c| c.is_ascii_lowercase()) && value.chars().any(|c| c.is_ascii_uppercase()));
        value.chars().count() >= MIN_TOKEN_LEN && mixed
    };
    long_enough && !value.contains(char::is_whitespace) && !is_placeholder(value) && !names_itself && !is_constant_name
}

/// Whether code sent to `config` is redacted: by its `redact` setting, and by default
/// when its host is neither this machine nor a private network.
pub fn applies(config: &ProviderConfig) -> bool {
    match config.redact {
        RedactMode::Always => true,
        RedactMode::Never => false,
        RedactMode::Auto => {
            config.kind != ProviderKind::Replay && !config.base_url.as_deref().is_some_and(is_local_url)
        }
    }
}

/// Whether a URL's host is this machine or a private network (see
/// [`providers::Reach`]). A name is not resolved (its address can change between
/// this check and the request), so any name but `localhost` counts as remote.
pub fn is_local_url(base_url: &str) -> bool {
    providers::Destination::of(base_url).is_some_and(|d| d.is_private_network())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\n\
        MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n\
        VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n\
        kJ4=\n\
        -----END RSA PRIVATE KEY-----\n";

    fn kinds(r: &Redacted) -> Vec<(u32, &'static str)> {
        r.secrets.iter().map(|s| (s.line, s.kind.name)).collect()
    }

    #[test]
    fn values_are_replaced_on_their_own_lines() {
        let text = "import os\nAWS_KEY = \"AKIAABCDEFGHIJKLMNOP\"\r\npassword = \"hunter2hunter2\"\n\
                    gh = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'\nslack='xoxb-1234567890-abcdef'\n\
                    g = \"AIzaSyA1234567890abcdefghijklmnopqrstuv\"\nk = \"sk-proj-abc123DEF456ghi789JKL0\"\n\
                    a = \"sk-ant-api03-abcdefghij0123456789\"\nend";
        let r = redact(text);
        assert_eq!(r.text.matches('\n').count(), text.matches('\n').count());
        assert_eq!(r.text.lines().count(), text.lines().count());
        for value in [
            "AKIAABCDEFGHIJKLMNOP",
            "hunter2",
            "ghp_abc",
            "xoxb-123",
            "AIzaSy",
            "sk-proj",
            "sk-ant",
        ] {
            assert!(!r.text.contains(value), "{value} left in:\n{}", r.text);
        }
        assert!(r.text.contains("AWS_KEY = \"«redacted:aws-access-key»\"\r\n"));
        assert!(r.text.contains("password = \"«redacted:password»\"\n"));
        assert!(r.text.starts_with("import os\n") && r.text.ends_with("\nend"));
        assert_eq!(
            kinds(&r),
            [
                (2, "aws-access-key"),
                (3, "password"),
                (4, "github-token"),
                (5, "slack-token"),
                (6, "google-api-key"),
                (7, "openai-api-key"),
                (8, "anthropic-api-key"),
            ]
        );
    }

    #[test]
    fn a_private_key_keeps_its_markers_and_loses_its_body() {
        let text = format!("# key\nKEY = \"\"\"\n{PEM}\"\"\"\nprint(KEY)\n");
        let r = redact(&text);
        assert!(r
            .text
            .contains("-----BEGIN RSA PRIVATE KEY-----\n«redacted:private-key»\n"));
        assert!(r.text.contains("\n-----END RSA PRIVATE KEY-----\n"));
        for fragment in ["MIIEow", "VTLw7", "kJ4="] {
            assert!(!r.text.contains(fragment), "{fragment} left");
        }
        assert_eq!(r.text.lines().count(), text.lines().count());
        assert!(r.text.ends_with("print(KEY)\n"), "code after the key is untouched");
        assert_eq!(kinds(&r), [(3, "private-key")]);

        let inline = redact("k = \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\"\n");
        assert_eq!(
            inline.text,
            "k = \"-----BEGIN PRIVATE KEY-----«redacted:private-key»-----END PRIVATE KEY-----\"\n"
        );
    }

    #[test]
    fn code_that_names_the_marker_is_left_alone() {
        let text = "if line.startswith(\"-----BEGIN RSA PRIVATE KEY-----\"):\n    continue\nsecret_name = \"db\"\n";
        let r = redact(text);
        assert_eq!(r.text, text);
        assert!(r.secrets.is_empty());
    }

    #[test]
    fn placeholders_references_and_ordinary_code_are_not_secrets() {
        let text = "password = \"\"\npassword = \"changeme\"\nPASSWORD = \"${DB_PASSWORD}\"\n\
                    password = os.getenv(\"PASSWORD\")\napi_key: \"<your key>\"\ntoken = \"{{ token }}\"\n\
                    password_field = \"hunter2hunter2\"\nif password == \"admin\":\ntoken_type = \"bearer\"\n\
                    label = \"Enter your password\"\nclass=\"sk-button-primary-large-variant\"\n\
                    secret = \"xxxxxxxx\"\npassword := r.FormValue(\"password\")\n\
                    let api_key = \"sk-...\";\nOPENAI_API_KEY='sk-...'\n\
                    ClientEarlyTrafficSecret => \"CLIENT_EARLY_TRAFFIC_SECRET\",\nToken = \"token\",\n\
                    inner: Unexpected { token: \"error\" },\njson!({\"secret\": \"data\"})\n";
        let r = redact(text);
        assert_eq!(r.text, text, "{:?}", r.secrets);
    }

    #[test]
    fn assignments_in_several_languages_are_found() {
        let text = "\"db_password\": \"s3cr3t-value\",\nclient_secret: 'abcd1234'\ntoken := \"tok_9f8e7d6c\"\n\
                    $config['api_key'] => 'k-12345678';\n";
        let r = redact(text);
        assert_eq!(
            kinds(&r),
            [(1, "password"), (2, "password"), (3, "password"), (4, "password")]
        );
        assert!(!r.text.contains("s3cr3t") && !r.text.contains("abcd1234") && !r.text.contains("tok_9f"));
    }

    /// Base64 of a PEM private key's first line and a little of its body.
    const ENCODED_PEM: &str = "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVBdTFTVTFMZlZMUEhDb3pNeEgyTW80bGdPRWVQek5tMHRSZ2VMZXpWNmZmQXQwZ3VuCg==";

    #[test]
    fn urls_tokens_unquoted_assignments_and_encoded_keys_are_found() {
        let text = format!(
            "DATABASE_URL = \"postgres://admin:Sup3rS3cretDbPass@db.internal:5432/app\"\n\
             stripe.api_key = sk_live_51HxAbCdEfGhIjKlMnOpQrStUv\n\
             restricted = \"rk_live_51HxAbCdEfGhIjKlMnOpQr\"\n\
             t = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'\n\
             auth = \"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\"\n\
             VAULT_TOKEN = \"hvs.CAESIJlU9Hx3kZ7aPqW0example1234567890\"\n\
             {{\"auths\": {{\"registry.example.com\": {{\"auth\": \"YWRtaW46UmVhbFJlZ2lzdHJ5UGFzcw==\"}}}}}}\n\
             export DB_PASSWORD=hunter2RealProdPass\n\
             AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq4RealKey\n\
             password: unquotedYamlPass99\n\
             secret_key = abcDEF1234567890ghiJKL0987654321mnoPQR12\n\
             curl -u admin:RealAdminPass https://api.example.com/v1\n\
             key: \"{ENCODED_PEM}\"\n"
        );
        let r = redact(&text);
        for value in [
            "Sup3rS3cretDbPass",
            "sk_live_51",
            "rk_live_51",
            "sk_test_4e",
            "eyJhbGci",
            "hvs.CAES",
            "YWRtaW46",
            "hunter2RealProdPass",
            "wJalrXUtnFEMI",
            "unquotedYamlPass99",
            "abcDEF1234",
            "RealAdminPass",
            "LS0tLS1CRUdJTi",
        ] {
            assert!(!r.text.contains(value), "{value} left in:\n{}", r.text);
        }
        assert!(r
            .text
            .contains("\"postgres://admin:«redacted:url-password»@db.internal:5432/app\""));
        assert!(r.text.contains("export DB_PASSWORD=«redacted:password»\n"));
        assert!(r.text.contains("curl -u admin:«redacted:basic-auth-password» https://"));
        assert_eq!(r.text.lines().count(), text.lines().count());
        assert_eq!(
            kinds(&r),
            [
                (1, "url-password"),
                (2, "stripe-api-key"),
                (3, "stripe-api-key"),
                (4, "stripe-api-key"),
                (5, "jwt"),
                (6, "vault-token"),
                (7, "docker-auth"),
                (8, "password"),
                (9, "password"),
                (10, "password"),
                (11, "password"),
                (12, "basic-auth-password"),
                (13, "private-key"),
            ]
        );
        for name in [
            "url-password",
            "basic-auth-password",
            "stripe-api-key",
            "jwt",
            "vault-token",
            "docker-auth",
        ] {
            assert!(kind_by_name(name).is_some(), "{name}");
        }
    }

    #[test]
    fn placeholders_and_expressions_in_the_new_shapes_are_not_secrets() {
        let text = "url = \"postgres://user:${DB_PASS}@localhost/db\"\nurl = \"mysql://root:<password>@db/x\"\n\
                    url = \"https://user:changeme@host/\"\nurl = \"redis://:xxx@cache:6379\"\n\
                    export DB_PASSWORD=${DB_PASSWORD}\npassword: changeme\npassword = newPassword\n\
                    password = hash(raw)\nsecret: self.secret\nDB_PASSWORD=$(cat /run/secrets/db)\n\
                    api_key: <your key>\nsecret_key = xxxxxxxxxxxx\npassword: true\n\
                    curl -u \"$USER:$PASS\" https://example.com\nc = \"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\"\n\
                    see https://example.com/a:b@c and git@github.com:org/repo.git\n";
        let r = redact(text);
        assert_eq!(r.text, text, "{:?}", r.secrets);
    }

    #[test]
    fn the_redact_setting_decides_and_auto_goes_by_host() {
        let config = crate::config::Config::parse(
            std::path::Path::new("quorum.toml"),
            "[providers.hosted]\npreset = \"openai\"\nmodel = \"m\"\n\
             [providers.trusted]\npreset = \"openai\"\nmodel = \"m\"\nredact = \"never\"\n\
             [providers.local]\npreset = \"lmstudio\"\nmodel = \"m\"\n\
             [providers.forced]\npreset = \"lmstudio\"\nmodel = \"m\"\nredact = \"always\"\n\
             [providers.replayed]\nkind = \"replay\"\nmodel = \"m\"\nreplay_file = \"r.jsonl\"\n",
        )
        .unwrap();
        let applied: Vec<(&str, bool)> = config.providers.iter().map(|p| (p.name.as_str(), applies(p))).collect();
        assert_eq!(
            applied,
            [
                ("forced", true),
                ("hosted", true),
                ("local", false),
                ("replayed", false),
                ("trusted", false)
            ]
        );
        let e = crate::config::Config::parse(
            std::path::Path::new("quorum.toml"),
            "[providers.a]\npreset = \"openai\"\nmodel = \"m\"\nredact = \"sometimes\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("sometimes"), "{e}");
    }

    #[test]
    fn hosts_on_this_machine_or_a_private_network_are_local() {
        for url in [
            "http://127.0.0.1:1234/v1",
            "http://localhost:11434/v1",
            "http://LOCALHOST/v1",
            "http://10.1.2.3/v1",
            "http://172.16.0.9/v1",
            "http://192.168.1.20:8000/v1",
            "http://169.254.10.10/v1",
            "http://[::1]:8080/v1",
            "http://[fd12:3456::1]/v1",
            "http://[fe80::1]/v1",
            "http://[::ffff:127.0.0.1]/v1",
        ] {
            assert!(is_local_url(url), "{url} is local");
        }
        for url in [
            "https://api.openai.com/v1",
            "https://openrouter.ai/api/v1",
            "http://8.8.8.8/v1",
            "http://172.32.0.1/v1",
            "http://[2001:db8::1]/v1",
            "http://localhost.evil.com/v1",
            "http://127.0.0.1.nip.io/v1",
            "http://api.localhost/v1",
            "http://0.0.0.0:8080",
            "not a url",
        ] {
            assert!(!is_local_url(url), "{url} is remote");
        }
    }
}
