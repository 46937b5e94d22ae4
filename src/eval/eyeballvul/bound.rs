//! How far better merging alone could take the clustering: an oracle that knows the gold
//! labels joins Quorum's groups wherever two of their findings carry the same CVE of the
//! same revision and meet a condition a clusterer could see (the same first file, …).
//! It never makes a wrong join, so its (c2) F1 is more than any clusterer meeting that
//! condition reaches from Quorum's groups: if even the oracle falls short of a goal,
//! better merging cannot reach it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::{bcubed, rank, Dataset, Prf, Record, Split};
use crate::consensus::Settings;

/// The condition two findings of one gold cluster must meet for the oracle to join their
/// groups, strictest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OracleJoin {
    /// The same first file and the same CWE.
    SameFileAndCwe,
    /// The same first file, whatever the CWE.
    SameFile,
    /// Any file in common.
    AnySharedFile,
    /// Nothing but the gold label: the whole gold cluster in one group.
    SameRevision,
}

impl OracleJoin {
    pub const ALL: [OracleJoin; 4] = [
        OracleJoin::SameFileAndCwe,
        OracleJoin::SameFile,
        OracleJoin::AnySharedFile,
        OracleJoin::SameRevision,
    ];

    /// Whether `a` and `b` (of one gold cluster) meet the condition.
    fn joins(self, a: &Record, b: &Record) -> bool {
        match self {
            OracleJoin::SameFileAndCwe => a.files.first() == b.files.first() && a.cwe == b.cwe,
            OracleJoin::SameFile => a.files.first() == b.files.first(),
            OracleJoin::AnySharedFile => a.files.iter().any(|f| b.files.contains(f)),
            OracleJoin::SameRevision => true,
        }
    }
}

/// The scores of one oracle's grouping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MergeBound {
    pub join: OracleJoin,
    pub c: Prf,
    pub c2: Prf,
}

/// The oracle's grouping and scores for each [`OracleJoin`], from Quorum's `groups` of
/// `records`.
pub fn merge_bounds(records: &[&Record], groups: &[Vec<usize>]) -> Vec<MergeBound> {
    OracleJoin::ALL
        .iter()
        .map(|&join| {
            let joined = oracle_groups(records, groups, join);
            MergeBound {
                join,
                c: bcubed(records, &joined, false),
                c2: bcubed(records, &joined, true),
            }
        })
        .collect()
}

/// The oracle bounds from Quorum's grouping (with `settings`) of the judged findings of
/// one split, as a table: Quorum's own row first.
pub fn render_merge_bounds(data: &Dataset, split: Split, settings: &Settings) -> String {
    let judged = super::judged_records(data, split);
    let groups = rank(&judged, data, settings).members;
    let own = (bcubed(&judged, &groups, false), bcubed(&judged, &groups, true));
    let mut out = format!(
        "Merging bound on the {split:?} split: Quorum's groups joined by an oracle that knows the labels\n  \
         {:<40} {:>8} {:>10} {:>8} {:>7}\n",
        "grouping", "(c) F1", "(c2) prec.", "recall", "(c2) F1"
    );
    let mut row = |name: &str, c: Prf, c2: Prf| {
        let _ = writeln!(
            out,
            "  {name:<40} {:>8.3} {:>10.3} {:>8.3} {:>7.3}",
            c.f1, c2.precision, c2.recall, c2.f1
        );
    };
    row("Quorum", own.0, own.1);
    for bound in merge_bounds(&judged, &groups) {
        row(&format!("+ oracle joins, {:?}", bound.join), bound.c, bound.c2);
    }
    out
}

/// `groups` with every two joined that hold findings of one gold cluster meeting `join`.
pub fn oracle_groups(records: &[&Record], groups: &[Vec<usize>], join: OracleJoin) -> Vec<Vec<usize>> {
    let mut group_of = vec![usize::MAX; records.len()];
    for (g, members) in groups.iter().enumerate() {
        for &i in members {
            group_of[i] = g;
        }
    }
    let mut gold: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        if let (Some(label), true) = (&r.label, group_of[i] != usize::MAX) {
            gold.entry((&r.revision, label)).or_default().push(i);
        }
    }
    let mut sets = DisjointSets::new(groups.len());
    for members in gold.values() {
        for (k, &a) in members.iter().enumerate() {
            for &b in &members[k + 1..] {
                if join.joins(records[a], records[b]) {
                    sets.union(group_of[a], group_of[b]);
                }
            }
        }
    }
    let mut joined: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (g, members) in groups.iter().enumerate() {
        joined.entry(sets.find(g)).or_default().extend(members);
    }
    joined.into_values().collect()
}

/// Union-find over group positions.
struct DisjointSets {
    parent: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> DisjointSets {
        DisjointSets {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[a] = b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(file: &str, cwe: u32, label: Option<&str>) -> Record {
        Record {
            cwe: Some(cwe),
            files: vec![file.into(), "shared.js".into()],
            ..Record::judged("r", "m", label)
        }
    }

    #[test]
    fn the_oracle_joins_only_groups_of_one_gold_cluster_meeting_its_condition() {
        let rs = [
            record("a.js", 79, Some("x")),
            record("a.js", 79, Some("x")),
            record("a.js", 20, Some("x")),
            record("b.js", 79, Some("x")),
            record("a.js", 79, None),
            record("a.js", 79, Some("y")),
        ];
        let refs: Vec<&Record> = rs.iter().collect();
        let alone: Vec<Vec<usize>> = (0..rs.len()).map(|i| vec![i]).collect();
        let sizes = |join| {
            let mut s: Vec<usize> = oracle_groups(&refs, &alone, join).iter().map(Vec::len).collect();
            s.sort_unstable();
            s
        };
        // The unlabelled finding and the other CVE's are never joined to cluster x.
        assert_eq!(sizes(OracleJoin::SameFileAndCwe), vec![1, 1, 1, 1, 2]);
        assert_eq!(sizes(OracleJoin::SameFile), vec![1, 1, 1, 3]);
        assert_eq!(sizes(OracleJoin::AnySharedFile), vec![1, 1, 4]);
        assert_eq!(sizes(OracleJoin::SameRevision), vec![1, 1, 4]);
        let bounds = merge_bounds(&refs, &alone);
        assert_eq!(bounds[3].c.recall, 1.0);
        assert!(bounds[0].c.recall < bounds[1].c.recall);
    }
}
