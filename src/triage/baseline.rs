//! `--baseline OLD_REPORT_JSON`: the issues an earlier run already reported, so that a
//! review shows only what is new. The old report may come from anywhere (a CI artifact,
//! a colleague): it is read bounded, and anything that is not a Quorum `report.json` of
//! this schema version is an error, never a silent empty baseline.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::consensus::Issue;
use crate::report::SCHEMA_VERSION;

mod shape;
use shape::{is_object, Head, Shape};

/// The most bytes of an old report read: far above a large review's report.
pub const MAX_BASELINE_BYTES: u64 = 64 * 1024 * 1024;

/// An earlier run's issues.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// The old report, as the user named it.
    pub report: String,
    /// Every issue it holds in full (reported, or itself left out as unchanged).
    pub issues: Vec<Issue>,
    /// The ids of every issue it knew, suppressed ones included.
    pub ids: HashSet<String>,
}

#[derive(Deserialize)]
struct OldReport {
    issues: Vec<Issue>,
    #[serde(default)]
    baseline: Option<OldBaseline>,
    #[serde(default)]
    suppressed: Vec<OldId>,
}

#[derive(Deserialize)]
struct OldBaseline {
    #[serde(default)]
    unchanged: Vec<Issue>,
}

#[derive(Deserialize)]
struct OldId {
    id: String,
}

impl Baseline {
    /// The issues of the `report.json` at `path`.
    pub fn load(path: &Path) -> Result<Baseline> {
        let file = crate::store::open_for_reading(path)
            .with_context(|| format!("cannot read the baseline {}", path.display()))?;
        let mut bytes = Vec::new();
        file.take(MAX_BASELINE_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read the baseline {}", path.display()))?;
        if bytes.len() as u64 > MAX_BASELINE_BYTES {
            bail!(
                "the baseline {} is larger than {} MiB: pass the report.json of an earlier Quorum run",
                path.display(),
                MAX_BASELINE_BYTES >> 20
            );
        }
        Baseline::parse(&bytes, &path.display().to_string())
    }

    /// The issues of an old report's `bytes`; `name` names it in errors.
    pub fn parse(bytes: &[u8], name: &str) -> Result<Baseline> {
        let not_a_report = |why: &str| {
            anyhow::anyhow!(
                "the baseline {name} is not a Quorum report.json ({why}): pass the report.json an earlier \
                 `quorum review` wrote"
            )
        };
        // Read in two typed passes, never as a `serde_json::Value`: a tree of values
        // takes many times the file's size (a 64 MiB `[0,0,…]` took over 1 GB).
        if !is_object(bytes) {
            return Err(match serde_json::from_slice::<IgnoredAny>(bytes) {
                Ok(_) => not_a_report("no schema_version"),
                Err(_) => not_a_report("not JSON"),
            });
        }
        let head: Head = serde_json::from_slice(bytes).map_err(|_| not_a_report("not JSON"))?;
        match head.schema_version {
            Some(Shape::Number(v)) if v == u64::from(SCHEMA_VERSION) => {}
            Some(Shape::Number(v)) => {
                return Err(not_a_report(&format!(
                    "schema_version {v}, this Quorum reads {SCHEMA_VERSION}"
                )))
            }
            _ => return Err(not_a_report("no schema_version")),
        }
        // run.json has a schema_version too.
        if head.issues != Some(Shape::List) {
            return Err(not_a_report("no list of issues"));
        }
        let old: OldReport =
            serde_json::from_slice(bytes).map_err(|e| not_a_report(&format!("its issues do not read: {e}")))?;
        let mut issues = old.issues;
        issues.extend(old.baseline.into_iter().flat_map(|b| b.unchanged));
        let ids = issues
            .iter()
            .map(|i| i.id.clone())
            .chain(old.suppressed.into_iter().map(|s| s.id))
            .collect();
        Ok(Baseline {
            report: name.to_string(),
            issues,
            ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_report_is_named() {
        for (text, why) in [
            ("not json", "not JSON"),
            ("{\"issues\": []}", "no schema_version"),
            ("{\"schema_version\": 99, \"issues\": []}", "schema_version 99"),
            ("{\"schema_version\": 1, \"run_id\": \"r\"}", "no list of issues"),
            ("[0, 0, 0]", "no schema_version"),
            ("  [1, []]", "no schema_version"),
            ("{\"schema_version\": 1, \"issues\": {}}", "no list of issues"),
            ("{\"schema_version\": \"1\", \"issues\": []}", "no schema_version"),
            ("{\"schema_version\": 1, \"issues\": [}", "not JSON"),
            (
                "{\"schema_version\": 1, \"issues\": [{\"id\": 3}]}",
                "its issues do not read",
            ),
        ] {
            let err = format!("{:#}", Baseline::parse(text.as_bytes(), "old.json").unwrap_err());
            assert!(
                err.contains("old.json is not a Quorum report.json") && err.contains(why),
                "{err}"
            );
        }
        let empty = Baseline::parse(
            b"{\"schema_version\": 1, \"issues\": [], \"suppressed\": [{\"id\": \"Q0123abcd\"}]}",
            "b",
        )
        .unwrap();
        assert!(empty.issues.is_empty() && empty.ids.contains("Q0123abcd"));
    }
}
