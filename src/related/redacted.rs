//! Related code as a redacting provider (`checks::redact::applies`) is sent it: each
//! excerpt cut from its file's redacted text, never redacted on its own. Redaction
//! follows state across lines (an open private-key block), so an excerpt that starts
//! inside a key's body would not see the BEGIN line and would keep the key in clear.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{CodeExcerpt, Index, Region, RelatedCode};

/// The run's index, answering with excerpts of the redacted files. Each file is
/// redacted once, when an excerpt of it is first asked for (most are never shown).
pub struct RedactedIndex {
    index: Arc<Index>,
    /// The redacted text of each file asked for so far, by its id in the index.
    redacted: Mutex<HashMap<u32, Arc<String>>>,
}

impl RedactedIndex {
    pub fn new(index: Arc<Index>) -> RedactedIndex {
        RedactedIndex {
            index,
            redacted: Mutex::new(HashMap::new()),
        }
    }

    /// The redacted text of the indexed file at `path`; `None` for a file the index
    /// does not hold.
    fn redacted_file(&self, path: &str) -> Option<Arc<String>> {
        let (id, file) = self.index.file(path)?;
        let mut cache = self.redacted.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let text = cache
            .entry(id)
            .or_insert_with(|| Arc::new(crate::checks::redact::redact(&file.text).text));
        Some(text.clone())
    }

    /// `e` with its lines taken from its file's redacted text (redaction keeps the line
    /// count, so the numbers hold); `None` when its file is unknown.
    fn redacted_excerpt(&self, e: CodeExcerpt) -> Option<CodeExcerpt> {
        let text = self.redacted_file(&e.path)?;
        let lines: String = text
            .lines()
            .skip(e.start_line.saturating_sub(1) as usize)
            .take(e.end_line.saturating_add(1).saturating_sub(e.start_line) as usize)
            .map(|l| format!("{l}\n"))
            .collect();
        Some(CodeExcerpt { text: lines, ..e })
    }
}

impl RelatedCode for RedactedIndex {
    fn related(&self, region: Region<'_>, budget_tokens: u64) -> Vec<CodeExcerpt> {
        // An excerpt whose file cannot be redacted whole is left out rather than sent
        // redacted on its own. A placeholder can be longer than the secret it hides
        // (`«redacted:password»` for a 4-character password), so the budget is kept
        // again on the redacted text: an excerpt that no longer fits is left out, as
        // the index leaves out one that does not fit.
        let mut spent = 0u64;
        self.index
            .related(region, budget_tokens)
            .into_iter()
            .filter_map(|e| self.redacted_excerpt(e))
            .filter(|e| {
                let cost = super::lookup::excerpt_tokens(e);
                let fits = spent + cost <= budget_tokens;
                spent += if fits { cost } else { 0 };
                fits
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::walk::SourceFile;

    fn source(path: &str, text: &str) -> SourceFile {
        SourceFile::new(path, text)
    }

    #[test]
    fn an_excerpt_that_starts_inside_a_key_body_keeps_no_line_of_it() {
        let keys = "KEY = \"\"\"-----BEGIN RSA PRIVATE KEY-----\n\
                    MIIEowIBAAKCAQEAx8Qp3pZ9G1sN0vYb2cXkq7Jd4mR1tU8wLz6yHhP0aQeVfTg\n\
                    LASTBODYLINEsecretmaterialQ2lW9bYx3nK8dF5rT1uP7cJ0sM4vH6gE2yA9iL3\n\
                    -----END RSA PRIVATE KEY-----\"\"\"\n\
                    def load_signing_key():\n    return KEY\n";
        let main = "from keys import load_signing_key\n\ndef sign(msg):\n    k = load_signing_key()\n    return k\n";
        let index = Arc::new(Index::build(&[source("keys.py", keys), source("main.py", main)]));
        let region = Region {
            path: "main.py",
            start_line: 1,
            end_line: 5,
        };
        let plain = index.related(region, 1000);
        let redacted = RedactedIndex::new(index).related(region, 1000);
        assert!(!redacted.is_empty());
        assert_eq!(redacted.len(), plain.len());
        for (p, r) in plain.iter().zip(&redacted) {
            assert_eq!((p.start_line, p.end_line), (r.start_line, r.end_line));
            assert_eq!(p.text.lines().count(), r.text.lines().count(), "{r:?}");
            assert!(!r.text.contains("LASTBODYLINE"), "{r:?}");
        }
        // The layout is the one that leaked: an excerpt cut inside the key's body,
        // where redacting the excerpt alone keeps the body line.
        assert!(plain
            .iter()
            .any(|p| crate::checks::redact::redact(&p.text).text.contains("LASTBODYLINE")));
    }

    #[test]
    fn placeholders_longer_than_their_secrets_do_not_overrun_the_budget() {
        // Each 6-character password becomes a placeholder of about 20 characters.
        let creds: String = (0..30)
            .map(|i| format!("    user{i}_password = \"Zq9x{i:02}\"\n"))
            .collect();
        let far: String = (0..30).map(|i| format!("    width{i} = {i}\n")).collect();
        let conf = format!("def settings():\n{creds}    return 1\n\ndef layout():\n{far}    return 2\n");
        let main = "from conf import settings, layout\n\ndef run():\n    settings()\n    layout()\n";
        let index = Arc::new(Index::build(&[source("conf.py", &conf), source("main.py", main)]));
        let region = Region {
            path: "main.py",
            start_line: 3,
            end_line: 5,
        };
        let all = index.related(region, 100_000);
        assert_eq!(all.len(), 2, "{all:?}");
        // A budget both plain excerpts fit in, exactly.
        let budget: u64 = all.iter().map(crate::related::lookup::excerpt_tokens).sum();
        let redacted = RedactedIndex::new(index).related(region, budget);
        assert!(redacted.iter().any(|e| e.text.contains("«redacted:")), "{redacted:?}");
        let spent: u64 = redacted.iter().map(crate::related::lookup::excerpt_tokens).sum();
        assert!(spent <= budget, "{spent} tokens sent for a budget of {budget}");
        assert_eq!(
            redacted.len(),
            1,
            "the excerpt that no longer fits is left out: {redacted:?}"
        );
    }
}
