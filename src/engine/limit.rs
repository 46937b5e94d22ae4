//! A lane's concurrency limit, adapted to what the server takes.
//!
//! A provider configured above what its server serves at once gets 429s. Each 429 gives
//! up one slot (a burst of `max` requests against a server that takes `cap` gets
//! `max - cap` of them, so the limit lands on `cap` at once), and the number in flight it
//! was refused at is remembered as a ceiling. Below the ceiling, slots come back fast (one
//! a round of successes: the server refused more, never this many); reaching the ceiling
//! again is tried only once it is old, since every try costs a 429 and a lane paused for
//! its `Retry-After`. So the lane settles at the server's cap within a round, and checks
//! now and then whether the server takes more.

use std::time::Duration;

use tokio::time::Instant;

/// How long a ceiling is trusted before the limit tries it again: a real server's cap
/// changes with its other users, but a try costs a refused request and a paused lane.
pub(super) const CEILING_MEMORY: Duration = Duration::from_secs(30);

/// What the lane does with its slots after an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Keep,
    /// Put one more slot in circulation.
    Add,
    /// Take one slot out of circulation (when a request in flight finishes).
    Retire,
}

/// The number a server refused at, and when.
#[derive(Debug, Clone, Copy)]
struct Ceiling {
    in_flight: usize,
    at: Instant,
}

/// A lane's concurrency limit: between 1 and the configured `max_concurrency`.
#[derive(Debug)]
pub(super) struct Limit {
    max: usize,
    current: usize,
    /// The fewest requests in flight a 429 was seen at, while it is trusted.
    ceiling: Option<Ceiling>,
    /// Successes since the limit last changed.
    successes: usize,
}

impl Limit {
    pub(super) fn new(max: usize) -> Limit {
        let max = max.max(1);
        Limit {
            max,
            current: max,
            ceiling: None,
            successes: 0,
        }
    }

    /// Requests the lane may have in flight now.
    #[cfg(test)]
    fn current(&self) -> usize {
        self.current
    }

    /// A request sent as the `in_flight`-th of the lane (itself counted) got a 429.
    pub(super) fn rate_limited(&mut self, in_flight: usize, now: Instant) -> Change {
        self.successes = 0;
        // A request refused while alone says nothing about concurrency (a per-minute
        // limit, or the server's other users): the ceiling never goes below two.
        let refused_at = in_flight.max(2);
        self.ceiling = Some(match self.ceiling {
            Some(c) if c.in_flight <= refused_at && !self.expired(c, now) => c,
            _ => Ceiling {
                in_flight: refused_at,
                at: now,
            },
        });
        if self.current > 1 {
            self.current -= 1;
            Change::Retire
        } else {
            Change::Keep
        }
    }

    /// A request was answered: after a round of successes (one per slot), one slot more,
    /// unless that reaches a ceiling still trusted.
    pub(super) fn succeeded(&mut self, now: Instant) -> Change {
        if self.current >= self.max {
            return Change::Keep;
        }
        self.successes += 1;
        if self.successes < self.current {
            return Change::Keep;
        }
        if let Some(c) = self.ceiling {
            if !self.expired(c, now) && self.current + 1 >= c.in_flight {
                return Change::Keep;
            }
        }
        self.successes = 0;
        self.current += 1;
        Change::Add
    }

    fn expired(&self, ceiling: Ceiling, now: Instant) -> bool {
        now.saturating_duration_since(ceiling.at) >= CEILING_MEMORY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies `n` outcomes of one kind and counts the changes.
    fn successes(limit: &mut Limit, n: usize, now: Instant) -> usize {
        (0..n).filter(|_| limit.succeeded(now) == Change::Add).count()
    }

    #[test]
    fn a_burst_over_the_servers_cap_lands_on_the_cap_and_stays() {
        let t0 = Instant::now();
        let mut limit = Limit::new(16);
        // 16 sent at once to a server that takes 8: the 9th to the 16th are refused.
        for in_flight in 9..=16 {
            assert_eq!(limit.rate_limited(in_flight, t0), Change::Retire);
        }
        assert_eq!(limit.current(), 8);
        // Rounds of successes do not try 9 again while the ceiling is trusted.
        assert_eq!(successes(&mut limit, 1000, t0 + CEILING_MEMORY / 2), 0);
        assert_eq!(limit.current(), 8);
    }

    #[test]
    fn refusals_out_of_order_keep_the_lowest_ceiling() {
        let t0 = Instant::now();
        let mut limit = Limit::new(16);
        for in_flight in [12, 10, 16, 11, 13, 15, 14, 9] {
            limit.rate_limited(in_flight, t0);
        }
        assert_eq!(limit.current(), 8);
        assert_eq!(successes(&mut limit, 100, t0), 0);
    }

    #[test]
    fn below_the_ceiling_a_slot_comes_back_after_each_round_of_successes() {
        let t0 = Instant::now();
        let mut limit = Limit::new(8);
        // Refused at 8 in flight, then (a per-minute limit) the retries too, one by one.
        for _ in 0..7 {
            limit.rate_limited(8, t0);
        }
        assert_eq!(limit.current(), 1);
        // 1 success makes 2, 2 more make 3, … up to 7, one below the ceiling.
        assert_eq!(successes(&mut limit, 1, t0), 1);
        assert_eq!(limit.current(), 2);
        assert_eq!(successes(&mut limit, 1, t0), 0);
        assert_eq!(successes(&mut limit, 1, t0), 1);
        assert_eq!(limit.current(), 3);
        successes(&mut limit, 3 + 4 + 5 + 6, t0);
        assert_eq!(limit.current(), 7);
        assert_eq!(successes(&mut limit, 100, t0), 0);
    }

    #[test]
    fn an_old_ceiling_is_tried_again_and_forgotten_when_the_server_takes_more() {
        let t0 = Instant::now();
        let mut limit = Limit::new(4);
        limit.rate_limited(4, t0);
        assert_eq!(limit.current(), 3);
        let later = t0 + CEILING_MEMORY;
        assert_eq!(successes(&mut limit, 3, later), 1);
        assert_eq!(limit.current(), 4);
        // Never above what the configuration allows.
        assert_eq!(successes(&mut limit, 100, later), 0);
        assert_eq!(limit.current(), 4);
    }

    #[test]
    fn a_refused_try_sets_a_fresh_ceiling() {
        let t0 = Instant::now();
        let mut limit = Limit::new(4);
        limit.rate_limited(3, t0);
        assert_eq!(limit.current(), 3);
        let later = t0 + CEILING_MEMORY;
        successes(&mut limit, 3, later);
        assert_eq!(limit.current(), 4);
        // Refused again at 3: back to 2 and trusted anew from now.
        limit.rate_limited(3, later);
        limit.rate_limited(3, later);
        assert_eq!(limit.current(), 2);
        assert_eq!(successes(&mut limit, 100, later + CEILING_MEMORY / 2), 0);
        assert_eq!(limit.current(), 2);
    }

    #[test]
    fn never_below_one_and_a_lone_refusal_keeps_one_slot() {
        let t0 = Instant::now();
        let mut limit = Limit::new(2);
        assert_eq!(limit.rate_limited(1, t0), Change::Retire);
        assert_eq!(limit.rate_limited(1, t0), Change::Keep);
        assert_eq!(limit.current(), 1);
        // The ceiling is 2: one slot is kept without trying a second until it is old.
        assert_eq!(successes(&mut limit, 50, t0), 0);
        assert_eq!(successes(&mut limit, 1, t0 + CEILING_MEMORY), 1);
        assert_eq!(limit.current(), 2);
    }

    #[test]
    fn successes_at_the_configured_limit_change_nothing() {
        let t0 = Instant::now();
        let mut limit = Limit::new(3);
        assert_eq!(successes(&mut limit, 100, t0), 0);
        assert_eq!(limit.current(), 3);
    }
}
