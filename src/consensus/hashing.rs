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
