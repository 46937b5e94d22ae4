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

/// Writes `text` to stdout as it is (`print!`). A reader that went away
/// (`quorum … | head -1`) is no error and no panic: what is left of the output goes
/// nowhere, and the command goes on to its end, so that its messages on stderr, what it
/// records and its exit status are what they would have been.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written.context("cannot write to stdout"),
    }
}

/// [`print_stdout`] with a line break after `text` (`println!`).
pub fn println_stdout(text: &str) -> anyhow::Result<()> {
    print_stdout(&format!("{text}\n"))
}
