//! CronJob schedules and time zones, checked as `cron.ParseStandard` (robfig/cron v3) and
//! `time.LoadLocation` do for Kubernetes v1.33, with the same error texts.

/// `cron.ParseStandard`: a five-field spec (`minute hour day-of-month month day-of-week`) or a
/// descriptor (`@hourly`, `@every 1h30m`, ...), optionally prefixed by `TZ=...` / `CRON_TZ=...`.
pub fn parse_standard(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty spec string".into());
    }
    let mut spec = spec;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let eq = spec.find('=').map_or(0, |e| e + 1);
        let end = spec.find(' ').unwrap_or(spec.len());
        let tz = &spec[eq..end.max(eq)];
        if let Err(e) = load_location(tz) {
            return Err(format!("provided bad location {tz}: {e}"));
        }
        spec = spec[end..].trim();
    }
    if let Some(rest) = spec.strip_prefix('@') {
        return parse_descriptor(rest, spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let bounds: [Bounds; 5] = [
        (0, 59, None),
        (0, 23, None),
        (1, 31, None),
        (1, 12, Some((MONTHS, 1))),
        (0, 6, Some((DAYS, 0))),
    ];
    for (field, (min, max, names)) in fields.iter().zip(bounds) {
        for expr in field.split(',') {
            get_range(expr, min, max, names)?;
        }
    }
    Ok(())
}

/// (minimum, maximum, optional names with the value of the first name).
type Bounds = (u64, u64, Option<(&'static [&'static str], u64)>);

fn parse_descriptor(rest: &str, spec: &str) -> Result<(), String> {
    match rest {
        "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => Ok(()),
        _ => {
            if let Some(d) = rest.strip_prefix("every ") {
                if parse_go_duration(d).is_none() {
                    return Err(format!(
                        "failed to parse duration {spec}: time: invalid duration \"{d}\""
                    ));
                }
                return Ok(());
            }
            Err(format!("unrecognized descriptor: {spec}"))
        }
    }
}

/// Whether `s` is a Go duration (`1h30m`, `90s`, `1.5h`).
fn parse_go_duration(s: &str) -> Option<()> {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if s == "0" {
        return Some(());
    }
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        if i == start {
            return None;
        }
        let ustart = i;
        while i < b.len() && !(b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        match &s[ustart..i] {
            "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h" => {}
            _ => return None,
        }
    }
    Some(())
}

fn parse_int(expr: &str) -> Result<u64, String> {
    match expr.parse::<i64>() {
        Ok(n) if n < 0 => Err(format!("negative number ({n}) not allowed: {expr}")),
        Ok(n) => Ok(n as u64),
        Err(_) => Err(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing {}: invalid syntax",
            crate::names::go_quote(expr)
        )),
    }
}

fn parse_int_or_name(expr: &str, names: Option<(&[&str], u64)>) -> Result<u64, String> {
    if let Some((list, offset)) = names {
        let lower = expr.to_lowercase();
        if let Some(i) = list.iter().position(|n| *n == lower) {
            return Ok(i as u64 + offset);
        }
    }
    parse_int(expr)
}

fn get_range(expr: &str, min: u64, max: u64, names: Option<(&[&str], u64)>) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end);
    if low_and_high[0] == "*" || low_and_high[0] == "?" {
        start = min;
        end = max;
    } else {
        start = parse_int_or_name(low_and_high[0], names)?;
        end = match low_and_high.len() {
            1 => start,
            2 => parse_int_or_name(low_and_high[1], names)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let s = parse_int(range_and_step[1])?;
            if single {
                end = max;
            }
            s
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({min}): {expr}"
        ));
    }
    if end > max {
        return Err(format!(
            "end of range ({end}) above maximum ({max}): {expr}"
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

const AREAS: &[&str] = &[
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Brazil",
    "Canada",
    "Chile",
    "Etc",
    "Europe",
    "Indian",
    "Mexico",
    "Pacific",
    "US",
];

const SINGLE_ZONES: &[&str] = &[
    "UTC",
    "GMT",
    "Etc",
    "EST",
    "MST",
    "HST",
    "EST5EDT",
    "CST6CDT",
    "MST7MDT",
    "PST8PDT",
    "CET",
    "EET",
    "MET",
    "WET",
    "Cuba",
    "Egypt",
    "Eire",
    "GB",
    "GB-Eire",
    "GMT+0",
    "GMT-0",
    "GMT0",
    "Greenwich",
    "Hongkong",
    "Iceland",
    "Iran",
    "Israel",
    "Jamaica",
    "Japan",
    "Kwajalein",
    "Libya",
    "NZ",
    "NZ-CHAT",
    "Navajo",
    "PRC",
    "Poland",
    "Portugal",
    "ROC",
    "ROK",
    "Singapore",
    "Turkey",
    "UCT",
    "Universal",
    "W-SU",
    "Zulu",
];

/// `time.LoadLocation`, approximately: without a time zone database, accepts `UTC`, the single
/// legacy zone names and `Area/Location` names under the IANA areas.
pub fn load_location(name: &str) -> Result<(), String> {
    let unknown = || Err(format!("unknown time zone {name}"));
    if name.is_empty() || name == "UTC" {
        return Ok(());
    }
    if name == "Local" {
        return Ok(());
    }
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() == 1 {
        return if SINGLE_ZONES.contains(&name) {
            Ok(())
        } else {
            unknown()
        };
    }
    if !AREAS.contains(&parts[0]) {
        return unknown();
    }
    for p in &parts[1..] {
        let ok = !p.is_empty()
            && p.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'));
        if !ok {
            return unknown();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        assert!(parse_standard("*/5 * * * *").is_ok());
        assert!(parse_standard("0 0 * * MON-FRI").is_ok());
        assert!(parse_standard("0 0 1 jan,jul ?").is_ok());
        assert!(parse_standard("@hourly").is_ok());
        assert!(parse_standard("@every 1h30m").is_ok());
        assert_eq!(
            parse_standard("* * * *").unwrap_err(),
            "expected exactly 5 fields, found 4: [* * * *]"
        );
        assert_eq!(
            parse_standard("60 * * * *").unwrap_err(),
            "end of range (60) above maximum (59): 60"
        );
        assert_eq!(
            parse_standard("@foo").unwrap_err(),
            "unrecognized descriptor: @foo"
        );
        assert_eq!(
            parse_standard("x * * * *").unwrap_err(),
            "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            parse_standard("5-1 * * * *").unwrap_err(),
            "beginning of range (5) beyond end of range (1): 5-1"
        );
        assert_eq!(parse_standard("").unwrap_err(), "empty spec string");
    }

    #[test]
    fn zones() {
        assert!(load_location("Europe/Berlin").is_ok());
        assert!(load_location("America/Argentina/Buenos_Aires").is_ok());
        assert!(load_location("Etc/GMT+5").is_ok());
        assert_eq!(
            load_location("Mars/Olympus").unwrap_err(),
            "unknown time zone Mars/Olympus"
        );
    }
}
