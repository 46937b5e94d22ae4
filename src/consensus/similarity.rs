//! Similarity: how alike two profiled findings are in location, weakness and wording,
//! and whether that is enough for them to be one issue.

use std::cmp::Ordering;

use super::cwe::is_generic_cwe;
use super::profile::Profile;
use super::Settings;
use crate::normalize::finding::Category;

/// How alike two profiled findings are, 0..1, and whether that is enough for them to
/// merge; `None` when their locations rule out one issue (another block, or far apart in
/// one file with no shared function). Location is checked first: it is the cheap test.
#[inline]
pub(super) fn pair_similarity(a: &Profile, b: &Profile, settings: &Settings) -> Option<(f64, bool)> {
    let location = location_similarity(a, b, settings.line_tolerance)?;
    let strict = a.provider == b.provider;
    Some(combine(
        a,
        b,
        location,
        weakness_similarity(a, b),
        text_similarity(a, b, strict),
        settings,
    ))
}

/// The similarity of a pair when it is high enough for the pair to merge. Wording, the
/// costly part, is compared only when location and weakness leave it able to decide.
#[inline]
pub(super) fn mergeable_similarity(a: &Profile, b: &Profile, settings: &Settings) -> Option<f64> {
    let location = location_similarity(a, b, settings.line_tolerance)?;
    let weakness = weakness_similarity(a, b);
    let (best, _) = combine(a, b, location, weakness, 1.0, settings);
    if best < pair_threshold(a, b, settings) {
        return None;
    }
    let text = text_similarity(a, b, a.provider == b.provider);
    match combine(a, b, location, weakness, text, settings) {
        (s, true) => Some(s),
        _ => None,
    }
}

/// [`pair_similarity`] computing every part before looking at location, as a naive
/// comparison of all pairs would.
pub(super) fn full_similarity(a: &Profile, b: &Profile, settings: &Settings) -> Option<(f64, bool)> {
    let (weakness, text) = (
        weakness_similarity(a, b),
        text_similarity(a, b, a.provider == b.provider),
    );
    let location = location_similarity(a, b, settings.line_tolerance)?;
    Some(combine(a, b, location, weakness, text, settings))
}

/// The weighted mean of the parts (discounted when the CWEs conflict), and whether it
/// reaches the threshold for this kind of pair.
fn combine(a: &Profile, b: &Profile, location: f64, weakness: f64, text: f64, settings: &Settings) -> (f64, bool) {
    let total = settings.location_weight + settings.weakness_weight + settings.text_weight;
    let weighted =
        settings.location_weight * location + settings.weakness_weight * weakness + settings.text_weight * text;
    let mut s = if total > 0.0 { weighted / total } else { 0.0 };
    if weakness == 0.0 && a.cwe.is_some() && b.cwe.is_some() {
        s *= CONFLICTING_CWES;
    }
    (s, s >= pair_threshold(a, b, settings))
}

/// The share of their similarity two findings keep when they name unrelated CWEs (not
/// one family, neither a catch-all class, not one category): same lines and shared
/// words do not make a SQL injection and a missing authorization check one problem.
const CONFLICTING_CWES: f64 = 0.8;

/// Location similarity when a shared function is all the two have in common.
const SAME_FUNCTION_FAR_LINES: f64 = 0.5;
/// Without lines: a shared function, a shared file, no file known, files that differ.
const NO_LINES_SAME_FUNCTION: f64 = 1.0;
const NO_LINES_SAME_FILE: f64 = 0.5;
const NO_LINES_UNKNOWN_FILE: f64 = 0.3;
const NO_LINES_OTHER_FILE: f64 = 0.0;

pub(super) fn location_similarity(a: &Profile, b: &Profile, tolerance: u32) -> Option<f64> {
    if a.block != b.block {
        return None;
    }
    let same_function = shares_function(a, b);
    if let (Some((a0, a1)), Some((b0, b1)), true) = (a.lines, b.lines, a.file == b.file) {
        let gap = a0.max(b0).saturating_sub(a1.min(b1));
        return if gap == 0 {
            Some(1.0)
        } else if gap <= tolerance {
            Some(1.0 - f64::from(gap) / f64::from(tolerance + 1))
        } else if same_function {
            Some(SAME_FUNCTION_FAR_LINES)
        } else {
            None
        };
    }
    Some(if same_function {
        NO_LINES_SAME_FUNCTION
    } else if intersects(&a.files, &b.files) {
        NO_LINES_SAME_FILE
    } else if a.files.is_empty() || b.files.is_empty() {
        NO_LINES_UNKNOWN_FILE
    } else {
        NO_LINES_OTHER_FILE
    })
}

pub(super) fn weakness_similarity(a: &Profile, b: &Profile) -> f64 {
    let same_category = a.category == b.category && a.category != Category::Other;
    match (a.cwe, b.cwe) {
        (Some(x), Some(y)) if x == y => 1.0,
        (Some(_), Some(_)) if a.cwe_family == b.cwe_family => 0.8,
        (Some(x), Some(y)) if is_generic_cwe(x) || is_generic_cwe(y) => {
            if same_category {
                0.8
            } else {
                0.5
            }
        }
        (Some(_), Some(_)) if same_category => 0.5,
        (Some(_), Some(_)) => 0.0,
        _ if same_category => 1.0,
        _ if a.category == Category::Other || b.category == Category::Other => 0.4,
        _ => 0.0,
    }
}

/// How much the Dice of all content words is stretched: two findings about one file
/// that describe different problems share about a sixth of their content words,
/// paraphrases of one problem a third to a half (measured on eyeballvul), so doubling
/// puts paraphrases near the top of the scale, where alike titles are.
const WORDS_SCALE: f64 = 2.0;

/// Wording: the best of the Dice of the content words of title and description
/// together (stretched by [`WORDS_SCALE`] unless `strict`), the titles' Sørensen–Dice
/// over character bigrams (on the stemmed content words, so inflection and
/// `file name`/`filename` matter little), and the Dice of the titles' content words.
/// Two findings of one model are compared `strict`ly: only near-identical wording
/// scores high, so one model's two problems are not taken for one.
fn text_similarity(a: &Profile, b: &Profile, strict: bool) -> f64 {
    let (a, b) = (a.wording(), b.wording());
    let scale = if strict { 1.0 } else { WORDS_SCALE };
    let words = (scale * dice(&a.words, &b.words)).min(1.0);
    words
        .max(a.title_grams.dice(&b.title_grams))
        .max(dice(&a.title_words, &b.title_words))
}

/// Sørensen–Dice of two sorted sets (or multisets: repeats match one to one).
#[inline]
pub(super) fn dice(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    2.0 * intersection(a, b) as f64 / (a.len() + b.len()) as f64
}

fn intersection(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Whether the two name a function in common.
fn shares_function(a: &Profile, b: &Profile) -> bool {
    a.functions.iter().any(|x| b.functions.iter().any(|y| x.matches(*y)))
}

fn intersects(a: &[u64], b: &[u64]) -> bool {
    !a.is_empty() && !b.is_empty() && intersection(a, b) > 0
}

/// The similarity a pair needs to merge.
pub(super) fn pair_threshold(a: &Profile, b: &Profile, settings: &Settings) -> f64 {
    if a.provider != b.provider {
        return settings.merge_threshold;
    }
    match facets(a, b) {
        Facets::OneProblem => settings.same_function_threshold,
        Facets::Apart => NEVER,
        Facets::Unknown => settings.same_provider_threshold,
    }
}

/// A threshold no similarity reaches.
const NEVER: f64 = f64::INFINITY;

/// What the enclosing functions and CWEs of one model's two findings say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Facets {
    /// The same function and CWE family, and near in lines or alike in wording: two
    /// facets of one problem.
    OneProblem,
    /// Different functions, or the same function and conflicting CWEs: two problems.
    Apart,
    /// No enclosing function known for one of them, no CWE, or one function and family
    /// but far apart and differently worded: decided as near-duplicates are.
    Unknown,
}

/// How far apart (lines between their ranges) one model's two findings in one function
/// and CWE family may be to be facets of one problem: a handler's input and the query it
/// builds are a few lines apart; two SQL injections 380 lines apart in a long `main` are
/// two problems.
pub(super) const FACET_MAX_LINES: u32 = 30;

/// Without lines to tell, the wording (compared strictly) one model's two findings in
/// one function and CWE family must share to be facets of one problem: some, not a
/// paraphrase (0 to 0.3 cluster eyeballvul's tuning half alike, (c) 0.834–0.835; none
/// at all 0.829).
pub(super) const FACET_MIN_WORDING: f64 = 0.2;

fn facets(a: &Profile, b: &Profile) -> Facets {
    let (Some(fa), Some(fb)) = (a.enclosing, b.enclosing) else {
        return Facets::Unknown;
    };
    if !fa.matches(fb) {
        return Facets::Apart;
    }
    match (a.cwe_family, b.cwe_family) {
        (Some(x), Some(y)) if x == y && close_facets(a, b) => Facets::OneProblem,
        (Some(_), Some(_)) if weakness_similarity(a, b) == 0.0 => Facets::Apart,
        _ => Facets::Unknown,
    }
}

/// Whether two findings of one function and family are close enough to be one problem:
/// within [`FACET_MAX_LINES`] when both have lines in one file, else by their wording.
fn close_facets(a: &Profile, b: &Profile) -> bool {
    if let (Some((a0, a1)), Some((b0, b1)), true) = (a.lines, b.lines, a.file == b.file) {
        return a0.max(b0).saturating_sub(a1.min(b1)) <= FACET_MAX_LINES;
    }
    text_similarity(a, b, true) >= FACET_MIN_WORDING
}
