//! A provider's requests and tokens per minute.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::watch;

use crate::engine::wait::sleep_or_stop;

/// The window the limits count over.
const MINUTE: Duration = Duration::from_secs(60);

/// How long to wait for room when no request is in the window to age out (a limit of
/// zero is off, so this is only a safeguard against a busy loop).
const EMPTY_WINDOW_RECHECK: Duration = Duration::from_millis(50);

/// The shortest wait before looking again: a request that ages out this instant is
/// rechecked without spinning.
const MIN_RECHECK: Duration = Duration::from_millis(5);

/// A request sent in the window: when, and its estimated tokens.
struct Sent {
    at: tokio::time::Instant,
    tokens: u64,
}

/// A sliding one-minute window of requests and tokens sent.
pub(super) struct RateWindow {
    requests_per_minute: Option<u32>,
    tokens_per_minute: Option<u64>,
    sent: tokio::sync::Mutex<VecDeque<Sent>>,
}

impl RateWindow {
    pub(super) fn new(requests_per_minute: Option<u32>, tokens_per_minute: Option<u64>) -> RateWindow {
        RateWindow {
            requests_per_minute: requests_per_minute.filter(|n| *n > 0),
            tokens_per_minute: tokens_per_minute.filter(|n| *n > 0),
            sent: tokio::sync::Mutex::new(VecDeque::new()),
        }
    }

    /// Waits until sending `tokens` more keeps the last minute within the limits.
    /// Returns true when stopped meanwhile (nothing is then counted as sent).
    pub(super) async fn admit(&self, tokens: u64, stop: &watch::Receiver<bool>) -> bool {
        if self.requests_per_minute.is_none() && self.tokens_per_minute.is_none() {
            return false;
        }
        loop {
            let wait = {
                let mut sent = self.sent.lock().await;
                let now = tokio::time::Instant::now();
                while sent.front().is_some_and(|s| now.duration_since(s.at) >= MINUTE) {
                    sent.pop_front();
                }
                let requests_ok = self.requests_per_minute.is_none_or(|max| sent.len() < max as usize);
                let used: u64 = sent.iter().map(|s| s.tokens).sum();
                // A request larger than the whole allowance goes alone into an empty window.
                let tokens_ok = self
                    .tokens_per_minute
                    .is_none_or(|max| used + tokens <= max || sent.is_empty());
                if requests_ok && tokens_ok {
                    sent.push_back(Sent { at: now, tokens });
                    return false;
                }
                sent.front().map_or(EMPTY_WINDOW_RECHECK, |s| {
                    MINUTE.saturating_sub(now.duration_since(s.at))
                })
            };
            if sleep_or_stop(wait.max(MIN_RECHECK), stop).await {
                return true;
            }
        }
    }
}
