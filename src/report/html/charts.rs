//! The models side by side in `report.html`: the comparison `quorum compare` computes
//! (`analysis::compare`, shown, not recomputed), and two small inline-SVG charts drawn
//! from it and the issues: findings per model by severity, and the pairwise agreement
//! (Jaccard) heatmap. Inline SVG is markup, so the page stays one file that fetches
//! nothing; every name in it is escaped like the rest of the page.

use std::fmt::Write as _;

use super::escape;
use crate::analysis::compare::{self, Comparison, ModelRow};
use crate::analysis::Analysis;
use crate::normalize::finding::Severity;

/// Width of the names column of both charts, in pixels.
const LABEL_WIDTH: u32 = 170;
/// Width of the longest bar.
const BAR_WIDTH: u32 = 420;
const ROW_HEIGHT: u32 = 24;
/// One heatmap cell's side.
const CELL: u32 = 54;
/// Room above the heatmap for the slanted names of its columns.
const HEATMAP_TOP: u32 = 110;
/// The most characters of a name drawn (the whole name is in the tooltip).
const MAX_LABEL_CHARS: usize = 22;

/// The fill of each severity, from info to critical.
fn colour(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "#9f1239",
        Severity::High => "#e8590c",
        Severity::Medium => "#f0b429",
        Severity::Low => "#74a9cf",
        Severity::Info => "#adb5bd",
    }
}

/// The "Models compared" section.
pub fn section(a: &Analysis) -> String {
    let c = compare::compare(a, None);
    let mut out = String::from("<h2 id=\"models\">Models compared</h2>\n");
    if c.models.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "<p>The same comparison as <code>compare.md</code>: an issue counts for a model when it holds one of its \
         findings; “in agreed issues” is the share of its findings in issues at least {} families agree on \
         (a stand-in for precision without a truth file).</p>",
        compare::AGREED
    );
    table(&mut out, &c);
    out.push_str("<div class=\"charts\">\n");
    bars(&mut out, a, &c.models);
    heatmap(&mut out, &c);
    out.push_str("</div>\n");
    out
}

fn table(out: &mut String, c: &Comparison) {
    out.push_str(
        "<div class=\"wide\"><table class=\"models\"><thead><tr><th>provider</th><th>model</th><th>family</th>\
         <th>files answered</th><th>failed</th><th>unusable</th><th>findings</th><th>alone</th>\
         <th>shared with other family</th><th>in agreed issues</th><th>latency median / p95</th>\
         <th>tokens in / out</th><th>cost</th><th>cost per agreed issue</th><th>most confirmed by</th></tr></thead><tbody>\n",
    );
    for m in &c.models {
        let _ = writeln!(
            out,
            "<tr><td><b>{}</b></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{:.1}\u{a0}s / {:.1}\u{a0}s</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&m.name),
            escape(&m.model),
            escape(&m.family),
            m.files_answered,
            m.failures,
            m.unusable_answers,
            m.findings,
            m.alone,
            m.shared_with_other_family,
            m.agreed_share
                .map_or_else(|| "–".to_string(), |s| format!("{:.0}%", s * 100.0)),
            m.median_latency_ms as f64 / 1000.0,
            m.p95_latency_ms as f64 / 1000.0,
            m.input_tokens,
            m.output_tokens,
            dollars(m.cost_usd),
            dollars(m.cost_per_agreed_issue),
            m.most_confirmed_by
                .as_deref()
                .map(escape)
                .unwrap_or_else(|| "–".to_string()),
        );
    }
    out.push_str("</tbody></table></div>\n");
}

fn dollars(amount: Option<f64>) -> String {
    amount.map_or_else(|| "–".to_string(), |c| format!("${c:.4}"))
}

/// A model's findings in the reported issues, counted by the severity it gave each.
fn by_severity(a: &Analysis, model: &str) -> [usize; Severity::ALL.len()] {
    let mut counts = [0; Severity::ALL.len()];
    for f in a
        .issues
        .iter()
        .flat_map(|i| &i.findings)
        .filter(|f| f.provider == model)
    {
        counts[f.severity as usize] += 1;
    }
    counts
}

/// Findings per model, one bar each, stacked by severity (most severe first).
fn bars(out: &mut String, a: &Analysis, models: &[ModelRow]) {
    let counts: Vec<_> = models.iter().map(|m| by_severity(a, &m.name)).collect();
    let most = counts.iter().map(|c| c.iter().sum::<usize>()).max().unwrap_or(0).max(1);
    let legend_y = models.len() as u32 * ROW_HEIGHT + 14;
    let width = LABEL_WIDTH + BAR_WIDTH + 40;
    let _ = writeln!(
        out,
        "<figure><svg class=\"chart\" role=\"img\" width=\"{width}\" height=\"{h}\" viewBox=\"0 0 {width} {h}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>Findings per model in the reported issues, by severity</title>",
        h = legend_y + 16
    );
    for (row, (m, c)) in models.iter().zip(&counts).enumerate() {
        let y = row as u32 * ROW_HEIGHT;
        label(out, &m.name, y + 16);
        let mut x = LABEL_WIDTH;
        for severity in Severity::ALL.iter().rev() {
            let n = c[*severity as usize];
            if n == 0 {
                continue;
            }
            let w = (n as u32 * BAR_WIDTH).div_ceil(most as u32);
            let _ = write!(
                out,
                "<rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"{}\" fill=\"{}\"><title>{}: {n} {}</title></rect>",
                y + 4,
                ROW_HEIGHT - 8,
                colour(*severity),
                escape(&m.name),
                severity.as_str()
            );
            x += w;
        }
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
            x + 6,
            y + 16,
            c.iter().sum::<usize>()
        );
    }
    let mut x = LABEL_WIDTH;
    for severity in Severity::ALL.iter().rev() {
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{legend_y}\" font-size=\"12\">{}</text>",
            legend_y - 9,
            colour(*severity),
            x + 14,
            severity.as_str()
        );
        x += 76;
    }
    out.push_str(
        "</svg><figcaption>Findings per model in the reported issues, by the severity the model gave</figcaption></figure>\n",
    );
}

/// The pairwise agreement: for two models, the issues both reported ÷ those either did.
fn heatmap(out: &mut String, c: &Comparison) {
    let n = c.models.len() as u32;
    let size = LABEL_WIDTH + n * CELL + HEATMAP_TOP;
    let height = HEATMAP_TOP + n * CELL + 4;
    let _ = writeln!(
        out,
        "<figure><svg class=\"chart\" role=\"img\" width=\"{size}\" height=\"{height}\" viewBox=\"0 0 {size} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>Agreement between models (Jaccard)</title>"
    );
    for (col, m) in c.models.iter().enumerate() {
        let x = LABEL_WIDTH + col as u32 * CELL + CELL / 2;
        let _ = write!(
            out,
            "<text transform=\"translate({x},{}) rotate(-40)\" font-size=\"12\">{}<title>{}</title></text>",
            HEATMAP_TOP - 6,
            escape(&short(&m.name)),
            escape(&m.name)
        );
    }
    for (row, a) in c.models.iter().enumerate() {
        let y = HEATMAP_TOP + row as u32 * CELL;
        label(out, &a.name, y + CELL / 2 + 4);
        for (col, b) in c.models.iter().enumerate() {
            let x = LABEL_WIDTH + col as u32 * CELL;
            let jaccard = match row == col {
                true => None,
                false => c
                    .pairs
                    .iter()
                    .find(|p| (p.a == a.name && p.b == b.name) || (p.a == b.name && p.b == a.name))
                    .and_then(|p| p.jaccard),
            };
            cell(out, x, y, jaccard, row == col, &format!("{} and {}", a.name, b.name));
        }
    }
    out.push_str(
        "</svg><figcaption>Agreement between models: issues both reported ÷ issues either reported</figcaption></figure>\n",
    );
}

/// One heatmap cell: the darker, the more two models agree.
fn cell(out: &mut String, x: u32, y: u32, jaccard: Option<f64>, diagonal: bool, pair: &str) {
    let (fill, text) = match (diagonal, jaccard) {
        (true, _) => ("#eef0f2".to_string(), "—".to_string()),
        (false, None) => ("#ffffff".to_string(), "–".to_string()),
        (false, Some(j)) => (shade(j), format!("{j:.2}")),
    };
    let ink = if jaccard.is_some_and(|j| j > 0.55) {
        "#ffffff"
    } else {
        "#1b1f24"
    };
    let _ = write!(
        out,
        "<rect x=\"{x}\" y=\"{y}\" width=\"{CELL}\" height=\"{CELL}\" fill=\"{fill}\" stroke=\"#d0d7de\"><title>{}: {text}</title></rect>\
         <text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" fill=\"{ink}\">{text}</text>",
        escape(pair),
        x + CELL / 2,
        y + CELL / 2 + 4
    );
}

/// White at 0 to a deep blue at 1.
fn shade(share: f64) -> String {
    let s = share.clamp(0.0, 1.0);
    let mix = |from: f64, to: f64| (from + (to - from) * s).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(255.0, 33.0),
        mix(255.0, 102.0),
        mix(255.0, 172.0)
    )
}

/// A model's name at the left of a chart row.
fn label(out: &mut String, name: &str, y: u32) {
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{y}\" font-size=\"13\" text-anchor=\"end\">{}<title>{}</title></text>",
        LABEL_WIDTH - 8,
        escape(&short(name)),
        escape(name)
    );
}

/// `name` cut to [`MAX_LABEL_CHARS`].
fn short(name: &str) -> String {
    match name.char_indices().nth(MAX_LABEL_CHARS) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_each_model_gets_a_bar_and_a_heatmap_row() {
        let meta: crate::store::RunMeta = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "run_id": "r", "root": "/x", "started_at": "t",
            "providers": [{"name": "<img src=x>", "kind": "openai", "model": "m&", "family": "a"},
                          {"name": "b", "kind": "openai", "model": "m", "family": "b"}],
            "files": [], "skipped": []
        }))
        .unwrap();
        let a = crate::analysis::analyze(meta, vec![], &Default::default(), &Default::default());
        let html = section(&a);
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("<b>&lt;img src=x&gt;</b>") && html.contains("m&amp;"),
            "{html}"
        );
        assert_eq!(html.matches("<svg").count(), 2);
        assert_eq!(html.matches("stroke=\"#d0d7de\"").count(), 4, "a 2 × 2 heatmap: {html}");
    }

    #[test]
    fn shades_run_from_white_to_blue() {
        assert_eq!(shade(0.0), "#ffffff");
        assert_eq!(shade(1.0), "#2166ac");
        assert_eq!(short("abcdefghijklmnopqrstuvwxyz"), "abcdefghijklmnopqrstuv…");
    }
}
