//! Showing a long run's progress.
//!
//! On a terminal: one bar per provider (done / total, failures, ETA from the provider's
//! own pace, or "down"), since providers run at very different speeds and the slowest one
//! decides when the run ends. Elsewhere (CI logs, pipes): one plain line per finished
//! job. With `--quiet`: nothing.

mod eta;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Instant;

use self::eta::Pace;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

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
    /// A job ended with this record.
    fn done(&mut self, record: &ResponseRecord);
    /// A job was split: the provider has `extra` more jobs.
    fn grew(&mut self, provider: &str, extra: usize);
    /// Something the user should know now.
    fn note(&mut self, message: &str);
    fn finish(&mut self);
}

/// The display that suits where stderr goes.
pub fn for_stderr(quiet: bool) -> Box<dyn Progress> {
    if quiet {
        Box::new(Silent)
    } else if std::io::stderr().is_terminal() {
        Box::new(Bars::default())
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
    fn finish(&mut self) {}
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
        self.done += 1;
        eprintln!("[{}/{}] {}", self.done, self.total, describe(record));
    }

    fn grew(&mut self, provider: &str, extra: usize) {
        self.total += extra;
        eprintln!(
            "{}: a part was too long for the model; reviewing it as two smaller parts",
            terminal_safe(provider)
        );
    }

    fn note(&mut self, message: &str) {
        eprintln!("{}", terminal_safe(message));
    }

    fn finish(&mut self) {}
}

/// A bar per provider.
#[derive(Default)]
pub struct Bars {
    multi: Option<MultiProgress>,
    bars: HashMap<String, Track>,
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
        match self.failures {
            0 => eta.to_string(),
            n => format!("{n} failed · {eta}"),
        }
    }
}

impl Progress for Bars {
    fn planned(&mut self, per_provider: &[Planned]) {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
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
            if !matches!(record.status, Status::Ok | Status::Split) {
                track.failures += 1;
            }
            track.bar.inc(1);
        }
        // Every estimate moves with time, not only the one of the provider that answered.
        for track in self.bars.values() {
            track.bar.set_message(track.message(now));
        }
    }

    fn grew(&mut self, provider: &str, extra: usize) {
        if let Some(track) = self.bars.get(provider) {
            track.bar.inc_length(extra as u64);
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

    fn finish(&mut self) {
        for track in self.bars.values() {
            track.bar.finish();
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
