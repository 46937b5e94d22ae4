//! Quorum: review a codebase with several language models at once and report the
//! problems they independently agree on.
//!
//! The pipeline, each stage a folder of plain functions over plain data (see
//! ARCHITECTURE.md):
//! [`config`] → [`input`] (walk, chunk, prompt) → [`engine`] (providers, [`store`]) →
//! [`normalize`] (parse, finding) → [`checks`] → [`consensus`] (cluster, rank) → [`judge`] (a strong model confirms or rejects the top issues) → [`triage`] (suppressions,
//! baseline) → [`report`].
//! [`analysis`] runs everything after the store, for `review` and `aggregate` alike;
//! [`commands`] holds one file per command, [`eval`] scores a run against known truth.

pub mod analysis;
pub mod checks;
pub mod commands;
pub mod config;
pub mod consensus;
pub mod engine;
pub mod eval;
pub mod hash;
pub mod input;
pub mod judge;
pub mod normalize;
pub mod related;
pub mod report;
pub mod sanitize;
pub mod store;
pub mod triage;
