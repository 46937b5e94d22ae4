//! ① What is sent: the files Quorum may read ([`walk`]), how a file too large for a
//! model's window is cut ([`chunk`]), and the words every model receives ([`prompt`]).

pub mod changes;
pub mod chunk;
pub(crate) mod git;
pub mod prompt;
pub mod walk;
