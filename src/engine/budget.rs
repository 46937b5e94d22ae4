//! The `--max-cost` budget over all priced providers, and the providers it cannot count.

use std::sync::Mutex;

use tokio::sync::watch;

use crate::config::{ProviderConfig, ProviderKind};

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

    /// Dollars spent so far (counted only under a limit).
    pub(super) fn spent(&self) -> f64 {
        self.state.lock().expect("budget lock").spent
    }

    pub(super) fn exhausted(&self) -> bool {
        self.state.lock().expect("budget lock").exhausted
    }
}

/// The providers a `--max-cost` budget counts as free because they have no price (of
/// either kind): their requests always fit. A price of 0 is a price (a free model said
/// so), and replayed answers are never sent, so neither is named.
fn counted_as_free<'a>(providers: impl IntoIterator<Item = &'a ProviderConfig>) -> Vec<&'a str> {
    providers
        .into_iter()
        .filter(|p| p.kind != ProviderKind::Replay)
        .filter(|p| p.price_input_per_mtok.is_none() && p.price_output_per_mtok.is_none())
        .map(|p| p.name.as_str())
        .collect()
}

/// The warning a run with a `--max-cost` budget starts with when some providers have no
/// price, naming them: the budget would otherwise silently let them spend anything.
pub fn unpriced_warning<'a>(
    max_cost_usd: Option<f64>,
    providers: impl IntoIterator<Item = &'a ProviderConfig>,
) -> Option<String> {
    max_cost_usd?;
    let free = counted_as_free(providers);
    if free.is_empty() {
        return None;
    }
    Some(format!(
        "warning: --max-cost counts {} as free: no price is set or built in for {}; \
         set price_input_per_mtok and price_output_per_mtok in {} (0 for a free model)",
        free.join(", "),
        if free.len() == 1 { "its model" } else { "their models" },
        if free.len() == 1 { "its table" } else { "their tables" },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn providers(toml: &str) -> Vec<ProviderConfig> {
        Config::parse(std::path::Path::new("quorum.toml"), toml)
            .unwrap()
            .providers
    }

    const TABLES: &str = "[providers.local]\npreset = \"ollama\"\nmodel = \"qwen3:8b\"\n\
        [providers.paid]\npreset = \"ollama\"\nmodel = \"m\"\nprice_output_per_mtok = 1.0\n\
        [providers.zero]\npreset = \"ollama\"\nmodel = \"m\"\nprice_input_per_mtok = 0.0\n\
        [providers.builtin]\npreset = \"openai\"\nmodel = \"gpt-4.1-mini\"\n\
        [providers.other]\npreset = \"openai\"\nmodel = \"an-unknown-model\"\n";

    #[test]
    fn providers_without_any_price_are_the_ones_counted_as_free() {
        let p = providers(TABLES);
        assert_eq!(counted_as_free(&p), ["local", "other"]);
    }

    #[test]
    fn the_warning_names_them_only_under_a_budget() {
        let p = providers(TABLES);
        let warning = unpriced_warning(Some(1.0), &p).unwrap();
        assert!(warning.contains("counts local, other as free"), "{warning}");
        assert_eq!(unpriced_warning(None, &p), None);
        let priced = providers("[providers.paid]\npreset = \"ollama\"\nmodel = \"m\"\nprice_input_per_mtok = 1.0\n");
        assert_eq!(unpriced_warning(Some(1.0), &priced), None);
    }
}
