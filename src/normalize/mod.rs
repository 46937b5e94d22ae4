//! ③ From what a model said to findings: [`parse`] reads an answer however the model
//! chose to write it; [`finding`] turns each raw finding into the one schema, in the
//! severity and category vocabulary of `vocabulary` (re-exported by [`finding`]).

pub mod finding;
pub mod parse;
mod vocabulary;
