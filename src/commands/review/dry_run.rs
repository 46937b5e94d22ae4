//! `review --dry-run`: what a review would send, and what it would cost, with nothing sent.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::config::ProviderKind;
use crate::engine::cache::Cache;
use crate::engine::{Job, Reviewer};
use crate::input::walk;

/// The plan `--dry-run` prints: requests, tokens and cost per provider (all estimated),
/// then what will be sent and every file that will not, with the reason.
pub(super) fn dry_run_table(
    walked: &walk::Walked,
    reviewers: &[Reviewer],
    jobs: &[Job],
    cache: Option<&Cache>,
) -> String {
    let files = &walked.files;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "provider",
        "files",
        "requests",
        "cached",
        "to send",
        "input tokens (est.)",
        "output tokens (est.)",
        "cost (est.)",
    ]);
    let mut total_cost = 0.0;
    for (r, reviewer) in reviewers.iter().enumerate() {
        let mine: Vec<&Job> = jobs.iter().filter(|j| j.reviewer == r).collect();
        let replay = reviewer.config.kind == ProviderKind::Replay;
        let to_send: Vec<&&Job> = mine
            .iter()
            .filter(|j| replay || cache.is_none_or(|c| c.get(&j.key).is_none()))
            .collect();
        let input: u64 = to_send.iter().map(|j| j.input_tokens).sum();
        let output = to_send.len() as u64 * reviewer.expected_output_tokens();
        let priced = reviewer.config.price_input_per_mtok.is_some() || reviewer.config.price_output_per_mtok.is_some();
        let cost = reviewer.cost(input, output);
        total_cost += cost;
        t.add_row([
            crate::sanitize::terminal_safe(&reviewer.config.name),
            files.len().to_string(),
            mine.len().to_string(),
            (mine.len() - to_send.len()).to_string(),
            to_send.len().to_string(),
            input.to_string(),
            output.to_string(),
            if priced {
                let built_in = if reviewer.config.prices_checked.is_some() {
                    " (built-in)"
                } else {
                    ""
                };
                format!("${cost:.4}{built_in}")
            } else {
                "no price set".into()
            },
        ]);
    }
    format!(
        "{t}\n{}{}Dry run: nothing was sent. Token counts are estimates (about {} characters a token; \
         output at most {} tokens an answer); estimated total cost ${total_cost:.4}.",
        not_sent(walked),
        built_in_prices(reviewers),
        crate::input::chunk::CHARS_PER_TOKEN,
        crate::engine::EXPECTED_OUTPUT_TOKENS_CAP
    )
}

/// Where a cost comes from built-in prices: when they were checked, and how to use others.
fn built_in_prices(reviewers: &[Reviewer]) -> String {
    reviewers
        .iter()
        .find_map(|r| r.config.prices_checked.as_deref())
        .map(|checked| {
            format!(
                "Costs marked (built-in) use Quorum's built-in prices, checked {} against the vendors' pricing \
                 pages: verify them, or set price_input_per_mtok and price_output_per_mtok.\n",
                crate::sanitize::terminal_safe(checked)
            )
        })
        .unwrap_or_default()
}

/// How many files a review sends, and each file it does not, with the reason: secret
/// files first (what is kept home), then the rest. One line a file, terminal-safe.
fn not_sent(walked: &walk::Walked) -> String {
    let mut text = format!("Files to send: {}.\n", walked.files.len());
    let (secrets, others): (Vec<_>, Vec<_>) = walked.skipped.iter().partition(|s| s.is_secret());
    for (heading, list) in [("Secret files kept home", secrets), ("Other files not sent", others)] {
        if list.is_empty() {
            continue;
        }
        text.push_str(&format!("{heading} ({}):\n", list.len()));
        for s in list {
            text.push_str(&format!(
                "  {}: {}\n",
                crate::sanitize::terminal_safe(&s.path),
                crate::sanitize::terminal_safe(&s.reason)
            ));
        }
    }
    text
}

/// What `--dry-run` prints: the configuration line, the plan of the jobs not yet
/// answered, and, for an untrusted configuration, where a real run would stop.
pub(super) fn text(plan: super::plan::Plan) -> String {
    let prior = &plan.prior;
    let jobs: Vec<Job> = plan.jobs.into_iter().filter(|j| !prior.contains_key(&j.key)).collect();
    let table = dry_run_table(&plan.walked, &plan.reviewers, &jobs, plan.cache.as_ref());
    let since = plan.since.as_ref().map_or_else(String::new, |s| {
        crate::sanitize::terminal_safe(&format!(
            "Changes since {} ({}): each file is sent whole with its changed lines named.\n",
            s.reference, s.commit
        ))
    });
    let judge = judge_note(&plan.start.config, &plan.reviewers);
    let text = format!("{}\n{since}{table}{judge}", plan.start.config_line);
    match plan.start.untrusted {
        Some(refusal) => format!("{text}{}\nA real run would stop here: {refusal}", plan.redaction_note),
        None => text + &plan.redaction_note,
    }
}

/// With `[judge]`: who else receives code after the review, and at most how many
/// requests the judge pass sends (its issues are not known before the review).
fn judge_note(config: &crate::config::Config, reviewers: &[Reviewer]) -> String {
    let Some(settings) = config.judge.as_ref() else {
        return String::new();
    };
    let Some(judge) = config.providers.iter().find(|p| p.name == settings.provider) else {
        return String::new();
    };
    let issues = settings.top + crate::judge::MAX_EXTRA;
    let families: std::collections::BTreeSet<&str> = reviewers.iter().map(|r| r.config.family.as_str()).collect();
    let per_issue = match settings.mode {
        crate::config::JudgeMode::Single => 1,
        // Every family but one that reported the issue, or the named judge.
        crate::config::JudgeMode::Peers => families
            .len()
            .saturating_sub(1)
            .clamp(1, super::judge::MAX_PEERS_PER_ISSUE),
    };
    let destination = judge
        .base_url
        .clone()
        .unwrap_or_else(|| format!("{}'s default endpoint", judge.kind.as_str()));
    let redacted = match crate::checks::redact::applies(judge) {
        true => "redacted",
        false => "not redacted",
    };
    crate::sanitize::terminal_safe(&format!(
        "\nThe judge pass then sends at most {} requests ({issues} issues: the top {} and at most {} lone high or critical ones, \
         {per_issue} per issue), each with the code around an issue and the reviewers' reports, to {} at {destination} \
         ({redacted}){}; not counted above.",
        issues * per_issue,
        settings.top,
        crate::judge::MAX_EXTRA,
        judge.name,
        match settings.mode {
            crate::config::JudgeMode::Single => "",
            crate::config::JudgeMode::Peers => " or to the reviewers above that did not report the issue",
        }
    ))
}
