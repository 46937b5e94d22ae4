//! Consensus: group findings that describe the same problem, and rank the groups by how
//! many independent models reported them.
//!
//! This is the product. Two wordings of one bug that stay apart undercount agreement;
//! two different bugs merged let a false one borrow credibility. Clustering therefore
//! looks at location, weakness (CWE, or category) and wording together, never merges
//! two different findings of one model, and is deterministic: the same findings in any
//! order give the same issues and ids. Agreement counts distinct *families* (two servers
//! running one model are one voice) out of the families that reviewed the file
//! successfully: a model that failed on a file is not counted as disagreeing.
//!
//! How it stays fast on large runs: every finding is turned once into a profile
//! (hashed, stemmed content words, CWE family, location); findings are only compared
//! within a block (the file) and only when they are near in lines, share a function, or
//! one of them has no lines. Candidate pairs are merged best-first (single link), and two
//! groups join only when the mean similarity between all their members is high enough,
//! which stops chains of merely similar findings from swallowing unrelated ones.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::normalize::finding::{Category, Finding, Severity};

/// Tunable thresholds; the `[consensus]` table of the configuration.
///
/// The defaults were tuned on one half of the eyeballvul revisions (see
/// `examples/eyeballvul.rs`) and checked on the other half and on the labelled set in
/// `examples/labelled/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Findings in one file whose line ranges are further apart than this are compared
    /// only when they name the same function.
    pub line_tolerance: u32,
    /// Minimum similarity (0..1) for two findings of different models to merge.
    pub merge_threshold: f64,
    /// Minimum similarity for two findings of the same model to merge: only
    /// near-duplicates. A model that lists two problems meant two problems.
    pub same_provider_threshold: f64,
    /// Minimum mean similarity between every member of two groups for the groups to
    /// become one (0 = plain single link).
    pub group_threshold: f64,
    /// Relative weight of location (lines, function, file) in the similarity.
    pub location_weight: f64,
    /// Relative weight of the weakness (CWE and its family, category).
    pub weakness_weight: f64,
    /// Relative weight of the wording (titles and descriptions).
    pub text_weight: f64,
    /// Per-provider weight of a vote in the score (default 1.0), filled from each
    /// provider's `weight`; not part of `[consensus]`.
    #[serde(skip)]
    pub provider_weights: BTreeMap<String, f64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            line_tolerance: 3,
            merge_threshold: 0.5,
            same_provider_threshold: 0.85,
            group_threshold: 0.3,
            location_weight: 0.3,
            weakness_weight: 0.2,
            text_weight: 0.5,
            provider_weights: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// Why these settings cannot be used, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        let unit = [
            ("merge_threshold", self.merge_threshold),
            ("same_provider_threshold", self.same_provider_threshold),
            ("group_threshold", self.group_threshold),
        ];
        for (name, value) in unit {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{name} must be between 0 and 1, not {value}"));
            }
        }
        let weights = [
            ("location_weight", self.location_weight),
            ("weakness_weight", self.weakness_weight),
            ("text_weight", self.text_weight),
        ];
        if let Some((name, value)) = weights.iter().find(|(_, w)| !w.is_finite() || *w < 0.0) {
            return Err(format!("{name} must be a number of at least 0, not {value}"));
        }
        if weights.iter().map(|(_, w)| w).sum::<f64>() <= 0.0 {
            return Err("location_weight, weakness_weight and text_weight cannot all be 0".into());
        }
        match self.provider_weights.iter().find(|(_, w)| !w.is_finite() || **w < 0.0) {
            Some((name, w)) => Err(format!("the weight of provider {name} must be at least 0, not {w}")),
            None => Ok(()),
        }
    }

    fn provider_weight(&self, provider: &str) -> f64 {
        self.provider_weights.get(provider).copied().unwrap_or(1.0)
    }
}

/// How many independent models reported an issue, out of how many reviewed its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Distinct families that reported it.
    pub count: usize,
    /// Families that successfully reviewed the file.
    pub of: usize,
    /// The providers that reported it, sorted.
    pub providers: Vec<String>,
}

/// One problem, as reported by one or more models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Stable fingerprint: the same issue gets the same id on the next run.
    pub id: String,
    pub file: String,
    pub start_line: Option<u32>,
    pub end_line: Option<u32>,
    pub severity: Severity,
    pub category: Category,
    pub cwe: Option<u32>,
    pub title: String,
    pub agreement: Agreement,
    pub score: f64,
    /// Every member, with each model's own wording.
    pub findings: Vec<Finding>,
    /// Who found it: the models, or Quorum's own checks (then `findings` is empty and
    /// `agreement` counts no vote).
    #[serde(default)]
    pub source: Source,
    /// For Quorum's own issues: which check, and what it found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<crate::checks::CheckDetail>,
}

/// Who found an issue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// One or more models (clustered findings).
    #[default]
    Models,
    /// Quorum's own deterministic checks (a redacted secret, prompt injection).
    Quorum,
}

/// Where a finding is, as clustering sees it.
///
/// Findings are compared only within one `block`. A review blocks by file and names
/// that one file; data without lines (a whole-repository review) can block by
/// something larger and name several files and functions per finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub block: String,
    pub files: Vec<String>,
    pub functions: Vec<String>,
}

impl Place {
    /// A review's place: blocked by the finding's file, with its function if named.
    pub fn of(finding: &Finding) -> Place {
        Place {
            block: finding.file.clone(),
            files: vec![finding.file.clone()],
            functions: finding.function.iter().cloned().collect(),
        }
    }
}

/// Issues in ranked order, with the input positions of each issue's members.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub issues: Vec<Issue>,
    /// `members[i]` are the positions (in the input) of `issues[i].findings`, in order.
    pub members: Vec<Vec<usize>>,
}

/// Clusters `findings` and ranks the clusters.
///
/// `reviewed` maps each file to the families that reviewed it successfully; `texts`
/// maps files to their contents, used to anchor ids to code rather than line numbers.
pub fn build_issues(
    findings: Vec<Finding>,
    reviewed: &BTreeMap<String, BTreeSet<String>>,
    texts: &HashMap<String, String>,
    settings: &Settings,
) -> Vec<Issue> {
    rank(findings, None, reviewed, texts, settings).issues
}

/// [`build_issues`] with explicit places; `reviewed` is keyed by block.
///
/// Panics if `places` does not hold exactly one place per finding.
pub fn build_issues_at(
    findings: Vec<Finding>,
    places: &[Place],
    reviewed: &BTreeMap<String, BTreeSet<String>>,
    texts: &HashMap<String, String>,
    settings: &Settings,
) -> Ranked {
    assert_eq!(findings.len(), places.len(), "one place per finding");
    rank(findings, Some(places), reviewed, texts, settings)
}

fn rank(
    findings: Vec<Finding>,
    places: Option<&[Place]>,
    reviewed: &BTreeMap<String, BTreeSet<String>>,
    texts: &HashMap<String, String>,
    settings: &Settings,
) -> Ranked {
    let groups = {
        let profiles = profile_all(&findings, places);
        let groups = cluster_profiles(&findings, places, &profiles, settings);
        let mut of = ReviewedCount::default();
        groups
            .into_iter()
            .map(|g| {
                let votes = votes(&g, &profiles, settings);
                let of = of.get(reviewed, block_of(&findings, places, g.members[0]));
                (g, votes, of)
            })
            .collect::<Vec<_>>()
    };
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    let mut ranked: Vec<(Issue, Vec<usize>)> = groups
        .into_iter()
        .map(|(group, votes, of)| (summarize(&mut slots, &group, &votes, of, settings), group.members))
        .collect();
    ranked.sort_by(|(a, _), (b, _)| rank_order(a, b));
    let (mut issues, members): (Vec<Issue>, Vec<Vec<usize>>) = ranked.into_iter().unzip();
    assign_ids(&mut issues, texts);
    Ranked { issues, members }
}

/// How many families reviewed a block, remembered for the block looked up last (the
/// groups of one block come together).
#[derive(Default)]
struct ReviewedCount {
    last: Option<(String, usize)>,
}

impl ReviewedCount {
    fn get(&mut self, reviewed: &BTreeMap<String, BTreeSet<String>>, block: &str) -> usize {
        match &self.last {
            Some((b, n)) if b == block => *n,
            _ => {
                let n = reviewed.get(block).map_or(0, BTreeSet::len);
                self.last = Some((block.to_string(), n));
                n
            }
        }
    }
}

/// Keeps the issues at least `min` families reported (`--min-agree`); order unchanged.
pub fn filter_min_agree(issues: Vec<Issue>, min: usize) -> Vec<Issue> {
    // Quorum's own issues are certain, not voted on: no threshold hides them.
    issues
        .into_iter()
        .filter(|i| i.source == Source::Quorum || i.agreement.count >= min)
        .collect()
}

/// Groups findings that describe the same problem (blocked by file). Deterministic in
/// input order.
pub fn cluster(findings: Vec<Finding>, settings: &Settings) -> Vec<Vec<Finding>> {
    let profiles = profile_all(&findings, None);
    let groups = cluster_profiles(&findings, None, &profiles, settings);
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    groups
        .into_iter()
        .map(|g| g.members.into_iter().filter_map(|i| slots[i].take()).collect())
        .collect()
}

/// Groups findings at the given places; returns input positions, each group in
/// canonical order and the groups ordered by their first member.
///
/// Panics if `places` does not hold exactly one place per finding.
pub fn cluster_indices(findings: &[Finding], places: &[Place], settings: &Settings) -> Vec<Vec<usize>> {
    assert_eq!(findings.len(), places.len(), "one place per finding");
    let profiles = profile_all(findings, Some(places));
    cluster_profiles(findings, Some(places), &profiles, settings)
        .into_iter()
        .map(|g| g.members)
        .collect()
}

/// Similarity of two findings in the same file, 0..1 (0 when they are too far apart to
/// be compared).
pub fn similarity(a: &Finding, b: &Finding, settings: &Settings) -> f64 {
    let (pa, pb) = (Profile::new(a, None), Profile::new(b, None));
    pair_similarity(&pa, &pb, settings).map_or(0.0, |(s, _)| s)
}

/// The block of finding `i`: its place's, or (in a review) its file.
fn block_of<'a>(findings: &'a [Finding], places: Option<&'a [Place]>, i: usize) -> &'a str {
    places.map_or(findings[i].file.as_str(), |p| p[i].block.as_str())
}

// ---------------------------------------------------------------------------------------
// Profiles: everything a comparison needs, computed once per finding

/// A finding prepared for comparison: where it is and its weakness, computed once per
/// finding, never per pair; its wording is prepared on first use, because many findings
/// (those alone near their lines) are never compared on wording at all.
struct Profile<'a> {
    finding: &'a Finding,
    /// Findings in different blocks are never compared.
    block: u64,
    provider: u64,
    /// The finding's own file (lines are comparable only within one file).
    file: u64,
    lines: Option<(u32, u32)>,
    files: Vec<u64>,
    functions: Vec<u64>,
    cwe: Option<u32>,
    cwe_family: Option<u32>,
    category: Category,
    wording: std::cell::OnceCell<Wording>,
}

/// Hashed, stemmed content words of a finding.
struct Wording {
    title_words: Vec<u64>,
    /// Title and description together.
    words: Vec<u64>,
    /// The title's stemmed content words as `strsim::sorensen_dice` sees them.
    title_grams: TitleGrams,
}

fn profile_all<'a>(findings: &'a [Finding], places: Option<&[Place]>) -> Vec<Profile<'a>> {
    (0..findings.len())
        .map(|i| Profile::new(&findings[i], places.map(|p| &p[i])))
        .collect()
}

impl<'a> Profile<'a> {
    /// Profiles a finding at `place`, or (in a review) in its own file and function.
    fn new(f: &'a Finding, place: Option<&Place>) -> Profile<'a> {
        let (block, files, functions) = match place {
            Some(p) => (
                hash(p.block.as_bytes()),
                sorted_set(p.files.iter().map(|f| hash_path(f))),
                sorted_set(p.functions.iter().filter_map(|s| function_hash(s))),
            ),
            None => (
                hash(f.file.as_bytes()),
                vec![hash_path(&f.file)],
                f.function.as_deref().and_then(function_hash).into_iter().collect(),
            ),
        };
        Profile {
            finding: f,
            block,
            provider: hash(f.provider.as_bytes()),
            file: hash(f.file.as_bytes()),
            lines: f.start_line.zip(f.end_line),
            files,
            functions,
            cwe: f.cwe,
            cwe_family: f.cwe.map(cwe_family),
            category: f.category,
            wording: std::cell::OnceCell::new(),
        }
    }

    fn wording(&self) -> &Wording {
        self.wording.get_or_init(|| Wording::of(self.finding))
    }
}

impl Wording {
    fn of(f: &Finding) -> Wording {
        let mut scratch = Scratch::default();
        let mut title_words = Vec::with_capacity(8);
        let mut title_grams = TitleGrams::builder(f.title.len());
        content_words(&f.title, &mut scratch, &mut |w, h| {
            title_words.push(h);
            title_grams.push_word(w);
        });
        let mut words = Vec::with_capacity(title_words.len() + f.description.len() / 8);
        words.extend_from_slice(&title_words);
        content_words(&f.description, &mut scratch, &mut |_, h| words.push(h));
        Wording {
            title_words: sorted_set(title_words),
            words: sorted_set(words),
            title_grams: title_grams.finish(),
        }
    }
}

/// A text prepared for Sørensen–Dice over character bigrams: the value
/// `strsim::sorensen_dice` gives, without collecting and hashing every bigram on every
/// call (that was a third of the clustering time). One deviation: two texts without
/// any character score 0, not 1.
#[derive(Debug, Clone, PartialEq)]
struct TitleGrams {
    /// The text's only character, when it has exactly one besides whitespace.
    single: Option<char>,
    /// Bigrams of the text without whitespace, sorted, with repeats.
    bigrams: Vec<u64>,
}

/// Collects the bigrams of words as if they were written without spaces between them.
struct TitleGramsBuilder {
    bigrams: Vec<u64>,
    first: Option<char>,
    previous: Option<char>,
}

impl TitleGramsBuilder {
    fn push_word(&mut self, word: &str) {
        for c in word.chars().filter(|c| !c.is_whitespace()) {
            match self.previous {
                Some(p) => self
                    .bigrams
                    .push((u64::from(u32::from(p)) << 32) | u64::from(u32::from(c))),
                None => self.first = Some(c),
            }
            self.previous = Some(c);
        }
    }

    fn finish(mut self) -> TitleGrams {
        self.bigrams.sort_unstable();
        TitleGrams {
            single: self.first.filter(|_| self.bigrams.is_empty()),
            bigrams: self.bigrams,
        }
    }
}

impl TitleGrams {
    /// The grams of the words of a text joined by spaces.
    #[cfg(test)]
    fn of(text: &str) -> TitleGrams {
        let mut builder = TitleGrams::builder(text.len());
        text.split_whitespace().for_each(|w| builder.push_word(w));
        builder.finish()
    }

    fn builder(capacity: usize) -> TitleGramsBuilder {
        TitleGramsBuilder {
            bigrams: Vec::with_capacity(capacity),
            first: None,
            previous: None,
        }
    }

    fn dice(&self, other: &TitleGrams) -> f64 {
        match (self.single, other.single) {
            (Some(a), Some(b)) if a == b => 1.0,
            _ => dice(&self.bigrams, &other.bigrams),
        }
    }
}

fn sorted_set(values: impl IntoIterator<Item = u64>) -> Vec<u64> {
    let mut v: Vec<u64> = values.into_iter().collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A fast, stable 64-bit hash of words, paths and texts, eight bytes at a time (FxHash's
/// mixing, with the length folded in). Collisions are harmless here: at worst two rare
/// words count as one.
fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    let mut h = (&mut chunks).fold(0, |h, c| {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        mix(h, u64::from_le_bytes(word))
    });
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = mix(h, u64::from_le_bytes(word));
    }
    mix(h, bytes.len() as u64)
}

/// FNV-1a, for hashes built up a character at a time.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv_extend(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The hash of a path as models write it: `./a\\b.go`, `/a/b.go` and `a/b.go` are one.
fn hash_path(path: &str) -> u64 {
    let p = path.trim();
    let p = p
        .trim_start_matches("./")
        .trim_start_matches(".\\")
        .trim_start_matches(['/', '\\']);
    if p.contains('\\') {
        hash(p.replace('\\', "/").as_bytes())
    } else {
        hash(p.as_bytes())
    }
}

/// `Modules.Search.renderResults()`, `Search::render_results` → `renderresults`: the
/// hash of the last component of a qualified name, without arguments, case-folded.
fn function_hash(name: &str) -> Option<u64> {
    let name = name.split('(').next().unwrap_or(name).trim();
    let last = name.rsplit(['.', ':', '#', '>', ' ', '/']).find(|s| !s.is_empty())?;
    let mut utf8 = [0u8; 4];
    let mut empty = true;
    let h = last
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .fold(FNV_OFFSET, |h, c| {
            empty = false;
            fnv_extend(h, c.encode_utf8(&mut utf8).as_bytes())
        });
    (!empty).then_some(h)
}

// ---------------------------------------------------------------------------------------
// Words

/// Calls `emit` with each content word of `text` and its hash: lower-cased, folded to a
/// crude stem, stop words dropped (a word whose stem is a stop word's stem is one).
/// Code identifiers are split into their parts (`getUserById` → get, user, id;
/// `user_id` → user, id) and also kept whole, so the same identifier named by two
/// models counts, and so do its parts.
fn content_words(text: &str, scratch: &mut Scratch, emit: &mut impl FnMut(&str, u64)) {
    for_each_run(text, |run, class| {
        if class & (UPPER | UNDERSCORE | OTHER) == 0 {
            emit_lower_case(run, emit);
            return;
        }
        if class & (UNDERSCORE | OTHER) == 0 && is_one_ascii_word(run) {
            emit_word(run, emit);
            return;
        }
        identifier_parts(run, &mut scratch.chars, &mut scratch.parts);
        scratch.whole.clear();
        for &(start, end) in &scratch.parts {
            emit_word(&run[start..end], emit);
            scratch.whole.push_str(&run[start..end]);
        }
        if scratch.parts.len() > 1 {
            emit_word(&scratch.whole, emit);
        }
    });
}

/// Buffers reused across the words of one finding.
#[derive(Default)]
struct Scratch {
    chars: Vec<(usize, char)>,
    parts: Vec<(usize, usize)>,
    whole: String,
}

/// Byte classes of word characters (0: not part of a word).
const LOWER: u8 = 1;
const DIGIT: u8 = 2;
const UPPER: u8 = 4;
const UNDERSCORE: u8 = 8;
/// A letter or digit outside ASCII.
const OTHER: u8 = 16;

/// The class of each ASCII byte.
const BYTE_CLASS: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            b'a'..=b'z' => LOWER,
            b'A'..=b'Z' => UPPER,
            b'0'..=b'9' => DIGIT,
            b'_' => UNDERSCORE,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// Calls `f` with each maximal run of letters, digits and `_`, and the union of the
/// classes of its characters (one table-driven byte scan for ASCII text, which is
/// nearly all of it).
fn for_each_run(text: &str, mut f: impl FnMut(&str, u8)) {
    if !text.is_ascii() {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|run| !run.is_empty())
            .for_each(|run| f(run, OTHER));
        return;
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && BYTE_CLASS[usize::from(bytes[i])] == 0 {
            i += 1;
        }
        let start = i;
        let mut class = 0;
        while i < bytes.len() && BYTE_CLASS[usize::from(bytes[i])] != 0 {
            class |= BYTE_CLASS[usize::from(bytes[i])];
            i += 1;
        }
        if start < i {
            f(&text[start..i], class);
        }
    }
}

/// `The`, `SQL`, `MD5`: ASCII letters and digits with no inner boundary (a capital
/// followed only by lower case, or all capitals).
fn is_one_ascii_word(run: &str) -> bool {
    let rest = &run.as_bytes()[1..];
    run.as_bytes()[0].is_ascii_alphanumeric()
        && (rest.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            || rest.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
}

/// Emits a word that is already lower case, unless it is too short or a stop word.
fn emit_lower_case(word: &str, emit: &mut impl FnMut(&str, u64)) {
    if word.len() < 2 {
        return;
    }
    let stemmed = stem(word);
    let h = hash(stemmed.as_bytes());
    if !is_stop_stem(h) {
        emit(stemmed, h);
    }
}

/// Emits a word in lower case (short ASCII words are lowered on the stack).
fn emit_word(word: &str, emit: &mut impl FnMut(&str, u64)) {
    let mut stack = [0u8; 64];
    if word.is_ascii() && word.len() <= stack.len() {
        let lower = &mut stack[..word.len()];
        lower.copy_from_slice(word.as_bytes());
        lower.make_ascii_lowercase();
        if let Ok(lower) = std::str::from_utf8(lower) {
            emit_lower_case(lower, emit);
        }
        return;
    }
    let lower: String = word.chars().flat_map(char::to_lowercase).collect();
    if lower.chars().count() >= 2 {
        emit_lower_case(&lower, emit);
    }
}

/// Whether `h` is the hash of a stop word's stem.
fn is_stop_stem(h: u64) -> bool {
    static TABLE: std::sync::OnceLock<StopTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(StopTable::new).contains(h)
}

/// The stems of the stop words in an open-addressing table (a probe or two per word,
/// where a binary search took eight).
struct StopTable {
    slots: Vec<u64>,
}

impl StopTable {
    /// Slots: a power of two, at least four times the number of stop words.
    const SLOTS: usize = 1024;

    fn new() -> StopTable {
        let mut slots = vec![0; Self::SLOTS];
        for word in STOP_WORDS {
            let h = hash(stem(word).as_bytes()).max(1);
            let mut i = (h as usize) & (Self::SLOTS - 1);
            while slots[i] != 0 && slots[i] != h {
                i = (i + 1) & (Self::SLOTS - 1);
            }
            slots[i] = h;
        }
        StopTable { slots }
    }

    fn contains(&self, h: u64) -> bool {
        let h = h.max(1);
        let mut i = (h as usize) & (Self::SLOTS - 1);
        loop {
            match self.slots[i] {
                0 => return false,
                slot if slot == h => return true,
                _ => i = (i + 1) & (Self::SLOTS - 1),
            }
        }
    }
}

/// Splits an identifier at `_`, at a lower-case letter or digit followed by an upper-case
/// one (`userId`), and before the last capital of a run of capitals followed by a
/// lower-case letter (`HTTPServer` → HTTP, Server). Digits stay attached (`md5`, `sha256`).
/// The parts go into `parts` as byte ranges; `chars` is scratch space.
fn identifier_parts(run: &str, chars: &mut Vec<(usize, char)>, parts: &mut Vec<(usize, usize)>) {
    chars.clear();
    if run.is_ascii() {
        chars.extend(run.bytes().enumerate().map(|(i, b)| (i, char::from(b))));
    } else {
        chars.extend(run.char_indices());
    }
    parts.clear();
    let mut start = 0;
    for (k, &(at, c)) in chars.iter().enumerate() {
        if c == '_' {
            if start < at {
                parts.push((start, at));
            }
            start = at + 1;
            continue;
        }
        if at == start || !c.is_uppercase() {
            continue;
        }
        let prev = chars[k - 1].1;
        let next_lower = chars.get(k + 1).is_some_and(|(_, n)| n.is_lowercase());
        if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
            parts.push((start, at));
            start = at;
        }
    }
    if start < run.len() {
        parts.push((start, run.len()));
    }
}

/// A crude stemmer: drop a plural `s`, then `ing`/`ed`, then a final `e`, then keep at
/// most six letters (truncation stemming), so injection/injected/inject, validate/
/// validation and sanitize/sanitizing meet.
fn stem(word: &str) -> &str {
    const STEM_LEN: usize = 6;
    let mut w = word;
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w = &w[..w.len() - 1];
    }
    for suffix in ["ing", "ed"] {
        if w.len() >= suffix.len() + 4 && w.ends_with(suffix) {
            w = &w[..w.len() - suffix.len()];
            break;
        }
    }
    if w.len() > 4 && w.ends_with('e') {
        w = &w[..w.len() - 1];
    }
    if w.len() <= STEM_LEN {
        return w;
    }
    w.char_indices().nth(STEM_LEN).map_or(w, |(cut, _)| &w[..cut])
}

/// Words that say nothing about which problem a finding is: English function words
/// and the filler every security finding uses. Sorted (binary search).
const STOP_WORDS: &[&str] = &[
    "about",
    "above",
    "across",
    "after",
    "all",
    "allow",
    "allowing",
    "allows",
    "also",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "attack",
    "attacker",
    "attackers",
    "be",
    "because",
    "been",
    "before",
    "being",
    "both",
    "but",
    "by",
    "can",
    "cause",
    "code",
    "could",
    "does",
    "due",
    "each",
    "either",
    "etc",
    "exploit",
    "exploited",
    "for",
    "from",
    "function",
    "has",
    "have",
    "how",
    "however",
    "if",
    "in",
    "into",
    "is",
    "issue",
    "it",
    "its",
    "lack",
    "lead",
    "leading",
    "leads",
    "may",
    "might",
    "more",
    "must",
    "no",
    "not",
    "of",
    "on",
    "one",
    "only",
    "or",
    "other",
    "otherwise",
    "potential",
    "potentially",
    "proper",
    "properly",
    "result",
    "results",
    "risk",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "use",
    "used",
    "uses",
    "using",
    "via",
    "vulnerabilities",
    "vulnerability",
    "vulnerable",
    "was",
    "were",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "will",
    "with",
    "within",
    "without",
    "would",
];

// ---------------------------------------------------------------------------------------
// Similarity

/// How alike two profiled findings are, 0..1, and whether that is enough for them to
/// merge; `None` when their locations rule out one issue (another block, or far apart in
/// one file with no shared function). Location is checked first: it is the cheap test.
fn pair_similarity(a: &Profile, b: &Profile, settings: &Settings) -> Option<(f64, bool)> {
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
fn mergeable_similarity(a: &Profile, b: &Profile, settings: &Settings) -> Option<f64> {
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
fn full_similarity(a: &Profile, b: &Profile, settings: &Settings) -> Option<(f64, bool)> {
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

fn location_similarity(a: &Profile, b: &Profile, tolerance: u32) -> Option<f64> {
    if a.block != b.block {
        return None;
    }
    let same_function = intersects(&a.functions, &b.functions);
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

fn weakness_similarity(a: &Profile, b: &Profile) -> f64 {
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

/// CWEs that name a whole class rather than a weakness (improper input validation,
/// injection, neutralization, protection mechanism): they neither confirm nor rule out
/// a more specific CWE.
fn is_generic_cwe(cwe: u32) -> bool {
    matches!(cwe, 20 | 74 | 693 | 664 | 682 | 707 | 710 | 284 | 668 | 669 | 1284)
}

/// CWEs that name the same weakness at different levels of detail share a family (the
/// first of its list), after the CWE hierarchy (parents, children and the common
/// confusions between siblings).
pub fn cwe_family(cwe: u32) -> u32 {
    const FAMILIES: &[&[u32]] = &[
        &[400, 770, 409, 789, 1333, 674, 834, 835, 407, 920],
        &[89, 564, 943],
        &[22, 23, 24, 35, 36, 73],
        &[327, 328, 916, 759, 760, 326, 261],
        &[77, 78, 88],
        &[94, 95, 96, 917, 1336, 913],
        &[79, 80, 83, 87, 116],
        &[798, 259, 321, 1391],
        &[312, 313, 256, 257, 522, 922],
        &[200, 209, 532, 497, 538],
        &[330, 338, 331, 335, 337],
        &[285, 862, 863, 639, 425],
        &[732, 276, 281],
        &[287, 306, 288, 290, 1390],
        &[319, 311, 523],
        &[295, 297, 599],
        &[1321, 915],
        &[611, 776, 827],
        &[362, 367, 366],
        &[119, 120, 121, 122, 125, 787, 805, 131, 193],
        &[416, 415, 825],
        &[190, 191, 680],
        &[377, 379],
        &[59, 61],
    ];
    FAMILIES.iter().find(|f| f.contains(&cwe)).map_or(cwe, |f| f[0])
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
fn dice(a: &[u64], b: &[u64]) -> f64 {
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

fn intersects(a: &[u64], b: &[u64]) -> bool {
    !a.is_empty() && !b.is_empty() && intersection(a, b) > 0
}

// ---------------------------------------------------------------------------------------
// Clustering

/// One cluster: input positions in canonical order, and which of them is the medoid
/// (the member most similar to the others).
struct Group {
    members: Vec<usize>,
    medoid: usize,
}

fn cluster_profiles(
    findings: &[Finding],
    places: Option<&[Place]>,
    profiles: &[Profile],
    settings: &Settings,
) -> Vec<Group> {
    let order = canonical_order(findings, places, profiles);
    let mut groups = Vec::new();
    for range in block_ranges(&order, findings, places) {
        let members = &order[range];
        let pairs = candidate_pairs(members, profiles, settings.line_tolerance)
            .into_iter()
            .filter_map(|(x, y)| {
                let s = mergeable_similarity(&profiles[members[x]], &profiles[members[y]], settings)?;
                Some((s, x, y))
            });
        groups.extend(merge_block(members, pairs, findings, profiles, settings));
    }
    groups
}

/// [`cluster_indices`] without blocking: every pair of the whole input is scored in
/// full. Gives the same groups, slowly; kept to measure what blocking saves.
#[doc(hidden)]
pub fn cluster_indices_naive(findings: &[Finding], places: &[Place], settings: &Settings) -> Vec<Vec<usize>> {
    let profiles = profile_all(findings, Some(places));
    let order = canonical_order(findings, Some(places), &profiles);
    let mut all_pairs = Vec::new();
    for x in 0..order.len() {
        for y in x + 1..order.len() {
            if let Some((s, true)) = full_similarity(&profiles[order[x]], &profiles[order[y]], settings) {
                all_pairs.push((s, x, y));
            }
        }
    }
    let mut groups = Vec::new();
    for range in block_ranges(&order, findings, Some(places)) {
        let (start, end) = (range.start, range.end);
        let members = &order[range];
        let pairs = all_pairs
            .iter()
            .filter(|(_, x, y)| (start..end).contains(x) && (start..end).contains(y))
            .map(|&(s, x, y)| (s, x - start, y - start));
        groups.extend(
            merge_block(members, pairs, findings, &profiles, settings)
                .into_iter()
                .map(|g| g.members),
        );
    }
    groups
}

/// The ranges of `order` that share a block (`order` is sorted by block first).
fn block_ranges(order: &[usize], findings: &[Finding], places: Option<&[Place]>) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let block = block_of(findings, places, order[start]);
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&i| block_of(findings, places, i) == block)
                .count();
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// Input positions sorted by block, then by a hash of everything a finding says (the
/// full comparison breaks the rare ties), so that any permutation of the same findings
/// is processed identically.
fn canonical_order(findings: &[Finding], places: Option<&[Place]>, profiles: &[Profile]) -> Vec<usize> {
    let content: Vec<u64> = findings.iter().map(content_hash).collect();
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&i, &j| {
        profiles[i]
            .block
            .cmp(&profiles[j].block)
            .then_with(|| block_of(findings, places, i).cmp(block_of(findings, places, j)))
            .then(content[i].cmp(&content[j]))
            .then_with(|| compare_findings(&findings[i], &findings[j]))
            .then_with(|| match places {
                Some(p) => (&p[i].files, &p[i].functions).cmp(&(&p[j].files, &p[j].functions)),
                None => Ordering::Equal,
            })
            .then(i.cmp(&j))
    });
    order
}

/// A hash of every field of a finding.
fn content_hash(f: &Finding) -> u64 {
    let texts = [
        f.file.as_str(),
        &f.provider,
        &f.model,
        &f.family,
        &f.title,
        &f.description,
        f.function.as_deref().unwrap_or("\u{0}"),
        f.suggestion.as_deref().unwrap_or("\u{0}"),
    ];
    let numbers = [
        f.start_line.map_or(0, |l| u64::from(l) + 1),
        f.end_line.map_or(0, |l| u64::from(l) + 1),
        f.cwe.map_or(0, |c| u64::from(c) + 1),
        f.severity as u64,
        f.category as u64,
        f.confidence.map_or(0, |c| u64::from(c.to_bits()) + 1),
        u64::from(f.lines_clamped),
    ];
    let h = texts
        .iter()
        .fold(0u64, |h, t| (h.rotate_left(7) ^ hash(t.as_bytes())).wrapping_mul(K_MIX));
    numbers
        .iter()
        .fold(h, |h, n| (h.rotate_left(7) ^ n).wrapping_mul(K_MIX))
}

const K_MIX: u64 = 0x9e37_79b9_7f4a_7c15;

/// Every field, in a fixed order.
fn compare_findings(a: &Finding, b: &Finding) -> Ordering {
    a.file
        .cmp(&b.file)
        .then(a.start_line.cmp(&b.start_line))
        .then(a.end_line.cmp(&b.end_line))
        .then_with(|| a.provider.cmp(&b.provider))
        .then_with(|| a.title.cmp(&b.title))
        .then_with(|| a.description.cmp(&b.description))
        .then(a.cwe.cmp(&b.cwe))
        .then_with(|| a.function.cmp(&b.function))
        .then(a.severity.cmp(&b.severity))
        .then(a.category.cmp(&b.category))
        .then_with(|| a.model.cmp(&b.model))
        .then_with(|| a.family.cmp(&b.family))
        .then_with(|| a.suggestion.cmp(&b.suggestion))
        .then(a.confidence.map(f32::to_bits).cmp(&b.confidence.map(f32::to_bits)))
        .then(a.lines_clamped.cmp(&b.lines_clamped))
}

/// Clusters one block (`members` in canonical order) from its scored pairs (block-local
/// positions): best pair first, each merging two groups unless a model would end up
/// with two different findings in one issue or the groups are, on average, not alike
/// enough.
fn merge_block(
    members: &[usize],
    pairs: impl Iterator<Item = (f64, usize, usize)>,
    findings: &[Finding],
    profiles: &[Profile],
    settings: &Settings,
) -> Vec<Group> {
    let mut pairs: Vec<(f64, usize, usize)> = pairs.collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut sims = BlockSimilarities {
        members,
        profiles,
        settings,
        known: pairs.iter().map(|&(s, x, y)| ((x, y), s)).collect(),
    };
    let mut groups = Partition::new(members.len());
    let (mut x_members, mut y_members) = (Vec::new(), Vec::new());
    for (_, x, y) in pairs {
        let (gx, gy) = (groups.group_of[x], groups.group_of[y]);
        if gx == gy {
            continue;
        }
        groups.collect(gx, &mut x_members);
        groups.collect(gy, &mut y_members);
        if x_members.len() + y_members.len() <= MAX_ISSUE_MEMBERS && sims.can_merge(&x_members, &y_members) {
            groups.join(gx, gy);
        }
    }
    (0..members.len())
        .filter(|&k| groups.group_of[k] == k)
        .map(|head| {
            let mut g = Vec::new();
            groups.collect(head, &mut g);
            g.sort_unstable();
            let medoid = sims.medoid(&g, findings);
            Group {
                members: g.into_iter().map(|k| members[k]).collect(),
                medoid,
            }
        })
        .collect()
}

/// Groups of block-local positions as linked lists: joining two groups relabels the
/// members of one and links the lists, with no allocation per member.
struct Partition {
    /// The group (its first member) each position belongs to.
    group_of: Vec<usize>,
    /// The next member of the same group, or `usize::MAX`.
    next: Vec<usize>,
    /// Each group's last member (valid for group heads).
    tail: Vec<usize>,
}

impl Partition {
    fn new(n: usize) -> Partition {
        Partition {
            group_of: (0..n).collect(),
            next: vec![usize::MAX; n],
            tail: (0..n).collect(),
        }
    }

    /// The members of group `head`, into `out`.
    fn collect(&self, head: usize, out: &mut Vec<usize>) {
        out.clear();
        let mut k = head;
        while k != usize::MAX {
            out.push(k);
            k = self.next[k];
        }
    }

    /// Joins two groups under the smaller head.
    fn join(&mut self, a: usize, b: usize) {
        let (keep, gone) = (a.min(b), a.max(b));
        let mut k = gone;
        while k != usize::MAX {
            self.group_of[k] = keep;
            k = self.next[k];
        }
        self.next[self.tail[keep]] = gone;
        self.tail[keep] = self.tail[gone];
    }
}

/// Similarities within one block, each computed at most once.
struct BlockSimilarities<'a> {
    members: &'a [usize],
    profiles: &'a [Profile<'a>],
    settings: &'a Settings,
    known: HashMap<(usize, usize), f64, PairHash>,
}

/// A multiplicative hash for small integer pairs: the similarity cache is looked up for
/// every cross pair of every attempted merge, and SipHash showed in profiles.
#[derive(Default, Clone, Copy)]
struct PairHash;

impl std::hash::BuildHasher for PairHash {
    type Hasher = PairHasher;

    fn build_hasher(&self) -> PairHasher {
        PairHasher(0)
    }
}

struct PairHasher(u64);

impl std::hash::Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv_extend(self.0 ^ FNV_OFFSET, bytes);
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(32) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

impl BlockSimilarities<'_> {
    fn get(&mut self, x: usize, y: usize) -> f64 {
        let key = ordered(x, y);
        if let Some(&s) = self.known.get(&key) {
            return s;
        }
        let (a, b) = (&self.profiles[self.members[x]], &self.profiles[self.members[y]]);
        let s = pair_similarity(a, b, self.settings).map_or(0.0, |(s, _)| s);
        self.known.insert(key, s);
        s
    }

    fn same_provider(&self, x: usize, y: usize) -> bool {
        self.profiles[self.members[x]].provider == self.profiles[self.members[y]].provider
    }

    /// The position in `group` of the member most similar to the others (every pair of
    /// a group was compared when the group formed); the more severe on a tie.
    fn medoid(&mut self, group: &[usize], findings: &[Finding]) -> usize {
        let severity = |k: usize| 0.001 * f64::from(findings[self.members[k]].severity as u8);
        (0..group.len())
            .map(|a| {
                let total: f64 = (0..group.len())
                    .filter(|&b| b != a)
                    .map(|b| self.get(group[a], group[b]))
                    .sum();
                (a, total + severity(group[a]))
            })
            .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
            .map_or(0, |(a, _)| a)
    }

    /// Whether two groups may become one issue: no model gets two findings that are not
    /// near-duplicates, and the mean similarity over all cross pairs is high enough.
    fn can_merge(&mut self, x: &[usize], y: &[usize]) -> bool {
        let mut total = 0.0;
        for &i in x {
            for &j in y {
                let s = self.get(i, j);
                if self.same_provider(i, j) && s < self.settings.same_provider_threshold {
                    return false;
                }
                total += s;
            }
        }
        total / (x.len() * y.len()) as f64 >= self.settings.group_threshold
    }
}

fn pair_threshold(a: &Profile, b: &Profile, settings: &Settings) -> f64 {
    if a.provider == b.provider {
        settings.same_provider_threshold
    } else {
        settings.merge_threshold
    }
}

/// The most findings each finding is compared with in each way two findings can be
/// near: the next ones in line order within reach, the next ones naming its function.
/// A review has a handful of findings near any one line, so this never binds on real
/// answers; a flood of findings on a few lines would otherwise be compared pair by pair,
/// and clustering would grow with the square of the findings.
const MAX_NEIGHBOURS: usize = 64;

/// The most findings a finding without lines is compared with: all of its block while
/// the block is no larger, else this many nearest in canonical order. A file reviewed
/// whole has a few dozen findings; only a file split into many parts, or a flood, has
/// more.
const MAX_UNPLACED_NEIGHBOURS: usize = 256;

/// The most findings one issue holds. A real issue has one finding per model, and a few
/// near-duplicates at most; checking a merge costs the product of the two groups' sizes,
/// so a flood of near-identical findings must not become one growing issue.
const MAX_ISSUE_MEMBERS: usize = 64;

/// The pairs (block-local positions, first < second) worth comparing: near in lines in
/// one file, sharing a function, or involving a finding without lines; at most
/// [`MAX_NEIGHBOURS`] (or [`MAX_UNPLACED_NEIGHBOURS`]) per finding and way, so the pairs
/// grow linearly with the block.
fn candidate_pairs(members: &[usize], profiles: &[Profile], tolerance: u32) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let mut lined: Vec<(u64, u32, u32, usize)> = Vec::new();
    let mut lineless = Vec::new();
    let mut by_function: HashMap<u64, Vec<usize>> = HashMap::new();
    for (k, &i) in members.iter().enumerate() {
        let profile = &profiles[i];
        match profile.lines {
            Some((s, e)) => lined.push((profile.file, s, e, k)),
            None => lineless.push(k),
        }
        for &f in &profile.functions {
            by_function.entry(f).or_default().push(k);
        }
    }
    lined.sort_unstable();
    for (n, &(file, _, end, k)) in lined.iter().enumerate() {
        let reach = end.saturating_add(tolerance);
        for &(other_file, start, _, j) in lined[n + 1..].iter().take(MAX_NEIGHBOURS) {
            if other_file != file || start > reach {
                break;
            }
            pairs.push(ordered(k, j));
        }
    }
    for &k in &lineless {
        let reach = unplaced_reach(k, members.len());
        pairs.extend(reach.filter(|&j| j != k).map(|j| ordered(k, j)));
    }
    for group in by_function.values() {
        for (n, &k) in group.iter().enumerate() {
            pairs.extend(group[n + 1..].iter().take(MAX_NEIGHBOURS).map(|&j| ordered(k, j)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// The block-local positions a finding without lines at `k` is compared with: the whole
/// block, or the [`MAX_UNPLACED_NEIGHBOURS`] positions around `k`.
fn unplaced_reach(k: usize, len: usize) -> std::ops::Range<usize> {
    let width = MAX_UNPLACED_NEIGHBOURS + 1;
    if len <= width {
        return 0..len;
    }
    let start = k.saturating_sub(width / 2).min(len - width);
    start..start + width
}

fn ordered(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

// ---------------------------------------------------------------------------------------
// Ranking

/// Higher score first; then more families, higher severity, and position for ties.
fn rank_order(a: &Issue, b: &Issue) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then(b.agreement.count.cmp(&a.agreement.count))
        .then(b.severity.cmp(&a.severity))
        .then_with(|| a.file.cmp(&b.file))
        .then(a.start_line.cmp(&b.start_line))
        .then_with(|| a.title.cmp(&b.title))
}

/// One issue from its members (taken out of `slots`); `votes` are how firmly each
/// backs it, `of` how many families reviewed the block successfully.
fn summarize(slots: &mut [Option<Finding>], group: &Group, votes: &[f64], of: usize, settings: &Settings) -> Issue {
    let members: Vec<Finding> = group.members.iter().filter_map(|&i| slots[i].take()).collect();
    let representative = group.medoid;
    let mut families: Vec<&str> = members.iter().map(|f| f.family.as_str()).collect();
    families.sort_unstable();
    families.dedup();
    let mut providers: Vec<String> = members.iter().map(|f| f.provider.clone()).collect();
    providers.sort_unstable();
    providers.dedup();
    let count = families.len();
    let of = of.max(count).max(1);
    let severity = median_severity(&members);
    let file = members[representative].file.clone();
    let score = score(&members, votes, of, severity, settings);
    Issue {
        id: String::new(),
        // The line most members name (the id is anchored there, so one model moving by a
        // line does not move it), ties to the earliest.
        start_line: mode(members.iter().filter(|f| f.file == file).filter_map(|f| f.start_line)),
        end_line: median(members.iter().filter(|f| f.file == file).filter_map(|f| f.end_line)),
        severity,
        category: mode(members.iter().map(|f| f.category)).unwrap_or(Category::Other),
        cwe: issue_cwe(&members, representative),
        title: members[representative].title.clone(),
        agreement: Agreement { count, of, providers },
        score,
        file,
        findings: members,
        source: Source::Models,
        check: None,
    }
}

/// Agreement dominates: the share of the families that reviewed the file, each family
/// counted by its firmest vote times its provider's weight; then the median severity,
/// then the models' mean confidence (0.5 when none gave one).
fn score(members: &[Finding], votes: &[f64], of: usize, severity: Severity, settings: &Settings) -> f64 {
    let mut family_votes: Vec<(&str, f64)> = members
        .iter()
        .zip(votes)
        .map(|(f, vote)| (f.family.as_str(), settings.provider_weight(&f.provider) * vote))
        .collect();
    family_votes.sort_by(|a, b| a.0.cmp(b.0).then(b.1.total_cmp(&a.1)));
    family_votes.dedup_by(|later, first| later.0 == first.0);
    // Weights above 1 may not make one family outvote unanimity.
    let agreement = (family_votes.iter().map(|(_, v)| v).sum::<f64>() / of as f64).min(1.0);
    let confidence = mean(members.iter().filter_map(|f| f.confidence.map(f64::from))).unwrap_or(0.5);
    let score = 0.7 * agreement + 0.2 * (f64::from(severity as u8) / 4.0) + 0.1 * confidence;
    (score * 1000.0).round() / 1000.0
}

/// How firmly each member backs the issue: the mean of its location and weakness
/// similarity to the representative member (1 for the representative). Two models that
/// name the same lines or function and the same weakness agree more firmly than two
/// whose wordings merely merged; on eyeballvul this ranks real problems higher.
fn votes(group: &Group, profiles: &[Profile], settings: &Settings) -> Vec<f64> {
    let anchor = &profiles[group.members[group.medoid]];
    group
        .members
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            if k == group.medoid {
                return 1.0;
            }
            let p = &profiles[i];
            let location = location_similarity(p, anchor, settings.line_tolerance).unwrap_or(0.0);
            (location + weakness_similarity(p, anchor)) / 2.0
        })
        .collect()
}

/// The severity half the models put at or above: one alarmist model cannot raise it.
fn median_severity(members: &[Finding]) -> Severity {
    let mut votes: Vec<Severity> = members.iter().map(|f| f.severity).collect();
    votes.sort();
    votes[(votes.len() - 1) / 2]
}

fn median(values: impl Iterator<Item = u32>) -> Option<u32> {
    let mut v: Vec<u32> = values.collect();
    v.sort_unstable();
    v.get((v.len().max(1) - 1) / 2).copied()
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The CWE most members name. A tie goes to the representative's CWE, else to a
/// specific CWE over a generic one (20, 74, …), else to the smallest.
fn issue_cwe(members: &[Finding], representative: usize) -> Option<u32> {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for cwe in members.iter().filter_map(|f| f.cwe) {
        *counts.entry(cwe).or_default() += 1;
    }
    let top = *counts.values().max()?;
    let tied: Vec<u32> = counts.iter().filter(|(_, n)| **n == top).map(|(c, _)| *c).collect();
    let own = members.get(representative).and_then(|f| f.cwe);
    own.filter(|c| tied.contains(c))
        .or_else(|| tied.iter().copied().find(|c| !is_generic_cwe(*c)))
        .or_else(|| tied.first().copied())
}

/// The most frequent value; ties go to the smallest.
fn mode<T: Ord + Copy>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut v: Vec<T> = values.collect();
    v.sort_unstable();
    let mut best: Option<(T, usize)> = None;
    for run in v.chunk_by(|a, b| a == b) {
        if best.is_none_or(|(_, n)| run.len() > n) {
            best = Some((run[0], run.len()));
        }
    }
    best.map(|(value, _)| value)
}

// ---------------------------------------------------------------------------------------
// Stable ids

/// Lines of code, from the anchor line on, that an issue's id hashes.
const ANCHOR_LINES: usize = 2;

/// Gives each issue an id from its file, its kind of weakness and the code at its first
/// lines (whitespace-insensitive), so edits elsewhere in the file do not change it.
/// Issues whose fingerprints collide are told apart by suffixes in an order that does
/// not depend on their rank.
fn assign_ids(issues: &mut [Issue], texts: &HashMap<String, String>) {
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

fn fingerprint(issue: &Issue, texts: &HashMap<String, String>) -> String {
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
    match (texts.get(&issue.file), issue.start_line) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn f(provider: &str, line: u32, cwe: Option<u32>, title: &str) -> Finding {
        Finding {
            provider: provider.into(),
            model: provider.into(),
            family: provider.into(),
            file: "app.go".into(),
            start_line: Some(line),
            end_line: Some(line + 2),
            function: None,
            lines_clamped: false,
            severity: Severity::High,
            category: cwe.and_then(Category::from_cwe).unwrap_or(Category::Other),
            cwe,
            title: title.into(),
            description: title.into(),
            suggestion: None,
            confidence: None,
        }
    }

    fn lineless(provider: &str, function: Option<&str>, cwe: Option<u32>, title: &str) -> Finding {
        Finding {
            start_line: None,
            end_line: None,
            function: function.map(String::from),
            ..f(provider, 1, cwe, title)
        }
    }

    fn reviewed(families: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
        BTreeMap::from([("app.go".to_string(), families.iter().map(|s| s.to_string()).collect())])
    }

    #[test]
    fn a_cwe_tie_goes_to_a_specific_cwe_not_a_generic_one() {
        let members = [
            f("a", 10, Some(20), "Improper input validation"),
            f("b", 10, Some(89), "SQL injection"),
        ];
        assert_eq!(issue_cwe(&members, 0), Some(20), "the representative's CWE wins a tie");
        assert_eq!(
            issue_cwe(&members, 5),
            Some(89),
            "otherwise a specific CWE beats a generic one"
        );
    }

    #[test]
    fn a_heavy_provider_cannot_push_agreement_past_unanimity() {
        let mut settings = Settings::default();
        settings.provider_weights.insert("a".into(), 4.0);
        let lone = build_issues(
            vec![f("a", 10, Some(89), "SQLi")],
            &reviewed(&["a", "b", "c"]),
            &HashMap::new(),
            &settings,
        );
        let all = build_issues(
            vec![
                f("a", 10, Some(89), "SQLi"),
                f("b", 10, Some(89), "SQLi"),
                f("c", 10, Some(89), "SQLi"),
            ],
            &reviewed(&["a", "b", "c"]),
            &HashMap::new(),
            &Settings::default(),
        );
        assert!(lone[0].score <= all[0].score, "{} > {}", lone[0].score, all[0].score);
    }

    fn words_of(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        content_words(text, &mut Scratch::default(), &mut |w, _| out.push(w.to_string()));
        out
    }

    #[test]
    fn paraphrases_of_one_bug_merge_and_count_each_family_once() {
        let findings = vec![
            f("a", 40, Some(89), "SQL injection in note search"),
            f("b", 41, Some(89), "Unsanitized input concatenated into SQL query"),
            f("c", 39, Some(564), "Query built with string concatenation"),
            f("d", 90, Some(22), "Path traversal in download"),
        ];
        let issues = build_issues(
            findings,
            &reviewed(&["a", "b", "c", "d"]),
            &HashMap::new(),
            &Settings::default(),
        );
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].agreement.count, 3);
        assert_eq!(issues[0].agreement.of, 4);
        assert_eq!(issues[0].cwe, Some(89));
        assert_eq!(issues[1].agreement.count, 1);
    }

    #[test]
    fn two_problems_of_one_model_on_nearby_lines_stay_apart() {
        let findings = vec![
            f("a", 10, Some(89), "SQL injection in login"),
            f("a", 11, Some(327), "Password hashed with MD5"),
        ];
        assert_eq!(cluster(findings, &Settings::default()).len(), 2);
    }

    #[test]
    fn a_model_repeating_itself_is_one_voice() {
        let findings = vec![
            f("a", 10, Some(89), "SQL injection in login query"),
            f("a", 10, Some(89), "SQL injection in login query"),
        ];
        assert_eq!(cluster(findings, &Settings::default()).len(), 1);
    }

    #[test]
    fn another_model_cannot_bridge_two_findings_of_one_model() {
        // b resembles both of a's findings; a's two findings must still stay apart.
        let findings = vec![
            f("a", 10, Some(89), "SQL injection in login"),
            f("a", 12, Some(89), "SQL injection in report export"),
            f("b", 11, Some(89), "SQL injection in login and report export"),
        ];
        let groups = cluster(findings, &Settings::default());
        assert_eq!(groups.len(), 2);
        assert!(groups
            .iter()
            .all(|g| g.iter().filter(|m| m.provider == "a").count() == 1));
    }

    #[test]
    fn different_weaknesses_on_the_same_lines_stay_apart() {
        let findings = vec![
            f("a", 10, Some(89), "SQL injection in delete handler"),
            f("b", 10, Some(862), "Missing authorization check on delete"),
        ];
        assert_eq!(cluster(findings, &Settings::default()).len(), 2);
    }

    #[test]
    fn far_apart_findings_join_only_through_a_shared_function() {
        let mut a = f("a", 10, Some(78), "Command injection in export");
        let mut b = f("b", 60, Some(78), "Command injection in export");
        assert_eq!(cluster(vec![a.clone(), b.clone()], &Settings::default()).len(), 2);
        a.function = Some("Handlers.exportNote".into());
        b.function = Some("exportNote()".into());
        assert_eq!(cluster(vec![a, b], &Settings::default()).len(), 1);
    }

    #[test]
    fn findings_without_lines_are_compared_within_their_file() {
        let findings = vec![
            lineless("a", None, Some(22), "Path traversal in attachment download"),
            f("b", 70, Some(22), "Directory traversal through attachment name"),
            Finding {
                file: "other.go".into(),
                ..lineless("c", None, Some(22), "Path traversal in attachment download")
            },
        ];
        let groups = cluster(findings, &Settings::default());
        assert_eq!(groups.len(), 2);
        assert!(groups
            .iter()
            .any(|g| g.len() == 2 && g.iter().all(|m| m.file == "app.go")));
    }

    #[test]
    fn related_cwes_share_a_family() {
        for (x, y) in [
            (400, 770),
            (89, 564),
            (22, 36),
            (327, 916),
            (77, 78),
            (79, 116),
            (1321, 915),
        ] {
            assert_eq!(cwe_family(x), cwe_family(y), "{x} {y}");
        }
        assert_ne!(cwe_family(89), cwe_family(79));
        assert_eq!(cwe_family(4242), 4242);
    }

    #[test]
    fn identifiers_are_split_and_kept_whole() {
        assert_eq!(words_of("getUserById"), ["get", "user", "id", "getuse"]);
        assert_eq!(
            words_of("user_id HTTPServer"),
            ["user", "id", "userid", "http", "server", "httpse"]
        );
        assert_eq!(words_of("The MD5 hash of the sha256"), ["md5", "hash", "sha256"]);
    }

    #[test]
    fn stems_meet_across_inflections() {
        for group in [
            &["injection", "injected", "injects"][..],
            &["validate", "validation", "validated"],
            &["sanitize", "sanitizing", "sanitization"],
            &["passwords", "password"],
        ] {
            let stems: BTreeSet<&str> = group.iter().map(|w| stem(w)).collect();
            assert_eq!(stems.len(), 1, "{group:?} → {stems:?}");
        }
        assert_ne!(stem("serialize"), stem("deserialize"));
    }

    #[test]
    fn title_bigram_dice_is_strsims_sorensen_dice() {
        let titles = [
            "sql inject login",
            "sql inject logout",
            "path travers filenam",
            "path travers file nam",
            "aa aa aa",
            "aaa",
            "x",
        ];
        for a in titles {
            for b in titles {
                let ours = TitleGrams::of(a).dice(&TitleGrams::of(b));
                assert!((ours - strsim::sorensen_dice(a, b)).abs() < 1e-12, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn stop_words_are_dropped() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]), "keep the list sorted");
        assert!(
            STOP_WORDS.iter().all(|w| words_of(w).is_empty()),
            "every stop word is dropped"
        );
        assert_eq!(words_of("the injection"), ["inject"]);
    }

    #[test]
    fn blocking_finds_the_same_groups_as_comparing_every_pair() {
        let mut findings = Vec::new();
        let titles = [
            "SQL injection in search",
            "Query built from user input",
            "Path traversal in download",
            "Hard-coded secret key",
        ];
        for i in 0..60u32 {
            let mut x = f(
                ["a", "b", "c"][(i % 3) as usize],
                1 + (i * 7) % 40,
                [Some(89), Some(22), None, Some(798)][(i % 4) as usize],
                titles[(i % 4) as usize],
            );
            x.file = format!("f{}.go", i % 2);
            if i % 9 == 0 {
                x.start_line = None;
                x.end_line = None;
            }
            if i % 5 == 0 {
                x.function = Some(format!("fn{}", i % 3));
            }
            findings.push(x);
        }
        let places: Vec<Place> = findings.iter().map(Place::of).collect();
        let settings = Settings::default();
        assert_eq!(
            cluster_indices(&findings, &places, &settings),
            cluster_indices_naive(&findings, &places, &settings)
        );
    }

    #[test]
    fn a_flood_of_alike_findings_is_compared_a_bounded_number_of_times() {
        let count = 3_000;
        let title = |i: u32| format!("SQL injection in handler {}", i % 50);
        let on_lines: Vec<Finding> = (0..count).map(|i| f("a", 10 + i % 5, Some(89), &title(i))).collect();
        let without_lines: Vec<Finding> = (0..count).map(|i| lineless("a", None, Some(89), &title(i))).collect();
        let in_one_function: Vec<Finding> = (0..count)
            .map(|i| lineless("a", Some("handler"), Some(89), &title(i)))
            .collect();
        for (flood, per_finding) in [
            (on_lines, MAX_NEIGHBOURS),
            (without_lines, MAX_UNPLACED_NEIGHBOURS),
            (in_one_function, MAX_NEIGHBOURS + MAX_UNPLACED_NEIGHBOURS),
        ] {
            let profiles = profile_all(&flood, None);
            let members: Vec<usize> = (0..flood.len()).collect();
            let pairs = candidate_pairs(&members, &profiles, Settings::default().line_tolerance);
            assert!(pairs.len() <= flood.len() * per_finding, "{} pairs", pairs.len());
            let issues = build_issues(flood.clone(), &reviewed(&["a"]), &HashMap::new(), &Settings::default());
            assert!(issues.iter().all(|i| i.findings.len() <= MAX_ISSUE_MEMBERS));
            assert_eq!(
                issues.iter().map(|i| i.findings.len()).sum::<usize>(),
                flood.len(),
                "every finding is in one issue"
            );
        }
    }

    #[test]
    fn order_of_input_does_not_change_clusters_or_ids() {
        let findings = vec![
            f("a", 40, Some(89), "SQL injection in note search"),
            f("b", 41, Some(89), "Unsanitized input concatenated into SQL"),
            f("c", 90, Some(22), "Path traversal in download"),
            f("b", 92, Some(22), "Directory traversal via filename"),
        ];
        let mut reversed = findings.clone();
        reversed.reverse();
        let r = reviewed(&["a", "b", "c"]);
        let one = build_issues(findings, &r, &HashMap::new(), &Settings::default());
        let two = build_issues(reversed, &r, &HashMap::new(), &Settings::default());
        assert_eq!(one, two);
    }

    #[test]
    fn ids_survive_reordering_and_tell_colliding_issues_apart() {
        let text = "package a\n}\nfunc q() {\n}\n}\n";
        let texts = HashMap::from([("app.go".to_string(), text.to_string())]);
        let findings = vec![
            f("a", 2, Some(89), "SQL injection one"),
            f("a", 20, Some(89), "SQL injection two"),
            f("b", 40, Some(22), "Path traversal"),
            lineless("c", Some("q"), None, "Weak hashing"),
        ];
        let r = reviewed(&["a", "b", "c"]);
        let ids = |input: Vec<Finding>| {
            let mut v: Vec<(String, String)> = build_issues(input, &r, &texts, &Settings::default())
                .into_iter()
                .map(|i| (i.title, i.id))
                .collect();
            v.sort();
            v
        };
        let first = ids(findings.clone());
        for rotation in 1..findings.len() {
            let mut rotated = findings.clone();
            rotated.rotate_left(rotation);
            assert_eq!(ids(rotated), first);
        }
        let distinct: BTreeSet<&String> = first.iter().map(|(_, id)| id).collect();
        assert_eq!(distinct.len(), first.len(), "{first:?}");
    }

    #[test]
    fn ids_survive_edits_elsewhere_in_the_file() {
        let before = "package a\n\nfunc q(x string) {\n  db.Query(\"SELECT \" + x)\n}\n";
        let after = "package a\n\nimport \"fmt\"\n\nfunc q(x string) {\n  db.Query(\"SELECT \" + x)\n}\n";
        let r = reviewed(&["a"]);
        let id = |text: &str, line: u32| {
            let texts = HashMap::from([("app.go".to_string(), text.to_string())]);
            build_issues(vec![f("a", line, Some(89), "SQLi")], &r, &texts, &Settings::default())[0]
                .id
                .clone()
        };
        assert_eq!(id(before, 4), id(after, 6));
        assert_ne!(id(before, 4), id(before, 3));
    }

    #[test]
    fn severity_is_the_median_vote() {
        let mut a = f("a", 1, Some(89), "SQLi");
        let mut b = f("b", 1, Some(89), "SQLi");
        let mut c = f("c", 1, Some(89), "SQLi");
        a.severity = Severity::Critical;
        b.severity = Severity::Medium;
        c.severity = Severity::Low;
        let issues = build_issues(
            vec![a, b, c],
            &reviewed(&["a", "b", "c"]),
            &HashMap::new(),
            &Settings::default(),
        );
        assert_eq!(issues[0].severity, Severity::Medium);
    }

    #[test]
    fn agreement_outranks_severity() {
        let mut lone = f("a", 100, Some(78), "Command injection");
        lone.severity = Severity::Critical;
        let mut shared_a = f("a", 10, Some(330), "Predictable session token");
        let mut shared_b = f("b", 10, Some(330), "Session token uses math/rand");
        shared_a.severity = Severity::Medium;
        shared_b.severity = Severity::Medium;
        let issues = build_issues(
            vec![lone, shared_a, shared_b],
            &reviewed(&["a", "b"]),
            &HashMap::new(),
            &Settings::default(),
        );
        assert_eq!(issues[0].agreement.count, 2);
        assert_eq!(issues[1].severity, Severity::Critical);
    }

    #[test]
    fn provider_weights_reorder_equal_agreement() {
        let findings = vec![
            f("a", 10, Some(89), "SQL injection"),
            f("b", 80, Some(22), "Path traversal"),
        ];
        let r = reviewed(&["a", "b"]);
        let mut settings = Settings::default();
        let top = |s: &Settings| {
            build_issues(findings.clone(), &r, &HashMap::new(), s)[0]
                .agreement
                .providers
                .clone()
        };
        assert_eq!(top(&settings), ["a"]);
        settings.provider_weights.insert("b".into(), 2.0);
        assert_eq!(top(&settings), ["b"]);
    }

    #[test]
    fn min_agree_filters_only_when_asked() {
        let findings = vec![
            f("a", 10, Some(89), "SQL injection in search"),
            f("b", 10, Some(89), "SQL injection in search"),
            f("a", 80, Some(22), "Path traversal"),
        ];
        let issues = build_issues(findings, &reviewed(&["a", "b"]), &HashMap::new(), &Settings::default());
        assert_eq!(issues.len(), 2);
        let kept = filter_min_agree(issues, 2);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].agreement.count, 2);
    }

    #[test]
    fn settings_are_validated_and_read_from_toml() {
        assert_eq!(Settings::default().validate(), Ok(()));
        let s: Settings = toml::from_str("merge_threshold = 0.6\nline_tolerance = 5").unwrap();
        assert_eq!((s.merge_threshold, s.line_tolerance), (0.6, 5));
        assert!(toml::from_str::<Settings>("merge_treshold = 0.6").is_err());
        let bad = Settings {
            merge_threshold: 1.5,
            ..Settings::default()
        };
        assert!(bad.validate().unwrap_err().contains("merge_threshold"));
    }
}
