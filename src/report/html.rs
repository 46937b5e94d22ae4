//! `report.html`: the consensus as one self-contained page to open in a browser or
//! attach to a ticket: filters (severity, agreement, model, file), the issue × model
//! matrix, each issue with the code around its lines, the models compared with two
//! inline-SVG charts, and a banner when a provider failed. It loads nothing: its
//! Content-Security-Policy allows only its own style and script (by hash, see
//! `filters`). Everything a model, a file name or a configuration wrote is HTML-escaped,
//! and nothing untrusted is ever inside the script.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::analysis::Analysis;
use crate::consensus::{Issue, Source};
use crate::report::inline;
use crate::triage::Triage;

mod charts;
mod code;
mod filters;

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:76rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}\
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}code{font-size:90%;background:#f3f4f6;border-radius:3px;padding:0 .2em}.sev{font-weight:600}\
.critical,.high{color:#b42318}.medium{color:#9a6700}.low,.info{color:#57606a}\
.cwe,.sev{white-space:nowrap}details{margin:.4rem 0 1rem}summary{cursor:pointer}li{margin:.3rem 0}\
.banner{border:1px solid #e5a50a;background:#fff8e1;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}.banner p{margin:.3rem 0}\
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1.2rem;align-items:center;background:#f6f8fa;border-radius:6px;padding:.6rem 1rem}\
#shown{color:#57606a;margin:.4rem 0}th.model{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:500;font-size:85%;padding:.4rem .2rem}\
td.hit{text-align:center;padding:.35rem .2rem}.tag{font-size:80%;background:#eaeef2;border-radius:3px;padding:0 .3em;margin-left:.3em}\
section.issue{border-top:1px solid #d0d7de;margin-top:1.2rem}.meta{color:#57606a}\
pre.code{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.4rem 0;overflow-x:auto;font-size:13px;line-height:1.4}\
pre.code .line{display:block;padding:0 .8rem 0 0}pre.code .hit{background:#fff1c2}\
pre.code .ln{display:inline-block;width:4.5ch;margin-right:1.2ch;text-align:right;color:#8c959f;user-select:none}\
.nocode{color:#57606a;font-style:italic}.wide{overflow-x:auto}table.models{font-size:85%}table.models th,table.models td{padding:.3rem .35rem}table.models td:nth-child(-n+3){white-space:nowrap}\
.charts{display:flex;flex-wrap:wrap;gap:2rem;align-items:flex-start}figure{margin:0}figcaption{color:#57606a;font-size:90%}\
svg.chart text{font-family:system-ui,sans-serif}";

/// The HTML page of an analysis. `texts` are the reviewed files as the run holds them
/// (see `code` for where they come from): each issue quotes its lines from them.
pub fn html(a: &Analysis, texts: &HashMap<String, String>) -> String {
    let m = &a.meta;
    let script = (!a.issues.is_empty()).then_some(filters::SCRIPT);
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Quorum review of {root}</title><style>{STYLE}</style></head><body>\n<h1>Quorum review of <code>{root}</code></h1>\n\
         <p>Run <code>{run}</code>, started {started}. {sent} files sent, {reviewed} reviewed by at least one model, \
         {skipped} skipped. {n} issues, ranked by how many independent models reported them.</p>\n",
        csp = filters::content_security_policy(STYLE, script),
        root = escape(&m.root),
        run = escape(&m.run_id),
        started = escape(&m.started_at),
        sent = m.files.len(),
        reviewed = a.files_reviewed,
        skipped = m.skipped.len(),
        n = a.issues.len(),
    );
    if let Some(since) = &m.since {
        let _ = writeln!(
            page,
            "<p>Changes since <code>{}</code> (<code>{}</code>): {} new issues, {} pre-existing (outside the changed \
             lines and {} lines around them), marked as such.</p>",
            escape(&since.reference),
            escape(&since.commit),
            a.new_issues().count(),
            a.pre_existing_issues().count(),
            crate::analysis::CHANGE_MARGIN_LINES
        );
    }
    page.push_str(&banner(a));
    if let Some(caution) = &a.judge.caution {
        let _ = writeln!(
            page,
            "<div class=\"banner\" role=\"alert\"><p><b>{}</b></p></div>",
            escape(caution)
        );
    }
    page.push_str("<h2 id=\"issues\">Issues</h2>\n");
    if let Some(judged) = super::judge_summary(a) {
        let _ = writeln!(page, "<p>{}</p>", escape(&judged));
    }
    page.push_str(&no_issues(a));
    if !a.issues.is_empty() {
        page.push_str(&filters::form(a));
        summary(&mut page, a);
    }
    page.push_str(&charts::section(a));
    if !a.issues.is_empty() {
        page.push_str("<h2 id=\"details\">Issue details</h2>\n");
        details(&mut page, a, texts);
    }
    html_triage(&mut page, &a.triage);
    html_errors(&mut page, a);
    html_leftovers(&mut page, a);
    if let Some(script) = script {
        page.push_str(&filters::data_block(a));
        let _ = writeln!(page, "<script>{script}</script>");
    }
    page.push_str("</body></html>\n");
    page
}

/// The ranked issues, one row each, with a column per model: who found what.
fn summary(page: &mut String, a: &Analysis) {
    page.push_str("<div class=\"wide\"><table id=\"issue-table\"><thead><tr><th>#</th><th>agreed</th><th>severity</th><th>location</th><th>issue</th>");
    for p in &a.providers {
        let _ = write!(page, "<th class=\"model\" title=\"{0}\">{0}</th>", escape(&p.name));
    }
    page.push_str("</tr></thead><tbody>\n");
    for (i, issue) in a.issues.iter().enumerate() {
        let _ = write!(
            page,
            "<tr data-issue=\"{i}\"><td><a href=\"#{id}\">{n}</a></td><td>{agreed}</td><td class=\"sev {sev}\">{sev}</td>\
             <td><code>{loc}</code></td><td>{title}{cwe}{tags}</td>",
            id = escape(&issue.id),
            n = i + 1,
            agreed = escape(&crate::report::agreement(issue)),
            sev = issue.severity.as_str(),
            loc = escape(&location(issue)),
            title = inline::html(&issue.title),
            cwe = issue.cwe.map(|c| format!(" <span class=\"cwe\">(CWE-{c})</span>")).unwrap_or_default(),
            tags = tags(issue),
        );
        for p in &a.providers {
            match issue.findings.iter().find(|f| f.provider == p.name) {
                Some(f) => {
                    let _ = write!(
                        page,
                        "<td class=\"hit {sev}\" title=\"{name}: {sev}\">●</td>",
                        sev = f.severity.as_str(),
                        name = escape(&p.name)
                    );
                }
                None => page.push_str("<td class=\"hit\"></td>"),
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table></div>\n<p id=\"none-shown\" hidden>No issue passes these filters.</p>\n");
}

/// The small labels after an issue's title.
fn tags(issue: &Issue) -> String {
    let mut tags = String::new();
    if issue.source == Source::Quorum {
        tags.push_str("<span class=\"tag\">quorum check</span>");
    }
    if issue.pre_existing {
        tags.push_str("<span class=\"tag\">pre-existing</span>");
    }
    tags
}

/// Each issue: where, who agreed, the code around its lines, and every model's words.
fn details(page: &mut String, a: &Analysis, texts: &HashMap<String, String>) {
    let mut sources = code::Sources::new(texts);
    for (i, issue) in a.issues.iter().enumerate() {
        let _ = writeln!(
            page,
            "<section class=\"issue\" id=\"{id}\" data-issue=\"{i}\">\n<h3>{n}. {title}{tags}</h3>\n\
             <p class=\"meta\"><span class=\"sev {sev}\">{sev}</span> · {cat} · agreed by {agreed} · <code>{loc}</code>{cwe} · id <code>{id}</code></p>",
            id = escape(&issue.id),
            n = i + 1,
            title = inline::html(&issue.title),
            tags = tags(issue),
            sev = issue.severity.as_str(),
            cat = issue.category.as_str(),
            agreed = escape(&crate::report::agreement(issue)),
            loc = escape(&location(issue)),
            cwe = issue.cwe.map(|c| format!(" · CWE-{c}")).unwrap_or_default(),
        );
        page.push_str(&sources.excerpt(issue));
        page.push_str("<ul>\n");
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
                title = inline::html(&f.title),
                desc = inline::html(&f.description)
            );
            if let Some(fix) = &f.suggestion {
                let _ = write!(page, "<br><i>Fix:</i> {}", inline::html(fix));
            }
            page.push_str("</li>\n");
        }
        page.push_str("</ul>\n</section>\n");
    }
}

/// The banner over an incomplete run: it stopped early, or a provider failed on some
/// files (down, failed requests, unusable answers), with counts per provider.
fn banner(a: &Analysis) -> String {
    let mut lines = Vec::new();
    if let Some(why) = &a.meta.stopped_early {
        lines.push(format!(
            "The run stopped early ({}): some requests were never made. Continue it with <code>quorum review --resume</code>.",
            escape(why)
        ));
    }
    let total = a.meta.files.len();
    let mut by_provider: BTreeMap<&str, (BTreeSet<&str>, BTreeMap<&'static str, usize>)> = BTreeMap::new();
    for e in &a.errors {
        let (files, stages) = by_provider.entry(&e.provider).or_default();
        files.insert(&e.file);
        *stages.entry(stage_kind(&e.stage)).or_default() += 1;
    }
    for p in &a.providers {
        let Some((files, stages)) = by_provider.get(p.name.as_str()) else {
            continue;
        };
        let what: Vec<String> = stages.iter().map(|(kind, n)| stage_words(kind, *n)).collect();
        lines.push(format!(
            "<b>{}</b> did not review {} of {total} files: {}.",
            escape(&p.name),
            files.len(),
            what.join(", ")
        ));
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from("<div class=\"banner\" role=\"alert\"><p><b>This report is incomplete.</b></p>\n");
    for line in lines {
        let _ = writeln!(out, "<p>{line}</p>");
    }
    if !a.errors.is_empty() {
        out.push_str("<p>See <a href=\"#errors\">Errors</a> for each file.</p>\n");
    }
    out.push_str("</div>\n");
    out
}

/// The kind of failure an error of `stage` is, as the banner counts it.
fn stage_kind(stage: &str) -> &'static str {
    match stage {
        "request" => "request",
        "skipped" => "skipped",
        "missing" => "missing",
        _ => "unusable",
    }
}

/// `n` failures of `kind`, in words.
fn stage_words(kind: &str, n: usize) -> String {
    let s = if n == 1 { "" } else { "s" };
    match kind {
        "request" => format!("{n} failed request{s}"),
        "skipped" => format!("{n} skipped (provider down)"),
        "missing" => format!("{n} never asked (the run stopped)"),
        _ => format!("{n} unusable answer{s}"),
    }
}

/// What the page says when there is nothing to list: no issues, and what was left out.
fn no_issues(a: &Analysis) -> String {
    let t = &a.triage;
    let baseline = t.baseline.as_ref().map_or(0, |b| b.unchanged.len());
    if a.issues.is_empty() {
        let mut left_out = Vec::new();
        if !t.suppressed.is_empty() {
            left_out.push(format!("{} suppressed", t.suppressed.len()));
        }
        if baseline > 0 {
            left_out.push(format!("{baseline} already in the baseline"));
        }
        return match left_out.is_empty() {
            true => "<p class=\"none\"><b>No issues reported.</b></p>\n".to_string(),
            false => format!(
                "<p class=\"none\"><b>No issues reported</b>: {} left out (listed below).</p>\n",
                left_out.join(" and ")
            ),
        };
    }
    match (a.meta.since.is_some(), a.new_issues().count()) {
        (true, 0) => format!(
            "<p class=\"none\"><b>No new issues in the changed lines</b>; {}.</p>\n",
            match a.issues.len() {
                1 => "the one pre-existing issue outside them is listed below".to_string(),
                n => format!("the {n} pre-existing issues outside them are listed below"),
            }
        ),
        _ => String::new(),
    }
}

/// Why some files have no usable answer from some provider, counted in the heading.
fn html_errors(page: &mut String, a: &Analysis) {
    if a.errors.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<h2 id=\"errors\">Errors ({})</h2>\n<table><thead><tr><th>provider</th><th>file</th><th>what failed</th><th>message</th></tr></thead><tbody>",
        a.errors.len()
    );
    for e in &a.errors {
        let stage = match &e.kind {
            Some(kind) => format!("{} ({kind})", e.stage),
            None => e.stage.clone(),
        };
        let _ = writeln!(
            page,
            "<tr><td><b>{}</b></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&e.provider),
            escape(&e.file),
            escape(&stage),
            escape(&e.message)
        );
    }
    page.push_str("</tbody></table>\n");
}

/// The answers cut and the files not reviewed.
fn html_leftovers(page: &mut String, a: &Analysis) {
    if !a.cuts.is_empty() {
        let _ = writeln!(
            page,
            "<details><summary>Answers cut ({}): past the limits on findings or field lengths</summary><ul>",
            a.cuts.len()
        );
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
    let skipped = &a.meta.skipped;
    if !skipped.is_empty() {
        let _ = writeln!(
            page,
            "<details><summary>Files not reviewed ({})</summary><ul>",
            skipped.len()
        );
        for s in skipped {
            let _ = writeln!(page, "<li><code>{}</code>: {}</li>", escape(&s.path), escape(&s.reason));
        }
        page.push_str("</ul></details>\n");
    }
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
    use super::*;
    use crate::consensus::Settings;
    use crate::store::{ResponseRecord, RunMeta};

    /// A run of `a.go` by `a` and `b`: `a` reports one issue, `b` was down.
    fn run(since: bool) -> Analysis {
        let mut meta: RunMeta = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "run_id": "r", "root": "/x", "started_at": "t",
            "providers": [{"name": "a", "kind": "openai", "model": "m", "family": "a"},
                          {"name": "b", "kind": "openai", "model": "m", "family": "b"}],
            "files": [{"path": "a.go", "lines": 10, "content_hash": "h"}],
            "skipped": []
        }))
        .unwrap();
        if since {
            meta.since = serde_json::from_value(serde_json::json!({"ref": "main", "commit": "c"})).unwrap();
        }
        let record = |provider: &str, fields: serde_json::Value| -> ResponseRecord {
            let mut record =
                serde_json::json!({"provider": provider, "model": "m", "file": "a.go", "content_hash": "h"});
            record
                .as_object_mut()
                .unwrap()
                .extend(fields.as_object().unwrap().clone());
            serde_json::from_value(record).unwrap()
        };
        let answer = r#"{"findings":[{"start_line":3,"title":"SQL injection","severity":"high","cwe":89}]}"#;
        let records = vec![
            record(
                "a",
                serde_json::json!({"status": "ok", "text": answer, "finish_reason": "stop"}),
            ),
            record(
                "b",
                serde_json::json!({"status": "skipped", "error": {"kind": "connect", "message": "down"}}),
            ),
        ];
        crate::analysis::analyze(meta, records, &HashMap::new(), &Settings::default())
    }

    #[test]
    fn a_provider_down_is_a_banner_and_only_pre_existing_issues_are_said_so() {
        let mut a = run(true);
        let page = html(&a, &HashMap::new());
        assert!(
            page.contains("<b>b</b> did not review 1 of 1 files: 1 skipped (provider down)."),
            "{page}"
        );
        assert!(page.contains("<h2 id=\"errors\">Errors (1)</h2>"), "{page}");
        assert!(!page.contains("No new issues"), "the issue is new: {page}");
        a.issues[0].pre_existing = true;
        let page = html(&a, &HashMap::new());
        assert!(
            page.contains(
                "<b>No new issues in the changed lines</b>; the one pre-existing issue outside them is listed below."
            ),
            "{page}"
        );
        assert!(page.contains("<span class=\"tag\">pre-existing</span>"), "{page}");
        assert!(
            no_issues(&run(false)).is_empty(),
            "a whole review lists its issues without a word"
        );
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn a_page_of_many_issues_in_one_big_file_stays_within_the_quote_budget() {
        let mut a = run(false);
        let text = format!("{}\n", "if (a < b && c > d) { x(); } ".repeat(8)).repeat(700);
        let first = a.issues[0].clone();
        a.issues = (1..=200u32)
            .map(|n| {
                let mut issue = first.clone();
                issue.id = format!("Q{n}");
                issue.start_line = Some(n * 3 % 650 + 1);
                issue.end_line = Some(n * 3 % 650 + 41);
                issue
            })
            .collect();
        let texts = HashMap::from([("a.go".to_string(), text)]);
        let page = html(&a, &texts);
        let budget = code::QUOTE_BUDGET_BYTES;
        assert!(page.len() < budget + budget / 4, "{} bytes", page.len());
        assert!(page.contains("Code not shown: the report's quote budget is spent."));
    }
}
