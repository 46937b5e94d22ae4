//! Splitting files that do not fit a model's context window.
//!
//! Local models often run with 4k–16k tokens of context. A file that does not fit with
//! the prompt and the room reserved for the answer is split into overlapping line ranges,
//! cut where code naturally breaks (a blank line, or just before a top-level
//! declaration), so no function is cut in half if it can be helped. Lines keep their
//! real numbers in the prompt, so findings map back to the file without arithmetic, and
//! the overlap lets a problem that straddles a cut be seen whole by one of the two parts.

use crate::store::LineRange;

/// Characters per token assumed when estimating prompt sizes. Code tokenizes denser than
/// prose; 3.5 errs on the side of smaller chunks.
pub(crate) const CHARS_PER_TOKEN: f64 = 3.5;

/// Parts smaller than this are not split further.
const MIN_SPLIT_LINES: u32 = 16;

/// Characters the prompt adds to each line besides the digits of its number: the `| `
/// after the number and the newline (see `prompt::user_prompt`).
const LINE_FRAME_CHARS: usize = 3;

/// How many lines two neighbouring parts share: a fraction of the part, at least one
/// line and at most `max_lines`.
struct Overlap {
    /// The shared lines are one in `one_in` of the part's lines.
    one_in: u32,
    max_lines: u32,
}

impl Overlap {
    fn lines(&self, part_lines: u32) -> u32 {
        (part_lines / self.one_in).clamp(1, self.max_lines)
    }
}

/// Parts planned ahead share a tenth of their lines, at most 20: enough to see a short
/// function that straddles the cut whole.
const PLANNED_OVERLAP: Overlap = Overlap {
    one_in: 10,
    max_lines: 20,
};

/// The halves of a part a server refused as too long share less (a twentieth, at most
/// 10 lines): each half must fit where the whole did not.
const SPLIT_OVERLAP: Overlap = Overlap {
    one_in: 20,
    max_lines: 10,
};

/// Characters `line` takes in the prompt, numbered with `digits` digits.
fn prompt_chars(line: &str, digits: usize) -> usize {
    line.chars().count() + digits + LINE_FRAME_CHARS
}

/// Estimated tokens of a text.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as f64 / CHARS_PER_TOKEN).ceil() as u64
}

/// Estimated tokens of lines `range` of `lines`, as numbered in the prompt.
fn range_tokens(lines: &[&str], range: LineRange) -> u64 {
    let digits = lines.len().to_string().len();
    let chars: usize = lines[(range.start_line - 1) as usize..range.end_line as usize]
        .iter()
        .map(|l| prompt_chars(l, digits))
        .sum();
    (chars as f64 / CHARS_PER_TOKEN).ceil() as u64
}

/// The ranges to review `text` in, each estimated at most `budget_tokens`. `None` means
/// the whole file fits in one request.
pub fn plan(text: &str, budget_tokens: Option<u64>) -> Option<Vec<LineRange>> {
    let lines: Vec<&str> = text.lines().collect();
    let budget = budget_tokens?;
    let whole = LineRange {
        start_line: 1,
        end_line: lines.len().max(1) as u32,
    };
    if lines.is_empty() || range_tokens(&lines, whole) <= budget {
        return None;
    }
    let mut ranges = Vec::new();
    let mut start = 1u32;
    let last = lines.len() as u32;
    loop {
        let end = furthest_end(&lines, start, budget);
        let end = if end >= last {
            last
        } else {
            natural_cut(&lines, start, end)
        };
        ranges.push(LineRange {
            start_line: start,
            end_line: end,
        });
        if end >= last {
            return Some(ranges);
        }
        let overlap = PLANNED_OVERLAP.lines(end - start + 1);
        start = (end + 1).saturating_sub(overlap).max(start + 1);
    }
}

/// Splits `range` in two overlapping halves cut at a natural boundary near the middle,
/// for a retry after the server said the prompt was too long. `None` when too small.
pub fn split(text: &str, range: Option<LineRange>) -> Option<[LineRange; 2]> {
    let lines: Vec<&str> = text.lines().collect();
    let range = range.unwrap_or(LineRange {
        start_line: 1,
        end_line: lines.len() as u32,
    });
    let len = range.end_line.checked_sub(range.start_line)? + 1;
    if len < MIN_SPLIT_LINES || range.end_line as usize > lines.len() {
        return None;
    }
    let middle = range.start_line + len / 2;
    let cut = natural_cut(&lines, range.start_line + len / 4, middle);
    let overlap = SPLIT_OVERLAP.lines(len);
    Some([
        LineRange {
            start_line: range.start_line,
            end_line: cut,
        },
        LineRange {
            start_line: (cut + 1).saturating_sub(overlap).max(range.start_line + 1),
            end_line: range.end_line,
        },
    ])
}

/// The last line such that `start..=end` fits the budget (at least `start` itself).
fn furthest_end(lines: &[&str], start: u32, budget: u64) -> u32 {
    let digits = lines.len().to_string().len();
    let mut chars = 0usize;
    let mut end = start;
    for (i, line) in lines.iter().enumerate().skip((start - 1) as usize) {
        chars += prompt_chars(line, digits);
        if (chars as f64 / CHARS_PER_TOKEN).ceil() as u64 > budget && i + 1 > start as usize {
            break;
        }
        end = i as u32 + 1;
    }
    end
}

/// The best line to end a part at, at or before `end` and in its last quarter: a blank
/// line, or the line before a top-level declaration. Falls back to `end`.
fn natural_cut(lines: &[&str], start: u32, end: u32) -> u32 {
    let earliest = end - (end - start) / 4;
    let is_boundary = |line_no: u32| {
        let this = lines[(line_no - 1) as usize];
        let next = lines.get(line_no as usize).copied().unwrap_or("");
        this.trim().is_empty() || (!next.starts_with([' ', '\t', '}', ')', ']']) && !next.trim().is_empty())
    };
    (earliest..=end).rev().find(|&l| is_boundary(l)).unwrap_or(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go_file(functions: usize) -> String {
        (0..functions)
            .map(|i| format!("func f{i}(x int) int {{\n\ty := x * {i}\n\treturn y + 1\n}}\n\n"))
            .collect()
    }

    #[test]
    fn a_file_that_fits_is_not_split() {
        assert_eq!(plan(&go_file(3), Some(10_000)), None);
        assert_eq!(plan(&go_file(3), None), None);
    }

    #[test]
    fn parts_fit_overlap_cover_everything_and_cut_between_functions() {
        let text = go_file(100);
        let lines: Vec<&str> = text.lines().collect();
        let ranges = plan(&text, Some(300)).unwrap();
        assert!(ranges.len() > 3);
        assert_eq!(ranges[0].start_line, 1);
        assert_eq!(ranges.last().unwrap().end_line, lines.len() as u32);
        for pair in ranges.windows(2) {
            assert!(pair[1].start_line <= pair[0].end_line, "parts overlap: {pair:?}");
            assert!(pair[1].start_line > pair[0].start_line, "parts progress: {pair:?}");
        }
        for r in &ranges[..ranges.len() - 1] {
            assert!(range_tokens(&lines, *r) <= 300);
            let after = lines[r.end_line as usize];
            assert!(
                lines[r.end_line as usize - 1].is_empty() || after.starts_with("func"),
                "{r:?} cuts a function"
            );
        }
    }

    #[test]
    fn split_halves_overlap_and_stop_when_small() {
        let text = go_file(20);
        let [a, b] = split(&text, None).unwrap();
        assert_eq!(a.start_line, 1);
        assert_eq!(b.end_line, text.lines().count() as u32);
        assert!(b.start_line <= a.end_line);
        let tiny = LineRange {
            start_line: 1,
            end_line: 10,
        };
        assert_eq!(split(&text, Some(tiny)), None);
    }

    #[test]
    fn one_huge_line_still_makes_progress() {
        let text = format!("{}\nshort\n", "x".repeat(10_000));
        let ranges = plan(&text, Some(100)).unwrap();
        assert_eq!(
            ranges,
            vec![
                LineRange {
                    start_line: 1,
                    end_line: 1
                },
                LineRange {
                    start_line: 2,
                    end_line: 2
                }
            ]
        );
    }
}
