//! The fallback for languages without a grammar here (and files a grammar could not read
//! in time): identifier-like tokens are names, a token followed by `(` is a call, a line
//! starting with `def`, `func`, `function`, `fn`, `sub`, `class`… defines the next
//! token, until the next line indented as little (or a closing brace at that indent).

use std::sync::OnceLock;

use regex::Regex;

use super::facts::{Definition, FieldSet, FileFacts, Reference};
use super::lang::DefKind;

/// Longest definition the fallback believes, in lines, when it cannot see where one ends.
const MAX_DEF_LINES: u32 = 200;
/// Lines longer than this (minified code) are not read for names.
const MAX_LINE_CHARS: usize = 2_000;

fn definition_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^\s*(?:(?:pub|public|private|protected|static|async|export|default|final|abstract|override|suspend|inline)\s+)*(def|func|function|fn|fun|sub|proc|class|struct|interface|trait|module|object)\s+(?:\([^)]*\)\s*)?([A-Za-z_][A-Za-z0-9_]*)",
        )
        .expect("a valid pattern")
    })
}

fn token_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[A-Za-z_$][A-Za-z0-9_]*").expect("a valid pattern"))
}

/// The facts of `text` read lexically.
pub fn read(text: &str) -> FileFacts {
    let lines: Vec<&str> = text.lines().collect();
    let mut facts = FileFacts::default();
    for (i, line) in lines.iter().enumerate() {
        let number = i as u32 + 1;
        if line.len() > MAX_LINE_CHARS {
            continue;
        }
        if let Some(def) = definition_at(&lines, i) {
            facts.defs.push(def);
        }
        read_tokens(line, number, &mut facts);
    }
    facts
}

/// The definition starting on line `i`, if any.
fn definition_at(lines: &[&str], i: usize) -> Option<Definition> {
    let captures = definition_pattern().captures(lines[i])?;
    let keyword = captures.get(1)?.as_str();
    let name = captures.get(2)?.as_str().to_string();
    let kind = match keyword {
        "class" | "struct" | "interface" | "trait" | "module" | "object" => DefKind::Type,
        _ => DefKind::Function,
    };
    let start_line = i as u32 + 1;
    Some(Definition {
        name,
        kind,
        start_line,
        end_line: end_of_block(lines, i),
    })
}

/// The last line of the block starting at line `i`: before the next non-blank line
/// indented no deeper, or that line itself when it closes (`}`, `end`).
fn end_of_block(lines: &[&str], i: usize) -> u32 {
    let indent = indent_of(lines[i]);
    let limit = (i + MAX_DEF_LINES as usize).min(lines.len());
    let mut last = i;
    for (j, line) in lines.iter().enumerate().take(limit).skip(i + 1) {
        if line.trim().is_empty() {
            continue;
        }
        if indent_of(line) <= indent {
            let closes = line.trim_start().starts_with(['}', ')', ']']) || line.trim() == "end";
            return if closes { j as u32 + 1 } else { last as u32 + 1 };
        }
        last = j;
    }
    last as u32 + 1
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The names on one line: each token, a call when `(` follows, a field read after `.`
/// or `->`, a field set when `=` (not `==`) follows that.
fn read_tokens(line: &str, number: u32, facts: &mut FileFacts) {
    for token in token_pattern().find_iter(line) {
        let name = token.as_str().trim_start_matches('$');
        if name.is_empty() {
            continue;
        }
        let before = &line[..token.start()];
        let after = line[token.end()..].trim_start();
        let member = before.ends_with('.') || before.ends_with("->");
        let call = after.starts_with('(');
        let set = member && after.starts_with('=') && !after.starts_with("==") && !after.starts_with("=>");
        if set {
            facts.sets.push(FieldSet {
                name: name.to_string(),
                line: number,
            });
            continue;
        }
        let reference = Reference {
            name: name.to_string(),
            line: number,
            call,
        };
        if member && !call {
            facts.reads.push(reference.clone());
        }
        facts.refs.push(reference);
    }
}
