//! What a new user sees on stdout: the issue table laid out for a pipe (120 columns, or
//! `COLUMNS`) without a path ever wrapped, `--out -` printing one report and nothing
//! else, and the shell completions and man pages generated from the command line's
//! definition.

mod support;

use serde_json::Value;
use support::fixture::{demo_review, demo_review_with, load};
use unicode_width::UnicodeWidthStr;

/// Each issue's `path:lines`, as the table's location column shows it.
fn locations(report: &Value) -> Vec<String> {
    report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let file = i["file"].as_str().unwrap();
            match (i["start_line"].as_u64(), i["end_line"].as_u64()) {
                (Some(s), Some(e)) if s != e => format!("{file}:{s}-{e}"),
                (Some(s), _) => format!("{file}:{s}"),
                _ => file.to_string(),
            }
        })
        .collect()
}

/// The widest line of `text`, in display columns.
fn widest_line(text: &str) -> usize {
    text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0)
}

/// The table rows that start an issue (their `#` cell is a number).
fn issue_rows(table: &str) -> Vec<&str> {
    table
        .lines()
        .filter(|l| {
            l.trim_start_matches('│')
                .split('┆')
                .next()
                .is_some_and(|c| c.trim().parse::<usize>().is_ok())
        })
        .collect()
}

#[test]
fn a_piped_table_is_120_columns_wide_and_never_wraps_a_path() {
    let out = tempfile::tempdir().unwrap();
    let run = demo_review(out.path(), &["--format", "json"]);
    support::ok(&run);
    let table = support::stdout(&run);
    assert!(widest_line(&table) <= 120, "{table}");
    let rows = issue_rows(&table);
    let locations = locations(&load(&out.path().join("report.json")));
    assert_eq!(rows.len(), locations.len(), "{table}");
    for (row, location) in rows.iter().zip(&locations) {
        assert!(
            row.contains(&format!(" {location} ")),
            "{location} not whole in {row:?}\n{table}"
        );
    }
    // The demo's titles are longer than the room left: the title column wraps.
    assert!(table.lines().count() > 2 * rows.len(), "{table}");
}

#[test]
fn columns_sets_the_width_of_a_piped_table() {
    let out = tempfile::tempdir().unwrap();
    let wide = demo_review_with(out.path(), &["--format", "json"], &[("COLUMNS", "220")]);
    let table = support::stdout(&wide);
    let widest = widest_line(&table);
    assert!(widest > 120 && widest <= 220, "{widest}\n{table}");
    // Room for everything: one line per issue, between the header and the borders.
    let rows = issue_rows(&table).len();
    assert_eq!(table.lines().count(), rows + 4, "{table}");

    // An 80-column pipe: the paths are shortened from the left, never wrapped.
    let narrow = demo_review_with(out.path(), &["--format", "json"], &[("COLUMNS", "80")]);
    let table = support::stdout(&narrow);
    assert!(widest_line(&table) <= 80, "{table}");
    for (row, location) in issue_rows(&table)
        .iter()
        .zip(locations(&load(&out.path().join("report.json"))))
    {
        let cell = row.split('┆').nth(3).unwrap().trim();
        let kept = cell.trim_start_matches('…');
        assert!(
            location.ends_with(kept) && kept.len() >= 10,
            "{cell:?} is not the end of {location}"
        );
    }
}

#[test]
fn a_table_too_narrow_for_its_minimums_overflows_rather_than_breaking_words() {
    let out = tempfile::tempdir().unwrap();
    let run = demo_review_with(out.path(), &["--format", "json"], &[("COLUMNS", "60")]);
    support::ok(&run);
    let table = support::stdout(&run);
    assert!(
        widest_line(&table) > 60,
        "the minimums do not fit: the table overflows\n{table}"
    );
    let header = table.lines().nth(1).unwrap();
    assert!(header.contains(" agreed ") && header.contains(" severity "), "{table}");
    let rows = issue_rows(&table);
    assert!(!rows.is_empty(), "{table}");
    for row in rows {
        let severity = row.split('┆').nth(2).unwrap().trim();
        assert!(
            ["critical", "high", "medium", "low", "info"].contains(&severity),
            "{severity:?} is not a whole severity in {row:?}\n{table}"
        );
    }
}

#[test]
fn on_a_terminal_the_table_takes_its_width_whatever_columns_says() {
    let out = tempfile::tempdir().unwrap();
    support::ok(&demo_review(out.path(), &["--format", "json", "--quiet"]));
    let folder = out.path().to_str().unwrap();
    let args = ["aggregate", folder, "--format", "md"];
    let Some(shown) = support::quorum_in_terminal(out.path(), &args, &[("COLUMNS", "300")], 100) else {
        println!("skipped: no `script` (util-linux) to make a terminal");
        return;
    };
    let table: String = shown
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '└']))
        .collect::<Vec<_>>()
        .join("\n");
    let widest = widest_line(&table);
    assert!((90..=100).contains(&widest), "{widest}\n{shown}");
    for location in locations(&load(&out.path().join("report.json"))) {
        assert!(table.contains(&format!(" {location} ")), "{location} whole in\n{table}");
    }
}

/// `report`, less what differs between two runs of the same review: ids, times and
/// latencies.
fn without_run_specifics(mut report: Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|k, _| {
                    !(k.ends_with("latency_ms") || ["run_id", "started_at", "finished_at"].contains(&k.as_str()))
                });
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut report);
    report
}

/// The demo reviewed from `cwd` (outside the repository) with `args` added.
fn demo_from(cwd: &std::path::Path, args: &[&str]) -> std::process::Output {
    let root = support::fixture::repo_root();
    let app = root.join("examples/vulnerable-app");
    let config = root.join("examples/demo.toml");
    let base = ["review", app.to_str().unwrap(), "--config", config.to_str().unwrap()];
    support::quorum(cwd, &[&base[..], args].concat(), &[])
}

#[test]
fn out_dash_prints_the_json_report_alone_and_keeps_the_run_in_quorum_report() {
    let cwd = tempfile::tempdir().unwrap();
    let run = demo_from(cwd.path(), &["--format", "json", "--out", "-"]);
    let err = support::ok(&run);
    let printed: Value = serde_json::from_slice(&run.stdout).expect("stdout is one JSON document and nothing else");
    let kept = cwd.path().join("quorum-report");
    assert!(kept.join("responses.jsonl").is_file() && kept.join("run.json").is_file());
    assert!(
        err.contains("report.json went to stdout; the run is kept in quorum-report"),
        "{err}"
    );
    assert!(err.contains("[52/52]"), "progress stays on stderr: {err}");

    let out = tempfile::tempdir().unwrap();
    support::ok(&demo_review(out.path(), &["--format", "json", "--quiet"]));
    let written = load(&out.path().join("report.json"));
    assert_eq!(without_run_specifics(printed.clone()), without_run_specifics(written));
    assert_eq!(
        printed,
        load(&kept.join("report.json")),
        "the kept run has the same report"
    );

    // The kept run is one like any other: aggregate prints the same report from it.
    let again = support::quorum(
        cwd.path(),
        &["aggregate", "quorum-report", "--format", "json", "--out", "-"],
        &[],
    );
    support::ok(&again);
    let rebuilt: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(rebuilt["issues"], printed["issues"]);
}

#[test]
fn out_dash_needs_exactly_one_format() {
    let cwd = tempfile::tempdir().unwrap();
    let err = support::refused(&demo_from(cwd.path(), &["--out", "-"]));
    assert!(
        err.contains("--out - prints one report to stdout: name it with --format"),
        "{err}"
    );
    assert!(!cwd.path().join("quorum-report").exists(), "nothing was run");
    // Any single format: SARIF for a code-scanning upload step, say.
    let run = demo_from(cwd.path(), &["--format", "sarif", "--out", "-", "--quiet"]);
    support::ok(&run);
    let sarif: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

#[test]
fn a_dry_run_with_out_dash_prints_its_plan_on_stderr_and_nothing_on_stdout() {
    let cwd = tempfile::tempdir().unwrap();
    let run = demo_from(cwd.path(), &["--format", "json", "--out", "-", "--dry-run"]);
    let err = support::ok(&run);
    assert!(run.stdout.is_empty(), "{}", String::from_utf8_lossy(&run.stdout));
    assert!(err.contains("cost (est.)"), "the plan is shown: {err}");
}

#[test]
fn aggregate_out_dash_of_several_folders_says_to_merge_first() {
    let cwd = tempfile::tempdir().unwrap();
    let err = support::refused(&support::quorum(
        cwd.path(),
        &["aggregate", "r1", "r2", "--format", "json", "--out", "-"],
        &[],
    ));
    assert!(
        err.contains("merge them first (quorum aggregate r1 r2 --out DIR), then print the merged report (quorum aggregate DIR --format json --out -)"),
        "{err}"
    );
}

/// The subcommands `quorum --help` lists (but `help`).
fn subcommands() -> Vec<String> {
    let cwd = tempfile::tempdir().unwrap();
    let help = support::stdout(&support::quorum(cwd.path(), &["--help"], &[]));
    let listed: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(listed.len() >= 10 && listed.contains(&"review".to_string()), "{help}");
    listed
}

#[test]
fn completions_know_every_subcommand_and_flag() {
    let cwd = tempfile::tempdir().unwrap();
    let bash = support::quorum(cwd.path(), &["completions", "bash"], &[]);
    support::ok(&bash);
    let script = support::stdout(&bash);
    assert!(script.contains("complete -F _quorum"), "{script}");
    for command in subcommands() {
        assert!(
            script.contains(&format!("quorum,{command})")),
            "bash completes {command}"
        );
    }
    assert!(script.contains("--fail-on") && script.contains("--allow-partial"));
    for (shell, marker) in [("zsh", "#compdef quorum"), ("fish", "complete -c quorum")] {
        let out = support::quorum(cwd.path(), &["completions", shell], &[]);
        support::ok(&out);
        let script = support::stdout(&out);
        assert!(
            script.contains(marker) && script.contains("fail-on"),
            "{shell}: {script}"
        );
    }
    let err = support::refused(&support::quorum(cwd.path(), &["completions", "tcsh"], &[]));
    assert!(err.contains("possible values: bash"), "{err}");
}

#[test]
fn the_man_page_names_every_subcommand_and_man_out_writes_one_page_each() {
    let cwd = tempfile::tempdir().unwrap();
    let out = support::quorum(cwd.path(), &["man"], &[]);
    support::ok(&out);
    let page = support::stdout(&out);
    assert!(page.contains(".TH quorum 1"), "{page}");
    let commands = subcommands();
    for command in &commands {
        assert!(
            page.contains(&format!("quorum\\-{command}(1)")),
            "the page lists {command}\n{page}"
        );
    }

    let dir = cwd.path().join("man/man1");
    let err = support::ok(&support::quorum(cwd.path(), &["man", "--out", "man/man1"], &[]));
    for name in std::iter::once("quorum".to_string()).chain(commands.iter().map(|c| format!("quorum-{c}"))) {
        let page = std::fs::read_to_string(dir.join(format!("{name}.1"))).unwrap_or_else(|e| panic!("{name}.1: {e}"));
        assert!(page.contains(&format!(".TH {name} 1")), "{name}.1");
        assert!(err.contains(&format!("{name}.1")), "{err}");
    }
    let review = std::fs::read_to_string(dir.join("quorum-review.1")).unwrap();
    assert!(
        review.contains("fail\\-on") && review.contains("\\-\\-since"),
        "{review}"
    );
    assert!(
        dir.join("quorum-providers-check.1").is_file(),
        "nested commands get a page"
    );
    assert!(!dir.join("quorum-help.1").exists());
}
