//! CWE families: which CWEs name the same weakness, and which name only a class.

/// CWEs that name a whole class rather than a weakness (improper input validation,
/// injection, neutralization, protection mechanism): they neither confirm nor rule out
/// a more specific CWE.
pub(super) fn is_generic_cwe(cwe: u32) -> bool {
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
