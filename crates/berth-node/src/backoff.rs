//! Kubelet's crash-loop back-off (`flowcontrol.Backoff` keyed by container): the first restart
//! is immediate, then each restart waits 10 s, doubling up to 5 minutes; an entry unused for
//! twice the maximum (10 minutes) starts over.

use std::time::{Duration, Instant};

pub const INITIAL: Duration = Duration::from_secs(10);
pub const MAX: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub delay: Duration,
    /// When the container last finished (the back-off's `lastUpdate`).
    last_update: Instant,
}

/// The back-off of one container; `None` until its first restart.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContainerBackoff(Option<Backoff>);

impl ContainerBackoff {
    fn expired(b: &Backoff, at: Instant) -> bool {
        at.saturating_duration_since(b.last_update) > MAX * 2
    }

    /// If the container that finished at `finished` must still wait, how long its back-off is
    /// (for the message) and when it may start.
    pub fn waiting(&self, finished: Instant, now: Instant) -> Option<(Duration, Instant)> {
        let b = self.0.as_ref()?;
        if Self::expired(b, finished) {
            return None;
        }
        let until = finished + b.delay;
        (now < until).then_some((b.delay, until))
    }

    /// Records a restart of a container that finished at `finished` (`Backoff.Next`).
    pub fn next(&mut self, finished: Instant) {
        let delay = match &self.0 {
            Some(b) if !Self::expired(b, finished) => (b.delay * 2).min(MAX),
            _ => INITIAL,
        };
        self.0 = Some(Backoff {
            delay,
            last_update: finished,
        });
    }
}

/// Go's `time.Duration.String()` for whole seconds ("10s", "1m20s", "5m0s").
pub fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{}h{}m{}s", secs / 3600, (secs % 3600) / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_ten_seconds_to_five_minutes() {
        let mut b = ContainerBackoff::default();
        let t0 = Instant::now();
        assert!(b.waiting(t0, t0).is_none(), "first restart is immediate");
        b.next(t0);
        let (delay, until) = b.waiting(t0, t0).unwrap();
        assert_eq!(delay, INITIAL);
        assert_eq!(until, t0 + INITIAL);
        assert!(b.waiting(t0, t0 + INITIAL).is_none());
        let mut t = t0;
        for _ in 0..10 {
            t += Duration::from_secs(1);
            b.next(t);
        }
        assert_eq!(b.waiting(t, t).unwrap().0, MAX);
        // Ran for longer than 10 minutes: starts over.
        let later = t + Duration::from_secs(601);
        assert!(b.waiting(later, later).is_none());
        b.next(later);
        assert_eq!(b.waiting(later, later).unwrap().0, INITIAL);
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(go_duration(Duration::from_secs(10)), "10s");
        assert_eq!(go_duration(Duration::from_secs(80)), "1m20s");
        assert_eq!(go_duration(Duration::from_secs(300)), "5m0s");
    }
}
