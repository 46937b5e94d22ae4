//! ① What is sent: the files Quorum may read ([`walk`]), how a file too large for a
//! model's window is cut ([`chunk`]), and the words every model receives ([`prompt`]).

pub mod chunk;
pub mod prompt;
pub mod walk;
