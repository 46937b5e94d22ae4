//! What the judge pass cost: its requests, tokens and dollars per provider, from the
//! stored judge records (the review's totals leave them out: they are no review).

use serde::Serialize;

use super::JudgeRun;
use crate::store::{ProviderMeta, ResponseRecord, Status};

/// One provider's judge requests: `run.judge.usage[]` in `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgeSpend {
    pub provider: String,
    /// Requests sent (cached and never-sent ones left out).
    pub requests: usize,
    /// Verdicts taken from the cache: no request, no cost.
    pub cached: usize,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// US dollars at the provider's prices; `None` without a price.
    pub cost_usd: Option<f64>,
}

/// The judge pass's spend per provider, in name order: the named judge priced as `run`
/// recorded it, a peer as the run's reviewers were. Only the records of those count (the
/// reviewers' only in `peers` mode), as only theirs are verdicts or peer checks: a record
/// naming any other provider is no judge's.
pub fn spend(records: &[ResponseRecord], run: &JudgeRun, providers: &[ProviderMeta]) -> Vec<JudgeSpend> {
    let mut by_provider: std::collections::BTreeMap<&str, JudgeSpend> = Default::default();
    let peers = run.mode == "peers";
    let judged_by =
        |r: &&ResponseRecord| r.provider == run.provider || (peers && providers.iter().any(|p| p.name == r.provider));
    for record in records.iter().filter(|r| !r.kind.is_review()).filter(judged_by) {
        let spent = by_provider.entry(&record.provider).or_insert_with(|| JudgeSpend {
            provider: record.provider.clone(),
            requests: 0,
            cached: 0,
            input_tokens: 0,
            output_tokens: 0,
            cost_usd: None,
        });
        if record.cached {
            spent.cached += 1;
        } else if record.status != Status::Skipped {
            spent.requests += 1;
            spent.input_tokens += record.usage.input_tokens.unwrap_or(0);
            spent.output_tokens += record.usage.output_tokens.unwrap_or(0);
        }
    }
    by_provider
        .into_values()
        .map(|mut s| {
            let (input, output) = match providers.iter().find(|p| p.name == s.provider) {
                Some(p) => (p.price_input_per_mtok, p.price_output_per_mtok),
                None if s.provider == run.provider => (run.price_input_per_mtok, run.price_output_per_mtok),
                None => (None, None),
            };
            s.cost_usd = crate::analysis::cost(s.input_tokens, s.output_tokens, input, output);
            s
        })
        .collect()
}

/// One sentence for the summary: what the judge pass sent and cost.
pub fn spend_sentence(spend: &[JudgeSpend]) -> Option<String> {
    let requests: usize = spend.iter().map(|s| s.requests).sum();
    if requests == 0 {
        return None;
    }
    let input: u64 = spend.iter().map(|s| s.input_tokens).sum();
    let output: u64 = spend.iter().map(|s| s.output_tokens).sum();
    let costs: Vec<f64> = spend.iter().filter_map(|s| s.cost_usd).collect();
    let cost = match costs.is_empty() {
        true => "no price set".to_string(),
        false => format!("${:.4}", costs.iter().sum::<f64>()),
    };
    Some(format!(
        "Judge spend: {requests} requests, {input} input and {output} output tokens, {cost}."
    ))
}
