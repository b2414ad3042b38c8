//! Collects figures (each with an id, a label and a unit), prints human-readable tables, and
//! writes everything as JSON for `--json FILE`.

use std::path::Path;

use anyhow::Context;
use serde_json::{Map, Value, json};

use crate::load::{Errors, Lat};

#[derive(Default)]
pub struct Report {
    meta: Map<String, Value>,
    figures: Vec<Value>,
    series: Vec<Value>,
    goals: Vec<Value>,
    notes: Vec<String>,
}

impl Report {
    pub fn meta(&mut self, key: &str, value: impl Into<Value>) {
        self.meta.insert(key.to_string(), value.into());
    }

    /// One figure. `id` is a stable dotted name, `label` says what was measured, `unit` its unit.
    pub fn figure(&mut self, id: &str, label: &str, value: f64, unit: &str) {
        self.figures.push(json!({
            "id": id,
            "label": label,
            "value": finite(value),
            "unit": unit,
        }));
    }

    /// p50/p90/p99/p99.9/max/mean (ms) and the sample count of a latency distribution.
    pub fn latency(&mut self, id: &str, label: &str, lat: &Lat) {
        let quantiles = [
            ("p50", "p50", lat.p50_ms),
            ("p90", "p90", lat.p90_ms),
            ("p99", "p99", lat.p99_ms),
            ("p999", "p99.9", lat.p999_ms),
            ("max", "max", lat.max_ms),
            ("mean", "mean", lat.mean_ms),
        ];
        for (suffix, name, v) in quantiles {
            self.figure(
                &format!("{id}.{suffix}"),
                &format!("{label}, {name}"),
                v,
                "ms",
            );
        }
        self.figure(
            &format!("{id}.samples"),
            &format!("{label}, samples"),
            lat.count as f64,
            "count",
        );
    }

    /// Error count of a run, and its first messages as a note (printed too).
    pub fn errors(&mut self, id: &str, label: &str, errors: &Errors) {
        self.figure(
            &format!("{id}.errors"),
            &format!("{label}, errors"),
            errors.count as f64,
            "count",
        );
        if errors.count > 0 {
            let text = format!(
                "{label}: {} error(s), e.g.: {}",
                errors.count,
                errors.samples.join(" | ")
            );
            println!("  !! {text}");
            self.notes.push(text);
        }
    }

    /// A series of values (e.g. one per second), under `series` in the JSON.
    pub fn series(&mut self, id: &str, label: &str, values: &[f64], unit: &str) {
        let values: Vec<Value> = values.iter().map(|v| finite(*v)).collect();
        self.series
            .push(json!({"id": id, "label": label, "values": values, "unit": unit}));
    }

    pub fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        println!("  NOTE: {text}");
        self.notes.push(text);
    }

    /// A goal from the issue, next to what was measured.
    pub fn goal(&mut self, goal: &str, target: &str, measured: f64, unit: &str, met: bool) {
        self.goals.push(json!({
            "goal": goal,
            "target": target,
            "measured": finite(measured),
            "unit": unit,
            "met": met,
        }));
    }

    pub fn print_goals(&self) {
        if self.goals.is_empty() {
            return;
        }
        let mut t = Table::new("Goals", &["goal", "target", "measured", "met"]);
        for g in &self.goals {
            let measured = match g["measured"].as_f64() {
                Some(v) => format!("{} {}", fmt_num(v), g["unit"].as_str().unwrap_or("")),
                None => "n/a".into(),
            };
            t.row(vec![
                g["goal"].as_str().unwrap_or("").to_string(),
                g["target"].as_str().unwrap_or("").to_string(),
                measured,
                if g["met"].as_bool() == Some(true) {
                    "yes".into()
                } else {
                    "NO".into()
                },
            ]);
        }
        t.print();
    }

    pub fn to_json(&self) -> Value {
        json!({
            "meta": Value::Object(self.meta.clone()),
            "figures": self.figures,
            "series": self.series,
            "goals": self.goals,
            "notes": self.notes,
        })
    }

    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(&self.to_json())?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

fn finite(v: f64) -> Value {
    // Three decimals are below the noise of every figure here.
    if v.is_finite() {
        json!((v * 1000.0).round() / 1000.0)
    } else {
        Value::Null
    }
}

/// A number for a table cell: enough digits to read, no more.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

pub fn fmt_ratio(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.2}x")
    } else {
        "n/a".into()
    }
}

/// A plain-text table with a title, printed with aligned columns.
pub struct Table {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: &str, headers: &[&str]) -> Table {
        Table {
            title: title.to_string(),
            headers: headers.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self) {
        let cols = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.headers.len()])
            .max()
            .unwrap_or(0);
        let mut width = vec![0usize; cols];
        for r in self.rows.iter().chain([&self.headers]) {
            for (i, c) in r.iter().enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::from("  ");
            for (i, w) in width.iter().enumerate() {
                let c = cells.get(i).map(String::as_str).unwrap_or("");
                if i == 0 {
                    s.push_str(&format!("{c:<w$}"));
                } else {
                    s.push_str(&format!("  {c:>w$}"));
                }
            }
            s.trim_end().to_string()
        };
        println!();
        println!("== {} ==", self.title);
        println!("{}", line(&self.headers));
        let total: usize = width.iter().sum::<usize>() + 2 * cols.saturating_sub(1);
        println!("  {}", "-".repeat(total));
        for r in &self.rows {
            println!("{}", line(r));
        }
    }
}
