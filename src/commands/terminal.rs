//! What the commands print to the terminal: stdout written so that a reader that went
//! away is no error, and tables drawn at a width that suits where they go.

use std::io::{IsTerminal, Write};

use anyhow::Context;

/// The width tables are drawn at when stdout is not a terminal (piped into a file or a
/// pager): wide enough to read, fixed so the output does not depend on the caller.
const PIPED_TABLE_WIDTH: u16 = 120;

/// The width to draw tables at: the terminal's, or a readable default when piped.
pub fn table_width() -> Option<u16> {
    if std::io::stdout().is_terminal() {
        None
    } else {
        Some(PIPED_TABLE_WIDTH)
    }
}

/// Stdout was closed by its reader (`quorum … | head -1`): the output ends there, quietly.
/// Returned as an error so that it stops the command; `main` exits on it without a word.
#[derive(Debug)]
pub struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// Writes `text` to stdout as it is (`print!`), but a closed pipe ends the command with
/// [`StdoutClosed`] instead of the panic `print!` gives.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        written => written.context("cannot write to stdout"),
    }
}

/// [`print_stdout`] with a line break after `text` (`println!`).
pub fn println_stdout(text: &str) -> anyhow::Result<()> {
    print_stdout(&format!("{text}\n"))
}
