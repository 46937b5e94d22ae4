//! `report.html`: the consensus as one self-contained page to open in a browser or
//! attach to a ticket. No scripts, no external resources; everything a model wrote is
//! HTML-escaped, so a finding cannot inject markup into the page.

use std::fmt::Write as _;

use crate::analysis::Analysis;
use crate::consensus::Issue;
use crate::triage::Triage;

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}\
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}code{font-size:90%}.sev{font-weight:600}.critical,.high{color:#b42318}.medium{color:#9a6700}.low,.info{color:#57606a}\
.cwe{white-space:nowrap}details{margin:.4rem 0 1rem}summary{cursor:pointer}li{margin:.3rem 0}";

/// The HTML page of an analysis.
pub fn html(a: &Analysis) -> String {
    let mut page = String::new();
    let m = &a.meta;
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Quorum review of {root}</title>\
         <style>{STYLE}</style></head><body>\n<h1>Quorum review of <code>{root}</code></h1>\n\
         <p>Run <code>{run}</code>, started {started}. {sent} files sent, {reviewed} reviewed by at least one model, \
         {skipped} skipped. {n} issues, ranked by how many independent models reported them.</p>\n",
        root = escape(&m.root),
        run = escape(&m.run_id),
        started = escape(&m.started_at),
        sent = m.files.len(),
        reviewed = a.files_reviewed,
        skipped = m.skipped.len(),
        n = a.issues.len(),
    );
    page.push_str("<table><thead><tr><th>#</th><th>agreed</th><th>severity</th><th>location</th><th>issue</th><th>reported by</th></tr></thead><tbody>\n");
    for (i, issue) in a.issues.iter().enumerate() {
        let _ = writeln!(
            page,
            "<tr><td><a href=\"#{id}\">{n}</a></td><td>{agreed}</td><td class=\"sev {sev}\">{sev}</td><td><code>{loc}</code></td><td>{title}{cwe}</td><td>{by}</td></tr>",
            id = escape(&issue.id),
            n = i + 1,
            agreed = escape(&crate::report::agreement(issue)),
            sev = issue.severity.as_str(),
            loc = escape(&location(issue)),
            title = escape(&issue.title),
            cwe = issue.cwe.map(|c| format!(" <span class=\"cwe\">(CWE-{c})</span>")).unwrap_or_default(),
            by = escape(&crate::report::reported_by(issue)),
        );
    }
    page.push_str("</tbody></table>\n<h2>Issues</h2>\n");
    for (i, issue) in a.issues.iter().enumerate() {
        let _ = writeln!(
            page,
            "<h3 id=\"{id}\">{n}. {title}</h3>\n<p><span class=\"sev {sev}\">{sev}</span> · {cat} · agreed by {agreed} · <code>{loc}</code> · id <code>{id}</code></p>\n<ul>",
            id = escape(&issue.id),
            n = i + 1,
            title = escape(&issue.title),
            sev = issue.severity.as_str(),
            cat = issue.category.as_str(),
            agreed = escape(&crate::report::agreement(issue)),
            loc = escape(&location(issue)),
        );
        for line in crate::report::judge_lines(a, issue) {
            let _ = writeln!(page, "<li><b>{}</b></li>", escape(&line));
        }
        if let Some(check) = &issue.check {
            let _ = writeln!(
                page,
                "<li><b>quorum</b> (its own check, not a model's vote): {}</li>",
                escape(&check.description)
            );
        }
        for f in &issue.findings {
            let _ = write!(
                page,
                "<li><b>{p}</b> ({sev}): {title} — {desc}",
                p = escape(&f.provider),
                sev = f.severity.as_str(),
                title = escape(&f.title),
                desc = escape(&f.description)
            );
            if let Some(fix) = &f.suggestion {
                let _ = write!(page, "<br><i>Fix:</i> {}", escape(fix));
            }
            page.push_str("</li>\n");
        }
        page.push_str("</ul>\n");
    }
    html_triage(&mut page, &a.triage);
    if !a.errors.is_empty() {
        page.push_str("<details><summary>Errors</summary><ul>\n");
        for e in &a.errors {
            let _ = writeln!(
                page,
                "<li><b>{}</b> · <code>{}</code> · {}: {}</li>",
                escape(&e.provider),
                escape(&e.file),
                escape(&e.stage),
                escape(&e.message)
            );
        }
        page.push_str("</ul></details>\n");
    }
    if !a.cuts.is_empty() {
        page.push_str("<details><summary>Answers cut (past the limits on findings or field lengths)</summary><ul>\n");
        for c in &a.cuts {
            let _ = writeln!(
                page,
                "<li><b>{}</b> · <code>{}</code> · {} findings left out, {} fields shortened</li>",
                escape(&c.provider),
                escape(&c.file),
                c.cut.findings,
                c.cut.fields
            );
        }
        page.push_str("</ul></details>\n");
    }
    if !m.skipped.is_empty() {
        page.push_str("<details><summary>Files not reviewed</summary><ul>\n");
        for s in &m.skipped {
            let _ = writeln!(page, "<li><code>{}</code>: {}</li>", escape(&s.path), escape(&s.reason));
        }
        page.push_str("</ul></details>\n");
    }
    page.push_str("</body></html>\n");
    page
}

/// What was left out as already decided: suppressed issues with their reasons, stale
/// suppressions, and the baseline's count.
fn html_triage(page: &mut String, t: &Triage) {
    let file = escape(t.suppressions_file.as_deref().unwrap_or_default());
    if !t.suppressed.is_empty() {
        let _ = writeln!(
            page,
            "<h2>Suppressed</h2>\n<p>{} suppressed by <code>{file}</code>:</p><ul>",
            t.suppressed.len()
        );
        for s in &t.suppressed {
            let _ = writeln!(
                page,
                "<li><code>{}</code> · <code>{}</code> · {}: <i>{}</i> ({})</li>",
                escape(&s.id),
                escape(&location(&s.issue)),
                escape(&s.title),
                escape(&s.reason),
                escape(&s.date)
            );
        }
        page.push_str("</ul>\n");
    }
    if !t.stale.is_empty() {
        let _ = writeln!(
            page,
            "<p>{} stale suppressions (their issue is no longer found in a file this run reviewed; remove them from <code>{file}</code>):</p><ul>",
            t.stale.len()
        );
        for s in &t.stale {
            let _ = writeln!(
                page,
                "<li><code>{}</code> {}: <i>{}</i></li>",
                escape(&s.id),
                escape(&s.title),
                escape(&s.reason)
            );
        }
        page.push_str("</ul>\n");
    }
    if let Some(b) = &t.baseline {
        let _ = writeln!(
            page,
            "<p>{} in the baseline <code>{}</code>, left out; {} baseline issues no longer found.</p>",
            b.unchanged.len(),
            escape(&b.report),
            b.absent.len()
        );
    }
}

fn location(issue: &Issue) -> String {
    match (issue.start_line, issue.end_line) {
        (Some(s), Some(e)) if s != e => format!("{}:{s}-{e}", issue.file),
        (Some(s), _) => format!("{}:{s}", issue.file),
        _ => issue.file.clone(),
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in crate::sanitize::terminal_safe(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
