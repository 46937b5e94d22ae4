//! The `quorum` command line: a thin layer over `quorum::commands`.
//!
//! Exit codes have one meaning each, as in ripgrep: 0 the command did its job (a review
//! that found issues still succeeded), 1 there was nothing to review or no model could
//! review anything, 2 an error stopped the command (bad configuration, bad arguments,
//! unreadable input). Errors go to stderr with their full chain of context.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use quorum::commands::{self, Outcome, ReviewOptions};
use quorum::report::{self, Format};

#[derive(Parser)]
#[command(
    name = "quorum",
    version,
    about = "Review a codebase with several language models at once and report the problems they independently agree on"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a commented quorum.toml (LM Studio with two local models) to start from.
    Init {
        /// Where to write it.
        #[arg(default_value = "quorum.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Send every file to every configured model and print the ranked consensus.
    Review {
        /// The folder (or single file) to review.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The configuration file [default: ./quorum.toml].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Where the answers and reports are written.
        #[arg(long, value_name = "DIR", default_value = "quorum-report")]
        out: PathBuf,
        /// Only use this provider (repeatable).
        #[arg(long = "provider", value_name = "NAME")]
        providers: Vec<String>,
        /// Report files to write: md, json, or md,json.
        #[arg(long, default_value = "md,json")]
        format: String,
        /// Print no table and no progress.
        #[arg(long, short)]
        quiet: bool,
        /// Ask every model again even if an answer is cached (the cache arrives in a later release; accepted now).
        #[arg(long)]
        no_cache: bool,
    },
    /// See the configured providers, or check that each one works.
    Providers {
        #[command(subcommand)]
        action: ProvidersAction,
    },
    /// Rebuild every report from OUT_DIR/responses.jsonl, without calling any model.
    Aggregate {
        /// A review's --out folder.
        out_dir: PathBuf,
        /// Report files to write: md, json, or md,json.
        #[arg(long, default_value = "md,json")]
        format: String,
        /// Print no table.
        #[arg(long, short)]
        quiet: bool,
    },
}

#[derive(Subcommand)]
enum ProvidersAction {
    /// Show every provider with presets applied (keys are never shown).
    List {
        /// The configuration file [default: ./quorum.toml].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Check each provider: reachable, key accepted, model present, context window,
    /// structured output accepted, latency. Exits 1 if any provider is unusable.
    Check {
        /// The configuration file [default: ./quorum.toml].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Only check this provider (repeatable).
        #[arg(long = "provider", value_name = "NAME")]
        providers: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init { path, force } => {
            commands::init(&path, force)?;
            eprintln!(
                "Wrote {}. Edit the providers, then run `quorum review`.",
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Review {
            path,
            config,
            out,
            providers,
            format,
            quiet,
            no_cache: _,
        } => {
            let opts = ReviewOptions {
                root: path,
                config,
                out,
                providers,
                formats: Format::parse_list(&format)?,
                quiet,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let outcome = runtime.block_on(commands::review(&opts))?;
            Ok(conclude(&outcome, quiet))
        }
        Command::Providers {
            action: ProvidersAction::List { config },
        } => {
            print!("{}", commands::providers_list(config.as_deref())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Providers {
            action: ProvidersAction::Check { config, providers },
        } => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let (table, problems, all_usable) =
                runtime.block_on(commands::providers_check(config.as_deref(), &providers))?;
            println!("{table}");
            for problem in problems {
                eprintln!("{problem}");
            }
            Ok(if all_usable {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Aggregate { out_dir, format, quiet } => {
            let outcome = commands::aggregate(&out_dir, &Format::parse_list(&format)?)?;
            Ok(conclude(&outcome, quiet))
        }
    }
}

/// Prints the table and a summary; picks the exit code.
fn conclude(outcome: &Outcome, quiet: bool) -> ExitCode {
    let a = &outcome.analysis;
    if !quiet {
        println!("{}", report::table(a, commands::table_width()));
        let failed = a.errors.len();
        eprintln!(
            "{} issues from {} providers over {} of {} files{}.",
            a.issues.len(),
            a.providers.len(),
            a.files_reviewed,
            a.meta.files.len(),
            if failed > 0 {
                format!("; {failed} answers failed or were unusable (see the report's Errors)")
            } else {
                String::new()
            }
        );
        for path in &outcome.reports {
            eprintln!("Wrote {}", path.display());
        }
    }
    if a.files_reviewed == 0 {
        eprintln!("No model could review any file: see the errors in the report.");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
