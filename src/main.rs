//! The `quorum` command line: a thin layer over `quorum::commands`.
//!
//! Exit codes have one meaning each (the README's table): 0 the command did its job (a
//! review that found issues still succeeded, unless a `--fail-on` gate failed; an empty
//! change set is 0), 1 the `--fail-on` gate failed (or `providers check` found an unusable
//! provider: not a review), 2 an error stopped the command (bad configuration, bad
//! arguments, unreadable input), 3 no model produced a usable answer (every provider
//! failed the checks before the run, or none answered usably on any file), 4 the review
//! is incomplete (stopped early, or some provider did not review some file; 0 with
//! `--allow-partial`), 130 the user quit a review with a second Ctrl-C. A failed gate
//! wins over an incomplete run (both are printed). Errors go to stderr with their full
//! chain of context; so do the request logs of `-v` (or `QUORUM_LOG`). A reader that
//! closes stdout early (`quorum … | head -1`) ends the command quietly.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use quorum::commands::{
    self, Finished, Gate, Outcome, ReportOptions, ReviewOptions, Reviewed, Shard, StdoutReport, SuppressOptions,
};
use quorum::engine::preflight::NoProviderLeft;
use quorum::normalize::finding::Severity;
use quorum::report::Format;
use quorum::sanitize::terminal_safe;

/// How a command ended, as the process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExitStatus {
    /// The command did its job (a review that found issues included).
    Success,
    /// `providers check` found a provider unusable.
    Failure,
    /// A review's `--fail-on` gate failed: an issue left to act on reached the severity
    /// with enough agreement.
    GateFailed,
    /// An error stopped it.
    Error,
    /// No model produced a usable answer: each provider failed the checks before the
    /// run, or none answered usably on any file.
    NoProvider,
    /// The review is incomplete: stopped early (the first Ctrl-C, the budget), or some
    /// provider did not review some file. `--allow-partial` makes it a success.
    Incomplete,
    /// The user quit a review with a second Ctrl-C (128 + SIGINT, as a shell reports it).
    Interrupted,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure | ExitStatus::GateFailed => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
            ExitStatus::NoProvider => ExitCode::from(3),
            ExitStatus::Incomplete => ExitCode::from(4),
            ExitStatus::Interrupted => ExitCode::from(130),
        }
    }
}

#[derive(Parser)]
#[command(
    name = "quorum",
    version,
    about = "Review a codebase with several language models at once and report the problems they independently agree on"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log each request (provider, file, status, latency, retry decision) to stderr.
    /// Keys, code and prompts are never logged. QUORUM_LOG=debug does the same without
    /// the flag.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
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
    Review(ReviewArgs),
    /// Compare the models of one or more run folders (several merge as `aggregate` merges
    /// them): per-model counts, agreement, latency, cost, and the pairwise overlap.
    Compare {
        /// One or more review --out folders.
        #[arg(required = true)]
        run_dirs: Vec<PathBuf>,
        /// Also score each model against this ground truth (as examples/vulnerable-app/truth.toml).
        #[arg(long, value_name = "FILE")]
        truth: Option<PathBuf>,
        /// Take the [consensus] settings from this configuration [default: the one the
        /// run used].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// table, md or json.
        #[arg(long, default_value = "table")]
        format: String,
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
        /// Where to write the merged report (required with several folders); - prints the
        /// one report --format names to stdout (the reports are written into the folder).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Take the [consensus] settings from this configuration [default: the one the
        /// run used].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Report only issues at least N independent models agree on.
        #[arg(long, value_name = "N")]
        min_agree: Option<usize>,
        /// Report files to write: md, json, sarif, html, rdjson, rdjsonl, or a list such as md,json,sarif,html.
        #[arg(long, default_value = "md,json,sarif,html")]
        format: String,
        /// Print no table.
        #[arg(long, short)]
        quiet: bool,
        /// Report only issues this earlier report.json does not hold (the rest are counted).
        #[arg(long, value_name = "OLD_REPORT_JSON")]
        baseline: Option<PathBuf>,
        #[command(flatten)]
        gate: GateArgs,
    },
    /// Record that an issue of the last run was reviewed and is not a problem, in
    /// .quorum/suppressions.toml at the repository root (commit it): later reports leave
    /// the issue out, count it, and say when it is no longer found.
    Suppress {
        /// The id, as report.md or report.json gives it (e.g. Q1a2b3c4d).
        #[arg(required_unless_present = "list")]
        id: Option<String>,
        /// Why it is not a problem (kept in the file for whoever reviews it).
        #[arg(long, required_unless_present = "list")]
        reason: Option<String>,
        /// The run folder whose report.json holds the issue.
        #[arg(long, value_name = "DIR", default_value = "quorum-report")]
        out: PathBuf,
        /// List the suppressions of that run's repository instead.
        #[arg(long, conflicts_with_all = ["id", "reason"])]
        list: bool,
    },
    /// Print the completion script of a shell (see the README for where it goes).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page of quorum in roff (`quorum man | man -l -`), or write one
    /// page per command into a folder.
    Man {
        /// Write quorum.1, quorum-review.1, … into DIR (made if missing) instead.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

// `quorum review`'s arguments (no doc comment: the variant's is the command's help).
#[derive(Args)]
struct ReviewArgs {
    /// The folders or files to review. Several are reviewed under the folder that holds
    /// them all, every rule of the walk (ignore files, tracked files, secret files)
    /// applying as to that folder.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Review only what changed since the commit REF (origin/main, HEAD~1, or HEAD for
    /// uncommitted work): the files `git diff REF` finds changed (renames under their new
    /// name, deleted files left out) and untracked files git does not ignore. Each is sent
    /// whole with its changed lines named; issues outside them are reported apart as
    /// pre-existing. No change is "nothing to review", exit 0.
    #[arg(long, value_name = "REF", allow_hyphen_values = true, conflicts_with = "resume")]
    since: Option<String>,
    /// Review the paths listed in FILE (- for stdin), one a line, relative to the current
    /// folder; each must lie inside the folder given (default: the current one).
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    files_from: Option<PathBuf>,
    /// The configuration file [default: $QUORUM_CONFIG, ./quorum.toml, PATH/quorum.toml,
    /// or ~/.config/quorum/config.toml; a quorum.toml found by itself must be trusted].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the answers and reports are written; - prints the one report --format names
    /// to stdout (the run is kept in quorum-report).
    #[arg(long, value_name = "DIR", default_value = "quorum-report")]
    out: PathBuf,
    /// Only use this provider (repeatable).
    #[arg(long = "provider", value_name = "NAME")]
    providers: Vec<String>,
    /// Report files to write: md, json, sarif, html, rdjson, rdjsonl, or a list such as md,json,sarif,html.
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
    /// issue, ranked); with --fail-on, also the agreement the gate needs.
    #[arg(long, value_name = "N")]
    min_agree: Option<usize>,
    /// Report only issues this earlier report.json does not hold (the rest are counted).
    #[arg(long, value_name = "OLD_REPORT_JSON")]
    baseline: Option<PathBuf>,
    #[command(flatten)]
    gate: GateArgs,
}

/// The CI gate of `review` and `aggregate`.
#[derive(Args, Clone)]
struct GateArgs {
    /// Exit 1 when a reported issue (not suppressed, not in the baseline, and in a --since
    /// review not pre-existing) is at SEVERITY or above (critical, high, medium, low,
    /// info), with --min-agree N families agreeing (N also filters the report).
    #[arg(long, value_name = "SEVERITY", value_parser = commands::parse_severity)]
    fail_on: Option<Severity>,
    /// Exit 0 instead of 4 when the review is incomplete (stopped early, or a provider
    /// failed on some files): the report says which.
    #[arg(long)]
    allow_partial: bool,
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
    init_logging(cli.verbose);
    let status = match run(cli) {
        Ok(status) => status,
        Err(err) if err.is::<NoProviderLeft>() => {
            eprintln!("error: {}", terminal_safe_lines(&format!("{err:#}")));
            ExitStatus::NoProvider
        }
        Err(err) => {
            // Errors quote configuration values, paths and server text: nothing in them
            // may drive the terminal.
            eprintln!("error: {}", terminal_safe_lines(&format!("{err:#}")));
            ExitStatus::Error
        }
    };
    status.into()
}

/// The variable that sets the log level without `-v`.
const LOG_VAR: &str = "QUORUM_LOG";

/// Logs of these crates only: the HTTP stack below them stays at warnings, so no header
/// (a key) or body (code) it could log ever is.
const LOGGED_CRATES: [&str; 2] = ["quorum", "providers"];

/// Sends Quorum's logs to stderr: warnings only by default (of which there are none
/// today, so the output is unchanged), requests with `-v` or `QUORUM_LOG=debug` (or any
/// other level). The flag wins over the variable.
fn init_logging(verbose: u8) {
    use tracing_subscriber::filter::{EnvFilter, LevelFilter};
    let level = match verbose {
        0 => std::env::var(LOG_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .and_then(|v| {
                let level = v.trim().parse::<LevelFilter>().ok();
                if level.is_none() {
                    eprintln!("warning: {LOG_VAR} must be a level (error, warn, info, debug, trace); ignored");
                }
                level
            }),
        _ => Some(LevelFilter::DEBUG),
    };
    let mut filter = EnvFilter::default().add_directive(LevelFilter::WARN.into());
    for krate in LOGGED_CRATES {
        let directive = format!("{krate}={}", level.unwrap_or(LevelFilter::WARN));
        filter = filter.add_directive(directive.parse().expect("a crate name and a level"));
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// `terminal_safe` for each line, keeping the line breaks.
fn terminal_safe_lines(text: &str) -> String {
    text.lines().map(terminal_safe).collect::<Vec<_>>().join("\n")
}

fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Trust { file, forget: true } => commands::forget(&file)?,
        Command::Trust { file, forget: false } => commands::trust(&file)?,
        Command::Init { path, force } => commands::init(&path, force)?,
        Command::Review(args) => return review(args),
        Command::Providers {
            action: ProvidersAction::List { config },
        } => commands::print_stdout(&commands::providers_list(config.as_deref())?)?,
        Command::Providers {
            action: ProvidersAction::Check { config, providers },
        } => {
            let checks = runtime()?.block_on(commands::providers_check(config.as_deref(), &providers))?;
            commands::println_stdout(&checks.table)?;
            for problem in checks.problems {
                eprintln!("{problem}");
            }
            if !checks.all_usable {
                return Ok(ExitStatus::Failure);
            }
        }
        Command::Aggregate {
            run_dirs,
            out,
            config,
            min_agree,
            format,
            quiet,
            baseline,
            gate,
        } => {
            let report = ReportOptions {
                formats: Format::parse_list(&format)?,
                min_agree,
                baseline,
            };
            let to_stdout = match &out {
                Some(out) => StdoutReport::asked(out, &report.formats)?,
                None => None,
            };
            if let Some(report) = &to_stdout {
                report.check_one_folder(&run_dirs)?;
            }
            let out = out.filter(|_| to_stdout.is_none());
            let finished = commands::aggregate(&run_dirs, out.as_deref(), config.as_deref(), &report)?;
            return conclude(&finished, quiet, to_stdout, &gate, min_agree);
        }
        Command::Compare {
            run_dirs,
            truth,
            config,
            format,
        } => {
            let format = commands::CompareFormat::parse(&format)?;
            commands::print_stdout(&commands::compare(
                &run_dirs,
                truth.as_deref(),
                config.as_deref(),
                format,
            )?)?
        }
        Command::Eval {
            out_dir,
            truth,
            config,
            json,
        } => commands::eval(&out_dir, &truth, config.as_deref(), json)?,
        Command::Completions { shell } => commands::print_stdout(&commands::completions(Cli::command(), shell)?)?,
        Command::Man { out: None } => commands::print_stdout(&commands::man_page(Cli::command())?)?,
        Command::Man { out: Some(dir) } => {
            for page in commands::write_man_pages(Cli::command(), &dir)? {
                eprintln!("Wrote {}", terminal_safe(&page.display().to_string()));
            }
        }
        Command::Suppress { id, reason, out, list } => {
            commands::println_stdout(&commands::suppress(&SuppressOptions { id, reason, out, list })?)?
        }
    }
    Ok(ExitStatus::Success)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
}

fn review(args: ReviewArgs) -> anyhow::Result<ExitStatus> {
    let quiet = args.quiet;
    let (gate, min_agree) = (args.gate.clone(), args.min_agree);
    let to_stdout = StdoutReport::asked(&args.out, &Format::parse_list(&args.format)?)?;
    let opts = args.into_options()?;
    let runtime = runtime()?;
    match runtime.block_on(commands::review(&opts))? {
        // With `--out -` stdout holds the one report and nothing else: a dry run has no
        // report, so the plan goes to stderr (a `| jq` reads nothing, the user sees it).
        Reviewed::Plan(plan) if to_stdout.is_some() => {
            eprintln!("{plan}");
            Ok(ExitStatus::Success)
        }
        Reviewed::Plan(plan) => {
            commands::println_stdout(&plan)?;
            Ok(ExitStatus::Success)
        }
        Reviewed::Nothing(why) => {
            eprintln!("{}", terminal_safe(&why));
            Ok(ExitStatus::Success)
        }
        Reviewed::Run(finished) => conclude(&finished, quiet, to_stdout, &gate, min_agree),
        Reviewed::Interrupted => {
            // Requests still in flight are abandoned, not waited for.
            runtime.shutdown_background();
            Ok(ExitStatus::Interrupted)
        }
    }
}

impl ReviewArgs {
    fn into_options(self) -> anyhow::Result<ReviewOptions> {
        if self.max_cost.is_some_and(|c| !(c.is_finite() && c >= 0.0)) {
            anyhow::bail!("--max-cost must be a number of US dollars, 0 or more");
        }
        let out = match &self.resume {
            Some(dir) if dir.as_os_str() != "-" => dir.clone(),
            _ if StdoutReport::means_stdout(&self.out) => StdoutReport::run_folder(),
            _ => self.out,
        };
        Ok(ReviewOptions {
            paths: self.paths,
            files_from: self.files_from,
            since: self.since,
            config: self.config,
            out,
            providers: self.providers,
            report: ReportOptions {
                formats: Format::parse_list(&self.format)?,
                min_agree: self.min_agree,
                baseline: self.baseline,
            },
            quiet: self.quiet,
            no_cache: self.no_cache,
            resume: self.resume.is_some(),
            dry_run: self.dry_run,
            max_cost_usd: self.max_cost,
            shard: self.shard.as_deref().map(Shard::parse).transpose()?,
        })
    }
}

/// Prints the table (or with `--out -` the report) and a summary; picks the exit status.
fn conclude(
    finished: &Finished,
    quiet: bool,
    to_stdout: Option<StdoutReport>,
    args: &GateArgs,
    min_agree: Option<usize>,
) -> anyhow::Result<ExitStatus> {
    match to_stdout {
        Some(report) => report.tell(finished, quiet)?,
        None => finished.tell(quiet)?,
    }
    let gate = Gate::new(args.fail_on, min_agree);
    Ok(match finished.judge(gate.as_ref(), args.allow_partial) {
        Outcome::NothingUsable => ExitStatus::NoProvider,
        Outcome::GateFailed => ExitStatus::GateFailed,
        Outcome::Incomplete => ExitStatus::Incomplete,
        Outcome::Passed => ExitStatus::Success,
    })
}
