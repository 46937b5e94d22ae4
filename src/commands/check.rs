//! `quorum providers list` and `quorum providers check`: see the resolved configuration,
//! and find out before a long run whether each provider will work.
//!
//! A review against slow local models can take hours; learning after the first hour that
//! the key was wrong, the model not loaded, or the server rejects the structured-output
//! mode wastes all of it. `check` asks each provider, concurrently, the cheapest
//! questions that reveal those failures: list the models, and answer one tiny request in
//! the configured structured-output mode.

use std::time::{Duration, Instant};

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use futures::future::join_all;
use providers::{Completion, ErrorKind, FinishReason, Provider, ProviderError, Request};

use crate::config::{Config, ProviderConfig, ProviderKind, StructuredOutputMode};
use crate::engine::preflight::{cheap_checks, key_verdict, Cheap, Verdict};
use crate::sanitize::terminal_safe;

/// A verdict as a cell of the table.
fn cell(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Ok(s) if s.is_empty() => "ok".into(),
        Verdict::Ok(s) => format!("ok ({s})"),
        Verdict::Failed(_) => "FAILED".into(),
        Verdict::Unknown(s) => format!("? ({s})"),
        Verdict::Skipped => "–".into(),
    }
}

/// What `check` found out about one provider.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    pub name: String,
    pub reachable: Verdict,
    pub key: Verdict,
    pub model: Verdict,
    pub context_tokens: Option<u64>,
    pub structured_output: Verdict,
    pub latency: Option<Duration>,
}

impl CheckReport {
    /// Whether a review can use this provider.
    pub fn usable(&self) -> bool {
        ![&self.reachable, &self.key, &self.model, &self.structured_output]
            .iter()
            .any(|v| v.failed())
    }

    /// The reasons for each failure, for the lines under the table.
    pub fn problems(&self) -> Vec<String> {
        [
            ("reachable", &self.reachable),
            ("key", &self.key),
            ("model", &self.model),
            ("structured output", &self.structured_output),
        ]
        .iter()
        .filter_map(|(what, v)| match v {
            Verdict::Failed(why) => Some(format!("{}: {what}: {}", terminal_safe(&self.name), terminal_safe(why))),
            _ => None,
        })
        .collect()
    }
}

/// Checks every provider concurrently.
pub async fn check_all(config: &Config, selected: &[ProviderConfig]) -> Vec<CheckReport> {
    join_all(selected.iter().map(|p| async move {
        match crate::engine::backend::build(p, &config.path) {
            Ok(provider) => check_one(p, provider.as_ref()).await,
            Err(err) => CheckReport {
                name: p.name.clone(),
                reachable: Verdict::Skipped,
                key: Verdict::Failed(format!("{err:#}")),
                model: Verdict::Skipped,
                context_tokens: None,
                structured_output: Verdict::Skipped,
                latency: None,
            },
        }
    }))
    .await
}

/// Checks one provider: list its models, then send one tiny structured request.
pub async fn check_one(config: &ProviderConfig, provider: &dyn Provider) -> CheckReport {
    let mut report = CheckReport {
        name: config.name.clone(),
        reachable: Verdict::Skipped,
        key: Verdict::Skipped,
        model: Verdict::Skipped,
        context_tokens: None,
        structured_output: Verdict::Skipped,
        latency: None,
    };
    // The cheap checks `review` also runs; a real request only when they leave hope.
    let Cheap {
        reachable,
        key,
        model,
        context_tokens,
    } = cheap_checks(config, provider).await;
    let stop = config.kind == ProviderKind::Replay || reachable.failed() || key.failed();
    report.reachable = reachable;
    report.key = key;
    report.model = model;
    report.context_tokens = context_tokens;
    if stop {
        return report;
    }
    // What a local server has loaded beats what its model list says.
    if let Some(loaded) = provider.context_window().await {
        report.context_tokens = Some(loaded);
    }
    let started = Instant::now();
    let answer = provider.complete(&probe_request(config)).await;
    report.latency = Some(started.elapsed());
    match answer {
        Err(e) if e.kind == ErrorKind::Auth => report.key = Verdict::Failed(e.message),
        answer => {
            report.structured_output = structured_verdict(config, answer);
            if report.key == Verdict::Skipped && !report.structured_output.failed() {
                report.key = key_verdict(config);
            }
        }
    }
    report
}

/// The tiny request: the real system prompt's schema, a trivial question.
fn probe_request(config: &ProviderConfig) -> Request {
    Request {
        id: "quorum-providers-check".into(),
        system: "You are a health check. Answer with JSON only.".into(),
        user: "Answer with exactly this JSON and nothing else: {\"findings\": []}".into(),
        schema: (config.structured_output != StructuredOutputMode::None).then(crate::input::prompt::finding_schema),
        max_output_tokens: config.max_output_tokens,
        temperature: config.temperature,
        seed: Some(crate::engine::REQUEST_SEED),
    }
}

fn structured_verdict(config: &ProviderConfig, answer: Result<Completion, ProviderError>) -> Verdict {
    let mode = config.structured_output.as_str();
    match answer {
        Err(e) => Verdict::Failed(format!("the {mode} request failed: {}", e.message)),
        Ok(c) if c.finish == FinishReason::Length => Verdict::Failed(format!(
            "the answer ran out of output tokens ({} allowed): raise max_output_tokens (reasoning models think inside it)",
            config.max_output_tokens
        )),
        Ok(c) => match crate::normalize::parse::parse_findings(&c.text) {
            Ok(_) => Verdict::Ok(mode.to_string()),
            Err(e) => Verdict::Failed(format!("answered, but not with the JSON asked for ({e}); try another structured_output")),
        },
    }
}

/// The table `providers check` prints.
pub fn check_table(reports: &[CheckReport], width: Option<u16>) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "provider",
            "reachable",
            "key",
            "model",
            "context",
            "structured output",
            "latency",
            "usable",
        ]);
    if let Some(w) = width {
        t.set_width(w);
    }
    for r in reports {
        let row = [
            r.name.clone(),
            cell(&r.reachable),
            cell(&r.key),
            cell(&r.model),
            r.context_tokens.map_or("?".into(), |n| n.to_string()),
            cell(&r.structured_output),
            r.latency.map_or("–".into(), |d| format!("{:.1} s", d.as_secs_f64())),
            if r.usable() { "yes".into() } else { "NO".into() },
        ];
        // Names come from the configuration and verdicts quote the server.
        t.add_row(row.map(|cell| terminal_safe(&cell)));
    }
    t.to_string()
}

/// What `providers list` prints: each provider with presets applied, one block each
/// (too many settings for one readable table row), with the host its requests go to.
/// Keys are never shown, only the variable's name and whether it is set. Every value
/// from the configuration is made safe for the terminal.
pub fn list_text(providers: &[ProviderConfig]) -> String {
    let mut out = String::new();
    for p in providers {
        let kind = match &p.preset {
            Some(preset) => format!("{} (preset {preset})", p.kind.as_str()),
            None => p.kind.as_str().to_string(),
        };
        let key = match &p.api_key_env {
            Some(var) if std::env::var(var).is_ok_and(|v| !v.trim().is_empty()) => format!("${var} (set)"),
            Some(var) => format!("${var} (NOT SET)"),
            None => "none".into(),
        };
        let price = |v: Option<f64>| v.map_or("not set".to_string(), |p| format!("${p} per million tokens"));
        let endpoint = match (&p.base_url, &p.replay_file) {
            (Some(url), _) => ("base_url", url.clone()),
            (None, Some(file)) => ("replay_file", file.display().to_string()),
            (None, None) => ("base_url", String::new()),
        };
        let rows = [
            ("kind", kind),
            endpoint,
            ("sends to", crate::config::trust::Destination::of(p).host_text()),
            ("model", p.model.clone()),
            ("family", p.family.clone()),
            ("key", key),
            ("max_concurrency", p.max_concurrency.to_string()),
            ("timeout_secs", p.timeout_secs.to_string()),
            ("max_attempts", p.max_attempts.to_string()),
            ("max_output_tokens", p.max_output_tokens.to_string()),
            ("token_limit_field", p.token_limit_field.as_str().to_string()),
            (
                "context_tokens",
                p.context_tokens
                    .map_or("asked of the server at the start".into(), |n| n.to_string()),
            ),
            (
                "requests_per_minute",
                p.requests_per_minute.map_or("unlimited".into(), |n| n.to_string()),
            ),
            (
                "tokens_per_minute",
                p.tokens_per_minute.map_or("unlimited".into(), |n| n.to_string()),
            ),
            ("temperature", p.temperature.to_string()),
            ("structured_output", p.structured_output.as_str().to_string()),
            ("input price", price(p.price_input_per_mtok)),
            ("output price", price(p.price_output_per_mtok)),
        ];
        out.push_str(&format!("[{}]\n", terminal_safe(&p.name)));
        for (k, v) in rows {
            out.push_str(&format!("  {k:<20} {}\n", terminal_safe(&v)));
        }
        if let Some(extra) = &p.extra_body {
            out.push_str(&format!(
                "  {:<20} {}\n",
                "extra_body",
                terminal_safe(&extra.to_string())
            ));
        }
        out.push('\n');
    }
    out
}
