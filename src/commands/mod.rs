//! The commands behind the CLI, one file each: `init`, `review`, `aggregate`, `compare`, `eval`,
//! `providers`, `trust`, `suppress`, `completions` and `man`.
//!
//! Each is a short sequence of the pipeline's stages. `review` ends by running exactly
//! what `aggregate` runs, from the files it just wrote, so the two cannot disagree.

mod aggregate;
mod cache_location;
mod check;
mod compare;
mod completions;
mod eval;
mod finish;
mod gate;
mod init;
mod man;
mod out_dir;
mod paths;
mod providers;
mod review;
mod shard;
mod stdout_report;
mod suppress;
mod terminal;
mod trust;

pub use aggregate::aggregate;
pub use compare::{compare, CompareFormat};
pub use completions::completions;
pub use eval::eval;
pub use finish::{Finished, ReportOptions};
pub use gate::{parse_severity, Gate, Outcome};
pub use init::init;
pub use man::{man_page, write_man_pages};
pub use providers::{providers_check, providers_list, ProviderChecks};
pub use review::{review, ReviewOptions, Reviewed};
pub use shard::Shard;
pub use stdout_report::StdoutReport;
pub use suppress::{suppress, SuppressOptions};
pub use terminal::{print_stdout, println_stdout, table_width};
pub use trust::{forget, trust};
