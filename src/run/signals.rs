//! Stopping a run from outside: Ctrl-C, SIGTERM and SIGHUP (the first stops sending, the
//! second cancels), the `--graceful-stop` bound, and passing an interrupt on to each sweep
//! level's control. Apart from the levels loop because it runs beside it, on its own tasks.

use std::sync::Arc;

use crate::measure::engine::{Phase, RunControl, StopReason};
use crate::output::live::{Live, Mode};
use crate::plan::config::Config;

use super::lines;

/// Passes the user's Ctrl-C on `interrupt` to one level's `control`.
pub(super) fn forward_interrupts(
    interrupt: Arc<RunControl>,
    control: Arc<RunControl>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        interrupt.reached(Phase::Draining).await;
        control.stop_sending(StopReason::Interrupted);
        interrupt.reached(Phase::Cancelling).await;
        control.cancel(StopReason::Interrupted);
    })
}

/// The first Ctrl-C (or SIGTERM, SIGHUP) stops sending; the second cancels what is in flight.
pub(super) fn watch_signals(
    control: Arc<RunControl>,
    live: Arc<Live>,
    config: &Config,
) -> tokio::task::JoinHandle<()> {
    let graceful_stop = config.load.graceful_stop;
    tokio::spawn(async move {
        loop {
            if interrupted().await.is_err() {
                return; // no signal handling here: the default (exit) stays
            }
            let cancelled = press(&control);
            // The dashboard shows the phase itself; its screen must not be written over.
            if live.mode() != Mode::Tui {
                let notice = lines::interrupt_notice(live.lang(), cancelled, graceful_stop);
                live.warn(format!("\n{notice}"));
            }
            if cancelled {
                return;
            }
        }
    })
}

/// Once a Ctrl-C (signal or key) stopped sending, the requests in flight get
/// `--graceful-stop` to finish; then they are cancelled, as a second Ctrl-C would, so that a
/// supervisor's SIGTERM never waits out `--timeout` for stalled streams.
pub(super) fn bound_graceful_stop(
    control: Arc<RunControl>,
    live: Arc<Live>,
    config: &Config,
) -> tokio::task::JoinHandle<()> {
    let limit = config.load.graceful_stop;
    tokio::spawn(async move {
        control.reached(Phase::Draining).await;
        tokio::select! {
            () = control.reached(Phase::Cancelling) => return, // pressed again
            () = tokio::time::sleep(limit) => {}
        }
        control.cancel(StopReason::Interrupted);
        if live.mode() != Mode::Tui {
            live.warn(format!("\n{}", lines::graceful_stop_over(live.lang(), limit)));
        }
    })
}

/// One Ctrl-C, from a signal or the dashboard's keys: the first stops sending, the next
/// cancels the requests in flight. Returns whether this one cancelled.
pub(super) fn press(control: &RunControl) -> bool {
    match control.sending() {
        true => control.stop_sending(StopReason::Interrupted),
        false => control.cancel(StopReason::Interrupted),
    }
    control.phase() == Phase::Cancelling
}

/// Resolves at the next Ctrl-C or (on Unix) SIGTERM or SIGHUP (a closed terminal or
/// session: the same as being asked to stop).
pub(super) async fn interrupted() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
            _ = hangup.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
