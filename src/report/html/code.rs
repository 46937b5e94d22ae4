//! The code around an issue's lines, quoted in `report.html`.
//!
//! Where the code comes from: the texts the run already holds, never a read of its own.
//! `review` passes the files exactly as it walked and sent them (bounded reads of regular
//! files inside the review root); `aggregate` passes `read_unchanged_files`: each file
//! `run.json` lists (plain relative paths, checked when it is read) read again below the
//! root only as a bounded regular file, kept only when its SHA-256 still equals the
//! `content_hash` listed, and never when the walk's secret-file rule (`secret_files`, or
//! a key found by its content) would keep it home. So the report stage opens nothing and
//! imports neither engine nor providers. What it quotes is what `run.json` says was
//! reviewed: for a run this Quorum wrote, the code the models saw; a `run.json` from
//! elsewhere can name any other non-secret file below its root whose hash it knows. A
//! file missing from the texts changed (or went) since the review, and the page says so
//! instead.
//!
//! Secret-looking values are redacted here as for a hosted model (whatever the providers
//! were): the report is a file people attach to tickets.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::escape;
use crate::checks::redact;
use crate::consensus::Issue;

/// Lines shown before and after an issue's lines.
const CONTEXT_LINES: u32 = 3;
/// The most of an issue's own lines shown: a model may name a whole file.
const MAX_MARKED_LINES: u32 = 40;
/// The most characters of one line shown (minified code has lines of megabytes).
const MAX_LINE_CHARS: usize = 240;
/// Columns a tab takes (the sanitiser would turn it into one space).
const TAB: &str = "    ";
/// The most bytes of quoted code one page holds: one excerpt is bounded, but hundreds of
/// issues in a file of long lines would make a page of tens of megabytes.
pub const QUOTE_BUDGET_BYTES: usize = 2 * 1024 * 1024;
/// An excerpt repeated for another issue on the same lines when it is no larger than
/// this; a larger one is shown once and referred to.
const MAX_REPEATED_BYTES: usize = 2 * 1024;
/// What an issue shows once the budget is spent.
const BUDGET_SPENT: &str = "<p class=\"nocode\">Code not shown: the report's quote budget is spent.</p>\n";

/// The lines of one file an excerpt quotes, to quote them once.
#[derive(PartialEq, Eq, Hash)]
struct Range {
    file: String,
    start: u32,
    end: u32,
}

/// An excerpt already on the page.
struct Quoted {
    /// The issue it is shown with (its section's anchor).
    issue_id: String,
    /// Its size in bytes.
    bytes: usize,
}

/// The lines of the reviewed files, redacted, split once per file.
pub struct Sources<'a> {
    texts: &'a HashMap<String, String>,
    lines: HashMap<&'a str, Vec<String>>,
    /// The excerpts on the page so far, by the lines they quote.
    quoted: HashMap<Range, Quoted>,
    /// Bytes of quoted code on the page so far.
    spent: usize,
}

impl<'a> Sources<'a> {
    pub fn new(texts: &'a HashMap<String, String>) -> Sources<'a> {
        Sources {
            texts,
            lines: HashMap::new(),
            quoted: HashMap::new(),
            spent: 0,
        }
    }

    /// The redacted lines of `file`, `None` when the run holds no text of it as reviewed.
    fn lines(&mut self, file: &str) -> Option<&[String]> {
        let (path, text) = self.texts.get_key_value(file)?;
        let lines = self
            .lines
            .entry(path.as_str())
            .or_insert_with(|| redact::redact(text).text.lines().map(str::to_string).collect());
        Some(lines)
    }

    /// The HTML block quoting the code around `issue`'s lines; empty for an issue with
    /// no lines. Lines already quoted for an earlier issue are repeated only when the
    /// excerpt is small, else referred to; past [`QUOTE_BUDGET_BYTES`] of quoted code, an
    /// issue says the budget is spent.
    pub fn excerpt(&mut self, issue: &Issue) -> String {
        let range = Range {
            file: issue.file.clone(),
            start: issue.start_line.unwrap_or(0),
            end: issue.end_line.max(issue.start_line).unwrap_or(0),
        };
        if let Some(first) = self.quoted.get(&range).filter(|q| q.bytes > MAX_REPEATED_BYTES) {
            let id = escape(&first.issue_id);
            return format!("<p class=\"nocode\">The same code as issue <a href=\"#{id}\">{id}</a> quotes.</p>\n");
        }
        let block = self.block(issue);
        if self.spent + block.len() > QUOTE_BUDGET_BYTES && block.contains("<pre") {
            return BUDGET_SPENT.to_string();
        }
        self.spent += block.len();
        self.quoted.entry(range).or_insert_with(|| Quoted {
            issue_id: issue.id.clone(),
            bytes: block.len(),
        });
        block
    }

    /// The excerpt of `issue`'s lines, whatever was quoted before.
    fn block(&mut self, issue: &Issue) -> String {
        let Some(start) = issue.start_line else {
            return String::new();
        };
        let end = issue.end_line.unwrap_or(start).max(start);
        let Some(lines) = self.lines(&issue.file) else {
            return "<p class=\"nocode\">Code not shown: the file changed since the review (or is no longer there).</p>\n"
                .to_string();
        };
        let count = lines.len() as u32;
        if start > count {
            return String::new();
        }
        let end = end.min(count);
        let shown_end = end.min(start + MAX_MARKED_LINES - 1);
        let first = start.saturating_sub(CONTEXT_LINES).max(1);
        let last = (shown_end + CONTEXT_LINES).min(count);
        let mut block = String::from("<pre class=\"code\">");
        for number in first..=last {
            let class = if (start..=shown_end).contains(&number) {
                "line hit"
            } else {
                "line"
            };
            let _ = write!(
                block,
                "<span class=\"{class}\"><span class=\"ln\">{number}</span>{}</span>",
                escape(&shown_line(&lines[number as usize - 1]))
            );
        }
        block.push_str("</pre>\n");
        if shown_end < end {
            let _ = writeln!(
                block,
                "<p class=\"nocode\">… and {} more lines of the issue (to line {end}).</p>",
                end - shown_end
            );
        }
        block
    }
}

/// One line as shown: tabs as spaces, cut past [`MAX_LINE_CHARS`].
fn shown_line(line: &str) -> String {
    let line = line.replace('\t', TAB);
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(file: &str, start: u32, end: u32) -> Issue {
        serde_json::from_value(serde_json::json!({
            "id": "Q1", "file": file, "start_line": start, "end_line": end, "severity": "high",
            "category": "injection", "title": "t", "score": 1.0, "findings": [],
            "agreement": {"count": 1, "of": 1, "providers": ["a"]}
        }))
        .unwrap()
    }

    #[test]
    fn quotes_the_lines_with_context_escaped_and_marked() {
        let text: String = (1..=20).map(|i| format!("line {i} <b>\n")).collect();
        let texts = HashMap::from([("a.go".to_string(), text)]);
        let mut sources = Sources::new(&texts);
        let block = sources.excerpt(&issue("a.go", 10, 11));
        assert!(block.contains("<span class=\"ln\">7</span>line 7 &lt;b&gt;"), "{block}");
        assert!(!block.contains(">6</span>") && !block.contains(">15</span>"), "{block}");
        assert!(block.contains("<span class=\"line hit\"><span class=\"ln\">10</span>"));
        assert!(block.contains("<span class=\"line\"><span class=\"ln\">12</span>"));
        let near_start = sources.excerpt(&issue("a.go", 1, 1));
        assert!(near_start.contains(">1</span>") && near_start.contains(">4</span>"));
    }

    #[test]
    fn a_changed_file_says_so_and_secrets_are_redacted() {
        let texts = HashMap::from([(
            "k.go".to_string(),
            "package k\nconst key = \"AKIAABCDEFGHIJKLMNOP\"\n".to_string(),
        )]);
        let mut sources = Sources::new(&texts);
        assert!(sources
            .excerpt(&issue("gone.go", 3, 3))
            .contains("the file changed since the review"));
        let block = sources.excerpt(&issue("k.go", 2, 2));
        assert!(!block.contains("AKIAABCDEFGHIJKLMNOP"), "{block}");
        assert!(block.contains("redacted:aws-access-key"), "{block}");
    }

    #[test]
    fn long_ranges_and_lines_are_cut() {
        let text = format!("{}\n", "x".repeat(10_000)).repeat(500);
        let texts = HashMap::from([("m.js".to_string(), text)]);
        let block = Sources::new(&texts).excerpt(&issue("m.js", 1, 500));
        assert!(block.len() < 20_000, "{} bytes", block.len());
        assert!(block.contains("460 more lines of the issue (to line 500)"), "{block}");
    }

    fn issue_with_id(id: &str, file: &str, start: u32, end: u32) -> Issue {
        let mut issue = issue(file, start, end);
        issue.id = id.to_string();
        issue
    }

    #[test]
    fn the_same_lines_are_quoted_once_unless_small() {
        let long = format!("{}\n", "<x>".repeat(80)).repeat(60);
        let texts = HashMap::from([
            ("big.js".to_string(), long),
            ("s.go".to_string(), "a\nb\nc\n".to_string()),
        ]);
        let mut sources = Sources::new(&texts);
        let first = sources.excerpt(&issue_with_id("Q1", "big.js", 10, 30));
        assert!(first.len() > MAX_REPEATED_BYTES && first.contains("<pre"), "{first}");
        let again = sources.excerpt(&issue_with_id("Q2", "big.js", 10, 30));
        assert_eq!(
            again,
            "<p class=\"nocode\">The same code as issue <a href=\"#Q1\">Q1</a> quotes.</p>\n"
        );
        assert!(
            sources.excerpt(&issue_with_id("Q3", "big.js", 11, 30)).contains("<pre"),
            "other lines"
        );
        let small = sources.excerpt(&issue_with_id("Q4", "s.go", 2, 2));
        assert_eq!(
            sources.excerpt(&issue_with_id("Q5", "s.go", 2, 2)),
            small,
            "a small one is repeated"
        );
    }

    #[test]
    fn quoted_code_stops_at_the_budget() {
        // One file of 165 kB of long lines, and 200 issues on different lines of it.
        let text = format!("{}\n", "if (a < b && c > d) { x(); } ".repeat(8)).repeat(700);
        assert!(text.len() > 160_000);
        let texts = HashMap::from([("app.js".to_string(), text)]);
        let mut sources = Sources::new(&texts);
        let blocks: Vec<String> = (1..=200)
            .map(|n| sources.excerpt(&issue_with_id(&format!("Q{n}"), "app.js", n * 3, n * 3 + 40)))
            .collect();
        let total: usize = blocks.iter().map(String::len).sum();
        assert!(total <= QUOTE_BUDGET_BYTES + 200 * BUDGET_SPENT.len(), "{total} bytes");
        assert!(blocks[0].contains("<pre"));
        let last = blocks.last().unwrap();
        assert!(
            last.contains("Code not shown: the report's quote budget is spent."),
            "{last}"
        );
        assert!(!last.contains("<pre"));
    }
}
