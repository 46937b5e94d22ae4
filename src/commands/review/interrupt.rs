//! Ctrl-C during a review: the first stops sending and lets the requests in flight
//! finish; a second quits at once. Either way every answer received is already on disk.

use std::future::Future;

use tokio::sync::{oneshot, watch};

/// A second Ctrl-C, once it comes. `None` once the listener is known to be gone without
/// one (it could not listen): a finished receiver must not be asked again.
pub(super) struct Quit(Option<oneshot::Receiver<()>>);

/// Starts listening for Ctrl-C: the watch turns true on the first, [`Quit`] ends on the
/// second.
pub(super) fn watch_ctrl_c() -> (watch::Receiver<bool>, Quit) {
    let (stop_tx, stop) = watch::channel(false);
    let (quit_tx, quit) = oneshot::channel();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nStopping: waiting for the requests in flight (Ctrl-C again to quit now)…");
            let _ = stop_tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("Quit. Continue later with `quorum review --resume OUT_DIR`.");
                let _ = quit_tx.send(());
            }
        }
    });
    (stop, Quit(Some(quit)))
}

impl Quit {
    /// Runs `work` to its end, or gives `None` as soon as the user quits (or has quit).
    pub(super) async fn unless_quit<T>(&mut self, work: impl Future<Output = T>) -> Option<T> {
        let quit = async {
            if let Some(receiver) = self.0.as_mut() {
                if receiver.await.is_ok() {
                    return;
                }
                // The listener gone without a second Ctrl-C: no quit, now or later.
                self.0 = None;
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            biased;
            () = quit => None,
            done = work => Some(done),
        }
    }
}
