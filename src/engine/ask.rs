//! One request with its retries: backoff with jitter, `Retry-After` honoured, a lane
//! paused by a 429, a timeout retried once, and an unusable answer asked again once with
//! the error quoted back.

use std::time::Duration;

use providers::{Completion, ErrorKind, FinishReason, ProviderError, Request, Usage};

use crate::config::StructuredOutputMode;
use crate::engine::execute::Ctx;
use crate::engine::lane::Lane;
use crate::engine::plan::user_prompt;
use crate::engine::preflight::status_text;
use crate::engine::wait::sleep_or_stop;
use crate::engine::{Job, Reviewer};
use crate::input::prompt;
use crate::sanitize::terminal_safe;
use crate::store::LineRange;

/// The sampling seed every request carries, so a provider that honours seeds answers
/// the same question the same way (the answer cache relies on equal questions).
pub(crate) const REQUEST_SEED: u64 = 42;

/// Retries of a timed-out request (why once: where it is used).
const TIMEOUT_RETRIES: u32 = 1;

/// HTTP 408: the server gave up waiting for the request before taking it, so nothing
/// was generated or billed.
const REQUEST_TIMEOUT_STATUS: u16 = 408;

/// Hex digits of a digest that make a jitter seed (48 bits: plenty, and fits a u64).
const JITTER_SEED_HEX_DIGITS: usize = 12;

/// How asking ended.
pub(super) enum Asked {
    /// The final answer or error.
    Finished(Finished),
    /// Stopped, or out of budget, before any usable outcome.
    Abandoned,
    /// The provider was marked down before this request could be sent.
    Down,
}

/// The final answer or error of a job, and what it took to get it.
pub(super) struct Finished {
    pub(super) result: Result<Completion, ProviderError>,
    /// Requests sent.
    pub(super) attempts: u32,
    /// The tokens of all answers, the re-asked one included.
    pub(super) usage: Usage,
    /// Whether the answer parsed, when that was checked.
    pub(super) parsed: Option<bool>,
}

impl Finished {
    fn answer(answer: Completion, attempts: u32, usage: Usage, parsed: bool) -> Asked {
        Asked::Finished(Finished {
            result: Ok(answer),
            attempts,
            usage,
            parsed: Some(parsed),
        })
    }
}

/// Requests sent for one job, and how many of them were refused for what.
#[derive(Default)]
struct Tries {
    attempts: u32,
    timeouts: u32,
    rate_limited: u32,
    /// Failures other than 429s (5xx, timeouts, …): what their backoff doubles on.
    other_failures: u32,
}

impl Tries {
    /// Counts a failed request and says whether to try again. Rate-limited requests do
    /// not use up `max_attempts`.
    fn retry(&mut self, kind: ErrorKind, max_attempts: u32, rate_limit_retries: u32) -> bool {
        if kind == ErrorKind::RateLimited {
            self.rate_limited += 1;
            return self.rate_limited <= rate_limit_retries;
        }
        self.other_failures += 1;
        match kind {
            // A timeout is retried once: a model that is still loading gets
            // a second chance, a server that hangs does not eat the run.
            ErrorKind::Timeout => {
                self.timeouts += 1;
                self.timeouts <= TIMEOUT_RETRIES && self.attempts - self.rate_limited < max_attempts
            }
            kind => kind.is_retryable() && self.attempts - self.rate_limited < max_attempts,
        }
    }

    /// Which retry the next one is, for the backoff to double on: after a 429 the
    /// 429s so far, after any other failure the other failures so far. So a run of 5xx
    /// doubles the wait even when no 429 came, 429s do not lengthen the wait after one
    /// 5xx, and an answer asked again (a request that succeeded) counts for neither.
    fn backoff_step(&self, kind: ErrorKind) -> u32 {
        match kind {
            ErrorKind::RateLimited => self.rate_limited,
            _ => self.other_failures,
        }
    }
}

impl Ctx<'_> {
    /// Asks, retrying what may succeed later and re-asking once for unusable JSON.
    pub(super) async fn ask(&self, job: &Job, reviewer: &Reviewer, lane: &Lane) -> Asked {
        let config = &reviewer.config;
        let mut request = self.request(job, reviewer);
        let worst_case = reviewer.cost(job.input_tokens, u64::from(config.max_output_tokens));
        let mut usage = Usage::default();
        let mut tries = Tries::default();
        let mut reasked = false;
        let mut unusable_answer: Option<Completion> = None;
        // The last failure of a request of this job, which stands as its outcome when the
        // lane goes down before the retry: the job was asked, and failed so.
        let mut last_error: Option<ProviderError> = None;
        loop {
            let stopped = lane.wait_until_open(&self.stop).await
                || lane
                    .window
                    .admit(job.input_tokens + reviewer.expected_output_tokens(), &self.stop)
                    .await;
            if stopped || !self.budget.reserve(worst_case, &self.stop).await {
                return match unusable_answer {
                    Some(answer) => Finished::answer(answer, tries.attempts, usage, false),
                    None => Asked::Abandoned,
                };
            }
            let Some(result) = lane.send(reviewer.provider.as_ref(), &request, &self.stop).await else {
                self.budget.settle(worst_case, 0.0);
                return match (unusable_answer, last_error) {
                    (Some(answer), _) => Finished::answer(answer, tries.attempts, usage, false),
                    (None, _) if *self.stop.borrow() => Asked::Abandoned,
                    (None, Some(err)) => Asked::Finished(Finished {
                        result: Err(err),
                        attempts: tries.attempts,
                        usage,
                        parsed: None,
                    }),
                    (None, None) => Asked::Down,
                };
            };
            tries.attempts += 1;
            if let Ok(answer) = &result {
                add_usage(&mut usage, answer.usage);
            }
            self.budget.settle(worst_case, spent(&result, reviewer, worst_case));
            match result {
                Ok(answer) => {
                    let problem = match (&answer.finish, &job.question) {
                        (FinishReason::Length | FinishReason::Filtered, _) => None,
                        (_, Some(question)) => question.problem(&answer.text),
                        (_, None) => crate::normalize::parse::parse_findings(&answer.text)
                            .err()
                            .map(|e| e.to_string()),
                    };
                    match problem {
                        Some(why) if !reasked => {
                            log_decision(
                                config,
                                &request,
                                tries.attempts,
                                "asking again: the answer is not usable JSON",
                            );
                            reasked = true;
                            request.user = match &job.question {
                                Some(question) => question.reask(&request.user, &why),
                                None => prompt::reask(&request.user, &why),
                            };
                            unusable_answer = Some(answer);
                        }
                        Some(_) => return Finished::answer(answer, tries.attempts, usage, false),
                        None => {
                            let parsed = !matches!(answer.finish, FinishReason::Length | FinishReason::Filtered);
                            return Finished::answer(answer, tries.attempts, usage, parsed);
                        }
                    }
                }
                Err(err) => {
                    let seed = jitter_seed(&config.name, &request.id, job.range, tries.attempts);
                    // A lane this error marked down gets no retry: every one would fail alike.
                    let down = lane.down().is_some();
                    if down || !tries.retry(err.kind, config.max_attempts, self.options.rate_limit_retries) {
                        let why = if down {
                            "the provider is marked down"
                        } else if err.kind.is_retryable() {
                            "no attempt left"
                        } else {
                            "not worth retrying"
                        };
                        log_decision(config, &request, tries.attempts, &format!("giving up: {why}"));
                        return Asked::Finished(Finished {
                            result: Err(err),
                            attempts: tries.attempts,
                            usage,
                            parsed: None,
                        });
                    }
                    let wait = self
                        .options
                        .backoff
                        .delay(tries.backoff_step(err.kind), err.retry_after, seed);
                    log_decision(
                        config,
                        &request,
                        tries.attempts,
                        &format!("retrying in {} ms", wait.as_millis()),
                    );
                    if err.kind == ErrorKind::RateLimited {
                        lane.pause(wait);
                    } else if sleep_or_stop(wait, &self.stop).await {
                        return Asked::Abandoned;
                    }
                    last_error = Some(err);
                }
            }
        }
    }

    /// The first request of a job (a re-ask changes only its user prompt).
    fn request(&self, job: &Job, reviewer: &Reviewer) -> Request {
        let config = &reviewer.config;
        if let Some(question) = &job.question {
            return Request {
                id: self.files[job.file].path.clone(),
                system: question.system.clone(),
                user: question.user.clone(),
                schema: (config.structured_output != StructuredOutputMode::None).then(|| question.schema.clone()),
                max_output_tokens: config.max_output_tokens,
                temperature: config.temperature,
                seed: Some(REQUEST_SEED),
            };
        }
        Request {
            id: self.files[job.file].path.clone(),
            system: prompt::system_prompt(),
            user: user_prompt(
                &self.files[job.file],
                reviewer,
                job.range,
                job.related.as_deref().unwrap_or_default(),
            ),
            schema: (config.structured_output != StructuredOutputMode::None).then(prompt::finding_schema),
            max_output_tokens: config.max_output_tokens,
            temperature: config.temperature,
            seed: Some(REQUEST_SEED),
        }
    }
}

/// Logs (at debug level, `-v`) one request sent: provider, file, HTTP status (or why no
/// answer came) and latency. Never the key, the code or the prompt.
pub(super) fn log_request(
    provider: &str,
    request: &Request,
    result: &Result<Completion, ProviderError>,
    latency: Duration,
) {
    let file = terminal_safe(&request.id);
    let latency_ms = latency.as_millis() as u64;
    match result {
        Ok(answer) => {
            let served = answer.model.as_deref().map_or_else(|| "-".to_string(), terminal_safe);
            tracing::debug!(provider = %provider, %file, status = %"ok", %served, latency_ms, "request");
        }
        Err(e) => {
            let status = status_text(e);
            tracing::debug!(provider = %provider, %file, %status, latency_ms, "request");
        }
    }
}

/// Logs (at debug level) what was decided after a request: retry, ask again, give up.
fn log_decision(config: &crate::config::ProviderConfig, request: &Request, attempts: u32, decision: &str) {
    tracing::debug!(
        provider = %config.name,
        file = %terminal_safe(&request.id),
        attempts,
        "{decision}"
    );
}

/// What one request cost: its answer's tokens at the provider's prices, or the worst
/// case when the answer does not say or never came but may still be billed.
fn spent(result: &Result<Completion, ProviderError>, reviewer: &Reviewer, worst_case: f64) -> f64 {
    match result {
        Ok(answer) => match (answer.usage.input_tokens, answer.usage.output_tokens) {
            (None, None) => worst_case,
            (i, o) => reviewer.cost(i.unwrap_or(0), o.unwrap_or(0)),
        },
        // The server may still generate (and bill) an answer we stopped waiting for.
        // (A 408 has a status: the server never took the request.)
        Err(e) if e.kind == ErrorKind::Timeout && e.status != Some(REQUEST_TIMEOUT_STATUS) => worst_case,
        Err(_) => 0.0,
    }
}

fn add_usage(total: &mut Usage, more: Usage) {
    let add = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    };
    total.input_tokens = add(total.input_tokens, more.input_tokens);
    total.output_tokens = add(total.output_tokens, more.output_tokens);
}

/// A cheap, deterministic per-job number for jitter.
fn jitter_seed(provider: &str, file: &str, range: Option<LineRange>, attempt: u32) -> u64 {
    let digest = crate::hash::sha256_hex(format!("{provider}\0{file}\0{range:?}\0{attempt}").as_bytes());
    u64::from_str_radix(&digest[..JITTER_SEED_HEX_DIGITS], 16).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the outcomes as `ask` does (a request, then `retry` for a failure; `None`
    /// is an answer asked again) and returns the backoff step of each retry granted.
    fn steps(outcomes: &[Option<ErrorKind>]) -> Vec<u32> {
        let mut tries = Tries::default();
        let mut out = Vec::new();
        for &outcome in outcomes {
            tries.attempts += 1;
            if let Some(kind) = outcome {
                if tries.retry(kind, 10, 10) {
                    out.push(tries.backoff_step(kind));
                }
            }
        }
        out
    }

    #[test]
    fn server_errors_back_off_longer_each_time() {
        // Was 1, 1, 1: without a 429 the step never grew past the first.
        assert_eq!(steps(&[Some(ErrorKind::Server); 3]), vec![1, 2, 3]);
    }

    #[test]
    fn rate_limits_and_other_failures_back_off_on_their_own_counts() {
        use ErrorKind::{RateLimited, Server, Timeout};
        let (limited, server, timeout) = (Some(RateLimited), Some(Server), Some(Timeout));
        assert_eq!(
            steps(&[limited, limited, server, limited, timeout]),
            vec![1, 2, 1, 3, 2]
        );
        // An unusable answer asked again is no failure: the 5xx after it waits the first step.
        assert_eq!(steps(&[None, server, server]), vec![1, 2]);
    }
}
