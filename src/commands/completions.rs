//! `quorum completions SHELL`: the shell's completion script, generated from the
//! command line's definition (so it knows every subcommand and flag of this build).

use anyhow::{Context, Result};
use clap_complete::Shell;

/// The name the script completes: the installed binary's.
const BIN_NAME: &str = "quorum";

/// The completion script of `shell` for `cmd` (`Cli::command()`).
pub fn completions(mut cmd: clap::Command, shell: Shell) -> Result<String> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN_NAME, &mut script);
    String::from_utf8(script).context("the completion script is not UTF-8")
}
