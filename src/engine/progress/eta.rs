//! How long a provider still needs, from its own recent pace.
//!
//! Providers run at very different speeds, and one that is down answers nothing more:
//! an estimate from the run's overall pace (or from a bar's steps, cached answers
//! included) would be wrong for every one of them. Each provider's estimate comes from
//! the times of its own last answers; a provider that stops answering sees its estimate
//! grow as the time since its last answer does, and one marked down says so.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

/// Answers the pace is measured over: enough to smooth a provider's concurrency (its
/// answers come in bursts), few enough to follow a change of pace within minutes.
pub(super) const RECENT_ANSWERS: usize = 20;

const SECONDS_PER_MINUTE: u64 = 60;
const SECONDS_PER_HOUR: u64 = 3600;

/// What the progress line says about when a provider will be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Eta {
    /// Nothing left to ask.
    Done,
    /// Marked down: it gets no more requests.
    Down,
    /// No answer yet to measure a pace by.
    Unknown,
    In(Duration),
}

impl fmt::Display for Eta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Eta::Done => write!(f, "done"),
            Eta::Down => write!(f, "down"),
            Eta::Unknown => write!(f, "ETA ?"),
            Eta::In(left) => {
                let s = left.as_secs();
                if s >= SECONDS_PER_HOUR {
                    write!(
                        f,
                        "ETA {}h {:02}m",
                        s / SECONDS_PER_HOUR,
                        s % SECONDS_PER_HOUR / SECONDS_PER_MINUTE
                    )
                } else if s >= SECONDS_PER_MINUTE {
                    write!(f, "ETA {}m {:02}s", s / SECONDS_PER_MINUTE, s % SECONDS_PER_MINUTE)
                } else {
                    write!(f, "ETA {s}s")
                }
            }
        }
    }
}

/// One provider's pace: when it started, and when its last answers came.
#[derive(Debug)]
pub(super) struct Pace {
    started: Instant,
    recent: VecDeque<Instant>,
    down: bool,
}

impl Pace {
    pub(super) fn new(started: Instant) -> Pace {
        Pace {
            started,
            recent: VecDeque::with_capacity(RECENT_ANSWERS),
            down: false,
        }
    }

    /// The provider answered (or failed) a request at `at`. Cached answers and jobs
    /// never sent took none of its time and are not counted.
    pub(super) fn answered(&mut self, at: Instant) {
        if self.recent.len() == RECENT_ANSWERS {
            self.recent.pop_front();
        }
        self.recent.push_back(at);
    }

    pub(super) fn mark_down(&mut self) {
        self.down = true;
    }

    /// When the provider will have answered `remaining` more, at its recent pace: the
    /// last answers over the time from the one before them (or from the start) to now.
    pub(super) fn eta(&self, remaining: usize, now: Instant) -> Eta {
        if self.down {
            return Eta::Down;
        }
        if remaining == 0 {
            return Eta::Done;
        }
        if self.recent.is_empty() {
            return Eta::Unknown;
        }
        // With a full window, its oldest answer opens the span and the others are
        // counted in it; before that, the span opens at the start and every answer counts.
        let (from, counted) = match self.recent.front() {
            Some(oldest) if self.recent.len() == RECENT_ANSWERS => (*oldest, RECENT_ANSWERS - 1),
            _ => (self.started, self.recent.len()),
        };
        let span = now.saturating_duration_since(from);
        Eta::In(span.mul_f64(remaining as f64 / counted as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_estimate_is_the_providers_own_pace_times_what_is_left() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        for i in 1..=4 {
            pace.answered(t0 + SECOND * 2 * i);
        }
        // 4 answers in 8 s: 10 more take 20 s.
        assert_eq!(pace.eta(10, t0 + SECOND * 8), Eta::In(SECOND * 20));
    }

    #[test]
    fn a_provider_that_stops_answering_sees_its_estimate_grow() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        pace.answered(t0 + SECOND);
        pace.answered(t0 + SECOND * 2);
        assert_eq!(pace.eta(5, t0 + SECOND * 2), Eta::In(SECOND * 5));
        assert_eq!(pace.eta(5, t0 + SECOND * 20), Eta::In(SECOND * 50));
    }

    #[test]
    fn only_the_recent_answers_count_so_a_change_of_pace_is_followed() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        // Slow at first (one answer a minute for 10 minutes), then one a second.
        for i in 1..=10 {
            pace.answered(t0 + SECOND * 60 * i);
        }
        let fast_from = t0 + SECOND * 600;
        for i in 1..=RECENT_ANSWERS as u32 {
            pace.answered(fast_from + SECOND * i);
        }
        let now = fast_from + SECOND * RECENT_ANSWERS as u32;
        assert_eq!(pace.eta(30, now), Eta::In(SECOND * 30));
    }

    #[test]
    fn down_done_and_unmeasured_say_so() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        assert_eq!(pace.eta(3, t0 + SECOND), Eta::Unknown);
        assert_eq!(pace.eta(0, t0 + SECOND), Eta::Done);
        pace.answered(t0 + SECOND);
        pace.mark_down();
        assert_eq!(pace.eta(3, t0 + SECOND * 2), Eta::Down);
        assert_eq!(pace.eta(0, t0 + SECOND * 2), Eta::Down);
    }

    #[test]
    fn estimates_read_as_hours_minutes_or_seconds() {
        assert_eq!(Eta::In(SECOND * 45).to_string(), "ETA 45s");
        assert_eq!(Eta::In(SECOND * 130).to_string(), "ETA 2m 10s");
        assert_eq!(Eta::In(SECOND * (3600 + 5 * 60 + 7)).to_string(), "ETA 1h 05m");
        assert_eq!(Eta::Down.to_string(), "down");
    }
}
