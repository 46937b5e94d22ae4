//! The `quorum` command line: a thin layer over `quorum::commands`.
//!
//! Exit codes have one meaning each, as in ripgrep: 0 the command did its job (a review
//! that found issues still succeeded), 1 no model could review any file (or `providers
//! check` found an unusable provider), 2 an error stopped the command (bad configuration,
//! bad arguments, nothing to review, unreadable input). Errors go to stderr with their
//! full chain of context.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use quorum::commands::{self, Outcome, ReviewOptions, Reviewed, Shard};
use quorum::config::trust;
use quorum::report::{self, Format};
use quorum::sanitize::terminal_safe;

/// How many hex digits of a content hash to show.
const SHORT_HASH: usize = 12;

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
        /// The configuration file [default: $QUORUM_CONFIG, ./quorum.toml, PATH/quorum.toml,
        /// or ~/.config/quorum/config.toml; a quorum.toml found by itself must be trusted].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Where the answers and reports are written.
        #[arg(long, value_name = "DIR", default_value = "quorum-report")]
        out: PathBuf,
        /// Only use this provider (repeatable).
        #[arg(long = "provider", value_name = "NAME")]
        providers: Vec<String>,
        /// Report files to write: md, json, sarif, html, or a list such as md,json,sarif,html.
        #[arg(long, default_value = "md,json,sarif,html")]
        format: String,
        /// Print no table and no progress.
        #[arg(long, short)]
        quiet: bool,
        /// Ask every model again instead of reusing cached answers.
        #[arg(long)]
        no_cache: bool,
        /// Continue the stopped or killed run in --out DIR (or in RUN_DIR), asking only
        /// what it has no answer for. Uses the run's root, configuration and providers.
        #[arg(long, value_name = "RUN_DIR", num_args = 0..=1, default_missing_value = "-")]
        resume: Option<PathBuf>,
        /// Show files, requests, cache hits, estimated tokens and cost; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Stop sending before the priced providers would cost more than this (US dollars).
        #[arg(long, value_name = "USD")]
        max_cost: Option<f64>,
        /// Review only the K-th of N deterministic parts of the files (for parallel CI
        /// runners; merge with `quorum aggregate DIR1 DIR2 … --out DIR`).
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Report only issues at least N independent models agree on (default: every
        /// issue, ranked).
        #[arg(long, value_name = "N")]
        min_agree: Option<usize>,
    },
    /// Score a run against a ground-truth file: true and false positives, precision,
    /// recall and F1 per model and for the consensus at each agreement level.
    Eval {
        /// A review's --out folder.
        out_dir: PathBuf,
        /// The ground truth (as examples/vulnerable-app/truth.toml).
        #[arg(long, value_name = "FILE")]
        truth: PathBuf,
        /// Take the [consensus] settings from this configuration [default: the one the
        /// run used].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Trust a configuration Quorum finds by itself (./quorum.toml, or one in the folder
    /// under review): print where it sends which key, then record its path and content
    /// hash. A changed file needs trust again.
    Trust {
        /// The configuration to trust.
        #[arg(default_value = "quorum.toml")]
        file: PathBuf,
        /// Remove FILE from the trusted configurations instead.
        #[arg(long)]
        forget: bool,
    },
    /// See the configured providers, or check that each one works.
    Providers {
        #[command(subcommand)]
        action: ProvidersAction,
    },
    /// Rebuild every report from a run folder's responses.jsonl, or merge several run
    /// folders (shards) into one report, without calling any model.
    Aggregate {
        /// One or more review --out folders.
        #[arg(required = true)]
        run_dirs: Vec<PathBuf>,
        /// Where to write the merged report (required with several folders).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Take the [consensus] settings from this configuration [default: the one the
        /// run used].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Report only issues at least N independent models agree on.
        #[arg(long, value_name = "N")]
        min_agree: Option<usize>,
        /// Report files to write: md, json, sarif, html, or a list such as md,json,sarif,html.
        #[arg(long, default_value = "md,json,sarif,html")]
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
        /// The configuration file [default: $QUORUM_CONFIG, ./quorum.toml, or
        /// ~/.config/quorum/config.toml].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Check each provider: reachable, key accepted, model present, context window,
    /// structured output accepted, latency. Exits 1 if any provider is unusable.
    Check {
        /// The configuration file [default: $QUORUM_CONFIG, ./quorum.toml, or
        /// ~/.config/quorum/config.toml].
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
            // Errors quote configuration values, paths and server text: nothing in them
            // may drive the terminal.
            eprintln!("error: {}", terminal_safe_lines(&format!("{err:#}")));
            ExitCode::from(2)
        }
    }
}

/// `report::terminal_safe` for each line, keeping the line breaks.
fn terminal_safe_lines(text: &str) -> String {
    text.lines().map(terminal_safe).collect::<Vec<_>>().join("\n")
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Trust { file, forget: true } => {
            let shown = trust::safe_path(&file);
            if trust::forget(&file)? {
                eprintln!("{shown} is no longer trusted.");
            } else {
                eprintln!("{shown} was not trusted; nothing to forget.");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Trust { file, forget: false } => {
            let inspected = trust::inspect(&file)?;
            print!("{}", inspected.describe());
            trust::record(&inspected)?;
            eprintln!(
                "Trusted {} as it is now (SHA-256 {}); a change to it needs `quorum trust` again.",
                trust::safe_path(&inspected.canonical),
                &inspected.sha256[..SHORT_HASH]
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { path, force } => {
            commands::init(&path, force)?;
            eprintln!(
                "Wrote {} and trusted it as written. Edit the providers, then run `quorum review` \
                 (if your edits name a key variable or a remote host, run `quorum trust` again).",
                terminal_safe(&path.display().to_string())
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
            no_cache,
            resume,
            dry_run,
            max_cost,
            shard,
            min_agree,
        } => {
            if max_cost.is_some_and(|c| !(c.is_finite() && c >= 0.0)) {
                anyhow::bail!("--max-cost must be a number of US dollars, 0 or more");
            }
            let out = match &resume {
                Some(dir) if dir.as_os_str() != "-" => dir.clone(),
                _ => out,
            };
            let opts = ReviewOptions {
                root: path,
                config,
                out,
                providers,
                formats: Format::parse_list(&format)?,
                quiet,
                no_cache,
                resume: resume.is_some(),
                dry_run,
                max_cost_usd: max_cost,
                shard: shard.as_deref().map(Shard::parse).transpose()?,
                min_agree,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            match runtime.block_on(commands::review(&opts))? {
                Reviewed::Plan(plan) => {
                    println!("{plan}");
                    Ok(ExitCode::SUCCESS)
                }
                Reviewed::Run(outcome) => Ok(conclude(&outcome, quiet)),
            }
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
        Command::Aggregate {
            run_dirs,
            out,
            config,
            min_agree,
            format,
            quiet,
        } => {
            let formats = Format::parse_list(&format)?;
            let outcome = commands::aggregate(&run_dirs, out.as_deref(), config.as_deref(), &formats, min_agree)?;
            Ok(conclude(&outcome, quiet))
        }
        Command::Eval {
            out_dir,
            truth,
            config,
            json,
        } => {
            let report = commands::eval(&out_dir, &truth, config.as_deref())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.table());
            }
            Ok(ExitCode::SUCCESS)
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
            eprintln!("Wrote {}", terminal_safe(&path.display().to_string()));
        }
        if let Some(s) = &outcome.summary {
            eprintln!(
                "This run: {} answered, {} from the cache, {} failed, {} skipped (provider down){}.",
                s.ok,
                s.cached,
                s.failed,
                s.skipped,
                if s.not_started > 0 {
                    format!(", {} not started", s.not_started)
                } else {
                    String::new()
                }
            );
        }
        if let Some(why) = &a.meta.stopped_early {
            let folder = outcome
                .reports
                .first()
                .and_then(|p| p.parent())
                .map_or_else(|| "OUT_DIR".to_string(), |d| d.display().to_string());
            eprintln!(
                "{}",
                terminal_safe(&format!(
                    "The run stopped early ({why}); continue it with `quorum review --resume {folder}`."
                ))
            );
        }
    }
    if a.files_reviewed == 0 && !a.meta.files.is_empty() {
        eprintln!("No model could review any file: see the errors in the report.");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
