//! How the engine behaves: retries, the circuit breaker, the budget, the stop grace.

use std::time::Duration;

/// A jitter seed is reduced to this many steps between 0 and 1.
const JITTER_STEPS: u64 = 1000;

/// Waiting up to this share longer than a `Retry-After` asks, so that parallel jobs do
/// not all return at the same instant.
const RETRY_AFTER_JITTER: f64 = 0.2;

/// Waiting up to this share longer than the exponential backoff, so that parallel jobs
/// do not retry in lockstep.
const BACKOFF_JITTER: f64 = 0.5;

/// The backoff stops doubling after this many doublings (the cap is reached long
/// before; this only keeps the shift from overflowing).
const MAX_DOUBLINGS: u32 = 16;

/// The first wait before a retry: long enough for a brief overload to pass.
const DEFAULT_BACKOFF_BASE: Duration = Duration::from_secs(1);

/// The longest wait before a retry, even when a server asks for more: a run of hours
/// should not sit idle on one `Retry-After`; a lane that is still refused waits again.
const DEFAULT_BACKOFF_CAP: Duration = Duration::from_secs(60);

/// Provider-level failures in a row that make a provider rest: a few can be bad luck,
/// five say the server is in trouble.
const DEFAULT_BREAKER_THRESHOLD: u32 = 5;

/// The first rest: long enough for a local server to restart or load a model.
const DEFAULT_COOL_DOWN: Duration = Duration::from_secs(15);

/// Rate-limited retries of one request: with the lane paused and the backoff capped
/// these span several minutes, enough for a per-minute limit to clear.
const DEFAULT_RATE_LIMIT_RETRIES: u32 = 8;

/// After a stop request, how long the requests in flight may finish: most answers come
/// within it, and a user who pressed Ctrl-C does not wait much longer.
const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// How long to wait between attempts when the server does not say.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: DEFAULT_BACKOFF_BASE,
            cap: DEFAULT_BACKOFF_CAP,
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempt + 1` (attempt counts from 1): the server's
    /// `Retry-After` when given (plus up to 20%, capped), else `base · 2^(attempt-1)` plus
    /// up to 50%, so that parallel jobs do not retry in lockstep.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter_seed: u64) -> Duration {
        let fraction = (jitter_seed % JITTER_STEPS) as f64 / JITTER_STEPS as f64;
        if let Some(wait) = retry_after {
            return (wait + wait.mul_f64(RETRY_AFTER_JITTER * fraction)).min(self.cap);
        }
        let exp = self
            .base
            .saturating_mul(1u32 << (attempt.max(1) - 1).min(MAX_DOUBLINGS));
        (exp + exp.mul_f64(BACKOFF_JITTER * fraction)).min(self.cap)
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
            breaker_threshold: DEFAULT_BREAKER_THRESHOLD,
            cool_down: DEFAULT_COOL_DOWN,
            rate_limit_retries: DEFAULT_RATE_LIMIT_RETRIES,
            max_cost_usd: None,
            grace: DEFAULT_GRACE,
        }
    }
}
