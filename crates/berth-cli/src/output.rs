//! Where output goes (stdout/stderr, or buffers in tests), and how it looks: tables, ages,
//! durations, JSON and YAML.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use crate::CliError;

/// `-o/--output`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Tables and sentences.
    #[default]
    Human,
    Json,
    Yaml,
}

type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

/// The command's output: results on one sink, progress and warnings on the other. Clones share
/// the sinks, so concurrent tasks (one per pod in `logs`) write whole lines.
#[derive(Clone)]
pub struct Printer {
    out: Sink,
    err: Sink,
    pub format: OutputFormat,
    tty: bool,
}

/// What a [`Printer::capture`] printer wrote.
#[derive(Clone, Default)]
pub struct Captured {
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
}

impl Captured {
    pub fn stdout(&self) -> String {
        let bytes = self.out.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    pub fn stderr(&self) -> String {
        let bytes = self.err.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// A `Write` into a shared buffer.
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut b) => {
                b.extend_from_slice(buf);
                Ok(buf.len())
            }
            Err(_) => Err(std::io::Error::other("poisoned buffer")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Printer {
    /// The process's stdout and stderr.
    pub fn stdout(format: OutputFormat) -> Printer {
        Printer {
            out: Arc::new(Mutex::new(Box::new(std::io::stdout()))),
            err: Arc::new(Mutex::new(Box::new(std::io::stderr()))),
            format,
            tty: std::io::stdout().is_terminal(),
        }
    }

    /// In-memory sinks (tests, or a caller that wants the text).
    pub fn capture(format: OutputFormat) -> (Printer, Captured) {
        let captured = Captured::default();
        let printer = Printer {
            out: Arc::new(Mutex::new(Box::new(SharedBuffer(captured.out.clone())))),
            err: Arc::new(Mutex::new(Box::new(SharedBuffer(captured.err.clone())))),
            format,
            tty: false,
        };
        (printer, captured)
    }

    /// The same sinks with another format.
    pub fn with_format(&self, format: OutputFormat) -> Printer {
        Printer {
            format,
            ..self.clone()
        }
    }

    /// Whether live progress may redraw (a spinner): stdout is a terminal and output is human.
    pub fn interactive(&self) -> bool {
        self.tty && self.format == OutputFormat::Human
    }

    pub fn is_human(&self) -> bool {
        self.format == OutputFormat::Human
    }

    fn write(sink: &Sink, text: &str) {
        if let Ok(mut w) = sink.lock() {
            // A closed pipe (`berth logs | head`) is not worth an error.
            let _ = w.write_all(text.as_bytes());
            let _ = w.flush();
        }
    }

    /// A line of the result.
    pub fn line(&self, text: impl AsRef<str>) {
        let mut s = text.as_ref().to_string();
        s.push('\n');
        Printer::write(&self.out, &s);
    }

    /// Text of the result as is (a table already ending in a newline).
    pub fn text(&self, text: impl AsRef<str>) {
        Printer::write(&self.out, text.as_ref());
    }

    /// A progress line: on stdout for humans, on stderr when stdout carries JSON or YAML.
    pub fn progress(&self, text: impl AsRef<str>) {
        let mut s = text.as_ref().to_string();
        s.push('\n');
        if self.is_human() {
            Printer::write(&self.out, &s);
        } else {
            Printer::write(&self.err, &s);
        }
    }

    /// A warning, on stderr.
    pub fn warn(&self, text: impl AsRef<str>) {
        Printer::write(&self.err, &format!("warning: {}\n", text.as_ref()));
    }

    /// `value` as JSON or YAML per the format (JSON for human, callers print tables instead).
    pub fn structured<T: Serialize>(&self, value: &T) -> Result<(), CliError> {
        let text = match self.format {
            OutputFormat::Yaml => {
                serde_saphyr::to_string(value).map_err(|e| CliError::Serialize(e.to_string()))?
            }
            _ => {
                let mut s = serde_json::to_string_pretty(value)
                    .map_err(|e| CliError::Serialize(e.to_string()))?;
                s.push('\n');
                s
            }
        };
        self.text(text);
        Ok(())
    }
}

/// A `kind: List` of items, what `kubectl get -o json` prints for several objects.
pub fn list_of(items: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items})
}

/// Columns padded to their widest cell, separated by three spaces (as kubectl prints). Trailing
/// spaces are trimmed.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: &mut dyn Iterator<Item = &str>| {
        let mut line = String::new();
        for (i, cell) in cells.enumerate() {
            line.push_str(cell);
            if i + 1 < widths.len() {
                let pad = widths[i].saturating_sub(cell.chars().count()) + 3;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push_row(&mut headers.iter().copied());
    for row in rows {
        push_row(&mut row.iter().map(String::as_str));
    }
    out
}

/// A duration as kubectl prints ages (`HumanDuration`): `45s`, `3m12s`, `5h4m`, `3d4h`, `2y10d`.
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    let minutes = seconds / 60;
    let hours = minutes / 60;
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        }
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        }
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        }
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

/// Age of a timestamp relative to now; `<unknown>` without one.
pub fn age(time: Option<Timestamp>) -> String {
    age_at(time, Timestamp::now())
}

/// Age of `time` at `now` (clock skew into the future shows as `0s`).
pub fn age_at(time: Option<Timestamp>, now: Timestamp) -> String {
    let Some(time) = time else {
        return "<unknown>".to_string();
    };
    let seconds = now.as_second() - time.as_second();
    human_duration(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

/// Age of an RFC 3339 string (status fields copied as strings); the string itself when it does
/// not parse.
pub fn age_of_str(time: Option<&str>) -> String {
    match time {
        None | Some("") => "<none>".to_string(),
        Some(s) => match s.parse::<Timestamp>() {
            Ok(t) => age(Some(t)),
            Err(_) => s.to_string(),
        },
    }
}

/// A short elapsed time for messages: `850ms`, `3.2s`, `2m5s`.
pub fn short_elapsed(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d < Duration::from_secs(60) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        human_duration(d)
    }
}

/// Parses durations like `300s`, `10m`, `1h30m`, `2d`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".to_string());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            unit = "ms".to_string();
        }
        let value: f64 = number.parse().map_err(|_| {
            format!("invalid duration {text:?}: a number must come before {unit:?}")
        })?;
        number.clear();
        let factor = match unit.as_str() {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {unit:?} (use ms, s, m, h or d)"
                ));
            }
        };
        total += Duration::from_secs_f64(value * factor);
    }
    if !number.is_empty() {
        return Err(format!(
            "invalid duration {text:?}: missing unit after {number:?} (use ms, s, m, h or d)"
        ));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns_and_trims_line_ends() {
        let text = table(
            &["NAME", "PHASE", "READY"],
            &[
                vec!["web".into(), "Available".into(), "2/2".into()],
                vec!["worker-long".into(), "".into(), "".into()],
            ],
        );
        assert_eq!(
            text,
            "NAME          PHASE       READY\n\
             web           Available   2/2\n\
             worker-long\n"
        );
    }

    #[test]
    fn ages_like_kubectl() {
        let cases = [
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (192, "3m12s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600 + 5 * 60, "3h5m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (3 * 86400 + 4 * 3600, "3d4h"),
            (30 * 86400, "30d"),
            (3 * 365 * 86400 + 10 * 86400, "3y10d"),
            (9 * 365 * 86400, "9y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(Duration::from_secs(secs)), want, "{secs}s");
        }
        let now: Timestamp = "2026-01-01T00:10:00Z".parse().expect("now");
        let then: Timestamp = "2026-01-01T00:00:00Z".parse().expect("then");
        assert_eq!(age_at(Some(then), now), "10m");
        assert_eq!(age_at(Some(now), then), "0s");
        assert_eq!(age_at(None, now), "<unknown>");
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("300s"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("10m5").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn captured_output_separates_results_and_progress() {
        let (p, c) = Printer::capture(OutputFormat::Json);
        p.progress("web: rolling out");
        p.structured(&serde_json::json!({"a": 1})).expect("json");
        p.warn("careful");
        assert_eq!(c.stdout(), "{\n  \"a\": 1\n}\n");
        assert_eq!(c.stderr(), "web: rolling out\nwarning: careful\n");
        let (p, c) = Printer::capture(OutputFormat::Yaml);
        p.structured(&serde_json::json!({"a": 1})).expect("yaml");
        assert_eq!(c.stdout().trim(), "a: 1");
    }
}
