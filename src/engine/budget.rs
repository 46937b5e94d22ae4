//! The `--max-cost` budget over all priced providers.

use std::sync::Mutex;

use tokio::sync::watch;

/// The `--max-cost` budget: measured spend plus worst-case reservations for requests
/// in flight. A request that would not fit waits while others are in flight (they may
/// cost less than reserved); it is refused only when nothing in flight can free room.
pub(super) struct Budget {
    limit: Option<f64>,
    state: Mutex<BudgetState>,
    settled: tokio::sync::Notify,
}

#[derive(Default)]
struct BudgetState {
    spent: f64,
    reserved: f64,
    /// Reservations not yet settled (counted, so "none in flight" is exact).
    in_flight: usize,
    exhausted: bool,
}

impl Budget {
    pub(super) fn new(limit: Option<f64>) -> Budget {
        Budget {
            limit,
            state: Mutex::new(BudgetState::default()),
            settled: tokio::sync::Notify::new(),
        }
    }

    /// Reserves the worst-case cost of one request; false when it cannot fit. Free
    /// requests (providers without prices) always fit.
    pub(super) async fn reserve(&self, worst_case: f64, stop: &watch::Receiver<bool>) -> bool {
        let Some(limit) = self.limit.filter(|_| worst_case > 0.0) else {
            return true;
        };
        loop {
            let notified = self.settled.notified();
            {
                let mut s = self.state.lock().expect("budget lock");
                if s.spent + s.reserved + worst_case <= limit {
                    s.reserved += worst_case;
                    s.in_flight += 1;
                    return true;
                }
                if s.in_flight == 0 || s.spent + worst_case > limit {
                    s.exhausted = true;
                    return false;
                }
            }
            let mut stopped = stop.clone();
            tokio::select! {
                _ = notified => {}
                                Ok(_) = stopped.wait_for(|s| *s) => return false,
            }
        }
    }

    /// Replaces a reservation by what was really spent.
    pub(super) fn settle(&self, reserved: f64, spent: f64) {
        if self.limit.is_some() && reserved > 0.0 {
            let mut s = self.state.lock().expect("budget lock");
            s.reserved = (s.reserved - reserved).max(0.0);
            s.in_flight = s.in_flight.saturating_sub(1);
            s.spent += spent;
            drop(s);
            self.settled.notify_waiters();
        }
    }

    pub(super) fn exhausted(&self) -> bool {
        self.state.lock().expect("budget lock").exhausted
    }
}
