//! String formats of the kube-openapi format registry (`strfmt.Default`) that CRD schemas may
//! use. Formats outside this list are ignored by the server.

use regex::Regex;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

fn re(cell: &'static OnceLock<Option<Regex>>, pat: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pat).ok()).as_ref()
}

fn matches(cell: &'static OnceLock<Option<Regex>>, pat: &str, s: &str) -> bool {
    re(cell, pat).is_some_and(|r| r.is_match(s))
}

/// Whether `data` is valid for `format` (given as written in the schema; dashes are ignored as
/// the registry normalizes names). Unknown formats validate everything.
pub(crate) fn validates(format: &str, data: &str) -> bool {
    match format.replace('-', "").as_str() {
        "bsonobjectid" => data.len() == 24 && data.chars().all(|c| c.is_ascii_hexdigit()),
        "uri" => is_request_uri(data),
        "email" => is_email(data),
        "hostname" => is_hostname(data),
        "ipv4" => parse_ip_sloppy(data).is_some() && data.contains('.'),
        "ipv6" => data.parse::<Ipv6Addr>().is_ok() && data.contains(':'),
        "cidr" => is_cidr(data),
        "mac" => is_mac(data),
        "uuid" => {
            static R: OnceLock<Option<Regex>> = OnceLock::new();
            matches(
                &R,
                r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$",
                data,
            )
        }
        "uuid3" => {
            static R: OnceLock<Option<Regex>> = OnceLock::new();
            matches(
                &R,
                r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$",
                data,
            )
        }
        "uuid4" => {
            static R: OnceLock<Option<Regex>> = OnceLock::new();
            matches(
                &R,
                r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$",
                data,
            )
        }
        "uuid5" => {
            static R: OnceLock<Option<Regex>> = OnceLock::new();
            matches(
                &R,
                r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$",
                data,
            )
        }
        "isbn" => is_isbn(data, 10) || is_isbn(data, 13),
        "isbn10" => is_isbn(data, 10),
        "isbn13" => is_isbn(data, 13),
        "creditcard" => is_credit_card(data),
        "ssn" => {
            static R: OnceLock<Option<Regex>> = OnceLock::new();
            data.len() == 11 && matches(&R, r"^\d{3}[- ]?\d{2}[- ]?\d{4}$", data)
        }
        "hexcolor" => {
            static R: OnceLock<Option<Regex>> = OnceLock::new();
            matches(&R, r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$", data)
        }
        "rgbcolor" => {
            static R: OnceLock<Option<Regex>> = OnceLock::new();
            let n = r"(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])";
            matches(
                &R,
                &format!(r"^rgb\(\s*{n}\s*,\s*{n}\s*,\s*{n}\s*\)$"),
                data,
            )
        }
        "byte" => {
            static R: OnceLock<Option<Regex>> = OnceLock::new();
            matches(
                &R,
                r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$",
                data,
            )
        }
        "password" => true,
        "date" => is_date(data),
        "duration" => is_duration(data),
        "datetime" => is_date_time(data),
        _ => true,
    }
}

/// `strfmt.IsDate`: a `2006-01-02` full date.
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i16> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    match (digits(0..4), digits(5..7), digits(8..10)) {
        (Some(y), Some(m), Some(d)) => {
            (1..=12).contains(&m) && d >= 1 && jiff::civil::Date::new(y, m as i8, d as i8).is_ok()
        }
        _ => false,
    }
}

/// `strfmt.IsDateTime`.
pub(crate) fn is_date_time(s: &str) -> bool {
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    if s.len() < 4 {
        return false;
    }
    let lower = s.to_lowercase();
    let parts: Vec<&str> = lower.split('t').collect();
    if parts.len() < 2 || !is_date(parts[0]) {
        return false;
    }
    let Some(r) = re(
        &R,
        r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$",
    ) else {
        return false;
    };
    match r.captures(parts[1]) {
        Some(c) => {
            let g = |i: usize| c.get(i).map(|m| m.as_str()).unwrap_or("");
            g(1) <= "23" && g(2) <= "59" && g(3) <= "59"
        }
        None => false,
    }
}

/// Go's `time.ParseDuration`, or the Scala-like syntax strfmt also accepts (`3 days`).
pub(crate) fn is_duration(s: &str) -> bool {
    if go_parse_duration(s) {
        return true;
    }
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(r) = re(&R, r"((\d+)\s*([A-Za-zµ]+))") else {
        return false;
    };
    const UNITS: &[&[&str]] = &[
        &["ns", "nano"],
        &["us", "µs", "micro"],
        &["ms", "milli"],
        &["s", "sec"],
        &["m", "min"],
        &["h", "hr", "hour"],
        &["d", "day"],
        &["w", "wk", "week"],
    ];
    let mut ok = false;
    for c in r.captures_iter(s) {
        if c.get(2)
            .and_then(|m| m.as_str().parse::<i64>().ok())
            .is_none()
        {
            return false;
        }
        let unit = c
            .get(3)
            .map(|m| m.as_str().trim().to_lowercase())
            .unwrap_or_default();
        for variants in UNITS {
            let last = variants.len() - 1;
            for (i, v) in variants.iter().enumerate() {
                if (i == last && unit.starts_with(v)) || unit.eq_ignore_ascii_case(v) {
                    ok = true;
                }
            }
        }
    }
    ok
}

fn go_parse_duration(s: &str) -> bool {
    let mut rest = s.strip_prefix(['-', '+']).unwrap_or(s);
    if rest == "0" {
        return true;
    }
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut consumed = int_len;
        let mut frac_len = 0;
        if rest[consumed..].starts_with('.') {
            consumed += 1;
            frac_len = rest[consumed..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            consumed += frac_len;
        }
        if int_len == 0 && frac_len == 0 {
            return false;
        }
        rest = &rest[consumed..];
        let unit_len: usize = rest
            .chars()
            .take_while(|c| *c != '.' && !c.is_ascii_digit())
            .map(char::len_utf8)
            .sum();
        let unit = &rest[..unit_len];
        if !matches!(unit, "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return false;
        }
        rest = &rest[unit_len..];
    }
    true
}

fn is_request_uri(s: &str) -> bool {
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    if s.is_empty() || s.chars().any(|c| c.is_ascii_control() || c == ' ') {
        return false;
    }
    if !bad_escapes_free(s) {
        return false;
    }
    s.starts_with('/') || matches(&R, r"^[a-zA-Z][a-zA-Z0-9+.\-]*:", s)
}

fn bad_escapes_free(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

fn is_email(s: &str) -> bool {
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    let addr = match (s.rfind('<'), s.ends_with('>')) {
        (Some(i), true) => &s[i + 1..s.len() - 1],
        _ => s.trim(),
    };
    matches(&R, r"^[^@\s<>()\[\],;:]+@[^@\s<>()\[\],;:]+$", addr)
}

fn is_hostname(s: &str) -> bool {
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    let pat = r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$";
    matches(&R, pat, s) && s.len() <= 255 && s.split('.').all(|p| p.len() <= 63)
}

/// `netutils.ParseIPSloppy`: like Go's `net.ParseIP`, but IPv4 octets may have leading zeros.
fn parse_ip_sloppy(s: &str) -> Option<()> {
    if s.contains(':') {
        return s.parse::<Ipv6Addr>().ok().map(|_| ());
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        octets[i] = p.parse::<u16>().ok().filter(|v| *v <= 255)? as u8;
    }
    let _ = Ipv4Addr::from(octets);
    Some(())
}

fn is_cidr(s: &str) -> bool {
    let Some((addr, prefix)) = s.split_once('/') else {
        return false;
    };
    if prefix.is_empty() || !prefix.bytes().all(|c| c.is_ascii_digit()) || prefix.len() > 3 {
        return false;
    }
    let Ok(bits) = prefix.parse::<u32>() else {
        return false;
    };
    if addr.contains(':') {
        addr.parse::<Ipv6Addr>().is_ok() && bits <= 128
    } else {
        parse_ip_sloppy(addr).is_some() && bits <= 32
    }
}

/// Go's `net.ParseMAC`.
fn is_mac(s: &str) -> bool {
    let valid_len = |n: usize| matches!(n, 6 | 8 | 20);
    let b = s.as_bytes();
    if b.len() < 14 {
        return false;
    }
    if b[2] == b':' || b[2] == b'-' {
        let sep = b[2];
        if !(b.len() + 1).is_multiple_of(3) {
            return false;
        }
        let n = (b.len() + 1) / 3;
        if !valid_len(n) {
            return false;
        }
        (0..n).all(|i| {
            let x = i * 3;
            b[x].is_ascii_hexdigit()
                && b[x + 1].is_ascii_hexdigit()
                && (i == n - 1 || b[x + 2] == sep)
        })
    } else if b[4] == b'.' {
        if !(b.len() + 1).is_multiple_of(5) {
            return false;
        }
        let n = 2 * (b.len() + 1) / 5;
        if !valid_len(n) {
            return false;
        }
        (0..n / 2).all(|i| {
            let x = i * 5;
            b[x..x + 4].iter().all(u8::is_ascii_hexdigit) && (i == n / 2 - 1 || b[x + 4] == b'.')
        })
    } else {
        false
    }
}

fn is_isbn(s: &str, version: u8) -> bool {
    let sanitized: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let d: Vec<u32> = sanitized.chars().filter_map(|c| c.to_digit(10)).collect();
    match version {
        10 => {
            let b = sanitized.as_bytes();
            if b.len() != 10 {
                return false;
            }
            let last_x = b[9] == b'X';
            if !b[..9].iter().all(u8::is_ascii_digit) || !(last_x || b[9].is_ascii_digit()) {
                return false;
            }
            let mut sum = 0;
            for (i, v) in d.iter().take(9).enumerate() {
                sum += (i as u32 + 1) * v;
            }
            sum += if last_x {
                100
            } else {
                10 * d.get(9).copied().unwrap_or(0)
            };
            sum % 11 == 0
        }
        _ => {
            if sanitized.len() != 13 || d.len() != 13 {
                return false;
            }
            let sum: u32 = d
                .iter()
                .take(12)
                .enumerate()
                .map(|(i, v)| if i % 2 == 0 { *v } else { 3 * v })
                .sum();
            (10 - sum % 10) % 10 == d[12]
        }
    }
}

fn is_credit_card(s: &str) -> bool {
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    let sanitized: String = s.chars().filter(char::is_ascii_digit).collect();
    if !matches(
        &R,
        r"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11})$",
        &sanitized,
    ) {
        return false;
    }
    let mut sum = 0;
    let mut double = false;
    for c in sanitized.chars().rev() {
        let mut v = c.to_digit(10).unwrap_or(0);
        if double {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
        double = !double;
    }
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(validates("date-time", "2024-01-02T03:04:05Z"));
        assert!(validates("date-time", "2024-01-02T03:04:05.123+01:00"));
        assert!(!validates("date-time", "2024-01-02 03:04:05"));
        assert!(!validates("date-time", "yesterday"));
        assert!(validates("date", "2024-02-29"));
        assert!(!validates("date", "2023-02-29"));
        assert!(validates("byte", "aGVsbG8="));
        assert!(!validates("byte", "hello!"));
        assert!(validates("int32", "anything"));
        assert!(validates("ipv4", "10.0.0.1"));
        assert!(!validates("ipv4", "::1"));
        assert!(validates("ipv6", "::1"));
        assert!(validates("cidr", "10.0.0.0/8"));
        assert!(validates("duration", "1h30m"));
        assert!(validates("duration", "3 days"));
        assert!(!validates("duration", "soon"));
        assert!(validates("uuid", "123e4567-e89b-12d3-a456-426614174000"));
        assert!(validates("hostname", "example.com"));
        assert!(validates("mac", "00:00:5e:00:53:01"));
        assert!(validates("uri", "https://example.com/x"));
        assert!(!validates("uri", "not a uri"));
        assert!(validates("email", "a@b.c"));
        assert!(validates("isbn10", "0321751043"));
        assert!(validates("isbn13", "978-0321751041"));
    }
}
