//! ingress-nginx's canary annotations and its traffic-shaping decision
//! (`route_to_alternative_balancer` in its balancer.lua).

use std::collections::BTreeMap;

use http::HeaderMap;
use http::header::{COOKIE, HeaderName};
use regex::Regex;
use serde_json::{Value, json};

pub(crate) const ANNOTATION_CANARY: &str = "nginx.ingress.kubernetes.io/canary";
const BY_HEADER: &str = "nginx.ingress.kubernetes.io/canary-by-header";
const BY_HEADER_VALUE: &str = "nginx.ingress.kubernetes.io/canary-by-header-value";
const BY_HEADER_PATTERN: &str = "nginx.ingress.kubernetes.io/canary-by-header-pattern";
const BY_COOKIE: &str = "nginx.ingress.kubernetes.io/canary-by-cookie";
const WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";
const WEIGHT_TOTAL: &str = "nginx.ingress.kubernetes.io/canary-weight-total";

/// When a request goes to the canary backend instead of the main one.
#[derive(Debug, Clone, Default)]
pub(crate) struct CanaryPolicy {
    header: Option<HeaderName>,
    header_value: Option<String>,
    header_pattern: Option<Regex>,
    cookie: Option<String>,
    weight: u32,
    weight_total: u32,
}

pub(crate) fn is_canary(annotations: &BTreeMap<String, String>) -> bool {
    annotations.get(ANNOTATION_CANARY).map(String::as_str) == Some("true")
}

impl CanaryPolicy {
    /// Reads a canary Ingress's annotations. Invalid values are logged and left out, as
    /// ingress-nginx's annotation parser leaves them at their defaults.
    pub(crate) fn from_annotations(ingress: &str, a: &BTreeMap<String, String>) -> CanaryPolicy {
        let non_empty = |k: &str| a.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let header = non_empty(BY_HEADER).and_then(|h| match HeaderName::try_from(h) {
            Ok(name) => Some(name),
            Err(_) => {
                tracing::warn!(ingress, header = h, "invalid canary-by-header; ignored");
                None
            }
        });
        let header_pattern = non_empty(BY_HEADER_PATTERN).and_then(|p| match Regex::new(p) {
            Ok(re) => Some(re),
            Err(e) => {
                tracing::warn!(ingress, pattern = p, error = %e, "invalid canary-by-header-pattern; ignored");
                None
            }
        });
        let int = |k: &str, default: u32| match non_empty(k) {
            None => default,
            Some(v) => v.parse::<u32>().unwrap_or_else(|_| {
                tracing::warn!(ingress, annotation = k, value = v, "not a number; ignored");
                default
            }),
        };
        CanaryPolicy {
            header,
            header_value: non_empty(BY_HEADER_VALUE).map(str::to_string),
            header_pattern,
            cookie: non_empty(BY_COOKIE).map(str::to_string),
            weight: int(WEIGHT, 0),
            weight_total: int(WEIGHT_TOTAL, 100),
        }
    }

    /// Whether this request goes to the canary.
    pub(crate) fn routes_to_canary(&self, headers: &HeaderMap) -> bool {
        if let Some(name) = &self.header
            && let Some(value) = headers.get(name).and_then(|v| v.to_str().ok())
        {
            // A value that is set but does not match falls through to cookie and weight, as in
            // ingress-nginx; only the plain `always`/`never` form decides on its own.
            if let Some(expected) = &self.header_value {
                if value == expected {
                    return true;
                }
            } else if let Some(pattern) = &self.header_pattern {
                if pattern.is_match(value) {
                    return true;
                }
            } else if value == "always" {
                return true;
            } else if value == "never" {
                return false;
            }
        }
        if let Some(name) = &self.cookie
            && let Some(value) = cookie_value(headers, name)
        {
            if value == "always" {
                return true;
            } else if value == "never" {
                return false;
            }
        }
        if self.weight == 0 {
            return false;
        }
        // ingress-nginx: `math.random(total) <= weight`, total at least 100.
        let total = self.weight_total.max(100);
        rand::random_range(1..=total) <= self.weight
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "header": self.header.as_ref().map(|h| h.as_str()),
            "headerValue": self.header_value,
            "headerPattern": self.header_pattern.as_ref().map(|p| p.as_str()),
            "cookie": self.cookie,
            "weight": self.weight,
            "weightTotal": self.weight_total,
        })
    }
}

/// The first cookie called `name` in the request's Cookie headers (nginx's `$cookie_NAME`).
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(pairs: &[(&str, &str)]) -> CanaryPolicy {
        let a = pairs
            .iter()
            .map(|(k, v)| (format!("nginx.ingress.kubernetes.io/{k}"), v.to_string()))
            .collect();
        CanaryPolicy::from_annotations("t/t", &a)
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::try_from(*k).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn header_always_never_and_fallthrough_to_weight() {
        let p = policy(&[("canary-by-header", "X-Canary"), ("canary-weight", "100")]);
        assert!(p.routes_to_canary(&headers(&[("x-canary", "always")])));
        assert!(!p.routes_to_canary(&headers(&[("x-canary", "never")])));
        // Other values: the weight decides (100 of 100).
        assert!(p.routes_to_canary(&headers(&[("x-canary", "maybe")])));
    }

    #[test]
    fn header_value_and_pattern() {
        let p = policy(&[
            ("canary-by-header", "X-Env"),
            ("canary-by-header-value", "beta"),
        ]);
        assert!(p.routes_to_canary(&headers(&[("x-env", "beta")])));
        assert!(!p.routes_to_canary(&headers(&[("x-env", "always")])));
        assert!(!p.routes_to_canary(&headers(&[])));
        let p = policy(&[
            ("canary-by-header", "X-Env"),
            ("canary-by-header-pattern", "^be.a$"),
        ]);
        assert!(p.routes_to_canary(&headers(&[("x-env", "beta")])));
        assert!(!p.routes_to_canary(&headers(&[("x-env", "gamma")])));
    }

    #[test]
    fn header_beats_cookie_beats_weight() {
        let p = policy(&[
            ("canary-by-header", "X-Canary"),
            ("canary-by-cookie", "canary"),
            ("canary-weight", "100"),
        ]);
        let h = headers(&[("x-canary", "never"), ("cookie", "a=b; canary=always")]);
        assert!(!p.routes_to_canary(&h));
        let h = headers(&[("cookie", "a=b; canary=never")]);
        assert!(!p.routes_to_canary(&h));
        let h = headers(&[("cookie", "canary=always")]);
        assert!(policy(&[("canary-by-cookie", "canary")]).routes_to_canary(&h));
    }

    #[test]
    fn weight_total_below_100_counts_as_100() {
        let p = policy(&[("canary-weight", "10"), ("canary-weight-total", "10")]);
        let hits = (0..2000)
            .filter(|_| p.routes_to_canary(&HeaderMap::new()))
            .count();
        assert!(hits < 600, "{hits}");
        let p = policy(&[("canary-weight", "0")]);
        assert!(!p.routes_to_canary(&HeaderMap::new()));
    }
}
