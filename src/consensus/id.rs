//! Stable ids: an issue keeps its id from run to run while its code stays the same.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::cwe::cwe_family;
use super::hashing::function_hash;
use super::{Issue, Source};

/// Lines of code, from the anchor line on, that an issue's id hashes.
const ANCHOR_LINES: usize = 2;

/// Gives each issue an id from its file, its kind of weakness and the code at its first
/// lines (whitespace-insensitive), so edits elsewhere in the file do not change it.
/// Issues whose fingerprints collide are told apart by suffixes in an order that does
/// not depend on their rank.
pub(super) fn assign_ids(issues: &mut [Issue], texts: &HashMap<String, String>) {
    let mut keyed: Vec<(String, usize)> = issues.iter().map(|i| fingerprint(i, texts)).zip(0..).collect();
    keyed.sort_by(|(base_a, a), (base_b, b)| {
        let (x, y) = (&issues[*a], &issues[*b]);
        base_a
            .cmp(base_b)
            .then(x.start_line.cmp(&y.start_line))
            .then(x.end_line.cmp(&y.end_line))
            // Who reported it, not how they worded it or how it ranked: the same issue
            // keeps its suffix from run to run.
            .then_with(|| x.agreement.providers.cmp(&y.agreement.providers))
            .then(a.cmp(b))
    });
    let mut n = 0;
    for k in 0..keyed.len() {
        n = if k > 0 && keyed[k - 1].0 == keyed[k].0 {
            n + 1
        } else {
            1
        };
        let (base, i) = &keyed[k];
        issues[*i].id = if n == 1 { base.clone() } else { format!("{base}-{n}") };
    }
}

/// The ids `issue` would have were its anchor one line earlier or later, with the same
/// suffix: where a re-run moves the id of an issue two models report when one of them
/// names the line next to the one it named before (the anchor is the line most members
/// name, and a tie goes to the earlier line). Triage matches a suppression or a baseline
/// id here only when it matches no issue exactly. None for an issue without lines, or
/// one of Quorum's own.
pub fn nearby_ids(issue: &Issue, texts: &HashMap<String, String>) -> Vec<String> {
    let Some(line) = issue.start_line.filter(|_| issue.source == Source::Models) else {
        return Vec::new();
    };
    let suffix = issue.id.find('-').map_or("", |at| &issue.id[at..]);
    [line.checked_sub(1).filter(|l| *l > 0), line.checked_add(1)]
        .into_iter()
        .flatten()
        .map(|near| fingerprint_at(issue, texts, Some(near)) + suffix)
        .collect()
}

fn fingerprint(issue: &Issue, texts: &HashMap<String, String>) -> String {
    fingerprint_at(issue, texts, issue.start_line)
}

/// The fingerprint of `issue` anchored at `start_line`.
fn fingerprint_at(issue: &Issue, texts: &HashMap<String, String>, start_line: Option<u32>) -> String {
    let mut sha = Sha256::new();
    sha.update(issue.file.as_bytes());
    match issue.cwe {
        Some(c) => {
            sha.update(b"\0cwe\0");
            sha.update(cwe_family(c).to_le_bytes());
        }
        None => {
            sha.update(b"\0category\0");
            sha.update(issue.category.as_str().as_bytes());
        }
    }
    match (texts.get(&issue.file), start_line) {
        (Some(text), Some(line)) => {
            sha.update(b"\0code\0");
            let code = text.lines().skip(line.saturating_sub(1) as usize).take(ANCHOR_LINES);
            for word in code.flat_map(str::split_whitespace) {
                sha.update(word.as_bytes());
            }
        }
        (None, Some(line)) => {
            sha.update(b"\0line\0");
            sha.update(line.to_le_bytes());
        }
        (_, None) => match issue
            .findings
            .iter()
            .find_map(|f| f.function.as_deref().and_then(function_hash))
        {
            Some(h) => {
                sha.update(b"\0function\0");
                sha.update(h.to_le_bytes());
            }
            None => {
                sha.update(b"\0title\0");
                sha.update(issue.title.to_lowercase().as_bytes());
            }
        },
    }
    let digest = sha.finalize();
    let mut id = String::with_capacity(9);
    id.push('Q');
    for byte in &digest[..4] {
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 15)]));
    }
    id
}

const HEX: &[u8; 16] = b"0123456789abcdef";
