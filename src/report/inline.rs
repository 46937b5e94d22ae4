//! Inline code in what a model wrote: models quote code between backticks
//! (`` `term` ``), and the reports show it as code instead of literal backticks. The text
//! is split here once; each format then escapes every piece for itself, so a code span
//! carries no markup (HTML) and cannot close early or split a table cell (Markdown).

use crate::sanitize::terminal_safe;

/// A piece of a model's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Code(&'a str),
}

/// Splits `text` into plain text and code spans, as CommonMark does: a run of backticks
/// opens a span that the next run of the same length closes; a run never closed is text.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    while let Some(open) = text[at..].find('`').map(|i| at + i) {
        let ticks = run_length(&text[open..]);
        let body_from = open + ticks;
        match closing_run(&text[body_from..], ticks) {
            Some(close) if !text[body_from..body_from + close].trim().is_empty() => {
                if plain_from < open {
                    out.push(Piece::Text(&text[plain_from..open]));
                }
                out.push(Piece::Code(&text[body_from..body_from + close]));
                at = body_from + close + ticks;
                plain_from = at;
            }
            _ => at = body_from,
        }
    }
    if plain_from < text.len() {
        out.push(Piece::Text(&text[plain_from..]));
    }
    out
}

/// The number of backticks `text` starts with.
fn run_length(text: &str) -> usize {
    text.bytes().take_while(|&b| b == b'`').count()
}

/// Where in `text` the first run of exactly `ticks` backticks starts.
fn closing_run(text: &str, ticks: usize) -> Option<usize> {
    let mut at = 0;
    while let Some(start) = text[at..].find('`').map(|i| at + i) {
        let run = run_length(&text[start..]);
        if run == ticks {
            return Some(start);
        }
        at = start + run;
    }
    None
}

/// A model's text as HTML: code spans in `<code>`, everything escaped.
pub fn html(text: &str) -> String {
    pieces(text)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(t) => super::html::escape(t),
            Piece::Code(c) => format!("<code>{}</code>", super::html::escape(c)),
        })
        .collect()
}

/// A model's text for a Markdown paragraph or list item: code spans as code, the rest
/// escaped by [`super::md_text`].
pub fn markdown(text: &str) -> String {
    markdown_with(text, false)
}

/// A model's text for a Markdown table cell: as [`markdown`], and a `|` inside a code
/// span is escaped too (GFM splits cells before it reads code spans, and shows `\|` there
/// as `|`).
pub fn markdown_cell(text: &str) -> String {
    markdown_with(text, true)
}

fn markdown_with(text: &str, in_cell: bool) -> String {
    pieces(text)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(t) => super::md_text(t),
            Piece::Code(c) => {
                // One backtick each side: a backtick inside (possible in a span opened by
                // two) becomes a quote, so the span cannot close early.
                let mut body = terminal_safe(c).replace('`', "'");
                if in_cell {
                    body = body.replace('|', "\\|");
                }
                match body.trim().is_empty() {
                    true => String::new(),
                    false => format!("`{body}`"),
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backtick_runs_make_code_spans() {
        assert_eq!(
            pieces("use `?` here"),
            vec![Piece::Text("use "), Piece::Code("?"), Piece::Text(" here")]
        );
        assert_eq!(pieces("``a`b`` x"), vec![Piece::Code("a`b"), Piece::Text(" x")]);
        assert_eq!(pieces("a ` lone"), vec![Piece::Text("a ` lone")], "never closed");
        assert_eq!(pieces("`` x `"), vec![Piece::Text("`` x `")], "runs of other lengths");
        assert_eq!(pieces("empty `` here"), vec![Piece::Text("empty `` here")]);
        assert_eq!(pieces("`a``b`"), vec![Piece::Code("a``b")]);
    }

    #[test]
    fn code_spans_carry_no_markup() {
        assert_eq!(
            html("call `<img src=x onerror=alert(1)>` & <b>"),
            "call <code>&lt;img src=x onerror=alert(1)&gt;</code> &amp; &lt;b&gt;"
        );
        assert_eq!(
            markdown("a `x|y` and [l](javascript:alert(1)) <i>"),
            "a `x|y` and \\[l\\](javascript:alert(1)) \\<i\\>"
        );
        assert_eq!(markdown_cell("`x|y` | z"), "`x\\|y` \\| z");
        assert_eq!(markdown("``a`b``"), "`a'b`", "a backtick inside cannot close the span");
        assert_eq!(markdown("line\nbreak `a\nb`"), "line break `a b`");
    }

    /// Titles where a bare URL runs into a code span (GFM's extended autolinks run on to
    /// the next space, so they would swallow the span's opening backtick).
    const AUTOLINK_INTO_SPAN: [&str; 4] = [
        "see http://x.example` [click here](https://evil.example) ![](https://evil.example/beacon.png) <img src=https://evil.example/p.png>` now",
        "see www.x.example`<b>bold</b> [l](https://evil.example)`",
        "(WWW.x.example`<b>b</b>` and ftp://h.example`<i>i</i>` and a@b.example`<u>u</u>`",
        "mailto:a@b.example`<b>m</b>` https://ok.example/ `x`",
    ];

    #[test]
    fn a_url_cannot_reach_into_a_code_span() {
        let md = markdown(AUTOLINK_INTO_SPAN[0]);
        assert_eq!(
            md,
            "see http\\://x.example` [click here](https://evil.example) ![](https://evil.example/beacon.png) \
             <img src=https://evil.example/p.png>` now"
        );
        assert_eq!(
            markdown(AUTOLINK_INTO_SPAN[1]),
            "see www\\.x.example`<b>bold</b> [l](https://evil.example)`"
        );
        assert!(markdown(AUTOLINK_INTO_SPAN[2]).starts_with("(WWW\\.x.example`"));
        for title in AUTOLINK_INTO_SPAN {
            let html = match gfm_html(&markdown(title)) {
                Some(html) => html,
                None => return eprintln!("skipped the GFM rendering check: python3 with cmarkgfm is not installed"),
            };
            for live in ["<a href=\"https://evil", "<img", "<b>", "<i>", "<u>"] {
                assert!(!html.contains(live), "{live} is live in {html}");
            }
            assert!(html.contains("<code>"), "the span stays code: {html}");
        }
    }

    /// `markdown` rendered by GitHub's own renderer (cmark-gfm with every extension, raw
    /// HTML allowed so that any escape would show), when python3 has `cmarkgfm`.
    fn gfm_html(markdown: &str) -> Option<String> {
        const RENDER: &str = "import sys, cmarkgfm\n\
            from cmarkgfm.cmark import Options\n\
            sys.stdout.write(cmarkgfm.github_flavored_markdown_to_html(sys.stdin.read(), options=Options.CMARK_OPT_UNSAFE))";
        use std::io::Write as _;
        let mut child = std::process::Command::new("python3")
            .args(["-c", RENDER])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(markdown.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
