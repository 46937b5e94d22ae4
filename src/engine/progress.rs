//! Showing a long run's progress.
//!
//! On a terminal: one bar per provider (done / total, failures, ETA from the provider's
//! own pace, or "down"), since providers run at very different speeds and the slowest one
//! decides when the run ends. Elsewhere (CI logs, pipes): one plain line per finished
//! job. With `--quiet`: nothing.
//!
//! The counts are the report's: a job split into parts (too long for the model) is
//! neither done nor failed, its parts take its place in the total. A run that stops
//! early (Ctrl-C, the budget) leaves each bar where it was and says why, rather than
//! filling it.

mod eta;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Instant;

use self::eta::Pace;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;

/// What a bar says when the run is quit before its end (a second Ctrl-C).
const QUIT: &str = "interrupted";

/// What a bar says when the run ends before its end otherwise (an error: the store
/// could not be written, say; the error itself follows).
const STOPPED: &str = "stopped";

/// What a bar says when the run ended without an answer for every job it counted.
const UNFINISHED: &str = "not all asked";

use crate::sanitize::terminal_safe;
use crate::store::{ResponseRecord, Status};

/// Characters of a progress bar: short enough to leave room on an 80-column terminal
/// for the provider's name, the counts, failures and the ETA.
const BAR_WIDTH: usize = 30;

/// The name column's width when no provider has a name to measure (nothing is drawn
/// then; any width will do).
const DEFAULT_NAME_WIDTH: usize = 8;

const MILLIS_PER_SECOND: f64 = 1000.0;

/// The jobs planned for one provider.
pub struct Planned {
    pub provider: String,
    pub jobs: usize,
}

/// What the engine tells whoever shows progress.
pub trait Progress {
    /// Jobs per provider, before any is done (cached ones included).
    fn planned(&mut self, per_provider: &[Planned]);
    /// A job ended with this record (a `split` one too, counted by [`Progress::grew`]).
    fn done(&mut self, record: &ResponseRecord);
    /// A job of the provider was split, and `parts` of its parts are still to ask (a
    /// resumed run may have answers to the others): they replace it, the split job is
    /// neither done nor failed, and the total grows by `parts - 1`.
    fn grew(&mut self, provider: &str, parts: usize);
    /// Something the user should know now.
    fn note(&mut self, message: &str);
    /// The run ended; `stopped` says why when it stopped before every job was asked.
    fn finish(&mut self, stopped: Option<&str>);
}

/// The display that suits where stderr goes; `stop` turns true when the user asks the
/// run to stop (Ctrl-C), which tells an interrupted run from one ended by an error.
pub fn for_stderr(quiet: bool, stop: &watch::Receiver<bool>) -> Box<dyn Progress> {
    if quiet {
        Box::new(Silent)
    } else if std::io::stderr().is_terminal() {
        Box::new(Bars {
            multi: None,
            bars: HashMap::new(),
            hidden: false,
            stop: Some(stop.clone()),
        })
    } else {
        Box::new(Lines::default())
    }
}

/// Shows nothing.
pub struct Silent;

impl Progress for Silent {
    fn planned(&mut self, _: &[Planned]) {}
    fn done(&mut self, _: &ResponseRecord) {}
    fn grew(&mut self, _: &str, _: usize) {}
    fn note(&mut self, _: &str) {}
    fn finish(&mut self, _: Option<&str>) {}
}

/// One line per finished job, for logs.
#[derive(Default)]
pub struct Lines {
    done: usize,
    total: usize,
}

impl Progress for Lines {
    fn planned(&mut self, per_provider: &[Planned]) {
        self.total = per_provider.iter().map(|p| p.jobs).sum();
    }

    fn done(&mut self, record: &ResponseRecord) {
        if record.status == Status::Split {
            eprintln!("{}", describe(record));
            return;
        }
        self.done += 1;
        eprintln!("[{}/{}] {}", self.done, self.total, describe(record));
    }

    fn grew(&mut self, _: &str, parts: usize) {
        self.total = (self.total + parts).saturating_sub(1);
    }

    fn note(&mut self, message: &str) {
        eprintln!("{}", terminal_safe(message));
    }

    fn finish(&mut self, stopped: Option<&str>) {
        if let Some(why) = stopped {
            eprintln!(
                "{}",
                terminal_safe(&format!("Stopped after {} of {} jobs: {why}", self.done, self.total))
            );
        }
    }
}

/// A bar per provider.
#[derive(Default)]
pub struct Bars {
    multi: Option<MultiProgress>,
    bars: HashMap<String, Track>,
    /// Drawn nowhere (unit tests).
    hidden: bool,
    /// True once the user asked the run to stop.
    stop: Option<watch::Receiver<bool>>,
}

/// One provider's bar, its failures and its pace.
struct Track {
    bar: ProgressBar,
    failures: usize,
    pace: Pace,
}

impl Track {
    /// Failures (if any) and when the provider will be done.
    fn message(&self, now: Instant) -> String {
        let left = self.bar.length().unwrap_or(0).saturating_sub(self.bar.position());
        let eta = self.pace.eta(usize::try_from(left).unwrap_or(usize::MAX), now);
        self.with_failures(&eta.to_string())
    }

    /// `end`, after the failures if any.
    fn with_failures(&self, end: &str) -> String {
        match self.failures {
            0 => end.to_string(),
            n => format!("{n} failed · {end}"),
        }
    }

    /// Whether every job of the provider has ended.
    fn complete(&self) -> bool {
        self.bar.length().is_some_and(|len| self.bar.position() >= len)
    }

    /// Stops the bar where it is, saying `why`.
    fn stop(&self, why: &str) {
        self.bar.abandon_with_message(terminal_safe(&self.with_failures(why)));
    }
}

impl Progress for Bars {
    fn planned(&mut self, per_provider: &[Planned]) {
        let target = match self.hidden {
            true => ProgressDrawTarget::hidden(),
            false => ProgressDrawTarget::stderr(),
        };
        let multi = MultiProgress::with_draw_target(target);
        let width = per_provider
            .iter()
            .map(|p| p.provider.chars().count())
            .max()
            .unwrap_or(DEFAULT_NAME_WIDTH);
        let style = ProgressStyle::with_template(&format!(
            "{{prefix:>{width}}} [{{bar:{BAR_WIDTH}}}] {{pos}}/{{len}} {{msg}}"
        ))
        .expect("the template is valid")
        .progress_chars("=> ");
        let started = Instant::now();
        for planned in per_provider {
            let bar = multi.add(ProgressBar::new(planned.jobs as u64));
            bar.set_style(style.clone());
            bar.set_prefix(terminal_safe(&planned.provider));
            let track = Track {
                bar,
                failures: 0,
                pace: Pace::new(started),
            };
            track.bar.set_message(track.message(started));
            self.bars.insert(planned.provider.clone(), track);
        }
        self.multi = Some(multi);
    }

    fn done(&mut self, record: &ResponseRecord) {
        let now = Instant::now();
        if let Some(track) = self.bars.get_mut(&record.provider) {
            match record.status {
                // Never sent: the provider is down.
                Status::Skipped => track.pace.mark_down(),
                _ if record.cached => {}
                _ => track.pace.answered(now),
            }
            match record.status {
                // Its parts take its place (`grew`).
                Status::Split => {}
                Status::Ok => track.bar.inc(1),
                Status::Error | Status::Skipped => {
                    track.failures += 1;
                    track.bar.inc(1);
                }
            }
        }
        // Every estimate moves with time, not only the one of the provider that answered.
        for track in self.bars.values() {
            track.bar.set_message(track.message(now));
        }
    }

    fn grew(&mut self, provider: &str, parts: usize) {
        if let Some(track) = self.bars.get(provider) {
            let len = track.bar.length().unwrap_or(0);
            track.bar.set_length((len + parts as u64).saturating_sub(1));
            track.bar.set_message(track.message(Instant::now()));
        }
    }

    fn note(&mut self, message: &str) {
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(terminal_safe(message));
            }
            None => eprintln!("{}", terminal_safe(message)),
        }
    }

    /// A bar is filled only when every job it counts has ended: otherwise it stays
    /// where it was and says why.
    fn finish(&mut self, stopped: Option<&str>) {
        for track in self.bars.values() {
            match stopped {
                _ if track.complete() => track.bar.finish(),
                Some(why) => track.stop(why),
                None => track.stop(UNFINISHED),
            }
        }
    }
}

/// A run ended before its end (a second Ctrl-C, or an error, drops the engine and the
/// bars with it): each bar stays where it was and says so, rather than being filled or
/// cleared; "interrupted" only when the user asked the run to stop.
impl Drop for Bars {
    fn drop(&mut self) {
        let interrupted = self.stop.as_ref().is_some_and(|stop| *stop.borrow());
        let why = if interrupted { QUIT } else { STOPPED };
        for track in self.bars.values().filter(|t| !t.bar.is_finished()) {
            track.stop(why);
        }
    }
}

/// One finished job in words.
pub fn describe(record: &ResponseRecord) -> String {
    let what = match (&record.status, &record.error) {
        (Status::Ok, _) if record.served_model.is_some() => format!(
            "discarded: {} answered, not {}",
            record.served_model.as_deref().unwrap_or_default(),
            record.model
        ),
        (Status::Ok, _) if record.cached => "answer from the cache".to_string(),
        (Status::Ok, _) => format!("answered in {:.1} s", record.latency_ms as f64 / MILLIS_PER_SECOND),
        (Status::Split, _) => format!(
            "too long for the model: reviewed as {} parts instead",
            record.split_into.as_ref().map_or(0, Vec::len)
        ),
        (_, Some(e)) => format!("failed: {}", e.message),
        (_, None) => "failed".to_string(),
    };
    let part = record
        .chunk
        .map(|c| format!(" (lines {}-{})", c.start_line, c.end_line))
        .unwrap_or_default();
    let retries = if record.attempts > 1 {
        format!(" after {} attempts", record.attempts)
    } else {
        String::new()
    };
    terminal_safe(&format!(
        "{} · {}{part} · {what}{retries}",
        record.provider, record.file
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record of `provider` with `status` (and for a split, two parts).
    fn record(provider: &str, status: &str) -> ResponseRecord {
        let mut value = serde_json::json!({"provider": provider, "model": "m", "file": "big.go", "status": status});
        if status == "split" {
            value["split_into"] =
                serde_json::json!([{"start_line": 1, "end_line": 50}, {"start_line": 51, "end_line": 99}]);
        }
        serde_json::from_value(value).unwrap()
    }

    fn hidden_bars(per_provider: &[(&str, usize)]) -> Bars {
        let mut bars = Bars::default();
        bars.hidden = true;
        let planned: Vec<Planned> = per_provider
            .iter()
            .map(|(p, jobs)| Planned {
                provider: p.to_string(),
                jobs: *jobs,
            })
            .collect();
        bars.planned(&planned);
        bars
    }

    /// Position, length and failures of `provider`'s bar.
    fn counts(bars: &Bars, provider: &str) -> (u64, u64, usize) {
        let track = &bars.bars[provider];
        (track.bar.position(), track.bar.length().unwrap(), track.failures)
    }

    #[test]
    fn a_split_job_is_replaced_by_its_parts_and_is_no_failure() {
        let mut bars = hidden_bars(&[("a", 3), ("b", 1)]);
        bars.done(&record("a", "ok"));
        bars.done(&record("a", "split"));
        bars.grew("a", 2);
        assert_eq!(counts(&bars, "a"), (1, 4, 0), "1 of 3 files + 1 more part");
        bars.done(&record("a", "ok"));
        bars.done(&record("a", "error"));
        bars.done(&record("a", "ok"));
        bars.done(&record("b", "skipped"));
        assert_eq!(counts(&bars, "a"), (4, 4, 1));
        assert_eq!(counts(&bars, "b"), (1, 1, 1));
        bars.finish(None);
        assert!(bars.bars.values().all(|t| t.bar.is_finished()));
    }

    #[test]
    fn a_stopped_run_leaves_the_bars_where_they_were() {
        let mut bars = hidden_bars(&[("a", 5), ("b", 1)]);
        bars.done(&record("a", "ok"));
        bars.done(&record("a", "error"));
        bars.done(&record("b", "ok"));
        bars.finish(Some("interrupted"));
        assert_eq!(counts(&bars, "a"), (2, 5, 1), "not filled");
        assert_eq!(bars.bars["a"].bar.message(), "1 failed · interrupted");
        assert_eq!(counts(&bars, "b"), (1, 1, 0));
        assert!(bars.bars["a"].bar.is_finished() && bars.bars["b"].bar.is_finished());
    }

    #[test]
    fn a_run_quit_before_its_end_stops_the_bars_where_they_were() {
        let (asked, stop) = watch::channel(false);
        let mut bars = hidden_bars(&[("a", 5)]);
        bars.stop = Some(stop);
        bars.done(&record("a", "ok"));
        let bar = bars.bars["a"].bar.clone();
        asked.send(true).unwrap();
        drop(bars);
        assert!(bar.is_finished());
        assert_eq!((bar.position(), bar.message().to_string()), (1, QUIT.to_string()));
    }

    #[test]
    fn a_run_ended_by_an_error_is_stopped_not_interrupted() {
        let (_asked, stop) = watch::channel(false);
        let mut bars = hidden_bars(&[("a", 5)]);
        bars.stop = Some(stop);
        bars.done(&record("a", "ok"));
        let bar = bars.bars["a"].bar.clone();
        drop(bars);
        assert!(bar.is_finished());
        assert_eq!((bar.position(), bar.message().to_string()), (1, STOPPED.to_string()));
    }

    #[test]
    fn a_bar_is_never_filled_unless_every_job_ended() {
        let mut bars = hidden_bars(&[("a", 3), ("b", 1)]);
        bars.done(&record("a", "ok"));
        bars.done(&record("b", "ok"));
        bars.finish(None);
        assert_eq!(counts(&bars, "a"), (1, 3, 0), "not filled");
        assert_eq!(bars.bars["a"].bar.message(), UNFINISHED);
        assert_eq!(counts(&bars, "b"), (1, 1, 0));
        assert!(bars.bars.values().all(|t| t.bar.is_finished()));
    }

    #[test]
    fn lines_count_parts_as_the_report_does() {
        let mut lines = Lines::default();
        lines.planned(&[Planned {
            provider: "a".into(),
            jobs: 2,
        }]);
        lines.done(&record("a", "split"));
        lines.grew("a", 2);
        lines.done(&record("a", "ok"));
        lines.done(&record("a", "ok"));
        lines.done(&record("a", "ok"));
        assert_eq!((lines.done, lines.total), (3, 3));
        assert_eq!(
            describe(&record("a", "split")),
            "a · big.go · too long for the model: reviewed as 2 parts instead"
        );
    }
}
