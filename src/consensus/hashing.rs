//! The fast, stable hashes that words, paths and function names are compared by.

/// A fast, stable 64-bit hash of words, paths and texts, eight bytes at a time (FxHash's
/// mixing, with the length folded in). Collisions are harmless here: at worst two rare
/// words count as one.
#[inline]
pub(super) fn hash(bytes: &[u8]) -> u64 {
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
pub(super) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

#[inline]
pub(super) fn fnv_extend(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The hash of a path as models write it: `./a\\b.go`, `/a/b.go` and `a/b.go` are one.
pub(super) fn hash_path(path: &str) -> u64 {
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
pub(super) fn function_hash(name: &str) -> Option<u64> {
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

/// A function as clustering compares it: scoped to the finding's file (two `main`s in two
/// files are two functions), by its whole qualified name, case-folded and without
/// arguments (`Search.renderResults()`, `search::render_results` are one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FunctionKey {
    /// The file and every component of the name.
    pub(super) full: u64,
    /// The file and the last component, when the name is qualified: `exportNote` may be
    /// `Handlers.exportNote`, while `A.run` and `B.run` stay two functions.
    pub(super) tail: Option<u64>,
}

impl FunctionKey {
    /// Whether two keys may name one function: equal, or one unqualified name that is the
    /// other's last component.
    pub(super) fn matches(self, other: FunctionKey) -> bool {
        self.full == other.full
            || (self.tail.is_none() && other.tail == Some(self.full))
            || (other.tail.is_none() && self.tail == Some(other.full))
    }

    /// The same for any two keys that may match (the file and the last component).
    pub(super) fn bucket(self) -> u64 {
        self.tail.unwrap_or(self.full)
    }
}

/// What models write where they know no function (eyeballvul: `N/A` 104 times, `None` 54).
const NO_FUNCTION: &[&str] = &[
    "",
    "-",
    "--",
    "n/a",
    "na",
    "none",
    "null",
    "nil",
    "unknown",
    "undefined",
    "not applicable",
    "global",
    "<global>",
    "(global)",
    "<module>",
    "module",
    "top-level",
    "toplevel",
];

/// The key of function `name` in `file`; `None` for a placeholder or for the file's own
/// name (`deploy-docs.sh` named as the function of `scripts/deploy-docs.sh`): no function.
pub(super) fn function_key(file: &str, name: &str) -> Option<FunctionKey> {
    let whole = name.trim();
    let name = whole.split('(').next().unwrap_or(whole).trim();
    let folded = name.to_lowercase();
    if NO_FUNCTION.contains(&folded.as_str()) || NO_FUNCTION.contains(&whole.to_lowercase().as_str()) {
        return None;
    }
    let path = file.trim().replace('\\', "/").to_lowercase();
    let base = path.rsplit('/').next().unwrap_or(&path);
    if folded == base || folded == path.trim_start_matches("./") {
        return None;
    }
    let components: Vec<String> = name
        .split(['.', ':', '#', '>', ' '])
        .map(|c| {
            c.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|c| !c.is_empty())
        .collect();
    let last = components.last()?;
    let scope = fnv_extend(FNV_OFFSET, &hash_path(file).to_le_bytes());
    let key = |parts: &[String]| {
        parts
            .iter()
            .fold(scope, |h, part| fnv_extend(fnv_extend(h, b"."), part.as_bytes()))
    };
    Some(FunctionKey {
        full: key(&components),
        tail: (components.len() > 1).then(|| key(std::slice::from_ref(last))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(file: &str, name: &str) -> Option<FunctionKey> {
        function_key(file, name)
    }

    fn same(a: (&str, &str), b: (&str, &str)) -> bool {
        match (key(a.0, a.1), key(b.0, b.1)) {
            (Some(x), Some(y)) => x.matches(y),
            _ => false,
        }
    }

    #[test]
    fn placeholders_and_the_file_s_own_name_are_no_function() {
        for name in ["N/A", "None", "n/a", "unknown", "", "  ", "-", "NULL", "<module>"] {
            assert_eq!(key("app.py", name), None, "{name:?}");
        }
        assert_eq!(key("scripts/deploy-docs.sh", "deploy-docs.sh"), None);
        assert_eq!(key("publish.sh", "publish.sh"), None);
        assert!(key("app.py", "main").is_some());
    }

    #[test]
    fn a_function_is_scoped_to_its_file() {
        assert!(same(("a.py", "main"), ("./a.py", "main()")));
        assert!(!same(("a.py", "main"), ("b.py", "main")));
        // Not reduced to an extension: two scripts named as functions of a third file.
        assert!(!same(("ci.yml", "deploy-docs.sh"), ("ci.yml", "publish.sh")));
    }

    #[test]
    fn only_an_unqualified_name_matches_a_qualified_one() {
        assert!(same(("a.js", "Handlers.exportNote"), ("a.js", "exportNote()")));
        assert!(same(
            ("a.rs", "Search::render_results"),
            ("a.rs", "search.renderResults")
        ));
        assert!(!same(("a.py", "A.run"), ("a.py", "B.run")));
        assert!(!same(("a.py", "run"), ("a.py", "runner")));
    }
}
