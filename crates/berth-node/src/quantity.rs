//! Enough of `resource.Quantity` to read container resources: a decimal number with an
//! optional binary (Ki..Ei), decimal (n, u, m, k..E) or exponent suffix.

/// The quantity's value (1 = one core or one byte); `None` when it does not parse.
pub fn parse(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    Some(number * factor)
}

/// Whole units (bytes), rounded up (as `Value`).
pub fn whole(q: &str) -> Option<u64> {
    parse(q).map(|v| v.ceil().max(0.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_quantities() {
        assert_eq!(parse("100m"), Some(0.1));
        assert_eq!(parse("1"), Some(1.0));
        assert_eq!(parse("0.5"), Some(0.5));
        assert_eq!(whole("128Mi"), Some(134_217_728));
        assert_eq!(whole("1G"), Some(1_000_000_000));
        assert_eq!(whole("1e3"), Some(1000));
        assert_eq!(whole("12Zi"), None);
    }
}
