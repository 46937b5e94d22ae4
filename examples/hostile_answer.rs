//! What one flooding answer costs after its body is read: parse, normalize, cluster,
//! rank and write every report, for one answer of N findings about one file (all on a
//! few lines, with similar titles: the worst case for clustering). Run it under
//! `/usr/bin/time -v` for the peak memory:
//!
//! ```sh
//! cargo build --release --example hostile_answer
//! /usr/bin/time -v target/release/examples/hostile_answer [FINDINGS] [PARTS] [PROVIDERS]
//! ```
//!
//! With PARTS and PROVIDERS, the file was split in PARTS parts of 100 lines and every
//! provider answered FINDINGS findings about each part (on its first lines): the most a
//! file can hold after the per-answer limit.

use std::collections::HashMap;
use std::time::Instant;

use quorum::analysis;
use quorum::consensus::Settings;
use quorum::store::{ResponseRecord, RunMeta};

/// Lines the findings cluster on: every finding is within the line tolerance of many.
const HOT_LINES: u32 = 5;

fn main() {
    let count = std::env::args()
        .nth(1)
        .and_then(|a| a.parse::<usize>().ok())
        .unwrap_or(10_000);
    let mut numbers = std::env::args().skip(2).filter_map(|a| a.parse::<u32>().ok());
    let (parts, providers) = (numbers.next().unwrap_or(1), numbers.next().unwrap_or(1));
    let names: Vec<String> = (0..providers).map(|p| format!("evil{p}")).collect();
    let meta: RunMeta = serde_json::from_value(serde_json::json!({
        "schema_version": 1, "run_id": "r", "root": "/x", "started_at": "t",
        "providers": names.iter().map(|n| serde_json::json!({"name": n, "kind": "openai", "model": "m", "family": n}))
            .collect::<Vec<_>>(),
        "files": [{"path": "app.go", "lines": 100 * parts + 100, "content_hash": "h"}],
        "skipped": []
    }))
    .expect("a valid run description");
    let mut records = Vec::new();
    let mut bytes = 0;
    for name in &names {
        for part in 0..parts {
            let first = 1 + part * 100;
            let text = flood(count, if parts > 1 { first } else { 10 });
            bytes += text.len();
            let chunk = (parts > 1).then(|| serde_json::json!({"start_line": first, "end_line": first + 104}));
            records.push(
                serde_json::from_value::<ResponseRecord>(serde_json::json!({
                    "provider": name, "model": "m", "file": "app.go", "content_hash": "h", "chunk": chunk,
                    "status": "ok", "text": text, "finish_reason": "stop"
                }))
                .expect("a valid record"),
            );
        }
    }
    println!(
        "{} answers of {count} findings, {:.2} MiB",
        records.len(),
        bytes as f64 / 1048576.0
    );
    let started = Instant::now();
    let a = analysis::analyze(meta, records, &HashMap::new(), &Settings::default());
    let analysed = started.elapsed();
    let json = quorum::report::json(&a).expect("report.json");
    let md = quorum::report::markdown(&a);
    let html = quorum::report::html::html(&a, &HashMap::new());
    let sarif = quorum::report::sarif::sarif(&a).expect("report.sarif");
    println!(
        "analyze: {:.3} s, {} issues; reports: {:.3} s (json {} KiB, md {} KiB, html {} KiB, sarif {} KiB)",
        analysed.as_secs_f64(),
        a.issues.len(),
        (started.elapsed() - analysed).as_secs_f64(),
        json.len() / 1024,
        md.len() / 1024,
        html.len() / 1024,
        sarif.len() / 1024
    );
}

/// One answer of `count` findings on the same few lines of `app.go` from `first` on,
/// titled alike.
fn flood(count: usize, first: u32) -> String {
    let findings: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            let line = first + (i as u32 % HOT_LINES);
            serde_json::json!({
                "file": "app.go",
                "start_line": line,
                "end_line": line + 2,
                "severity": "high",
                "category": "injection",
                "cwe": 89,
                "title": format!("SQL injection in handler number {}", i % 50),
                "description": format!(
                    "The search handler {} concatenates the user's query parameter into the SQL \
                     statement, so a crafted value changes the statement.", i % 7
                ),
                "suggestion": "Use a parameterized query.",
            })
        })
        .collect();
    serde_json::json!({ "findings": findings }).to_string()
}
