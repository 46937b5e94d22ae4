//! What the commands print to the terminal: stdout written so that a reader that went
//! away is no error, and tables drawn at a width that suits where they go.

use std::io::{IsTerminal, Write};

use anyhow::Context;

/// The width tables are drawn at when stdout is not a terminal (piped into a file or a
/// pager) and `COLUMNS` says nothing: wide enough to read, fixed so the output does not
/// depend on the caller.
const PIPED_TABLE_WIDTH: u16 = 120;

/// The variable that sets the width of tables written to a pipe or a file, as `ls` and
/// Python's tools read it: `COLUMNS=200 quorum review … | less -S`.
const COLUMNS_VAR: &str = "COLUMNS";

/// Narrower than this, `COLUMNS` is taken for a mistake and ignored.
const MIN_COLUMNS: u16 = 40;

/// The width to draw tables at: the terminal's when stdout is one (comfy-table asks the
/// terminal, so a resized window is measured anew); else `COLUMNS` when it holds a
/// width, else 120. A terminal's own size wins over `COLUMNS` there: the shell's value
/// is stale after a resize, and bash does not export it anyway.
pub fn table_width() -> Option<u16> {
    let terminal = std::io::stdout()
        .is_terminal()
        .then(|| comfy_table::Table::new().width())
        .flatten();
    Some(terminal.unwrap_or_else(|| piped_width(std::env::var(COLUMNS_VAR).ok().as_deref())))
}

/// The width for a pipe or a file, given `COLUMNS`.
fn piped_width(columns: Option<&str>) -> u16 {
    columns
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&c| c >= MIN_COLUMNS)
        .unwrap_or(PIPED_TABLE_WIDTH)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_sets_the_piped_width_when_it_is_a_sensible_width() {
        assert_eq!(piped_width(None), PIPED_TABLE_WIDTH);
        assert_eq!(piped_width(Some("200")), 200);
        assert_eq!(piped_width(Some(" 90 ")), 90);
        for ignored in ["", "wide", "0", "12", "-80", "99999"] {
            assert_eq!(piped_width(Some(ignored)), PIPED_TABLE_WIDTH, "{ignored:?}");
        }
    }
}
