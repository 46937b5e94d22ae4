//! What a `--max-cost` budget counts: a hosted preset's common model is priced from the
//! built-in prices unless its table sets its own, and a provider with no price at all is
//! named in a warning at the start instead of being counted as free in silence.

mod support;

use support::chat::{reply, NO_FINDINGS};
use support::fixture::{openai_provider, project};
use support::ok;
use support::server::chat_server;

const FILES: [(&str, &str); 2] = [
    ("src/a.go", "package p\n\nfunc A() {}\n"),
    ("src/b.go", "package p\n\nfunc B() {}\n"),
];

/// An OpenAI preset table for `model`, with a context window set so that a dry run asks
/// no server for one (nothing leaves the machine), and `extra` lines.
fn openai_preset(name: &str, model: &str, extra: &str) -> String {
    format!("[providers.{name}]\npreset = \"openai\"\nmodel = \"{model}\"\ncontext_tokens = 128000\n{extra}\n")
}

/// The cells of a `--dry-run` table's row.
fn cells(row: &str) -> impl Iterator<Item = &str> {
    row.split(['│', '┆']).map(str::trim)
}

/// The "cost (est.)" cell of `provider`'s row in a `--dry-run` table.
fn dry_run_cost(stdout: &str, provider: &str) -> String {
    let row = stdout
        .lines()
        .find(|l| cells(l).nth(1) == Some(provider))
        .unwrap_or_else(|| panic!("no row for {provider}:\n{stdout}"));
    cells(row)
        .find(|cell| cell.starts_with('$') || *cell == "no price set")
        .unwrap_or_else(|| panic!("no cost in {row}"))
        .to_string()
}

/// `quorum review --dry-run` of `config` (trusted first: prices need trust), its stdout.
fn dry_run(config: &str) -> String {
    let dir = project(&FILES, config);
    ok(&support::quorum(dir.path(), &["trust", "quorum.toml"], &[]));
    let out = support::quorum(dir.path(), &["review", "src", "--dry-run"], &[]);
    ok(&out);
    support::stdout(&out)
}

#[test]
fn a_hosted_presets_model_without_prices_is_counted_at_the_built_in_price() {
    let built_in = dry_run(&openai_preset("mini", "gpt-4.1-mini", ""));
    // gpt-4.1-mini is listed at $0.40 / $1.60 per million tokens.
    let same_by_hand = dry_run(&openai_preset(
        "mini",
        "gpt-4.1-mini",
        "price_input_per_mtok = 0.40\nprice_output_per_mtok = 1.60",
    ));
    let by_hand = dry_run_cost(&same_by_hand, "mini");
    assert!(by_hand.starts_with('$') && by_hand != "$0.0000", "{same_by_hand}");
    assert_eq!(
        dry_run_cost(&built_in, "mini"),
        format!("{by_hand} (built-in)"),
        "{built_in}"
    );
    assert!(
        built_in.contains("built-in prices, checked 2026-12-01"),
        "the date the prices were checked is said: {built_in}"
    );
    // A dated build of the model is priced as the model.
    let dated = dry_run(&openai_preset("mini", "gpt-4.1-mini-2025-04-14", ""));
    assert_eq!(dry_run_cost(&dated, "mini"), format!("{by_hand} (built-in)"));
}

#[test]
fn a_tables_own_prices_override_the_built_in_ones() {
    let own = dry_run(&openai_preset(
        "mini",
        "gpt-4.1-mini",
        "price_input_per_mtok = 4.0\nprice_output_per_mtok = 16.0",
    ));
    let built_in = dry_run(&openai_preset("mini", "gpt-4.1-mini", ""));
    let dollars = |cell: String| -> f64 {
        cell.trim_start_matches('$')
            .trim_end_matches(" (built-in)")
            .parse()
            .unwrap()
    };
    let (own_cost, built_in_cost) = (dry_run_cost(&own, "mini"), dry_run_cost(&built_in, "mini"));
    assert!(!own_cost.contains("built-in") && !own.contains("checked 2026"), "{own}");
    let ratio = dollars(own_cost) / dollars(built_in_cost);
    // Costs are shown to 4 decimals: the ratio is 10 within that rounding.
    assert!(
        (ratio - 10.0).abs() < 0.2,
        "own prices are 10× the built-in ones: {ratio}"
    );
    // A model that is not listed has no price.
    let unknown = dry_run(&openai_preset("other", "a-model-nobody-prices", ""));
    assert_eq!(dry_run_cost(&unknown, "other"), "no price set");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_names_the_providers_it_counts_as_free_in_one_line_at_the_start() {
    let (server, seen) = chat_server(|_| reply(NO_FINDINGS, (100, 10))).await;
    let base = format!("{}/v1", server.uri());
    let config = openai_provider("local", &base, "local-model", "")
        + &openai_provider(
            "paid",
            &base,
            "paid-model",
            "price_input_per_mtok = 1.0\nprice_output_per_mtok = 1.0",
        );
    let dir = project(&FILES, &config);
    ok(&support::quorum_async(dir.path(), &["trust", "quorum.toml"], &[]).await);
    let out = support::quorum_async(dir.path(), &["review", "src", "--no-cache", "--max-cost", "5"], &[]).await;
    let stderr = ok(&out);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: --max-cost"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("counts local as free") && !warnings[0].contains("paid"),
        "{stderr}"
    );
    let first_request = stderr.find("Reviewing").expect("the run's announcement");
    assert!(stderr.find("warning: --max-cost").unwrap() < first_request, "{stderr}");
    assert_eq!(
        seen.count(),
        4,
        "the warning stops nothing: both providers review both files"
    );

    // Without a budget there is nothing to warn about.
    let out = support::quorum_async(dir.path(), &["review", "src", "--no-cache", "--out", "again"], &[]).await;
    assert!(!ok(&out).contains("warning: --max-cost"));
}
