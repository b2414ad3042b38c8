//! CronJob schedules and the decision of what to do at a given time (upstream
//! `pkg/controller/cronjob/utils.go`), as pure functions over an explicit `now`.

use std::time::Duration;

use croner::Cron;
use croner::parser::{CronParser, Seconds};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::jiff::tz::TimeZone;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// Added to requeue delays so the sync runs just after the schedule time (upstream
/// `nextScheduleDelta`).
pub const NEXT_SCHEDULE_DELTA: Duration = Duration::from_millis(100);
/// More missed start times than this is reported (upstream's 100).
const MANY_MISSED: i64 = 100;

/// A parsed `spec.schedule` in its time zone.
#[derive(Debug, Clone)]
pub enum Schedule {
    Cron(Box<Cron>, TimeZone),
    /// `@every <duration>` (robfig/cron's constant delay schedule).
    Every(SignedDuration),
}

/// Parses a standard 5-field schedule or a descriptor (robfig/cron `ParseStandard`).
pub fn parse(schedule: &str, tz: TimeZone) -> Result<Schedule, String> {
    let s = schedule.trim();
    if let Some(rest) = s.strip_prefix("@every ") {
        let d = parse_go_duration(rest.trim())?;
        if d < SignedDuration::from_secs(1) {
            return Err(format!("failed to parse duration {s}: must be at least 1s"));
        }
        // Sub-second parts are dropped, as robfig's Every.
        return Ok(Schedule::Every(SignedDuration::from_secs(d.as_secs())));
    }
    let s = if s.eq_ignore_ascii_case("@midnight") {
        "@daily"
    } else {
        s
    };
    if !s.starts_with('@') && s.split_whitespace().count() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: {s}",
            s.split_whitespace().count()
        ));
    }
    let parser = CronParser::builder().seconds(Seconds::Disallowed).build();
    let cron = parser.parse(s).map_err(|e| e.to_string())?;
    Ok(Schedule::Cron(Box::new(cron), tz))
}

/// A Go duration such as `1h30m`, `90s`, `1.5h`.
fn parse_go_duration(s: &str) -> Result<SignedDuration, String> {
    let err = || format!("time: invalid duration {s:?}");
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return Err(err());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        let value: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(err()),
        };
        total += value * factor;
        rest = &rest[unit_len..];
    }
    Ok(SignedDuration::from_secs_f64(total))
}

impl Schedule {
    /// The first schedule time strictly after `t`.
    pub fn next(&self, t: Timestamp) -> Option<Timestamp> {
        match self {
            Schedule::Every(d) => {
                let base = Timestamp::from_second(t.as_second()).ok()?;
                base.checked_add(*d).ok()
            }
            Schedule::Cron(cron, tz) => cron
                .find_next_occurrence(&t.to_zoned(tz.clone()), false)
                .ok()
                .map(|z| z.timestamp()),
        }
    }

    /// The latest schedule time at or before `t`.
    fn previous_or_at(&self, t: Timestamp, earliest: Timestamp) -> Option<Timestamp> {
        match self {
            Schedule::Every(d) => {
                let step = d.as_secs().max(1);
                let first = self.next(earliest)?;
                if first > t {
                    return None;
                }
                let k = (t.as_second() - first.as_second()) / step;
                first.checked_add(SignedDuration::from_secs(k * step)).ok()
            }
            Schedule::Cron(cron, tz) => cron
                .find_previous_occurrence(&t.to_zoned(tz.clone()), true)
                .ok()
                .map(|z| z.timestamp()),
        }
    }
}

/// How many start times were missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    None,
    Few,
    Many,
}

/// The latest unmet schedule time after `earliest` and at or before `now` (upstream
/// `mostRecentScheduleTime`).
pub fn most_recent(
    schedule: &Schedule,
    earliest: Timestamp,
    now: Timestamp,
) -> Result<(Option<Timestamp>, Missed), String> {
    let Some(t1) = schedule.next(earliest) else {
        return Ok((None, Missed::None));
    };
    if now < t1 {
        return Ok((None, Missed::None));
    }
    let Some(t2) = schedule.next(t1) else {
        return Ok((Some(t1), Missed::Few));
    };
    if now < t2 {
        return Ok((Some(t1), Missed::Few));
    }
    let between = t2.duration_since(t1).as_secs();
    if between < 1 {
        return Err("time difference between two schedules is less than 1 second".into());
    }
    // A rough count, as upstream: how many intervals fit between t1 and now.
    let missed = now.duration_since(t1).as_secs() / between + 1;
    let latest = schedule.previous_or_at(now, earliest).unwrap_or(t1).max(t1);
    Ok((
        Some(latest),
        if missed > MANY_MISSED {
            Missed::Many
        } else {
            Missed::Few
        },
    ))
}

/// When a CronJob's schedule is next due, relative to `now` (upstream
/// `nextScheduleTimeDuration`).
pub fn next_delay(cj: &CronJob, schedule: &Schedule, now: Timestamp) -> Duration {
    let earliest = earliest_time(cj, now, false);
    let base = match most_recent(schedule, earliest, now) {
        Err(_) => return NEXT_SCHEDULE_DELTA,
        Ok((Some(t), _)) => t,
        Ok((None, Missed::None)) => earliest,
        Ok((None, _)) => now,
    };
    match schedule.next(base) {
        Some(next) => {
            let d = next.duration_since(now)
                + SignedDuration::try_from(NEXT_SCHEDULE_DELTA).unwrap_or_default();
            Duration::try_from(d).unwrap_or(NEXT_SCHEDULE_DELTA)
        }
        None => Duration::from_secs(24 * 3600),
    }
}

fn earliest_time(cj: &CronJob, now: Timestamp, include_deadline: bool) -> Timestamp {
    let mut earliest = cj
        .status
        .as_ref()
        .and_then(|s| s.last_schedule_time.as_ref())
        .or(cj.metadata.creation_timestamp.as_ref())
        .map(|t| t.0)
        .unwrap_or(now);
    if include_deadline && let Some(d) = cj.spec.as_ref().and_then(|s| s.starting_deadline_seconds)
    {
        let deadline = now - SignedDuration::from_secs(d);
        if deadline > earliest {
            earliest = deadline;
        }
    }
    earliest
}

/// What the controller should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing is due.
    Wait,
    /// The start time passed the starting deadline (event MissSchedule).
    Missed { scheduled: Timestamp },
    /// This start time was already handled.
    AlreadyDone,
    /// Forbid and a Job is still active (event JobAlreadyActive).
    Forbidden,
    /// Start a Job for `scheduled`, replacing the active ones if `replace`.
    Run {
        scheduled: Timestamp,
        replace: bool,
        too_many_missed: bool,
    },
}

/// The schedule decision for `cj` at `now` (the core of upstream `syncCronJob`).
pub fn plan(cj: &CronJob, schedule: &Schedule, now: Timestamp) -> Result<Plan, String> {
    let earliest = earliest_time(cj, now, true);
    let (scheduled, missed) = most_recent(schedule, earliest, now)?;
    let Some(scheduled) = scheduled.filter(|t| *t <= now) else {
        return Ok(Plan::Wait);
    };
    let spec = cj.spec.clone().unwrap_or_default();
    if let Some(d) = spec.starting_deadline_seconds
        && scheduled + SignedDuration::from_secs(d) < now
    {
        return Ok(Plan::Missed { scheduled });
    }
    let status = cj.status.clone().unwrap_or_default();
    let name = job_name(cj.metadata.name.as_deref().unwrap_or(""), scheduled);
    let active = status.active.unwrap_or_default();
    if active
        .iter()
        .any(|r| r.name.as_deref() == Some(name.as_str()))
        || status.last_schedule_time.as_ref().map(|t| t.0) == Some(scheduled)
    {
        return Ok(Plan::AlreadyDone);
    }
    let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
    if policy == "Forbid" && !active.is_empty() {
        return Ok(Plan::Forbidden);
    }
    Ok(Plan::Run {
        scheduled,
        replace: policy == "Replace" && !active.is_empty(),
        too_many_missed: missed == Missed::Many,
    })
}

/// `<cronjob>-<scheduled time in unix minutes>` (upstream `getJobName`).
pub fn job_name(cronjob: &str, scheduled: Timestamp) -> String {
    format!("{cronjob}-{}", scheduled.as_second().div_euclid(60))
}

/// RFC 3339 in the schedule's zone, as Go's `time.RFC3339` (`Z` for UTC).
pub fn scheduled_timestamp(scheduled: Timestamp, tz: &TimeZone) -> String {
    let offset = tz.to_offset(scheduled);
    if offset.seconds() == 0 {
        return scheduled.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    scheduled
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{CronJobSpec, CronJobStatus};
    use k8s_openapi::api::core::v1::ObjectReference;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn cronjob(schedule: &str, created: &str) -> CronJob {
        let mut cj = CronJob {
            spec: Some(CronJobSpec {
                schedule: schedule.into(),
                ..CronJobSpec::default()
            }),
            ..CronJob::default()
        };
        cj.metadata.name = Some("cj".into());
        cj.metadata.creation_timestamp = Some(Time(ts(created)));
        cj
    }

    fn utc(s: &str) -> Schedule {
        parse(s, TimeZone::UTC).unwrap()
    }

    #[test]
    fn parses_standard_schedules_and_descriptors() {
        let t = ts("2025-03-01T10:17:30Z");
        assert_eq!(
            utc("*/15 * * * *").next(t),
            Some(ts("2025-03-01T10:30:00Z"))
        );
        assert_eq!(utc("@hourly").next(t), Some(ts("2025-03-01T11:00:00Z")));
        assert_eq!(utc("@every 90s").next(t), Some(ts("2025-03-01T10:19:00Z")));
        assert!(
            parse("0 * * * * *", TimeZone::UTC).is_err(),
            "seconds are not standard"
        );
        assert!(parse("bogus", TimeZone::UTC).is_err());
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let s = parse("0 9 * * *", berlin.clone()).unwrap();
        assert_eq!(s.next(t), Some(ts("2025-03-02T08:00:00Z")));
        assert_eq!(
            scheduled_timestamp(ts("2025-03-02T08:00:00Z"), &berlin),
            "2025-03-02T09:00:00+01:00"
        );
        assert_eq!(
            scheduled_timestamp(ts("2025-03-02T08:00:00Z"), &TimeZone::UTC),
            "2025-03-02T08:00:00Z"
        );
    }

    #[test]
    fn job_names_use_unix_minutes() {
        assert_eq!(
            job_name("hello", ts("2025-03-01T10:17:00Z")),
            "hello-29013737"
        );
    }

    #[test]
    fn waits_until_due_and_requeues_exactly() {
        let cj = cronjob("*/5 * * * *", "2025-03-01T10:01:00Z");
        let s = utc("*/5 * * * *");
        let now = ts("2025-03-01T10:03:00Z");
        assert_eq!(plan(&cj, &s, now), Ok(Plan::Wait));
        assert_eq!(next_delay(&cj, &s, now), Duration::from_millis(120_100));
        let due = ts("2025-03-01T10:05:00.050Z");
        assert_eq!(
            plan(&cj, &s, due),
            Ok(Plan::Run {
                scheduled: ts("2025-03-01T10:05:00Z"),
                replace: false,
                too_many_missed: false
            })
        );
    }

    #[test]
    fn runs_only_the_latest_of_many_missed_times() {
        let cj = cronjob("* * * * *", "2025-03-01T00:00:30Z");
        let s = utc("* * * * *");
        let now = ts("2025-03-01T05:00:10Z");
        assert_eq!(
            plan(&cj, &s, now),
            Ok(Plan::Run {
                scheduled: ts("2025-03-01T05:00:00Z"),
                replace: false,
                too_many_missed: true
            })
        );
    }

    #[test]
    fn starting_deadline_and_concurrency() {
        let mut cj = cronjob("0 * * * *", "2025-03-01T00:30:00Z");
        let s = utc("0 * * * *");
        cj.spec.as_mut().unwrap().starting_deadline_seconds = Some(60);
        // Ten minutes late with a one-minute deadline: missed, nothing in the window.
        assert_eq!(plan(&cj, &s, ts("2025-03-01T01:10:00Z")), Ok(Plan::Wait));
        cj.spec.as_mut().unwrap().starting_deadline_seconds = Some(600);
        assert_eq!(
            plan(&cj, &s, ts("2025-03-01T01:10:01Z")),
            Ok(Plan::Wait),
            "the deadline window starts after the schedule time"
        );
        cj.spec.as_mut().unwrap().starting_deadline_seconds = Some(900);
        let now = ts("2025-03-01T01:10:00Z");
        assert!(matches!(plan(&cj, &s, now), Ok(Plan::Run { .. })));

        cj.spec.as_mut().unwrap().concurrency_policy = Some("Forbid".into());
        cj.status = Some(CronJobStatus {
            active: Some(vec![ObjectReference {
                name: Some("cj-0".into()),
                ..ObjectReference::default()
            }]),
            ..CronJobStatus::default()
        });
        assert_eq!(plan(&cj, &s, now), Ok(Plan::Forbidden));
        cj.spec.as_mut().unwrap().concurrency_policy = Some("Replace".into());
        assert!(matches!(
            plan(&cj, &s, now),
            Ok(Plan::Run { replace: true, .. })
        ));

        // Already handled: lastScheduleTime is this start time.
        cj.status.as_mut().unwrap().last_schedule_time = Some(Time(ts("2025-03-01T01:00:00Z")));
        assert_eq!(plan(&cj, &s, now), Ok(Plan::Wait));
    }

    #[test]
    fn deadline_window_moves_with_now() {
        let mut cj = cronjob("0 * * * *", "2025-03-01T00:30:00Z");
        cj.spec.as_mut().unwrap().starting_deadline_seconds = Some(600);
        let s = utc("0 * * * *");
        // The most recent time inside the window that is already past its deadline.
        cj.status = Some(CronJobStatus::default());
        let now = ts("2025-03-01T01:09:59Z");
        assert!(matches!(plan(&cj, &s, now), Ok(Plan::Run { .. })));
        assert_eq!(
            plan(&cj, &s, ts("2025-03-01T01:10:00.5Z")),
            Ok(Plan::Wait),
            "earliest moves past the time"
        );
    }
}
