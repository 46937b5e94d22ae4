//! The fan-out engine: every (file part, provider) job, each provider at its own limits,
//! never losing an answer and never asking twice.
//!
//! Real runs take hours against slow local models and cost money against hosted ones.
//! So each provider has its own lane (concurrency, requests and tokens per minute,
//! health): a slow local model never holds the fast hosted ones back, and a provider that
//! keeps failing is marked down while the others go on. Retryable failures back off with
//! jitter and honour `Retry-After`. An answer that is not usable JSON is asked again
//! once with the error quoted back. A prompt the server says is too long, or an answer
//! cut off at the output limit, is retried as two smaller parts. Every outcome is
//! appended to the store the moment it is known; a cached answer is used instead of
//! asking again; a stop request lets the requests in flight finish (for a bounded time)
//! and starts nothing new.

pub mod backend;
pub mod cache;
pub mod progress;
pub mod replay;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use providers::{Completion, ErrorKind, FinishReason, Provider, ProviderError, Request, Usage};
use tokio::sync::{watch, Semaphore};

use crate::config::{ProviderConfig, ProviderKind, StructuredOutputMode};
use crate::engine::cache::Cache;
use crate::input::chunk;
use crate::input::prompt;
use crate::input::walk::SourceFile;
use crate::store::{LineRange, RecordedError, ResponseRecord, Status, StoreWriter};

/// A configured provider, ready to take requests.
pub struct Reviewer {
    pub config: ProviderConfig,
    pub provider: Arc<dyn Provider>,
    /// The context window to plan for: configured, or learned from the server.
    pub context_tokens: Option<u64>,
}

impl Reviewer {
    /// Tokens of code one request may carry: the window less the answer's reserve, the
    /// system prompt and a margin. `None` when the window is unknown.
    pub fn code_budget(&self) -> Option<u64> {
        let context = self.context_tokens?;
        let fixed = u64::from(self.config.max_output_tokens) + chunk::estimate_tokens(&prompt::system_prompt()) + 128;
        Some(context.saturating_sub(fixed).max(256))
    }

    /// Estimated output tokens of one answer (for budgets and rate limits; labelled
    /// "estimated" wherever shown).
    pub fn expected_output_tokens(&self) -> u64 {
        u64::from(self.config.max_output_tokens.min(1000))
    }

    /// Dollars for the given tokens at this provider's prices (0 without prices).
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        let c = &self.config;
        input_tokens as f64 * c.price_input_per_mtok.unwrap_or(0.0) / 1e6
            + output_tokens as f64 * c.price_output_per_mtok.unwrap_or(0.0) / 1e6
    }
}

/// One request to make: a file, or a part of it, for one reviewer.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub file: usize,
    pub reviewer: usize,
    pub range: Option<LineRange>,
    /// Identity of the question (see `cache`): equal keys, equal questions.
    pub key: String,
    pub input_tokens: u64,
}

/// Plans every job: each file (split where a reviewer's context window requires) for
/// each reviewer.
pub fn plan(files: &[SourceFile], reviewers: &[Reviewer]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (f, file) in files.iter().enumerate() {
        for (r, reviewer) in reviewers.iter().enumerate() {
            match chunk::plan(&file.text, reviewer.code_budget()) {
                None => jobs.push(job(files, reviewers, f, r, None)),
                Some(ranges) => jobs.extend(ranges.into_iter().map(|range| job(files, reviewers, f, r, Some(range)))),
            }
        }
    }
    jobs
}

/// Describes one job (computing its key from the exact prompt it will send).
pub fn job(
    files: &[SourceFile],
    reviewers: &[Reviewer],
    file: usize,
    reviewer: usize,
    range: Option<LineRange>,
) -> Job {
    let user = user_prompt(&files[file], &reviewers[reviewer], range);
    Job {
        file,
        reviewer,
        range,
        key: job_key(&reviewers[reviewer].config, &user),
        input_tokens: chunk::estimate_tokens(&user) + chunk::estimate_tokens(&prompt::system_prompt()),
    }
}

/// The user prompt as `reviewer` receives it: for a provider off the local network
/// (or one set to `redact = "always"`), secret-looking values are replaced on their
/// own lines, so line numbers, parts and findings stay the same.
fn user_prompt(file: &SourceFile, reviewer: &Reviewer, range: Option<LineRange>) -> String {
    if !crate::checks::redact::applies(&reviewer.config) {
        return prompt::user_prompt(file, range);
    }
    let redacted = crate::checks::redact::redact(&file.text);
    if redacted.secrets.is_empty() {
        return prompt::user_prompt(file, range);
    }
    let file = SourceFile {
        text: redacted.text,
        ..file.clone()
    };
    prompt::user_prompt(&file, range)
}

/// Hashes everything that can change an answer.
fn job_key(c: &ProviderConfig, user_prompt: &str) -> String {
    let identity = serde_json::json!({
        "provider": c.name, "kind": c.kind.as_str(), "base_url": c.base_url, "model": c.model,
        "temperature": c.temperature, "max_output_tokens": c.max_output_tokens,
        "structured_output": c.structured_output.as_str(), "token_limit_field": c.token_limit_field.as_str(),
        "extra_body": c.extra_body, "system": prompt::system_prompt(), "user": user_prompt,
    });
    crate::hash::sha256_hex(identity.to_string().as_bytes())
}

/// How long to wait between attempts when the server does not say.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempt + 1` (attempt counts from 1): the server's
    /// `Retry-After` when given (plus up to 20%, capped), else `base · 2^(attempt-1)` plus
    /// up to 50%, so that parallel jobs do not retry in lockstep.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter_seed: u64) -> Duration {
        let fraction = (jitter_seed % 1000) as f64 / 1000.0;
        if let Some(wait) = retry_after {
            // Up to 20% more than asked, so parallel jobs do not all return at once.
            return (wait + wait.mul_f64(0.2 * fraction)).min(self.cap);
        }
        let exp = self.base.saturating_mul(1u32 << (attempt.max(1) - 1).min(16));
        (exp + exp.mul_f64(0.5 * fraction)).min(self.cap)
    }
}

/// How the engine behaves.
#[derive(Debug, Clone)]
pub struct Options {
    pub backoff: Backoff,
    /// Consecutive provider-level failures (unreachable, timeouts, 5xx) after which a
    /// provider rests for a cool-down before one request probes it again.
    pub breaker_threshold: u32,
    /// How long a provider rests the first time it trips (doubling each time; after
    /// three trips it is marked down for the rest of the run).
    pub cool_down: Duration,
    /// Retries of a rate-limited request (these do not use up `max_attempts`).
    pub rate_limit_retries: u32,
    /// A hard budget in US dollars over all priced providers.
    pub max_cost_usd: Option<f64>,
    /// After a stop request, how long requests in flight may still finish.
    pub grace: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backoff: Backoff::default(),
            breaker_threshold: 5,
            cool_down: Duration::from_secs(15),
            rate_limit_retries: 8,
            max_cost_usd: None,
            grace: Duration::from_secs(30),
        }
    }
}

/// What the engine tells whoever shows progress.
pub trait Progress {
    /// Jobs per provider, before any is done (cached ones included).
    fn planned(&mut self, per_provider: &[(String, usize)]);
    /// A job ended with this record.
    fn done(&mut self, record: &ResponseRecord);
    /// A job was split: the provider has `extra` more jobs.
    fn grew(&mut self, provider: &str, extra: usize);
    /// Something the user should know now.
    fn note(&mut self, message: &str);
    fn finish(&mut self);
}

/// Totals of one engine run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub ok: usize,
    pub failed: usize,
    pub skipped: usize,
    pub cached: usize,
    /// Parts too long for a model, reviewed as two smaller parts.
    pub split: usize,
    /// Jobs never started because the run was stopped or the budget reached.
    pub not_started: usize,
    pub stopped_early: Option<String>,
}

/// Runs `jobs`, appending every outcome to `store` and usable answers to `cache`.
/// `prior` holds the records a resumed run already has, by job key: their answers are
/// not asked again, and their splits are followed.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    files: &[SourceFile],
    reviewers: &[Reviewer],
    jobs: Vec<Job>,
    store: &mut StoreWriter,
    cache: Option<&mut Cache>,
    prior: &HashMap<String, ResponseRecord>,
    options: &Options,
    mut stop: watch::Receiver<bool>,
    progress: &mut dyn Progress,
) -> Result<Summary> {
    let per_provider: Vec<(String, usize)> = reviewers
        .iter()
        .enumerate()
        .map(|(r, rev)| (rev.config.name.clone(), jobs.iter().filter(|j| j.reviewer == r).count()))
        .collect();
    progress.planned(&per_provider);
    let lanes: Vec<Lane> = reviewers.iter().map(Lane::new).collect();
    let budget = Budget::new(options.max_cost_usd);
    let ctx = Ctx {
        files,
        reviewers,
        lanes: &lanes,
        budget: &budget,
        options,
        stop: stop.clone(),
    };
    let mut dispatch = Dispatch {
        files,
        reviewers,
        store,
        cache,
        prior,
        summary: Summary::default(),
        ready: Vec::new(),
    };
    for job in jobs {
        dispatch.route(job, progress)?;
    }
    let mut running: FuturesUnordered<BoxFuture<'_, (Job, Outcome)>> = FuturesUnordered::new();
    for job in dispatch.ready.drain(..) {
        running.push(Box::pin(ctx.execute(job)));
    }
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut stop_closed = false;
    loop {
        let next = tokio::select! {
            next = running.next() => next,
            changed = stop.changed(), if deadline.is_none() && !stop_closed => {
                match changed {
                    Ok(()) if *stop.borrow() => {
                        deadline = Some(tokio::time::Instant::now() + options.grace);
                        progress.note("stopping: no new requests; waiting for the ones in flight");
                    }
                    Ok(()) => {}
                    Err(_) => stop_closed = true,
                }
                continue;
            }
            _ = sleep_until(deadline) => {
                progress.note("gave up waiting for the requests still in flight");
                dispatch.summary.not_started += running.len();
                break;
            }
        };
        let Some((job, outcome)) = next else { break };
        match outcome {
            Outcome::Done(record, parsed) => {
                lanes[job.reviewer].observe(&record, options, progress);
                dispatch.finished(&job, *record, parsed, progress)?;
                for job in dispatch.ready.drain(..) {
                    running.push(Box::pin(ctx.execute(job)));
                }
            }
            Outcome::NotStarted => dispatch.summary.not_started += 1,
        }
    }
    if let Some(cache) = dispatch.cache.as_deref_mut() {
        if let Err(err) = cache.flush() {
            progress.note(&format!("the answer cache could not be saved: {err:#}"));
        }
    }
    let mut summary = dispatch.summary;
    summary.stopped_early = if *stop.borrow() {
        Some("interrupted".to_string())
    } else if budget.exhausted() {
        Some(format!(
            "the --max-cost budget of ${:.2} was reached",
            options.max_cost_usd.unwrap_or(0.0)
        ))
    } else {
        None
    };
    progress.finish();
    Ok(summary)
}

/// Decides, for each job, whether it is already answered, answered from the cache,
/// replaced by its parts, or to be sent; and records what comes back.
struct Dispatch<'a, 'c> {
    files: &'a [SourceFile],
    reviewers: &'a [Reviewer],
    store: &'a mut StoreWriter,
    cache: Option<&'c mut Cache>,
    prior: &'a HashMap<String, ResponseRecord>,
    summary: Summary,
    /// Jobs to send.
    ready: Vec<Job>,
}

impl Dispatch<'_, '_> {
    fn route(&mut self, job: Job, progress: &mut dyn Progress) -> Result<()> {
        if let Some(known) = self.prior.get(&job.key) {
            match known.status {
                // Already in this run's store: nothing to do.
                Status::Ok => return Ok(()),
                Status::Split => return self.expand(&job, known.split_into.as_deref(), progress),
                _ => {}
            }
        }
        let cacheable = self.reviewers[job.reviewer].config.kind != ProviderKind::Replay;
        let cached = self
            .cache
            .as_deref()
            .filter(|_| cacheable)
            .and_then(|c| c.get(&job.key))
            .cloned();
        match cached {
            Some(answer) => {
                let record = cached_record(
                    &answer,
                    &self.files[job.file],
                    &self.reviewers[job.reviewer].config,
                    &job,
                );
                self.store.append(&record)?;
                progress.done(&record);
                if record.status == Status::Split {
                    self.summary.split += 1;
                    self.expand(&job, record.split_into.as_deref(), progress)
                } else {
                    self.summary.cached += 1;
                    Ok(())
                }
            }
            None => {
                self.ready.push(job);
                Ok(())
            }
        }
    }

    /// Routes the parts that replace `job`.
    fn expand(&mut self, job: &Job, parts: Option<&[LineRange]>, progress: &mut dyn Progress) -> Result<()> {
        let parts = parts.unwrap_or_default();
        progress.grew(&self.reviewers[job.reviewer].config.name, parts.len());
        for range in parts {
            let part = self::job(self.files, self.reviewers, job.file, job.reviewer, Some(*range));
            self.route(part, progress)?;
        }
        Ok(())
    }

    /// Stores a finished job's record, caches it if reusable, and follows a split.
    fn finished(
        &mut self,
        job: &Job,
        record: ResponseRecord,
        parsed: Option<bool>,
        progress: &mut dyn Progress,
    ) -> Result<()> {
        self.store.append(&record)?;
        let cacheable = self.reviewers[job.reviewer].config.kind != ProviderKind::Replay;
        if let (Some(cache), true) = (self.cache.as_deref_mut(), cacheable && is_reusable(&record, parsed)) {
            if let Err(err) = cache.put(&job.key, &record) {
                progress.note(&format!("the answer cache is off for the rest of this run: {err:#}"));
                self.cache = None;
            }
        }
        progress.done(&record);
        match record.status {
            Status::Ok => self.summary.ok += 1,
            Status::Error => self.summary.failed += 1,
            Status::Skipped => self.summary.skipped += 1,
            Status::Split => {
                self.summary.split += 1;
                self.expand(job, record.split_into.as_deref(), progress)?;
            }
        }
        Ok(())
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Sleeps for `wait`, or less if a stop is requested. Returns true when stopped.
async fn sleep_or_stop(wait: Duration, stop: &watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    let mut changes = stop.clone();
    tokio::select! {
        _ = tokio::time::sleep(wait) => *stop.borrow(),
                Ok(_) = changes.wait_for(|s| *s) => true,
    }
}

/// Whether an answer may be reused instead of asking again: a complete, parsable answer
/// from the model that was asked for (or a split decision).
fn is_reusable(record: &ResponseRecord, parsed: Option<bool>) -> bool {
    if record.status == Status::Split {
        return true;
    }
    let parses = || {
        parsed.unwrap_or_else(|| crate::normalize::parse::parse_findings(record.text.as_deref().unwrap_or("")).is_ok())
    };
    record.status == Status::Ok
        && record.served_model.is_none()
        && matches!(
            record.finish_reason,
            Some(FinishReason::Stop) | Some(FinishReason::Unknown) | None
        )
        && parses()
}

/// A cached answer, relabelled for this run. It cost nothing this run, so its token
/// counts and latency are not carried over.
fn cached_record(answer: &ResponseRecord, file: &SourceFile, config: &ProviderConfig, job: &Job) -> ResponseRecord {
    ResponseRecord {
        provider: config.name.clone(),
        family: Some(config.family.clone()),
        file: file.path.clone(),
        content_hash: Some(file.content_hash.clone()),
        chunk: job.range,
        key: Some(job.key.clone()),
        cached: true,
        usage: Usage::default(),
        latency_ms: 0,
        ..answer.clone()
    }
}

enum Outcome {
    /// The record, and whether its answer parsed (when the job already checked).
    Done(Box<ResponseRecord>, Option<bool>),
    /// Not started (or abandoned before any answer): the run was stopped or the budget
    /// reached. Nothing recorded, so a resumed run asks it.
    NotStarted,
}

/// A provider's lane: its limits and its health.
///
/// Its concurrency adapts: a 429 gives up one slot (taken out of circulation when the
/// next request in flight finishes), and a run of successes gives one back, up to the
/// configured `max_concurrency`. A provider configured above what its server can take
/// thus settles at what the server can take, instead of failing requests.
struct Lane {
    /// Replayed answers: a missing one is about one file, not the provider.
    replay: bool,
    /// Jobs being worked on (in flight, or waiting to retry): bounds the prompts held in
    /// memory and keeps jobs in order.
    active: Semaphore,
    slots: Semaphore,
    /// Slots currently in circulation, at most `max_concurrency`.
    capacity: AtomicUsize,
    max_capacity: usize,
    /// Slots to take out of circulation as requests finish.
    to_retire: AtomicUsize,
    successes: AtomicUsize,
    window: RateWindow,
    /// While a server says "too many requests", every job of the lane waits.
    paused_until: Mutex<Option<tokio::time::Instant>>,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    consecutive_failures: u32,
    trips: u32,
    /// Resting after repeated failures: no request before this instant.
    resting_until: Option<tokio::time::Instant>,
    /// Marked down for the rest of the run, and why.
    down: Option<(ErrorKind, String)>,
    /// Whether the user was told it is down.
    announced: bool,
}

/// Failures that say something about the provider, not about one file.
fn provider_level(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Server)
}

impl Lane {
    fn new(reviewer: &Reviewer) -> Lane {
        Lane {
            replay: reviewer.config.kind == ProviderKind::Replay,
            active: Semaphore::new(reviewer.config.max_concurrency * 2),
            slots: Semaphore::new(reviewer.config.max_concurrency),
            capacity: AtomicUsize::new(reviewer.config.max_concurrency),
            max_capacity: reviewer.config.max_concurrency,
            to_retire: AtomicUsize::new(0),
            successes: AtomicUsize::new(0),
            window: RateWindow::new(reviewer.config.requests_per_minute, reviewer.config.tokens_per_minute),
            paused_until: Mutex::new(None),
            health: Mutex::new(Health::default()),
        }
    }

    fn down(&self) -> Option<(ErrorKind, String)> {
        self.health.lock().expect("health lock").down.clone()
    }

    /// Waits out a rate-limit pause or a rest. Returns true when stopped meanwhile.
    async fn wait_until_open(&self, stop: &watch::Receiver<bool>) -> bool {
        loop {
            let until = {
                let paused = *self.paused_until.lock().expect("pause lock");
                let resting = self.health.lock().expect("health lock").resting_until;
                paused.into_iter().chain(resting).max()
            };
            match until {
                Some(at) if at > tokio::time::Instant::now() => {
                    if sleep_or_stop(at - tokio::time::Instant::now(), stop).await {
                        return true;
                    }
                }
                _ => return *stop.borrow(),
            }
        }
    }

    /// Sends one request in a slot of the lane, and adapts the lane's concurrency to
    /// how the server took it.
    /// `None` when the lane was marked down while this request waited for its slot.
    async fn send(
        &self,
        provider: &dyn Provider,
        request: &Request,
        stop: &watch::Receiver<bool>,
    ) -> Option<Result<Completion, ProviderError>> {
        let slot = self.slots.acquire().await.expect("lane semaphores are never closed");
        // Re-checked once the slot is ours: the lane may have gone down, or the run been
        // stopped, while this request waited for it.
        if self.down().is_some() || *stop.borrow() {
            return None;
        }
        let result = provider.complete(request).await;
        match &result {
            Err(e) if e.kind == ErrorKind::RateLimited => self.shrink(),
            Ok(_) => self.grow(),
            // Decided before the slot is released, so no request waiting for it is sent.
            Err(e) if self.is_fatal(e.kind) => {
                let mut health = self.health.lock().expect("health lock");
                if health.down.is_none() {
                    health.down = Some((e.kind, format!("its last request failed: {}", e.message)));
                }
            }
            Err(_) => {}
        }
        let retire = self
            .to_retire
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if retire {
            slot.forget();
        }
        Some(result)
    }

    /// A failure that every later request would repeat: a rejected key, an exhausted
    /// quota, a redirect (never followed), a model the server does not have (a replay's
    /// missing file is per file).
    fn is_fatal(&self, kind: ErrorKind) -> bool {
        matches!(
            kind,
            ErrorKind::Auth | ErrorKind::QuotaExhausted | ErrorKind::Redirected
        ) || (kind == ErrorKind::NotFound && !self.replay)
    }

    fn shrink(&self) {
        self.successes.store(0, Ordering::SeqCst);
        if self
            .capacity
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| (c > 1).then(|| c - 1))
            .is_ok()
        {
            self.to_retire.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn grow(&self) {
        const SUCCESSES_PER_SLOT: usize = 10;
        if self.successes.fetch_add(1, Ordering::SeqCst) + 1 < SUCCESSES_PER_SLOT {
            return;
        }
        self.successes.store(0, Ordering::SeqCst);
        let max = self.max_capacity;
        if self
            .capacity
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| (c < max).then(|| c + 1))
            .is_ok()
        {
            // A slot still waiting to be retired is simply kept; otherwise add one.
            if self
                .to_retire
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_err()
            {
                self.slots.add_permits(1);
            }
        }
    }

    /// Pauses the whole lane: the server said too many requests.
    fn pause(&self, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut paused = self.paused_until.lock().expect("pause lock");
        *paused = Some(paused.map_or(until, |p| p.max(until)));
    }

    /// Updates health from a final outcome. A rejected key, an exhausted quota or a
    /// missing model marks the provider down at once: every later request would fail
    /// the same way. Repeated provider-level failures make it rest, then probe again;
    /// after three rests it is marked down. Failures about one file do not count.
    fn observe(&self, record: &ResponseRecord, options: &Options, progress: &mut dyn Progress) {
        let mut health = self.health.lock().expect("health lock");
        if record.status == Status::Ok {
            health.consecutive_failures = 0;
            return;
        }
        let Some(error) = record.error.as_ref().filter(|_| record.status == Status::Error) else {
            return;
        };
        if self.is_fatal(error.kind) {
            // Marked down by `send` already; say so once.
            if !health.announced {
                health.announced = true;
                let why = health
                    .down
                    .as_ref()
                    .map_or_else(|| error.message.clone(), |(_, w)| w.clone());
                progress.note(&format!(
                    "{} is marked down and gets no more requests: {why}",
                    record.provider
                ));
            }
            return;
        }
        if health.down.is_some() {
            return;
        }
        if !provider_level(error.kind) {
            return;
        }
        health.consecutive_failures += 1;
        if health.consecutive_failures < options.breaker_threshold {
            return;
        }
        health.trips += 1;
        if health.trips > 3 {
            let why = format!(
                "it kept failing after {} rests, the last: {}",
                health.trips - 1,
                error.message
            );
            progress.note(&format!(
                "{} is marked down and gets no more requests: {why}",
                record.provider
            ));
            health.down = Some((error.kind, why));
            return;
        }
        let rest = options.cool_down.saturating_mul(1 << (health.trips - 1));
        progress.note(&format!(
            "{}: {} requests in a row failed ({}); resting {} s before trying again",
            record.provider,
            health.consecutive_failures,
            error.message,
            rest.as_secs()
        ));
        health.resting_until = Some(tokio::time::Instant::now() + rest);
        // One more failure after the rest trips it again at once.
        health.consecutive_failures = options.breaker_threshold - 1;
    }
}

/// A sliding one-minute window of requests and tokens sent.
struct RateWindow {
    requests_per_minute: Option<u32>,
    tokens_per_minute: Option<u64>,
    sent: tokio::sync::Mutex<VecDeque<(tokio::time::Instant, u64)>>,
}

impl RateWindow {
    fn new(requests_per_minute: Option<u32>, tokens_per_minute: Option<u64>) -> RateWindow {
        RateWindow {
            requests_per_minute: requests_per_minute.filter(|n| *n > 0),
            tokens_per_minute: tokens_per_minute.filter(|n| *n > 0),
            sent: tokio::sync::Mutex::new(VecDeque::new()),
        }
    }

    /// Waits until sending `tokens` more keeps the last minute within the limits.
    /// Returns true when stopped meanwhile (nothing is then counted as sent).
    async fn admit(&self, tokens: u64, stop: &watch::Receiver<bool>) -> bool {
        if self.requests_per_minute.is_none() && self.tokens_per_minute.is_none() {
            return false;
        }
        const MINUTE: Duration = Duration::from_secs(60);
        loop {
            let wait = {
                let mut sent = self.sent.lock().await;
                let now = tokio::time::Instant::now();
                while sent.front().is_some_and(|(at, _)| now.duration_since(*at) >= MINUTE) {
                    sent.pop_front();
                }
                let requests_ok = self.requests_per_minute.is_none_or(|max| sent.len() < max as usize);
                let used: u64 = sent.iter().map(|(_, t)| t).sum();
                // A request larger than the whole allowance goes alone into an empty window.
                let tokens_ok = self
                    .tokens_per_minute
                    .is_none_or(|max| used + tokens <= max || sent.is_empty());
                if requests_ok && tokens_ok {
                    sent.push_back((now, tokens));
                    return false;
                }
                sent.front().map_or(Duration::from_millis(50), |(at, _)| {
                    MINUTE.saturating_sub(now.duration_since(*at))
                })
            };
            if sleep_or_stop(wait.max(Duration::from_millis(5)), stop).await {
                return true;
            }
        }
    }
}

/// The `--max-cost` budget: measured spend plus worst-case reservations for requests
/// in flight. A request that would not fit waits while others are in flight (they may
/// cost less than reserved); it is refused only when nothing in flight can free room.
struct Budget {
    limit: Option<f64>,
    state: Mutex<BudgetState>,
    settled: tokio::sync::Notify,
}

#[derive(Default)]
struct BudgetState {
    spent: f64,
    reserved: f64,
    /// Reservations not yet settled (counted, so "none in flight" is exact).
    in_flight: usize,
    exhausted: bool,
}

impl Budget {
    fn new(limit: Option<f64>) -> Budget {
        Budget {
            limit,
            state: Mutex::new(BudgetState::default()),
            settled: tokio::sync::Notify::new(),
        }
    }

    /// Reserves the worst-case cost of one request; false when it cannot fit. Free
    /// requests (providers without prices) always fit.
    async fn reserve(&self, worst_case: f64, stop: &watch::Receiver<bool>) -> bool {
        let Some(limit) = self.limit.filter(|_| worst_case > 0.0) else {
            return true;
        };
        loop {
            let notified = self.settled.notified();
            {
                let mut s = self.state.lock().expect("budget lock");
                if s.spent + s.reserved + worst_case <= limit {
                    s.reserved += worst_case;
                    s.in_flight += 1;
                    return true;
                }
                if s.in_flight == 0 || s.spent + worst_case > limit {
                    s.exhausted = true;
                    return false;
                }
            }
            let mut stopped = stop.clone();
            tokio::select! {
                _ = notified => {}
                                Ok(_) = stopped.wait_for(|s| *s) => return false,
            }
        }
    }

    /// Replaces a reservation by what was really spent.
    fn settle(&self, reserved: f64, spent: f64) {
        if self.limit.is_some() && reserved > 0.0 {
            let mut s = self.state.lock().expect("budget lock");
            s.reserved = (s.reserved - reserved).max(0.0);
            s.in_flight = s.in_flight.saturating_sub(1);
            s.spent += spent;
            drop(s);
            self.settled.notify_waiters();
        }
    }

    fn exhausted(&self) -> bool {
        self.state.lock().expect("budget lock").exhausted
    }
}

/// Everything a job needs, shared by all jobs of a run.
struct Ctx<'a> {
    files: &'a [SourceFile],
    reviewers: &'a [Reviewer],
    lanes: &'a [Lane],
    budget: &'a Budget,
    options: &'a Options,
    stop: watch::Receiver<bool>,
}

/// How asking ended.
enum Asked {
    /// The final answer or error, with the requests sent and the tokens of all answers.
    Finished(Result<Completion, ProviderError>, u32, Usage, Option<bool>),
    /// Stopped, or out of budget, before any usable outcome.
    Abandoned,
    /// The provider was marked down before this request could be sent.
    Down,
}

impl<'a> Ctx<'a> {
    async fn execute(&self, job: Job) -> (Job, Outcome) {
        let outcome = self.outcome(&job).await;
        (job, outcome)
    }

    async fn outcome(&self, job: &Job) -> Outcome {
        let lane = &self.lanes[job.reviewer];
        let reviewer = &self.reviewers[job.reviewer];
        let file = &self.files[job.file];
        let _active = lane.active.acquire().await.expect("lane semaphores are never closed");
        if *self.stop.borrow() {
            return Outcome::NotStarted;
        }
        if let Some((kind, why)) = lane.down() {
            return Outcome::Done(Box::new(skipped_record(file, reviewer, job, kind, &why)), None);
        }
        let started = Instant::now();
        let (result, attempts, usage, parsed) = match self.ask(job, reviewer, lane).await {
            Asked::Finished(result, attempts, usage, parsed) => (result, attempts, usage, parsed),
            Asked::Abandoned => return Outcome::NotStarted,
            Asked::Down => {
                let (kind, why) = lane.down().unwrap_or((ErrorKind::Server, "it failed".to_string()));
                return Outcome::Done(Box::new(skipped_record(file, reviewer, job, kind, &why)), None);
            }
        };
        let latency = started.elapsed();
        if self.too_long(&result, reviewer) {
            if let Some(parts) = chunk::split(&file.text, job.range) {
                return Outcome::Done(
                    Box::new(split_record(
                        file, reviewer, job, &result, usage, latency, attempts, parts,
                    )),
                    None,
                );
            }
        }
        Outcome::Done(
            Box::new(record(file, reviewer, job, result, usage, latency, attempts)),
            parsed,
        )
    }

    /// Whether the part was too long for the model: the server said the prompt does not
    /// fit, or the answer was cut off while writing findings. An answer cut off with
    /// little visible text means a reasoning model spent its budget thinking; smaller
    /// input would not help, so that is recorded as truncated instead.
    fn too_long(&self, result: &Result<Completion, ProviderError>, reviewer: &Reviewer) -> bool {
        match result {
            Err(e) => e.kind == ErrorKind::ContextOverflow,
            Ok(c) => {
                c.finish == FinishReason::Length
                    && chunk::estimate_tokens(&c.text) * 2 >= u64::from(reviewer.config.max_output_tokens)
            }
        }
    }

    /// Asks, retrying what may succeed later and re-asking once for unusable JSON.
    async fn ask(&self, job: &Job, reviewer: &Reviewer, lane: &Lane) -> Asked {
        let config = &reviewer.config;
        let mut request = Request {
            id: self.files[job.file].path.clone(),
            system: prompt::system_prompt(),
            user: user_prompt(&self.files[job.file], reviewer, job.range),
            schema: (config.structured_output != StructuredOutputMode::None).then(prompt::finding_schema),
            max_output_tokens: config.max_output_tokens,
            temperature: config.temperature,
            seed: Some(42),
        };
        let worst_case = reviewer.cost(job.input_tokens, u64::from(config.max_output_tokens));
        let mut usage = Usage::default();
        let (mut attempts, mut timeouts, mut rate_limited, mut reasked) = (0u32, 0u32, 0u32, false);
        let mut unusable_answer: Option<Completion> = None;
        loop {
            let stopped = lane.wait_until_open(&self.stop).await
                || lane
                    .window
                    .admit(job.input_tokens + reviewer.expected_output_tokens(), &self.stop)
                    .await;
            if stopped || !self.budget.reserve(worst_case, &self.stop).await {
                return match unusable_answer {
                    Some(answer) => Asked::Finished(Ok(answer), attempts, usage, Some(false)),
                    None => Asked::Abandoned,
                };
            }
            let Some(result) = lane.send(reviewer.provider.as_ref(), &request, &self.stop).await else {
                self.budget.settle(worst_case, 0.0);
                return match unusable_answer {
                    Some(answer) => Asked::Finished(Ok(answer), attempts, usage, Some(false)),
                    None if *self.stop.borrow() => Asked::Abandoned,
                    None => Asked::Down,
                };
            };
            attempts += 1;
            let spent = match &result {
                Ok(answer) => {
                    add_usage(&mut usage, answer.usage);
                    match (answer.usage.input_tokens, answer.usage.output_tokens) {
                        (None, None) => worst_case,
                        (i, o) => reviewer.cost(i.unwrap_or(0), o.unwrap_or(0)),
                    }
                }
                // The server may still generate (and bill) an answer we stopped waiting for.
                // (A 408 has a status: the server never took the request.)
                Err(e) if e.kind == ErrorKind::Timeout && e.status != Some(408) => worst_case,
                Err(_) => 0.0,
            };
            self.budget.settle(worst_case, spent);
            match result {
                Ok(answer) => {
                    let problem = match answer.finish {
                        FinishReason::Length | FinishReason::Filtered => None,
                        _ => crate::normalize::parse::parse_findings(&answer.text).err(),
                    };
                    match problem {
                        Some(why) if !reasked => {
                            reasked = true;
                            request.user = prompt::reask(&request.user, &why.to_string());
                            unusable_answer = Some(answer);
                        }
                        Some(_) => return Asked::Finished(Ok(answer), attempts, usage, Some(false)),
                        None => {
                            let parsed = !matches!(answer.finish, FinishReason::Length | FinishReason::Filtered);
                            return Asked::Finished(Ok(answer), attempts, usage, Some(parsed));
                        }
                    }
                }
                Err(err) => {
                    let seed = jitter_seed(&config.name, &request.id, job.range, attempts);
                    let retry = match err.kind {
                        ErrorKind::RateLimited => {
                            rate_limited += 1;
                            rate_limited <= self.options.rate_limit_retries
                        }
                        // A timeout is retried once: a model that is still loading gets
                        // a second chance, a server that hangs does not eat the run.
                        ErrorKind::Timeout => {
                            timeouts += 1;
                            timeouts <= 1 && attempts - rate_limited < config.max_attempts
                        }
                        kind => kind.is_retryable() && attempts - rate_limited < config.max_attempts,
                    };
                    if !retry {
                        return Asked::Finished(Err(err), attempts, usage, None);
                    }
                    let wait = self
                        .options
                        .backoff
                        .delay(attempts.min(rate_limited.max(1)), err.retry_after, seed);
                    if err.kind == ErrorKind::RateLimited {
                        lane.pause(wait);
                    } else if sleep_or_stop(wait, &self.stop).await {
                        return Asked::Abandoned;
                    }
                }
            }
        }
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

fn base_record(file: &SourceFile, config: &ProviderConfig, job: &Job) -> ResponseRecord {
    ResponseRecord {
        v: 1,
        provider: config.name.clone(),
        model: config.model.clone(),
        family: Some(config.family.clone()),
        file: file.path.clone(),
        content_hash: Some(file.content_hash.clone()),
        chunk: job.range,
        key: Some(job.key.clone()),
        cached: false,
        status: Status::Ok,
        text: None,
        reasoning: None,
        finish_reason: None,
        served_model: None,
        usage: Usage::default(),
        latency_ms: 0,
        attempts: 0,
        error: None,
        split_into: None,
        mac: None,
    }
}

fn record(
    file: &SourceFile,
    reviewer: &Reviewer,
    job: &Job,
    outcome: Result<Completion, ProviderError>,
    usage: Usage,
    latency: Duration,
    attempts: u32,
) -> ResponseRecord {
    let config = &reviewer.config;
    let mut rec = base_record(file, config, job);
    rec.latency_ms = latency.as_millis() as u64;
    rec.attempts = attempts;
    rec.usage = usage;
    match outcome {
        Ok(done) => {
            rec.text = Some(done.text);
            rec.reasoning = done.reasoning;
            rec.finish_reason = Some(done.finish);
            rec.served_model = done.model.filter(|m| !same_model(&config.model, m));
        }
        Err(err) => {
            rec.status = Status::Error;
            rec.error = Some(RecordedError {
                kind: err.kind,
                status: err.status,
                message: err.message,
            });
        }
    }
    rec
}

/// The record of a part that was too long: why, what it cost, and the two parts that
/// replace it.
#[allow(clippy::too_many_arguments)]
fn split_record(
    file: &SourceFile,
    reviewer: &Reviewer,
    job: &Job,
    result: &Result<Completion, ProviderError>,
    usage: Usage,
    latency: Duration,
    attempts: u32,
    parts: [LineRange; 2],
) -> ResponseRecord {
    let mut rec = base_record(file, &reviewer.config, job);
    rec.status = Status::Split;
    rec.usage = usage;
    rec.latency_ms = latency.as_millis() as u64;
    rec.attempts = attempts;
    let why = match result {
        Err(e) => e.message.clone(),
        Ok(_) => format!(
            "the answer was cut off at max_output_tokens = {} while listing findings",
            reviewer.config.max_output_tokens
        ),
    };
    rec.error = Some(RecordedError {
        kind: ErrorKind::ContextOverflow,
        status: result.as_ref().err().and_then(|e| e.status),
        message: format!(
            "too long for the model ({why}); reviewed as lines {}-{} and {}-{}",
            parts[0].start_line, parts[0].end_line, parts[1].start_line, parts[1].end_line
        ),
    });
    rec.split_into = Some(parts.to_vec());
    rec
}

fn skipped_record(file: &SourceFile, reviewer: &Reviewer, job: &Job, kind: ErrorKind, why: &str) -> ResponseRecord {
    let mut rec = base_record(file, &reviewer.config, job);
    rec.status = Status::Skipped;
    rec.error = Some(RecordedError {
        kind,
        status: None,
        message: format!("not sent: {} was marked down because {why}", reviewer.config.name),
    });
    rec
}

/// Whether the model a server says answered is the one asked for. Servers name the
/// same model differently: OpenAI answers `gpt-4.1-mini-2025-04-14` for `gpt-4.1-mini`,
/// Gemini `models/gemini-2.5-flash`, Ollama `gemma3:12b` for `gemma3:12b`. LM Studio
/// answers with whatever is loaded, which is a different model altogether.
pub fn same_model(requested: &str, served: &str) -> bool {
    let norm = |m: &str| {
        let mut m = m.trim().to_ascii_lowercase();
        if let Some(rest) = m.strip_prefix("models/") {
            m = rest.to_string();
        }
        // `-latest`, `:latest`, OpenRouter's `:free`, and Anthropic's `-0` (as in
        // `claude-sonnet-4-0`) name the current build of a model.
        for alias in [":latest", "-latest", ":free", "-0"] {
            if let Some(rest) = m.strip_suffix(alias) {
                m = rest.to_string();
            }
        }
        m
    };
    let (requested, served) = (norm(requested), norm(served));
    if served.is_empty() {
        return false;
    }
    // One name is the other plus only a dated or numbered build: `-2025-04-14`,
    // `-20250929`, `-0613`, `-002`. A first group of fewer than 3 digits is a model
    // version (`claude-sonnet-4` vs `-4-5`), and a suffix with letters another model.
    let version_only = |long: &str, short: &str| {
        long.strip_prefix(short).is_some_and(|rest| {
            let groups: Vec<&str> = rest
                .strip_prefix('-')
                .map(|r| r.split('-').collect())
                .unwrap_or_default();
            rest.is_empty()
                || (groups.first().is_some_and(|g| g.len() >= 3)
                    && groups
                        .iter()
                        .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit())))
        })
    };
    version_only(&served, &requested) || version_only(&requested, &served)
}

/// A cheap, deterministic per-job number for jitter.
fn jitter_seed(provider: &str, file: &str, range: Option<LineRange>, attempt: u32) -> u64 {
    let digest = crate::hash::sha256_hex(format!("{provider}\0{file}\0{range:?}\0{attempt}").as_bytes());
    u64::from_str_radix(&digest[..12], 16).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_prefers_retry_after_and_grows_otherwise() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, Some(Duration::from_secs(7)), 0), Duration::from_secs(7));
        let jittered = b.delay(1, Some(Duration::from_secs(10)), 999);
        assert!(
            jittered > Duration::from_secs(10) && jittered <= Duration::from_secs(12),
            "{jittered:?}"
        );
        assert_eq!(b.delay(1, Some(Duration::from_secs(3600)), 0), Duration::from_secs(60));
        assert_eq!(b.delay(1, None, 0), Duration::from_secs(1));
        assert_eq!(b.delay(3, None, 0), Duration::from_secs(4));
        assert!(b.delay(3, None, 999) < Duration::from_secs(6));
        assert_eq!(b.delay(30, None, 0), Duration::from_secs(60));
    }

    #[test]
    fn served_model_names_that_mean_the_same_model() {
        assert!(same_model("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"));
        assert!(same_model("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"));
        assert!(same_model("gemma3:12b", "gemma3:12b"));
        assert!(same_model("llama3.1", "llama3.1:latest"));
        assert!(
            !same_model("gpt-4o", "gpt-4o-mini-2024-07-18"),
            "a different model that shares a prefix"
        );
        assert!(!same_model("gpt-4.1-mini", "gpt-4"));
        assert!(!same_model("llama3.1", "llama3.1:70b"));
        assert!(same_model("gpt-4", "gpt-4-0613"));
        assert!(same_model("grok-4", "grok-4-0709"));
        assert!(same_model("gemini-1.5-flash", "gemini-1.5-flash-002"));
        assert!(same_model("x/y-instruct:free", "x/y-instruct"));
        assert!(!same_model("gpt-4", "gpt-4.1"));
        assert!(!same_model("claude-sonnet-4", "claude-sonnet-4-5-20250929"));
        assert!(!same_model("claude-opus-4", "claude-opus-4-1-20250805"));
        assert!(same_model("claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219"));
        assert!(same_model("o3-mini", "o3-mini-2025-01-31"));
        assert!(!same_model("x/y:thinking", "x/y"));
        assert!(same_model("claude-sonnet-4-0", "claude-sonnet-4-20250514"));
        assert!(same_model("claude-opus-4-0", "claude-opus-4-20250514"));
        assert!(same_model("gemini-2.5-flash", "models/gemini-2.5-flash"));
        assert!(same_model("google/gemma-3-12b", "google/gemma-3-12b"));
        assert!(!same_model("qwen/qwen3-coder-30b", "google/gemma-3-12b"));
        assert!(!same_model("gpt-4.1", ""));
    }

    #[tokio::test(start_paused = true)]
    async fn budget_waits_for_requests_in_flight_and_refuses_only_what_cannot_fit() {
        let (_tx, stop) = watch::channel(false);
        let b = std::sync::Arc::new(Budget::new(Some(1.0)));
        assert!(b.reserve(0.6, &stop).await);
        // 0.6 reserved + 0.6 > 1.0: waits until the first request settles.
        let waiter = tokio::spawn({
            let b = b.clone();
            {
                let stop = stop.clone();
                async move { b.reserve(0.6, &stop).await }
            }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "waits while a request is in flight");
        b.settle(0.6, 0.2);
        assert!(waiter.await.unwrap(), "0.2 spent + 0.6 fits");
        b.settle(0.6, 0.6);
        assert!(!b.reserve(0.6, &stop).await, "0.8 spent + 0.6 can never fit");
        assert!(b.exhausted());
        assert!(b.reserve(0.0, &stop).await, "free requests always fit");
        assert!(Budget::new(None).reserve(1e9, &stop).await);
    }

    #[tokio::test(start_paused = true)]
    async fn rate_window_spaces_requests_to_the_limit() {
        let w = RateWindow::new(Some(2), None);
        let (_tx, stop) = watch::channel(false);
        let start = tokio::time::Instant::now();
        for _ in 0..5 {
            assert!(!w.admit(1, &stop).await);
        }
        // 2 at once, 2 after a minute, 1 after two minutes (virtual time).
        let waited = tokio::time::Instant::now() - start;
        assert!(
            waited >= Duration::from_secs(120) && waited < Duration::from_secs(121),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_ends_the_wait_for_the_rate_window() {
        let w = RateWindow::new(Some(1), None);
        let (tx, stop) = watch::channel(false);
        assert!(!w.admit(1, &stop).await);
        let waiting = tokio::spawn(async move { w.admit(1, &stop).await });
        tokio::time::sleep(Duration::from_secs(5)).await;
        tx.send(true).unwrap();
        assert!(waiting.await.unwrap(), "stopped, not sent");
    }
}
