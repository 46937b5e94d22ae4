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
//!
//! The stages, in the order a job meets them:
//! - [`plan`]: the jobs, from the files and the reviewers' context windows;
//! - `run`: the run loop, which keeps every lane busy and gathers the outcomes;
//! - `dispatch`: per job, already answered, answered from the cache, split, or to send;
//! - `execute` and `ask`: one job, from its lane's slot to its record, with retries;
//! - `lane`, `limit`, `rate`, `budget`: a provider's health and concurrency (adapted to
//!   what its server takes), its requests and tokens per minute, and the `--max-cost`
//!   budget over all providers;
//! - `record`: the records appended to the store;
//! - [`preflight`]: the cheap checks a review runs before sending any code.

pub mod backend;
pub mod cache;
pub mod preflight;
pub mod progress;
pub mod replay;

mod ask;
mod budget;
mod dispatch;
mod execute;
mod lane;
mod limit;
mod options;
mod plan;
mod question;
mod rate;
mod record;
mod reviewer;
mod run;
mod wait;

pub use budget::unpriced_warning;
pub use dispatch::requests_left;
pub use options::{Backoff, Options};
pub use plan::{plan, Job};
pub use progress::Progress;
pub use question::{question_job, Question};
pub use reviewer::Reviewer;
pub use run::{run, RunInputs, Summary};

// Numbers that src/commands still spells out: the probe of `providers check` uses the
// same seed, and the `--dry-run` text states the output estimate's cap.
pub(crate) use ask::REQUEST_SEED;
pub(crate) use reviewer::EXPECTED_OUTPUT_TOKENS_CAP;

#[cfg(test)]
mod tests;
