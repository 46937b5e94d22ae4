//! Quorum: review a codebase with several language models at once and report the
//! problems they independently agree on.
//!
//! The pipeline, each stage a plain function over plain data:
//! [`config`] → [`walk`] → [`prompt`] → [`engine`] (providers, [`store`]) →
//! [`parse`] → [`finding`] (normalize) → [`consensus`] (cluster, rank) → [`report`].
//! [`analysis`] runs everything after the store, for `review` and `aggregate` alike.

pub mod analysis;
pub mod backend;
pub mod cache;
pub mod check;
pub mod checks;
pub mod chunk;
pub mod commands;
pub mod config;
pub mod consensus;
pub mod engine;
pub mod eval;
pub mod finding;
pub mod hash;
pub mod html;
pub mod parse;
pub mod progress;
pub mod prompt;
pub mod replay;
pub mod report;
pub mod sarif;
pub mod seal;
pub mod store;
pub mod trust;
pub mod walk;
