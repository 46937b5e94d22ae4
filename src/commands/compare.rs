//! `quorum compare`: the models of one or more run folders side by side, as a terminal
//! table, Markdown or JSON; and `compare.md` / `compare.json` beside every run's reports.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

use crate::analysis::compare::{compare as comparison, Comparison, ModelRow, AGREED, COMPARE_FILES};
use crate::analysis::Analysis;
use crate::commands::aggregate::{consensus_settings, load_runs, read_unchanged_files, secret_files, Loaded};
use crate::commands::finish::{self, ReportOptions};
use crate::eval::Truth;
use crate::report::{md_text, Format};
use crate::sanitize::terminal_safe;
use crate::store::{write_atomically, RunFolder};
use crate::triage;

const MARKDOWN_FILE: &str = COMPARE_FILES[0];
const JSON_FILE: &str = COMPARE_FILES[1];

/// How `quorum compare` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareFormat {
    Table,
    Markdown,
    Json,
}

impl CompareFormat {
    pub fn parse(word: &str) -> Result<CompareFormat> {
        Ok(match word.to_ascii_lowercase().as_str() {
            "table" => CompareFormat::Table,
            "md" | "markdown" => CompareFormat::Markdown,
            "json" => CompareFormat::Json,
            other => bail!("unknown compare format {other:?}: use table, md or json"),
        })
    }
}

/// `quorum compare DIR… [--truth FILE]`: reads the folders as `aggregate` does (several
/// merge into one run) and returns the comparison as text to print.
pub fn compare(dirs: &[PathBuf], truth: Option<&Path>, config: Option<&Path>, format: CompareFormat) -> Result<String> {
    if dirs.is_empty() {
        bail!("name at least one run folder");
    }
    let truth = truth.map(Truth::load).transpose()?;
    let folders: Vec<RunFolder> = dirs.iter().map(RunFolder::new).collect();
    let Loaded { meta, records } = load_runs(&folders)?;
    let settings = consensus_settings(config, &meta)?;
    let decided = triage::Inputs::load(Path::new(&meta.root), None)?;
    let texts = read_unchanged_files(&meta, &secret_files(config, &meta)?);
    let options = ReportOptions {
        formats: Vec::new(),
        min_agree: None,
        baseline: None,
    };
    let analysis = finish::analyze(meta, records, &texts, &settings, &options, &decided);
    let c = comparison(&analysis, truth.as_ref());
    Ok(match format {
        CompareFormat::Table => table(&c),
        CompareFormat::Markdown => markdown(&c),
        CompareFormat::Json => serde_json::to_string_pretty(&c)? + "\n",
    })
}

/// Writes `compare.md` (with the Markdown report) and `compare.json` (with the JSON
/// report) into `folder`; returns their paths.
pub(crate) fn write_files(folder: &Path, analysis: &Analysis, formats: &[Format]) -> Result<Vec<PathBuf>> {
    let c = comparison(analysis, None);
    let mut written = Vec::new();
    if formats.contains(&Format::Markdown) {
        let path = folder.join(MARKDOWN_FILE);
        write_atomically(&path, markdown(&c).as_bytes())?;
        written.push(path);
    }
    if formats.contains(&Format::Json) {
        let path = folder.join(JSON_FILE);
        write_atomically(&path, (serde_json::to_string_pretty(&c)? + "\n").as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// The per-model tables: what each model's answers cost, then what its findings were worth
/// (the truth columns follow when scored). Two tables keep each within 120 columns.
const ANSWER_COLUMNS: [&str; 9] = [
    "model",
    "family",
    "files",
    "failed",
    "unusable",
    "p50 ms",
    "p95 ms",
    "tokens in/out",
    "cost",
];
const FINDING_COLUMNS: [&str; 7] = [
    "model",
    "findings",
    "alone",
    "shared",
    "agreed",
    "$/agreed",
    "confirmed by",
];
const TRUTH_COLUMNS: [&str; 5] = ["TP", "FP", "precision", "recall", "F1"];

/// One model's answer cells, each name through `clean` (the one way model names reach the
/// output).
fn answer_cells(m: &ModelRow, clean: &dyn Fn(&str) -> String) -> Vec<String> {
    vec![
        clean(&m.name),
        clean(&m.family),
        m.files_answered.to_string(),
        m.failures.to_string(),
        m.unusable_answers.to_string(),
        m.median_latency_ms.to_string(),
        m.p95_latency_ms.to_string(),
        format!("{}/{}", m.input_tokens, m.output_tokens),
        dollars(m.cost_usd),
    ]
}

/// One model's finding cells.
fn finding_cells(m: &ModelRow, clean: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut row = vec![
        clean(&m.name),
        m.findings.to_string(),
        m.alone.to_string(),
        m.shared_with_other_family.to_string(),
        share(m.agreed_share),
        dollars(m.cost_per_agreed_issue),
        m.most_confirmed_by.as_deref().map_or_else(|| "-".to_string(), clean),
    ];
    if let Some(t) = &m.truth {
        row.extend([
            t.true_positives.to_string(),
            t.false_positives.to_string(),
            format!("{:.3}", t.precision),
            format!("{:.3}", t.recall),
            format!("{:.3}", t.f1),
        ]);
    }
    row
}

/// The three tables as header and rows: answers, findings, the pairwise matrix.
fn sections(c: &Comparison, clean: &dyn Fn(&str) -> String) -> [(Vec<String>, Vec<Vec<String>>); 3] {
    let owned = |h: &[&str]| h.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let scored = c.models.iter().any(|m| m.truth.is_some());
    let mut finding_head = owned(&FINDING_COLUMNS);
    if scored {
        finding_head.extend(owned(&TRUTH_COLUMNS));
    }
    [
        (
            owned(&ANSWER_COLUMNS),
            c.models.iter().map(|m| answer_cells(m, clean)).collect(),
        ),
        (finding_head, c.models.iter().map(|m| finding_cells(m, clean)).collect()),
        matrix(c, clean),
    ]
}

/// The pairwise matrix: row model, column model, Jaccard of their issues.
fn matrix(c: &Comparison, clean: &dyn Fn(&str) -> String) -> (Vec<String>, Vec<Vec<String>>) {
    let names: Vec<&str> = c.models.iter().map(|m| m.name.as_str()).collect();
    let head = std::iter::once("Jaccard".to_string())
        .chain(names.iter().map(|n| clean(n)))
        .collect();
    let rows = names
        .iter()
        .map(|a| {
            let mut row = vec![clean(a)];
            row.extend(names.iter().map(|b| {
                let pair = c
                    .pairs
                    .iter()
                    .find(|p| (p.a == *a && p.b == *b) || (p.a == *b && p.b == *a));
                match pair {
                    Some(p) => p.jaccard.map_or_else(|| "-".to_string(), |j| format!("{j:.2}")),
                    None => "-".to_string(),
                }
            }));
            row
        })
        .collect();
    (head, rows)
}

fn intro(c: &Comparison) -> String {
    format!(
        "{} models over {} issues of run {}; \"alone\": issues no other model reported; \"shared\": issues a \
         model of another family reported too; \"agreed\": its findings in issues of agreement >= {AGREED}.",
        c.models.len(),
        c.issues,
        c.run_id,
        AGREED = AGREED
    )
}

/// The terminal tables.
pub fn table(c: &Comparison) -> String {
    let clean = |s: &str| terminal_safe(s);
    let mut out = terminal_safe(&intro(c)) + "\n";
    for (head, rows) in sections(c, &clean) {
        let mut t = new_table();
        t.set_header(head);
        for row in rows {
            t.add_row(row);
        }
        out.push_str(&format!("{t}\n"));
    }
    out
}

fn new_table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(width) = crate::commands::table_width() {
        t.set_width(width);
    }
    t
}

/// `compare.md`.
pub fn markdown(c: &Comparison) -> String {
    let clean = |s: &str| md_text(s);
    let mut out = format!("# Models compared\n\n{}\n", md_text(&intro(c)));
    let titles = [
        "Answers",
        "Findings",
        "Overlap (Jaccard: issues both reported ÷ issues either reported)",
    ];
    for (title, (head, rows)) in titles.iter().zip(sections(c, &clean)) {
        out.push_str(&format!("\n## {title}\n\n{}", md_table(&head)));
        for row in rows {
            out.push_str(&md_row(&row));
        }
    }
    out
}

fn md_table(head: &[String]) -> String {
    md_row(head) + &md_row(&vec!["---".to_string(); head.len()])
}

fn md_row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

fn share(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{:.0}%", v * 100.0))
}

fn dollars(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("${v:.4}"))
}
