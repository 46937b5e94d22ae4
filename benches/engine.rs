//! Engine throughput against simulated providers: `cargo bench --bench engine`.
//!
//! 1,000 files × 4 providers with different latencies and concurrency caps (over its cap
//! a provider answers 429). Reports efficiency = ideal ÷ actual wall time, where ideal is
//! the slowest provider's ⌈jobs ÷ cap⌉ × latency (the bound when every provider is kept
//! exactly at its limit); the warm re-run's wall time and request count (the cache should
//! make it zero); and the process's peak memory. `QUORUM_BENCH_FILES=N` changes the size.
//!
//! A second section configures every provider above what its server takes (caps 8/4/2/1,
//! all configured at 16): the lanes must settle at the real caps, and every job must
//! still be answered.

#[path = "../tests/support/chat.rs"]
mod chat;
#[path = "../tests/support/engine.rs"]
mod harness;
#[path = "../tests/support/sim.rs"]
mod sim;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use quorum::engine::cache::Cache;
use quorum::engine::{self, Reviewer};
use quorum::input::walk::SourceFile;

const MODELS: [(&str, u64, usize); 4] = [("alpha", 20, 4), ("beta", 40, 4), ("gamma", 10, 8), ("delta", 80, 8)];

/// The overconfigured section: (name, latency in ms, the server's cap). The two lanes
/// that decide the wall time are the first section's (80 ms at 8, 40 ms at 4: 10 s
/// each), so the difference between the two efficiencies is what finding the caps costs;
/// the lanes of caps 2 and 1 must settle too, but at 5 s each they decide nothing unless
/// they fail to (1,000 requests one at a time measure per-request overhead, not this).
const OVERCONFIGURED: [(&str, u64, usize); 4] = [("alpha", 80, 8), ("beta", 40, 4), ("gamma", 10, 2), ("delta", 5, 1)];

/// What every provider of the overconfigured section is configured to send at once.
const CONFIGURED_CAP: usize = 16;

fn main() {
    let files: usize = std::env::var("QUORUM_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench(files));
    runtime.block_on(overconfigured(files));
}

async fn bench(n: usize) {
    let (server, stats) = sim::start(&sim_models(&MODELS), None, Duration::ZERO).await;
    let files = harness::go_files(n, |i| format!("src/f{i:04}.go"));
    let specs: Vec<(&str, usize)> = MODELS.iter().map(|(name, _, cap)| (*name, *cap)).collect();
    let reviewers = harness::reviewers(&server.uri(), &specs, "");
    let ideal = ideal_wall_time(&MODELS, n);
    let dir = tempfile::tempdir().unwrap();
    let mut cache = Cache::open(&dir.path().join("cache")).unwrap();

    let (cold, _) = run(&files, &reviewers, dir.path().join("cold"), Some(&mut cache)).await;
    let cold_requests = stats.requests.load(Ordering::SeqCst);
    let (warm, _) = run(&files, &reviewers, dir.path().join("warm"), Some(&mut cache)).await;
    let warm_requests = stats.requests.load(Ordering::SeqCst) - cold_requests;

    println!(
        "engine benchmark: {n} files × {} providers = {} jobs",
        MODELS.len(),
        n * MODELS.len()
    );
    for (name, ms, cap) in MODELS {
        println!(
            "  {name:<6} latency {ms:>3} ms, cap {cap}: ideal {:.2} s",
            (n.div_ceil(cap) as u64 * ms) as f64 / 1000.0
        );
    }
    println!("  ideal wall time        {:.2} s", ideal.as_secs_f64());
    println!("  actual wall time       {:.2} s", cold.as_secs_f64());
    println!(
        "  efficiency             {:.3}  (goal ≥ 0.95)",
        ideal.as_secs_f64() / cold.as_secs_f64()
    );
    println!(
        "  requests (cold)        {cold_requests}, over a cap (429): {}",
        stats.over_cap.load(Ordering::SeqCst)
    );
    println!(
        "  warm re-run            {:.3} s, {warm_requests} requests (goal: 0)",
        warm.as_secs_f64()
    );
    println!("  peak memory (VmHWM)    {}", peak_memory());
}

/// Every provider configured at `CONFIGURED_CAP` against servers that take 8/4/2/1:
/// efficiency as above, the 429s it took to find the caps, and every job answered.
async fn overconfigured(n: usize) {
    let (server, stats) = sim::start(&sim_models(&OVERCONFIGURED), None, Duration::ZERO).await;
    let files = harness::go_files(n, |i| format!("src/f{i:04}.go"));
    let specs: Vec<(&str, usize)> = OVERCONFIGURED
        .iter()
        .map(|(name, _, _)| (*name, CONFIGURED_CAP))
        .collect();
    let reviewers = harness::reviewers(&server.uri(), &specs, "");
    let ideal = ideal_wall_time(&OVERCONFIGURED, n);
    let dir = tempfile::tempdir().unwrap();
    let (wall, summary) = run(&files, &reviewers, dir.path().join("over"), None).await;
    let jobs = n * OVERCONFIGURED.len();
    println!(
        "overconfigured: {n} files × {} providers, each configured at {CONFIGURED_CAP}",
        OVERCONFIGURED.len()
    );
    for (name, ms, cap) in OVERCONFIGURED {
        println!(
            "  {name:<6} latency {ms:>3} ms, server cap {cap}: ideal {:.2} s",
            (n.div_ceil(cap) as u64 * ms) as f64 / 1000.0
        );
    }
    println!("  ideal wall time        {:.2} s", ideal.as_secs_f64());
    println!("  actual wall time       {:.2} s", wall.as_secs_f64());
    println!(
        "  efficiency             {:.3}  (goal ≥ 0.90)",
        ideal.as_secs_f64() / wall.as_secs_f64()
    );
    println!(
        "  requests               {}, over a cap (429): {}",
        stats.requests.load(Ordering::SeqCst),
        stats.over_cap.load(Ordering::SeqCst)
    );
    println!(
        "  jobs answered          {} of {jobs} (failed {}, not started {})",
        summary.ok, summary.failed, summary.not_started
    );
    assert_eq!(summary.ok, jobs, "every job must be answered: {summary:?}");
}

/// A simulated server's models: (name, latency in ms, the server's cap).
type ModelTable = [(&'static str, u64, usize)];

/// The simulated models of a table.
fn sim_models(table: &ModelTable) -> Vec<(&'static str, sim::Model)> {
    table
        .iter()
        .map(|&(name, ms, cap)| {
            let latency = Duration::from_millis(ms);
            (name, sim::Model { latency, cap })
        })
        .collect()
}

/// The bound when every provider is kept exactly at its server's cap: the slowest
/// provider's ⌈jobs ÷ cap⌉ × latency.
fn ideal_wall_time(table: &ModelTable, n: usize) -> Duration {
    table
        .iter()
        .map(|&(_, ms, cap)| Duration::from_millis(n.div_ceil(cap) as u64 * ms))
        .max()
        .unwrap_or_default()
}

async fn run(
    files: &[SourceFile],
    reviewers: &[Reviewer],
    out: std::path::PathBuf,
    cache: Option<&mut Cache>,
) -> (Duration, engine::Summary) {
    let started = Instant::now();
    let summary = harness::run_silently(files, reviewers, &out, cache, &engine::Options::default()).await;
    (started.elapsed(), summary)
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown (no /proc)".into())
}
