//! Stop words: words that say nothing about which problem a finding is, and the table
//! their stems are looked up in.

use super::hashing::hash;
use super::words::stem;

/// Whether `h` is the hash of a stop word's stem.
#[inline]
pub(super) fn is_stop_stem(h: u64) -> bool {
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

/// Words that say nothing about which problem a finding is: English function words
/// and the filler every security finding uses. Sorted (binary search).
pub(super) const STOP_WORDS: &[&str] = &[
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
