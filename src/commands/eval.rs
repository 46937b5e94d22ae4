//! `quorum eval`: score a run against a ground-truth file.

use std::path::Path;

use anyhow::Result;

use crate::commands::aggregate::consensus_settings;
use crate::commands::terminal::{print_stdout, println_stdout};
use crate::store::RunFolder;

/// Scores the run in `out` against `truth`, with the consensus settings of `--config` (or
/// of the configuration the run used), and prints the scores as a table or as JSON.
pub fn eval(out: &Path, truth: &Path, config: Option<&Path>, json: bool) -> Result<()> {
    let meta = RunFolder::new(out).read_meta()?;
    let settings = consensus_settings(config, &meta)?;
    let report = crate::eval::run_eval(out, truth, &settings)?;
    if json {
        println_stdout(&serde_json::to_string_pretty(&report)?)
    } else {
        print_stdout(&report.table())
    }
}
