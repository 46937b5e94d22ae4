//! The CWE prior table: how often a report of each CWE family holds up, learnt from the
//! judged findings of one split (the tuning half only; the held-out half must not leak
//! into what is shipped). `cargo run --release --example eyeballvul -- --cwe-priors`
//! prints the table as the Rust source of `src/consensus/prior.rs`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Dataset, Split};
use crate::consensus::cwe_family;

/// Findings of the overall precision a family's own precision is pulled towards: a
/// family seen 20 times keeps half of its own deviation.
pub const SHRINKAGE: f64 = 20.0;
/// Families judged fewer times than this stay out of the table (they score neutral).
pub const MIN_JUDGED: usize = 30;

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CwePrior {
    /// The family's first CWE (see `consensus::cwe_family`).
    pub family: u32,
    pub judged: usize,
    pub labelled: usize,
    /// The shrunk precision relative to the overall one (1 = an average report).
    pub relative: f64,
}

/// The prior of every family judged at least [`MIN_JUDGED`] times in `split`, and the
/// overall precision of its judged findings.
pub fn cwe_priors(data: &Dataset, split: Split) -> (Vec<CwePrior>, f64) {
    let mut counts: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    let (mut judged, mut labelled) = (0usize, 0usize);
    for r in data
        .records
        .iter()
        .filter(|r| r.judge.is_some() && split.contains(&r.revision))
    {
        judged += 1;
        labelled += usize::from(r.label.is_some());
        if let Some(cwe) = r.cwe {
            let c = counts.entry(cwe_family(cwe)).or_default();
            c.0 += 1;
            c.1 += usize::from(r.label.is_some());
        }
    }
    let overall = super::ratio(labelled, judged);
    let rows = counts
        .into_iter()
        .filter(|(_, (j, _))| *j >= MIN_JUDGED)
        .map(|(family, (j, l))| {
            let shrunk = (l as f64 + SHRINKAGE * overall) / (j as f64 + SHRINKAGE);
            CwePrior {
                family,
                judged: j,
                labelled: l,
                relative: if overall > 0.0 {
                    (shrunk / overall * 100.0).round() / 100.0
                } else {
                    1.0
                },
            }
        })
        .collect();
    (rows, overall)
}

/// The table as Rust source, with the comment that says where it comes from.
pub fn render(rows: &[CwePrior], overall: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "/// Learnt on the tuning half of eyeballvul ({} families judged at least {MIN_JUDGED} times;\n\
         /// overall precision {overall:.3}; each family's precision shrunk towards it by {SHRINKAGE}\n\
         /// findings). Regenerate: `cargo run --release --example eyeballvul -- --cwe-priors`.\n\
         /// (family, judged, labelled, relative precision)",
        rows.len()
    );
    let _ = writeln!(out, "const PRIORS: &[(u32, u32, u32, f64)] = &[");
    for r in rows {
        let _ = writeln!(
            out,
            "    ({}, {}, {}, {:.2}),",
            r.family, r.judged, r.labelled, r.relative
        );
    }
    out.push_str("];\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::eyeballvul::Record;

    fn record(revision: &str, cwe: u32, label: bool) -> Record {
        Record {
            revision: revision.into(),
            model: "m".into(),
            headline: "h".into(),
            analysis: "a".into(),
            cwe: Some(cwe),
            files: vec![],
            functions: vec![],
            classification: "very promising".into(),
            judge: Some("judge".into()),
            label: label.then(|| "cve:CVE-1".to_string()),
        }
    }

    #[test]
    fn a_family_pools_its_cwes_and_is_shrunk_towards_the_mean() {
        // 40 path traversals (22 and its child 23), 20 of them true; 40 XSS, none true.
        let mut records = Vec::new();
        for i in 0..40 {
            records.push(record("r", if i % 2 == 0 { 22 } else { 23 }, i < 20));
            records.push(record("r", 79, false));
        }
        let data = Dataset {
            records,
            attempted: BTreeMap::new(),
        };
        let (rows, overall) = cwe_priors(&data, Split::All);
        assert_eq!(overall, 0.25);
        let traversal = rows.iter().find(|r| r.family == 22).expect("family 22");
        assert_eq!((traversal.judged, traversal.labelled), (40, 20));
        // (20 + 20·0.25) / 60 = 0.4167, relative 1.67.
        assert_eq!(traversal.relative, 1.67);
        let xss = rows.iter().find(|r| r.family == 79).expect("family 79");
        // (0 + 5) / 60 relative: 0.33.
        assert_eq!(xss.relative, 0.33);
        assert!(render(&rows, overall).contains("(22, 40, 20, 1.67),"));
    }
}
