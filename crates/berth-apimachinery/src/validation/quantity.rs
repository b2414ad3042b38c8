//! `resource.Quantity` of `k8s.io/apimachinery/pkg/api/resource`: parsing (`ParseQuantity`),
//! comparison, rounding and the canonical text form (`Quantity.String()`), as Kubernetes v1.33
//! has them.
//!
//! Values are kept as an arbitrary-precision decimal (digits and a power of ten), so that large
//! and very precise quantities compare and print exactly as Go's `inf.Dec` based code does.

use std::cmp::Ordering;
use std::fmt;

/// How a quantity prints: `DecimalSI` (`1k`, `500m`), `BinarySI` (`1Gi`) or `DecimalExponent`
/// (`1e3`), chosen by the suffix it was parsed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DecimalExponent,
    BinarySI,
    DecimalSI,
}

impl Format {
    /// The name Go gives the format (`"DecimalSI"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DecimalExponent => "DecimalExponent",
            Format::BinarySI => "BinarySI",
            Format::DecimalSI => "DecimalSI",
        }
    }
}

/// A parsed quantity: `(-1)^neg * digits * 10^exp`, digits without leading or trailing zeros
/// (empty for zero).
#[derive(Debug, Clone)]
pub struct Quantity {
    neg: bool,
    digits: Vec<u8>,
    exp: i64,
    format: Format,
}

/// `resource.ErrFormatWrong`.
pub const ERR_FORMAT_WRONG: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/// `resource.ErrNumeric`.
pub const ERR_NUMERIC: &str = "unable to parse quantity's numeric part";
/// `resource.ErrSuffix`.
pub const ERR_SUFFIX: &str = "unable to parse quantity's suffix";

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        let sa = self.sign();
        let sb = other.sign();
        if sa != sb {
            return sa.cmp(&sb);
        }
        let mag = cmp_magnitude(self, other);
        if sa < 0 { mag.reverse() } else { mag }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

fn cmp_magnitude(a: &Quantity, b: &Quantity) -> Ordering {
    match (a.digits.is_empty(), b.digits.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    // Position of the most significant digit.
    let ta = a.digits.len() as i64 + a.exp;
    let tb = b.digits.len() as i64 + b.exp;
    if ta != tb {
        return ta.cmp(&tb);
    }
    let n = a.digits.len().max(b.digits.len());
    for i in 0..n {
        let da = a.digits.get(i).copied().unwrap_or(0);
        let db = b.digits.get(i).copied().unwrap_or(0);
        if da != db {
            return da.cmp(&db);
        }
    }
    Ordering::Equal
}

fn mul_small(digits: &mut Vec<u8>, k: u32) {
    let mut carry: u64 = 0;
    for d in digits.iter_mut().rev() {
        let v = u64::from(*d) * u64::from(k) + carry;
        *d = (v % 10) as u8;
        carry = v / 10;
    }
    while carry > 0 {
        digits.insert(0, (carry % 10) as u8);
        carry /= 10;
    }
}

/// Adds one to the integer written by `digits`.
fn add_one(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, 1);
}

impl Quantity {
    /// The zero quantity (`resource.Quantity{}` with DecimalSI format).
    pub fn zero() -> Quantity {
        Quantity {
            neg: false,
            digits: Vec::new(),
            exp: 0,
            format: Format::DecimalSI,
        }
    }

    /// An integer quantity in DecimalSI format (`resource.NewQuantity(v, DecimalSI)`).
    pub fn from_i64(v: i64) -> Quantity {
        let mut q = Quantity {
            neg: v < 0,
            digits: v
                .unsigned_abs()
                .to_string()
                .bytes()
                .map(|b| b - b'0')
                .collect(),
            exp: 0,
            format: Format::DecimalSI,
        };
        q.normalize();
        q
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// -1, 0 or 1.
    pub fn sign(&self) -> i32 {
        if self.digits.is_empty() {
            0
        } else if self.neg {
            -1
        } else {
            1
        }
    }

    /// Whether the value has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.digits.is_empty() || self.exp >= 0
    }

    fn normalize(&mut self) {
        let lead = self.digits.iter().take_while(|d| **d == 0).count();
        self.digits.drain(..lead);
        while self.digits.last() == Some(&0) {
            self.digits.pop();
            self.exp += 1;
        }
        if self.digits.is_empty() {
            self.exp = 0;
            self.neg = false;
        }
    }

    /// Rounds away from zero to a multiple of `10^scale` (`Quantity.RoundUp`). Returns whether
    /// the value was already exact.
    pub fn round_up(&mut self, scale: i64) -> bool {
        if self.digits.is_empty() || self.exp >= scale {
            return true;
        }
        let cut = (scale - self.exp) as usize;
        if cut >= self.digits.len() {
            self.digits = vec![1];
        } else {
            let keep = self.digits.len() - cut;
            self.digits.truncate(keep);
            add_one(&mut self.digits);
        }
        self.exp = scale;
        self.normalize();
        false
    }

    /// The value as an `i128` when it is an integer that fits.
    pub fn to_i128(&self) -> Option<i128> {
        if !self.is_integer() {
            return None;
        }
        if self.digits.len() as i64 + self.exp > 38 {
            return None;
        }
        let mut v: i128 = 0;
        for d in &self.digits {
            v = v.checked_mul(10)?.checked_add(i128::from(*d))?;
        }
        for _ in 0..self.exp {
            v = v.checked_mul(10)?;
        }
        Some(if self.neg { -v } else { v })
    }

    /// `Quantity.Value()`: the value rounded up (away from zero) to an integer, saturated to
    /// the `i64` range.
    pub fn value(&self) -> i64 {
        let mut q = self.clone();
        q.round_up(0);
        match q.to_i128() {
            Some(v) => v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
            None => {
                if q.neg {
                    i64::MIN
                } else {
                    i64::MAX
                }
            }
        }
    }

    /// `Quantity.MilliValue()`, saturated to the `i64` range.
    pub fn milli_value(&self) -> i64 {
        let mut q = self.clone();
        q.exp += 3;
        q.value()
    }

    /// The canonical text Kubernetes serializes the quantity as (`Quantity.String()`).
    pub fn canonical(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_string();
        }
        let mut format = self.format;
        if format == Format::BinarySI {
            let small = cmp_magnitude(self, &Quantity::from_i64(1024)) == Ordering::Less;
            if small || !self.is_integer() {
                format = Format::DecimalSI;
            }
        }
        let sign = if self.neg { "-" } else { "" };
        if format == Format::BinarySI {
            if let Some(v) = self.to_i128() {
                let mut n = v.unsigned_abs();
                let mut k = 0usize;
                while n >= 1024 && n % 1024 == 0 {
                    n /= 1024;
                    k += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
                if let Some(s) = suffix.get(k) {
                    return format!("{sign}{n}{s}");
                }
            }
            format = Format::DecimalSI;
        }
        let target = self.exp.div_euclid(3) * 3;
        let mut digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        for _ in 0..(self.exp - target) {
            digits.push('0');
        }
        let suffix = match format {
            Format::DecimalExponent => {
                if target == 0 {
                    String::new()
                } else {
                    format!("e{target}")
                }
            }
            _ => match target {
                -9 => "n".to_string(),
                -6 => "u".to_string(),
                -3 => "m".to_string(),
                0 => String::new(),
                3 => "k".to_string(),
                6 => "M".to_string(),
                9 => "G".to_string(),
                12 => "T".to_string(),
                15 => "P".to_string(),
                18 => "E".to_string(),
                other => format!("e{other}"),
            },
        };
        format!("{sign}{digits}{suffix}")
    }
}

struct Parts<'a> {
    positive: bool,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

/// `parseQuantityString`.
fn split_quantity(s: &str) -> Result<Parts<'_>, &'static str> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    if pos < end {
        match b[0] {
            b'-' => {
                positive = false;
                pos += 1;
            }
            b'+' => pos += 1,
            _ => {}
        }
    }
    // Leading zeros.
    loop {
        if pos >= end {
            return Ok(Parts {
                positive,
                num: "0",
                denom: "",
                suffix: "",
            });
        }
        if b[pos] == b'0' {
            pos += 1;
        } else {
            break;
        }
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let mut num = &s[num_start..pos];
    if pos >= end {
        if num.is_empty() {
            num = "0";
        }
        return Ok(Parts {
            positive,
            num,
            denom: "",
            suffix: "",
        });
    }
    if num.is_empty() {
        num = "0";
    }
    let mut denom = "";
    if b[pos] == b'.' {
        pos += 1;
        let d_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[d_start..pos];
        if pos >= end {
            return Ok(Parts {
                positive,
                num,
                denom,
                suffix: "",
            });
        }
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(ERR_FORMAT_WRONG);
    }
    Ok(Parts {
        positive,
        num,
        denom,
        suffix: &s[suffix_start..end],
    })
}

/// `quantitySuffixer.interpret`: (base, exponent, format).
fn interpret_suffix(s: &str) -> Option<(u32, i64, Format)> {
    let dec = |e| Some((10, e, Format::DecimalSI));
    let bin = |e| Some((2, e, Format::BinarySI));
    match s {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ => {
            let rest = s.strip_prefix('e').or_else(|| s.strip_prefix('E'))?;
            if rest.is_empty() {
                return None;
            }
            let e: i32 = rest.parse().ok()?;
            Some((10, i64::from(e), Format::DecimalExponent))
        }
    }
}

/// `resource.ParseQuantity`: parses `s`, or returns upstream's error text.
pub fn parse(s: &str) -> Result<Quantity, String> {
    if s.is_empty() {
        return Err(ERR_FORMAT_WRONG.to_string());
    }
    if s == "0" {
        return Ok(Quantity::zero());
    }
    let parts = split_quantity(s).map_err(str::to_string)?;
    let Some((base, exponent, format)) = interpret_suffix(parts.suffix) else {
        return Err(ERR_SUFFIX.to_string());
    };
    let mut digits: Vec<u8> = Vec::with_capacity(parts.num.len() + parts.denom.len());
    for c in parts.num.bytes().chain(parts.denom.bytes()) {
        if !c.is_ascii_digit() {
            return Err(ERR_NUMERIC.to_string());
        }
        digits.push(c - b'0');
    }
    let mut q = Quantity {
        neg: !parts.positive,
        digits,
        exp: -(parts.denom.len() as i64),
        format,
    };
    if base == 10 {
        q.exp += exponent;
    } else {
        for _ in 0..(exponent / 10) {
            mul_small(&mut q.digits, 1024);
        }
    }
    q.normalize();
    // Round non-zero values up to the minimum representable value (nano).
    q.round_up(-9);
    if format == Format::BinarySI {
        let max = Quantity::from_i64(i64::MAX);
        if cmp_magnitude(&q, &max) == Ordering::Greater {
            let neg = q.neg;
            q = max;
            q.neg = neg;
            q.format = Format::BinarySI;
        }
    }
    Ok(q)
}

/// The canonical form of a quantity as `SetDefaults_ResourceList` stores it: parsed, rounded up
/// to milli precision when `round_to_milli` (what the defaulter does for every resource list),
/// then printed as `Quantity.String()` does. `None` when `text` is not a valid quantity (the value
/// is then left alone; validation reports it).
pub fn canonicalize(text: &str, round_to_milli: bool) -> Option<String> {
    let mut q = parse(text.trim()).ok()?;
    if round_to_milli {
        q.round_up(-3);
    }
    Some(q.canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        canonicalize(s, true).unwrap_or_else(|| format!("ERR({s})"))
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(c("0.5"), "500m");
        assert_eq!(c("1Gi"), "1Gi");
        assert_eq!(c("1000Mi"), "1000Mi");
        assert_eq!(c("1024Mi"), "1Gi");
        assert_eq!(c("1.5Gi"), "1536Mi");
        assert_eq!(c("0.5Gi"), "512Mi");
        assert_eq!(c("1000"), "1k");
        assert_eq!(c("100"), "100");
        assert_eq!(c("1500m"), "1500m");
        assert_eq!(c("1.5k"), "1500");
        assert_eq!(c("10k"), "10k");
        assert_eq!(c("0.0001"), "1m");
        assert_eq!(c("1e3"), "1e3");
        assert_eq!(c("1.5e3"), "1500");
        assert_eq!(c("0"), "0");
        assert_eq!(c("0Gi"), "0");
        assert_eq!(c("100Ki"), "100Ki");
        assert_eq!(c("512"), "512");
        assert_eq!(c("2"), "2");
        assert_eq!(c("-1"), "-1");
        assert_eq!(c("128974848"), "128974848");
        assert_eq!(c("129e6"), "129e6");
        assert_eq!(c("123Mi"), "123Mi");
        assert_eq!(c("0.1"), "100m");
        assert_eq!(c("1M"), "1M");
        assert_eq!(c("500M"), "500M");
        assert_eq!(c("2000M"), "2G");
        assert_eq!(canonicalize("1n", false).as_deref(), Some("1n"));
        assert_eq!(canonicalize("1.5n", false).as_deref(), Some("2n"));
        assert_eq!(c("1n"), "1m");
    }

    #[test]
    fn parse_errors() {
        assert_eq!(parse("").unwrap_err(), ERR_FORMAT_WRONG);
        assert_eq!(parse("abc").unwrap_err(), ERR_FORMAT_WRONG);
        assert_eq!(parse("1x").unwrap_err(), ERR_FORMAT_WRONG);
        assert_eq!(parse("1K").unwrap_err(), ERR_SUFFIX);
        assert_eq!(parse("1e").unwrap_err(), ERR_SUFFIX);
        assert_eq!(parse("1 Gi").unwrap_err(), ERR_FORMAT_WRONG);
        assert!(parse("1.").is_ok());
        assert!(parse("+5").is_ok());
    }

    #[test]
    fn comparison() {
        let q = |s: &str| parse(s).unwrap_or_else(|_| Quantity::zero());
        assert!(q("2") > q("1"));
        assert!(q("500m") < q("1"));
        assert!(q("1Gi") > q("1G"));
        assert!(q("1024Mi") == q("1Gi"));
        assert!(q("-1") < q("0"));
        assert!(q("-2") < q("-1"));
        assert!(q("1e3") == q("1k"));
        assert!(q("0.001") == q("1m"));
        assert_eq!(q("1500m").milli_value(), 1500);
        assert_eq!(q("1.5").value(), 2);
        assert!(!q("1.5").is_integer());
        assert!(q("2k").is_integer());
    }
}
