//! Clustering and ranking speed: `cargo bench --bench consensus`.
//!
//! The goal (issue 5): 100,000 findings (2,000 files × 5 models × 10 findings, realistic
//! wording) clustered and ranked in under 1 s on one core and under 500 MB. The second
//! group measures what blocking saves: the same clustering with every pair of the input
//! scored in full (`cluster_indices_naive`), beside the blocked clustering, on inputs
//! small enough for the naive one; the naive time grows with the square of the input.
//! Peak memory is printed at the end (`examples/consensus_scale.rs` measures it alone).

#[path = "../tests/support/consensus_data.rs"]
mod data;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion};
use quorum::consensus::{self, Place, Settings};

fn reviewed(findings: &[quorum::normalize::finding::Finding]) -> BTreeMap<String, BTreeSet<String>> {
    let mut reviewed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in findings {
        reviewed.entry(f.file.clone()).or_default().insert(f.family.clone());
    }
    reviewed
}

fn full_scale(c: &mut Criterion) {
    let findings = data::findings(2_000, 5, 10);
    let reviewed = reviewed(&findings);
    let settings = Settings::default();
    let mut group = c.benchmark_group("consensus");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("build_issues 100k findings", |b| {
        b.iter_batched(
            || findings.clone(),
            |input| consensus::build_issues(input, &reviewed, &HashMap::new(), &settings),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn blocked_versus_naive(c: &mut Criterion) {
    let settings = Settings::default();
    let mut group = c.benchmark_group("blocked vs all pairs");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for files in [20, 40] {
        let findings = data::findings(files, 5, 10);
        let places: Vec<Place> = findings.iter().map(Place::of).collect();
        let n = findings.len();
        group.bench_with_input(BenchmarkId::new("blocked", n), &n, |b, _| {
            b.iter(|| consensus::cluster_indices(&findings, &places, &settings))
        });
        group.bench_with_input(BenchmarkId::new("all pairs", n), &n, |b, _| {
            b.iter(|| consensus::cluster_indices_naive(&findings, &places, &settings))
        });
    }
    group.finish();
}

criterion_group!(benches, full_scale, blocked_versus_naive);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if let Some(mb) = data::peak_memory_mb() {
        println!("peak resident memory of this benchmark process: {mb:.0} MB");
    }
}
