//! Waiting that a stop request cuts short.

use std::time::Duration;

use tokio::sync::watch;

/// Waits until `deadline`, or forever without one.
pub(super) async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Sleeps for `wait`, or less if a stop is requested. Returns true when stopped.
pub(super) async fn sleep_or_stop(wait: Duration, stop: &watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    let mut changes = stop.clone();
    tokio::select! {
        _ = tokio::time::sleep(wait) => *stop.borrow(),
                Ok(_) = changes.wait_for(|s| *s) => true,
    }
}
