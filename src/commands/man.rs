//! `quorum man [--out DIR]`: manual pages in roff, generated from the command line's
//! definition. Without `--out`, the page of `quorum` itself (which lists the
//! subcommands) goes to stdout, for `quorum man | man -l -`; with it, one page per
//! command (`quorum.1`, `quorum-review.1`, `quorum-providers-check.1`, …) is written
//! into DIR, for a `man1` folder on `MANPATH`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap_mangen::Man;

/// The page of `cmd` (`Cli::command()`) as roff.
pub fn man_page(cmd: clap::Command) -> Result<String> {
    render(&Man::new(prepared(cmd)))
}

/// Writes one page per command of `cmd` into `dir` (made if missing); returns the
/// files written, `quorum.1` first.
pub fn write_man_pages(cmd: clap::Command, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    write_tree(&prepared(cmd), dir, &mut written)?;
    Ok(written)
}

/// Writes the page of `cmd`, then those of its subcommands.
fn write_tree(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    let man = Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    crate::store::write_atomically(&path, render(&man)?.as_bytes())?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_tree(sub, dir, written)?;
    }
    Ok(())
}

/// `cmd` built, so that each subcommand's name is its full one (`quorum-review`),
/// without `help`: not a command worth a page.
fn prepared(cmd: clap::Command) -> clap::Command {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn render(man: &Man) -> Result<String> {
    let mut roff = Vec::new();
    man.render(&mut roff).context("cannot render the manual page")?;
    String::from_utf8(roff).context("the manual page is not UTF-8")
}
