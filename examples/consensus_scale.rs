//! Clusters and ranks 100,000 generated findings and reports the time and the peak
//! memory; run it under `/usr/bin/time -v` for an outside measurement:
//!
//! ```sh
//! cargo build --release --example consensus_scale
//! /usr/bin/time -v target/release/examples/consensus_scale [FILES] [RUNS]
//! ```
//!
//! The findings are those of `benches/consensus.rs` (FILES = 2,000 files × 5 models ×
//! 10 findings). With RUNS > 1 it prints the fastest and the median run, which on a
//! shared machine say more than any single run.

#[path = "../tests/support/consensus_data.rs"]
mod data;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use quorum::consensus::{self, Settings};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let files = args.next().flatten().unwrap_or(2_000);
    let runs = args.next().flatten().unwrap_or(1).max(1);
    let findings = data::findings(files, 5, 10);
    let mut reviewed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &findings {
        reviewed.entry(f.file.clone()).or_default().insert(f.family.clone());
    }
    let mut times: Vec<Duration> = Vec::new();
    let mut summary = String::new();
    for _ in 0..runs {
        let input = findings.clone();
        let started = Instant::now();
        let issues = consensus::build_issues(input, &reviewed, &HashMap::new(), &Settings::default());
        times.push(started.elapsed());
        let agreed = issues.iter().filter(|i| i.agreement.count >= 2).count();
        summary = format!("{} issues ({agreed} with 2+ models)", issues.len());
    }
    times.sort();
    println!(
        "{} findings clustered and ranked into {summary}: fastest {:.3} s, median {:.3} s of {runs} run(s)",
        findings.len(),
        times[0].as_secs_f64(),
        times[times.len() / 2].as_secs_f64()
    );
    if let Some(mb) = data::peak_memory_mb() {
        println!("peak resident memory: {mb:.0} MB");
    }
}
