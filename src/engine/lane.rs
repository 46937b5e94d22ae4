//! A provider's lane: its concurrency (adaptive), its rate window, a pause that a 429
//! sets for the whole lane, and its health (rests after repeated failures, marked down
//! for good after a fatal one or too many rests).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use providers::{same_model, Completion, ErrorKind, Provider, ProviderError, Request};
use tokio::sync::{watch, Semaphore};

use crate::config::ProviderKind;
use crate::engine::ask::log_request;
use crate::engine::limit::{Change, Limit};
use crate::engine::preflight::refused;
use crate::engine::rate::RateWindow;
use crate::engine::wait::sleep_or_stop;
use crate::engine::{Options, Progress, Reviewer};
use crate::store::{ResponseRecord, Status};

/// Jobs a lane works on at once, per concurrency slot: a job waiting to retry, or for
/// its rate window, holds no slot, so a second job per slot keeps the slots busy while
/// still bounding the prompts held in memory.
const ACTIVE_JOBS_PER_SLOT: usize = 2;

/// Rests a provider may take after repeated failures; the next trip marks it down for
/// the rest of the run: the rests double from `cool_down`, and a provider still failing
/// after minutes of them is not expected back during this run.
const MAX_RESTS: u32 = 3;

/// Refused connections in a row (across jobs) that mark a provider down: nothing is
/// listening, and resting and retrying each file would only spend minutes learning so.
/// Two, so that one refusal while a server restarts is not fatal on its own.
const REFUSALS_TO_DOWN: u32 = 2;

/// Answers in a row from another model than the one configured that mark a provider down: each
/// is paid for and thrown away, and a server that serves another model (LM Studio
/// answers with whatever is loaded) will go on doing so.
const WRONG_MODEL_ANSWERS_TO_DOWN: u32 = 2;

/// A provider's lane: its limits and its health.
///
/// Its concurrency adapts (see [`Limit`]): a 429 gives up one slot (taken out of
/// circulation when the next request in flight finishes), and rounds of successes give
/// them back, up to the configured `max_concurrency` but not again up to where the
/// server refused, until that is old. A provider configured above what its server can
/// take thus settles at what the server can take, instead of failing requests.
pub(super) struct Lane {
    /// Replayed answers: a missing one is about one file, not the provider.
    replay: bool,
    /// The provider's name, for the request log.
    name: String,
    /// The model configured, which every answer should come from.
    model: String,
    /// Jobs being worked on (in flight, or waiting to retry): bounds the prompts held in
    /// memory and keeps jobs in order.
    pub(super) active: Semaphore,
    slots: Semaphore,
    /// How many slots should be in circulation.
    limit: Mutex<Limit>,
    /// Requests sent and not yet answered.
    in_flight: AtomicUsize,
    /// Slots to take out of circulation as requests finish.
    to_retire: AtomicUsize,
    pub(super) window: RateWindow,
    /// While a server says "too many requests", every job of the lane waits.
    paused_until: Mutex<Option<tokio::time::Instant>>,
    health: Mutex<Health>,
}

/// Why a provider was marked down.
#[derive(Debug, Clone)]
pub(super) struct Down {
    /// The error that decided it.
    pub(super) kind: ErrorKind,
    /// Said to the user and recorded for every job the provider gets no more.
    pub(super) why: String,
}

#[derive(Default)]
struct Health {
    consecutive_failures: u32,
    /// Connections refused in a row, whatever job asked.
    refusals: u32,
    /// Answers from another model than the one configured.
    wrong_models: u32,
    trips: u32,
    /// Resting after repeated failures: no request before this instant.
    resting_until: Option<tokio::time::Instant>,
    /// Marked down for the rest of the run, and why.
    down: Option<Down>,
    /// Whether the user was told it is down.
    announced: bool,
}

/// Failures that say something about the provider, not about one file.
fn provider_level(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Server)
}

impl Lane {
    pub(super) fn new(reviewer: &Reviewer) -> Lane {
        Lane {
            replay: reviewer.config.kind == ProviderKind::Replay,
            name: reviewer.config.name.clone(),
            model: reviewer.config.model.clone(),
            active: Semaphore::new(reviewer.config.max_concurrency * ACTIVE_JOBS_PER_SLOT),
            slots: Semaphore::new(reviewer.config.max_concurrency),
            limit: Mutex::new(Limit::new(reviewer.config.max_concurrency)),
            in_flight: AtomicUsize::new(0),
            to_retire: AtomicUsize::new(0),
            window: RateWindow::new(reviewer.config.requests_per_minute, reviewer.config.tokens_per_minute),
            paused_until: Mutex::new(None),
            health: Mutex::new(Health::default()),
        }
    }

    pub(super) fn down(&self) -> Option<Down> {
        self.health.lock().expect("health lock").down.clone()
    }

    /// Waits out a rate-limit pause or a rest. Returns true when stopped meanwhile.
    pub(super) async fn wait_until_open(&self, stop: &watch::Receiver<bool>) -> bool {
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
    pub(super) async fn send(
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
        let in_flight = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let sent = tokio::time::Instant::now();
        let result = provider.complete(request).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        log_request(&self.name, request, &result, sent.elapsed());
        let now = tokio::time::Instant::now();
        match &result {
            Err(e) if e.kind == ErrorKind::RateLimited => self.adapt(|l| l.rate_limited(in_flight, now)),
            Ok(_) => self.adapt(|l| l.succeeded(now)),
            Err(_) => {}
        }
        // Decided before the slot is released, so no request waiting for it is sent.
        self.judge(&result);
        let retire = self
            .to_retire
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if retire {
            slot.forget();
        }
        Some(result)
    }

    /// Marks the lane down on an answer every later request would repeat: a fatal
    /// error, the last of [`REFUSALS_TO_DOWN`] refused connections in a row, or the last
    /// of [`WRONG_MODEL_ANSWERS_TO_DOWN`] answers in a row from another model.
    fn judge(&self, result: &Result<Completion, ProviderError>) {
        let mut health = self.health.lock().expect("health lock");
        if health.down.is_some() {
            return;
        }
        let down = match result {
            Err(e) if self.is_fatal(e.kind) => Some(Down {
                kind: e.kind,
                why: format!("its last request failed: {}", e.message),
            }),
            Err(e) if refused(e) => {
                health.refusals += 1;
                (health.refusals >= REFUSALS_TO_DOWN).then(|| Down {
                    kind: e.kind,
                    why: format!("{} connections in a row were refused: {}", health.refusals, e.message),
                })
            }
            Ok(answer) => {
                health.refusals = 0;
                match answer
                    .model
                    .as_deref()
                    // A recording names the model per answer: one mismatch is one file's.
                    .filter(|served| !self.replay && !same_model(&self.model, served))
                {
                    Some(served) => {
                        health.wrong_models += 1;
                        (health.wrong_models >= WRONG_MODEL_ANSWERS_TO_DOWN).then(|| Down {
                            kind: ErrorKind::NotFound,
                            why: format!(
                                "{} answers came from {served:?}, not from the model asked for, {:?} (none is \
                                 counted): load {:?} on the server, or set model to the one it serves",
                                health.wrong_models, self.model, self.model
                            ),
                        })
                    }
                    None => {
                        // Only answers from another model in a row mark it down: a
                        // server that mostly serves the model is not broken.
                        health.wrong_models = 0;
                        None
                    }
                }
            }
            Err(_) => {
                health.refusals = 0;
                None
            }
        };
        health.down = down;
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

    /// Puts slots in or out of circulation as the limit says.
    fn adapt(&self, decide: impl FnOnce(&mut Limit) -> Change) {
        let change = decide(&mut self.limit.lock().expect("limit lock"));
        match change {
            Change::Keep => {}
            Change::Retire => {
                self.to_retire.fetch_add(1, Ordering::SeqCst);
            }
            // A slot still waiting to be retired is simply kept; otherwise add one.
            Change::Add => {
                if self
                    .to_retire
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_err()
                {
                    self.slots.add_permits(1);
                }
            }
        }
    }

    /// Pauses the whole lane: the server said too many requests.
    pub(super) fn pause(&self, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut paused = self.paused_until.lock().expect("pause lock");
        *paused = Some(paused.map_or(until, |p| p.max(until)));
    }

    /// Updates health from a final outcome. A rejected key, an exhausted quota or a
    /// missing model marks the provider down at once: every later request would fail
    /// the same way. Repeated provider-level failures make it rest, then probe again;
    /// after three rests it is marked down. Failures about one file do not count.
    pub(super) fn observe(&self, record: &ResponseRecord, options: &Options, progress: &mut dyn Progress) {
        let mut health = self.health.lock().expect("health lock");
        if let Some(down) = &health.down {
            // Marked down by `send` already; say so once.
            if !health.announced {
                let why = down.why.clone();
                health.announced = true;
                progress.note(&format!(
                    "{} is marked down and gets no more requests: {why}",
                    record.provider
                ));
            }
            return;
        }
        if record.status == Status::Ok {
            health.consecutive_failures = 0;
            return;
        }
        let Some(error) = record.error.as_ref().filter(|_| record.status == Status::Error) else {
            return;
        };
        if !provider_level(error.kind) {
            return;
        }
        health.consecutive_failures += 1;
        if health.consecutive_failures < options.breaker_threshold {
            return;
        }
        health.trips += 1;
        if health.trips > MAX_RESTS {
            let why = format!(
                "it kept failing after {} rests, the last: {}",
                health.trips - 1,
                error.message
            );
            progress.note(&format!(
                "{} is marked down and gets no more requests: {why}",
                record.provider
            ));
            health.down = Some(Down { kind: error.kind, why });
            health.announced = true;
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
