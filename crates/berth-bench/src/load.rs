//! Load generators: a closed loop (N workers, each sends its next request when the previous one
//! is answered) and an open loop (requests scheduled on a timer at a fixed rate, latency measured
//! from the scheduled send time so a stalled server cannot hide its stall: no coordinated
//! omission). Latencies go into HDR histograms in microseconds.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// One request that takes longer than this counts as an error (and its worker moves on).
pub const OP_TIMEOUT: Duration = Duration::from_secs(30);

/// A histogram of latencies in microseconds, 1 µs to 1 h, 3 significant digits.
pub fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant histogram bounds are valid")
}

pub fn record(h: &mut Histogram<u64>, d: Duration) {
    h.saturating_record(u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1));
}

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lat {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Lat {
    pub fn of(h: &Histogram<u64>) -> Lat {
        if h.is_empty() {
            return Lat {
                count: 0,
                p50_ms: f64::NAN,
                p90_ms: f64::NAN,
                p99_ms: f64::NAN,
                p999_ms: f64::NAN,
                max_ms: f64::NAN,
                mean_ms: f64::NAN,
            };
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Lat {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }
}

/// Errors of a run: how many, and the first few distinct messages.
#[derive(Debug, Default, Clone)]
pub struct Errors {
    pub count: u64,
    pub samples: Vec<String>,
}

impl Errors {
    pub fn add(&mut self, msg: String) {
        self.count += 1;
        if self.samples.len() < 5 && !self.samples.contains(&msg) {
            self.samples.push(msg);
        }
    }

    pub fn merge(&mut self, other: Errors) {
        self.count += other.count;
        for s in other.samples {
            if self.samples.len() < 5 && !self.samples.contains(&s) {
                self.samples.push(s);
            }
        }
    }
}

/// What a closed-loop run measured.
#[derive(Debug)]
pub struct LoadResult {
    pub requested: usize,
    pub ok: u64,
    pub errors: Errors,
    pub elapsed: Duration,
    /// Latency of successful requests.
    pub hist: Histogram<u64>,
    /// The run hit its deadline before sending all requests.
    pub stopped_at_deadline: bool,
}

impl LoadResult {
    /// Successful operations per second of wall time.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn lat(&self) -> Lat {
        Lat::of(&self.hist)
    }
}

/// Runs `op(0..total)` with `concurrency` workers, each issuing its next request as soon as the
/// previous one completed. Stops sending at `deadline` (wall time from the start).
pub async fn closed_loop<F, Fut>(
    total: usize,
    concurrency: usize,
    deadline: Duration,
    op: F,
) -> LoadResult
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let concurrency = concurrency.max(1);
    let start = Instant::now();
    let stop_at = start + deadline;
    let mut set = JoinSet::new();
    for _ in 0..concurrency {
        let op = op.clone();
        let next = next.clone();
        set.spawn(async move {
            let mut hist = new_hist();
            let mut ok = 0u64;
            let mut errors = Errors::default();
            loop {
                if Instant::now() >= stop_at {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t0 = Instant::now();
                match tokio::time::timeout(OP_TIMEOUT, op(i)).await {
                    Ok(Ok(())) => {
                        record(&mut hist, t0.elapsed());
                        ok += 1;
                    }
                    Ok(Err(e)) => errors.add(format!("{e:#}")),
                    Err(_) => errors.add(format!("no answer within {OP_TIMEOUT:?}")),
                }
            }
            (hist, ok, errors)
        });
    }
    let mut hist = new_hist();
    let mut ok = 0;
    let mut errors = Errors::default();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((h, n, e)) => {
                let _ = hist.add(&h);
                ok += n;
                errors.merge(e);
            }
            Err(e) => errors.add(format!("worker task failed: {e}")),
        }
    }
    let elapsed = start.elapsed();
    LoadResult {
        requested: total,
        ok,
        stopped_at_deadline: (ok + errors.count) < total as u64,
        errors,
        elapsed,
        hist,
    }
}

/// What an open-loop (fixed-rate) run measured.
#[derive(Debug)]
pub struct OpenLoopResult {
    pub target_rate: f64,
    pub scheduled: u64,
    pub ok: u64,
    pub errors: Errors,
    /// From the first scheduled send to the last completion.
    pub elapsed: Duration,
    /// Latency from each request's *scheduled* send time to its completion.
    pub hist: Histogram<u64>,
    /// How late the dispatcher was, at worst, in sending a request (timer slack, or the in-flight
    /// cap being reached because the server fell behind).
    pub max_send_lag: Duration,
    /// Worst latency (ms) of the successful requests scheduled in each second of the run, to
    /// tell one stall from a steady backlog.
    pub max_per_second: Vec<f64>,
}

impl OpenLoopResult {
    pub fn achieved_rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn lat(&self) -> Lat {
        Lat::of(&self.hist)
    }
}

/// Sends `op(i)` at `start + i / rate` for `duration`, whatever the latency of earlier requests,
/// with at most `max_in_flight` outstanding (beyond that the dispatcher waits, and the wait counts
/// in the latency because it is measured from the scheduled time).
pub async fn open_loop<F, Fut>(
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
    op: F,
) -> OpenLoopResult
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let total = (rate * duration.as_secs_f64()).round().max(1.0) as usize;
    let sem = Arc::new(Semaphore::new(max_in_flight.max(1)));
    let start = Instant::now() + Duration::from_millis(20);
    let mut set = JoinSet::new();
    let mut max_send_lag = Duration::ZERO;
    for i in 0..total {
        let scheduled = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(scheduled.into()).await;
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        max_send_lag = max_send_lag.max(Instant::now().saturating_duration_since(scheduled));
        let op = op.clone();
        set.spawn(async move {
            let r = tokio::time::timeout(OP_TIMEOUT, op(i)).await;
            let done = Instant::now();
            drop(permit);
            let r = match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("{e:#}")),
                Err(_) => Err(format!("no answer within {OP_TIMEOUT:?}")),
            };
            (r, done.saturating_duration_since(scheduled), done, i)
        });
    }
    let mut hist = new_hist();
    let mut ok = 0;
    let mut errors = Errors::default();
    let mut last_done = start;
    let mut max_per_second = vec![0f64; duration.as_secs_f64().ceil().max(1.0) as usize];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((r, lat, done, i)) => {
                last_done = last_done.max(done);
                match r {
                    Ok(()) => {
                        ok += 1;
                        record(&mut hist, lat);
                        let sec = ((i as f64 / rate) as usize).min(max_per_second.len() - 1);
                        let ms = lat.as_secs_f64() * 1000.0;
                        max_per_second[sec] = max_per_second[sec].max(ms);
                    }
                    Err(e) => errors.add(e),
                }
            }
            Err(e) => errors.add(format!("request task failed: {e}")),
        }
    }
    OpenLoopResult {
        target_rate: rate,
        scheduled: total as u64,
        ok,
        errors,
        elapsed: last_done.saturating_duration_since(start),
        hist,
        max_send_lag,
        max_per_second,
    }
}
