//! Measures Quorum's clustering and ranking on the eyeballvul multi-model findings.
//!
//! ```sh
//! cargo run --release --example eyeballvul [-- PATH] [--tune | --tune-rank | --cwe-priors]
//! ```
//!
//! `PATH` defaults to `../shared/datasets/eyeballvul` next to the repository. The data
//! is not redistributable, so without it this prints why it skipped and exits 0.
//! The report shows the tuning half of the revisions and the held-out half, each beside
//! the dataset's crude baseline computed on the same revisions. `--tune` searches the
//! consensus thresholds on the tuning half only and prints the best settings.
//! `--tune-rank` searches the score's evidence weights on the tuning half only.
//! `--cwe-priors` prints the CWE prior table of `src/consensus/prior.rs`, learnt on the
//! tuning half only.

use std::path::PathBuf;
use std::time::Instant;

use quorum::consensus::{self, Place, Settings};
use quorum::eval::eyeballvul::{self, Dataset, Split};
use quorum::normalize::finding::Finding;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tune = args.iter().any(|a| a == "--tune");
    let path = args.iter().find(|a| !a.starts_with("--")).map(PathBuf::from);
    let dir = match eyeballvul::locate(path.as_deref()) {
        Ok(dir) => dir,
        Err(reason) => {
            println!("{reason}");
            return Ok(());
        }
    };
    let started = Instant::now();
    let data = eyeballvul::load(&dir)?;
    println!(
        "{} findings from {} (loaded in {:.2} s)\n",
        data.records.len(),
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    if args.iter().any(|a| a == "--cwe-priors") {
        let (rows, overall) = eyeballvul::cwe_priors(&data, Split::Tune);
        print!("{}", eyeballvul::render_priors(&rows, overall));
        return Ok(());
    }
    if args.iter().any(|a| a == "--merge-bound") {
        for split in [Split::Tune, Split::Holdout] {
            println!(
                "{}",
                eyeballvul::render_merge_bounds(&data, split, &Settings::default())
            );
        }
        return Ok(());
    }
    if args.iter().any(|a| a == "--tune-rank") {
        search_rank(&data);
        return Ok(());
    }
    let settings = if tune { search(&data) } else { Settings::default() };
    println!("settings: {settings:?}\n");
    let weights = eyeballvul::learned_weights(&data, Split::Tune);
    println!("per-model weights learned on the tune split (precision ÷ mean): {weights:?}\n");
    for split in [Split::Tune, Split::Holdout] {
        let started = Instant::now();
        let evaluation = eyeballvul::evaluate(&data, split, &settings, Some(&weights));
        print!("{}", evaluation.report());
        println!("  (evaluated in {:.2} s)\n", started.elapsed().as_secs_f64());
    }
    println!(
        "For reference, baseline.py on all revisions: (c) F1 {:.3}, (c2) F1 {:.3}.",
        eyeballvul::PUBLISHED_BASELINE_C_F1,
        eyeballvul::PUBLISHED_BASELINE_C2_F1
    );
    Ok(())
}

/// A grid search over the thresholds on the tune split, maximising the mean of the (c)
/// and (c2) F1 of Quorum on judged findings. Prints the best few.
fn search(data: &Dataset) -> Settings {
    let judged: Vec<&eyeballvul::Record> = data
        .records
        .iter()
        .filter(|r| r.judge.is_some() && Split::Tune.contains(&r.revision))
        .collect();
    let findings: Vec<Finding> = judged.iter().map(|r| eyeballvul::to_finding(r)).collect();
    let places: Vec<Place> = judged.iter().map(|r| eyeballvul::to_place(r)).collect();
    let grid = settings_grid();
    let started = Instant::now();
    let evaluate = |settings: &Settings| {
        let groups = consensus::cluster_indices(&findings, &places, settings);
        let c = eyeballvul::bcubed(&judged, &groups, false).f1;
        let c2 = eyeballvul::bcubed(&judged, &groups, true).f1;
        ((c + c2) / 2.0, c, c2)
    };
    let half = grid.len() / 2;
    let mut results: Vec<(f64, f64, f64, Settings)> = std::thread::scope(|scope| {
        let first = scope.spawn(|| grid[..half].iter().map(|s| with(evaluate(s), s)).collect::<Vec<_>>());
        let mut second: Vec<_> = grid[half..].iter().map(|s| with(evaluate(s), s)).collect();
        let mut all = first.join().unwrap_or_default();
        all.append(&mut second);
        all
    });
    results.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "best of {} settings on the tune split (mean of (c) and (c2) F1; {:.1} s):",
        grid.len(),
        started.elapsed().as_secs_f64()
    );
    for (mean, c, c2, s) in results.iter().take(15) {
        println!(
            "  {mean:.4}  (c) {c:.3}  (c2) {c2:.3}  merge {} group {} same {} weights {}/{}/{}",
            s.merge_threshold,
            s.group_threshold,
            s.same_provider_threshold,
            s.location_weight,
            s.weakness_weight,
            s.text_weight
        );
    }
    println!();
    results.swap_remove(0).3
}

/// A grid search over the evidence weights of the score (`demote_weight`,
/// `cwe_prior_weight`) on the tune split, by average precision over distinct CVEs.
fn search_rank(data: &Dataset) {
    let mut results = Vec::new();
    for demote in [0.0, 0.1, 0.15, 0.2, 0.3] {
        for prior in [0.0, 0.1, 0.15, 0.2, 0.3] {
            for unplaced in [0.0, 0.05, 0.1, 0.15, 0.2, 0.3] {
                let settings = Settings {
                    demote_weight: demote,
                    cwe_prior_weight: prior,
                    unplaced_weight: unplaced,
                    ..Settings::default()
                };
                let h = eyeballvul::headline(data, Split::Tune, &settings);
                results.push(((demote, prior, unplaced), h));
            }
        }
    }
    results.sort_by(|a, b| {
        b.1.quorum_ranking
            .distinct_average_precision
            .total_cmp(&a.1.quorum_ranking.distinct_average_precision)
    });
    println!("evidence weights on the tune split, by average precision over distinct CVEs:");
    for ((demote, prior, unplaced), h) in results.iter().take(20) {
        let r = h.quorum_ranking;
        println!(
            "  demote {demote:<4} prior {prior:<4} unplaced {unplaced:<4}  distinct AP {:.4}  AP {:.4}  distinct top {}  top mean {:.3}",
            r.distinct_average_precision, r.average_precision, r.distinct_top, h.quorum_top_mean
        );
    }
}

fn with((mean, c, c2): (f64, f64, f64), settings: &Settings) -> (f64, f64, f64, Settings) {
    (mean, c, c2, settings.clone())
}

fn settings_grid() -> Vec<Settings> {
    let mut grid = Vec::new();
    for merge in [0.4, 0.45, 0.5, 0.55, 0.6] {
        for group in [0.2, 0.3, 0.4, 0.5] {
            for (location, weakness, text) in weight_grid() {
                for same in [0.85, 0.9] {
                    grid.push(Settings {
                        merge_threshold: merge,
                        group_threshold: group,
                        location_weight: location,
                        weakness_weight: weakness,
                        text_weight: text,
                        same_provider_threshold: same,
                        ..Settings::default()
                    });
                }
            }
        }
    }
    grid
}

fn weight_grid() -> Vec<(f64, f64, f64)> {
    let mut grid = Vec::new();
    for location in [0.1f64, 0.2, 0.3, 0.4] {
        for weakness in [0.1, 0.2, 0.3, 0.4] {
            let text = 1.0 - location - weakness;
            if text > 0.05 {
                grid.push((location, weakness, (text * 100.0).round() / 100.0));
            }
        }
    }
    grid
}
