//! The filters of `report.html` (severity, agreement, model, file) and what keeps the
//! page's only script safe: the script is a constant of this crate (`filter.js`), the
//! Content-Security-Policy allows exactly it and the page's style by their SHA-256
//! (computed here, when the page is written) and nothing else, and the issues' data it
//! reads is a JSON block (`type="application/json"`, never run) in which no character can
//! end the element.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use super::escape;
use crate::analysis::Analysis;
use crate::consensus::{Issue, Source};
use crate::normalize::finding::Severity;

/// The filters' script.
pub const SCRIPT: &str = include_str!("filter.js");

/// The page's Content-Security-Policy: nothing may load or run but its own style and,
/// when `script` is set, that script.
pub fn content_security_policy(style: &str, script: Option<&str>) -> String {
    let script_src = script.map_or_else(|| "'none'".to_string(), hash_source);
    format!(
        "default-src 'none'; style-src {}; script-src {script_src}; base-uri 'none'; form-action 'none'",
        hash_source(style)
    )
}

fn hash_source(text: &str) -> String {
    format!("'sha256-{}'", crate::hash::sha256_base64(text.as_bytes()))
}

/// What the script knows of one issue, by its rank.
#[derive(Serialize)]
struct IssueData<'a> {
    /// 0 (info) to 4 (critical).
    severity: usize,
    /// Families agreeing; `None` for Quorum's own checks.
    agree: Option<usize>,
    models: Vec<&'a str>,
    file: &'a str,
}

#[derive(Serialize)]
struct PageData<'a> {
    issues: Vec<IssueData<'a>>,
}

/// The issues' data as a JSON block for the script.
pub fn data_block(a: &Analysis) -> String {
    let data = PageData {
        issues: a.issues.iter().map(issue_data).collect(),
    };
    let json = serde_json::to_string(&data).expect("plain data serialises");
    format!(
        "<script type=\"application/json\" id=\"quorum-data\">{}</script>\n",
        json_in_html(&json)
    )
}

fn issue_data(issue: &Issue) -> IssueData<'_> {
    IssueData {
        severity: issue.severity as usize,
        agree: (issue.source == Source::Models).then_some(issue.agreement.count),
        models: issue.agreement.providers.iter().map(String::as_str).collect(),
        file: &issue.file,
    }
}

/// JSON that can sit inside a `<script>` element: `<`, `>` and `&` (which could end the
/// element or open a comment) and every character the sanitiser flags (bidi controls, C1
/// controls, line separators: `--out -` may print the page to a terminal) are written
/// as `\u` escapes. They occur only inside strings, where an escape means the same.
pub fn json_in_html(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c if crate::sanitize::is_unsafe_char(c) => crate::sanitize::push_json_escape(&mut out, c),
            _ => out.push(c),
        }
    }
    out
}

/// The filter form (shown once the script runs) and the count of issues shown.
pub fn form(a: &Analysis) -> String {
    let mut out = String::from(
        "<form id=\"filters\" class=\"filters\" hidden>\n<label>Severity at least <select name=\"severity\">",
    );
    for s in Severity::ALL {
        let _ = write!(out, "<option value=\"{}\">{}</option>", s as usize, s.as_str());
    }
    out.push_str("</select></label>\n<label>Agreement at least <select name=\"agree\">");
    let most = a.issues.iter().map(|i| i.agreement.of).max().unwrap_or(1).max(1);
    for n in 1..=most {
        let _ = write!(out, "<option value=\"{n}\">{n}</option>");
    }
    out.push_str("</select></label>\n<label>Model <select name=\"model\"><option value=\"\">any</option>");
    for p in &a.providers {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", escape(&p.name));
    }
    out.push_str(
        "</select></label>\n<label>File <input name=\"file\" list=\"quorum-files\" placeholder=\"path contains…\" size=\"26\"></label>\
         <datalist id=\"quorum-files\">",
    );
    let files: BTreeSet<&str> = a.issues.iter().map(|i| i.file.as_str()).collect();
    for f in files {
        let _ = write!(out, "<option value=\"{}\">", escape(f));
    }
    out.push_str("</datalist>\n<button type=\"button\" id=\"clear-filters\">Show all</button>\n</form>\n");
    let _ = writeln!(
        out,
        "<p id=\"shown\" aria-live=\"polite\">{0} of {0} issues shown</p>",
        a.issues.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_cannot_end_its_element() {
        let text = "</script><!-- \u{2028} & x\u{202E}\u{9B}\u{200B}\u{E0041}";
        let json = serde_json::to_string(text).unwrap();
        let safe = json_in_html(&json);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        assert!(!safe.chars().any(crate::sanitize::is_unsafe_char), "{safe:?}");
        assert!(
            safe.contains("\\u2028 \\u0026 x\\u202e\\u009b\\u200b\\udb40\\udc41"),
            "{safe}"
        );
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn the_policy_allows_only_the_hashed_script_and_style() {
        let policy = content_security_policy("b{}", Some(SCRIPT));
        assert!(policy.starts_with("default-src 'none'; "));
        assert!(policy.contains(&format!("'sha256-{}'", crate::hash::sha256_base64(SCRIPT.as_bytes()))));
        assert!(!policy.contains("unsafe"));
        assert!(content_security_policy("b{}", None).contains("script-src 'none'"));
    }
}
