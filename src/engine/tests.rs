//! Tests of the engine's parts that need no server (the engine against simulated
//! servers is tested in `tests/engine_faults.rs`).

use std::time::Duration;

use tokio::sync::watch;

use super::budget::Budget;
use super::rate::RateWindow;
use super::Backoff;

#[test]
fn backoff_prefers_retry_after_and_grows_otherwise() {
    let b = Backoff::default();
    assert_eq!(b.delay(1, Some(Duration::from_secs(7)), 0), Duration::from_secs(7));
    let jittered = b.delay(1, Some(Duration::from_secs(10)), 999);
    assert!(
        jittered > Duration::from_secs(10) && jittered <= Duration::from_secs(12),
        "{jittered:?}"
    );
    assert_eq!(b.delay(1, Some(Duration::from_secs(3600)), 0), Duration::from_secs(60));
    assert_eq!(b.delay(1, None, 0), Duration::from_secs(1));
    assert_eq!(b.delay(3, None, 0), Duration::from_secs(4));
    assert!(b.delay(3, None, 999) < Duration::from_secs(6));
    assert_eq!(b.delay(30, None, 0), Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn budget_waits_for_requests_in_flight_and_refuses_only_what_cannot_fit() {
    let (_tx, stop) = watch::channel(false);
    let b = std::sync::Arc::new(Budget::new(Some(1.0)));
    assert!(b.reserve(0.6, &stop).await);
    // 0.6 reserved + 0.6 > 1.0: waits until the first request settles.
    let waiter = tokio::spawn({
        let b = b.clone();
        {
            let stop = stop.clone();
            async move { b.reserve(0.6, &stop).await }
        }
    });
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished(), "waits while a request is in flight");
    b.settle(0.6, 0.2);
    assert!(waiter.await.unwrap(), "0.2 spent + 0.6 fits");
    b.settle(0.6, 0.6);
    assert!(!b.reserve(0.6, &stop).await, "0.8 spent + 0.6 can never fit");
    assert!(b.exhausted());
    assert!(b.reserve(0.0, &stop).await, "free requests always fit");
    assert!(Budget::new(None).reserve(1e9, &stop).await);
}

#[tokio::test(start_paused = true)]
async fn rate_window_spaces_requests_to_the_limit() {
    let w = RateWindow::new(Some(2), None);
    let (_tx, stop) = watch::channel(false);
    let start = tokio::time::Instant::now();
    for _ in 0..5 {
        assert!(!w.admit(1, &stop).await);
    }
    // 2 at once, 2 after a minute, 1 after two minutes (virtual time).
    let waited = tokio::time::Instant::now() - start;
    assert!(
        waited >= Duration::from_secs(120) && waited < Duration::from_secs(121),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_ends_the_wait_for_the_rate_window() {
    let w = RateWindow::new(Some(1), None);
    let (tx, stop) = watch::channel(false);
    assert!(!w.admit(1, &stop).await);
    let waiting = tokio::spawn(async move { w.admit(1, &stop).await });
    tokio::time::sleep(Duration::from_secs(5)).await;
    tx.send(true).unwrap();
    assert!(waiting.await.unwrap(), "stopped, not sent");
}
