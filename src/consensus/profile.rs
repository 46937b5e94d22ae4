//! Profiles: everything a comparison needs, computed once per finding.

use std::cell::OnceCell;

use super::cwe::cwe_family;
use super::hashing::{function_key, hash, hash_path, FunctionKey};
use super::similarity::dice;
use super::words::{content_words, Scratch};
use super::Place;
use crate::normalize::finding::{Category, Finding};

/// A finding prepared for comparison: where it is and its weakness, computed once per
/// finding, never per pair; its wording is prepared on first use, because many findings
/// (those alone near their lines) are never compared on wording at all.
pub(super) struct Profile<'a> {
    finding: &'a Finding,
    /// Findings in different blocks are never compared.
    pub(super) block: u64,
    pub(super) provider: u64,
    /// The finding's own file (lines are comparable only within one file).
    pub(super) file: u64,
    pub(super) lines: Option<(u32, u32)>,
    pub(super) files: Vec<u64>,
    /// The functions named, scoped to the finding's file.
    pub(super) functions: Vec<FunctionKey>,
    /// The enclosing function from the code ([`Place::function`]), when known; it is in
    /// `functions` too.
    pub(super) enclosing: Option<FunctionKey>,
    pub(super) cwe: Option<u32>,
    pub(super) cwe_family: Option<u32>,
    pub(super) category: Category,
    wording: OnceCell<Wording>,
}

/// Hashed, stemmed content words of a finding.
pub(super) struct Wording {
    pub(super) title_words: Vec<u64>,
    /// Title and description together.
    pub(super) words: Vec<u64>,
    /// The title's stemmed content words as `strsim::sorensen_dice` sees them.
    pub(super) title_grams: TitleGrams,
}

pub(super) fn profile_all<'a>(findings: &'a [Finding], places: Option<&[Place]>) -> Vec<Profile<'a>> {
    (0..findings.len())
        .map(|i| Profile::new(&findings[i], places.map(|p| &p[i])))
        .collect()
}

impl<'a> Profile<'a> {
    /// Profiles a finding at `place`, or (in a review) in its own file and function.
    fn new(f: &'a Finding, place: Option<&Place>) -> Profile<'a> {
        let key = |name: &String| function_key(&f.file, name);
        let (block, files, functions, enclosing) = match place {
            Some(p) => {
                let enclosing = p.function.as_ref().and_then(key);
                let mut functions: Vec<FunctionKey> = p.functions.iter().filter_map(key).chain(enclosing).collect();
                functions.dedup();
                (
                    hash(p.block.as_bytes()),
                    sorted_set(p.files.iter().map(|f| hash_path(f))),
                    functions,
                    enclosing,
                )
            }
            None => (
                hash(f.file.as_bytes()),
                vec![hash_path(&f.file)],
                f.function.as_ref().and_then(key).into_iter().collect(),
                None,
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
            enclosing,
            cwe: f.cwe,
            cwe_family: f.cwe.map(cwe_family),
            category: f.category,
            wording: OnceCell::new(),
        }
    }

    pub(super) fn wording(&self) -> &Wording {
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
pub(super) struct TitleGrams {
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
    pub(super) fn of(text: &str) -> TitleGrams {
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

    pub(super) fn dice(&self, other: &TitleGrams) -> f64 {
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
