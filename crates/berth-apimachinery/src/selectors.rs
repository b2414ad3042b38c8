//! Label and field selectors, parsed and matched as `k8s.io/apimachinery/pkg/labels` and
//! `k8s.io/apimachinery/pkg/fields` do, plus the per-resource selectable fields of the built-in
//! registries (`pkg/registry/*/strategy.go` and the field label conversions of
//! `pkg/apis/*/v1/conversion.go` in Kubernetes v1.33).
//!
//! Error texts are upstream's, word for word: the API server returns them as the message of a
//! 400 BadRequest `Status`.

use crate::names::{go_quote, go_string_slice, is_qualified_name, is_valid_label_value};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt;

// ---------------------------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------------------------

/// The operator of a label selector requirement (`selection.Operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `k=v`
    Equals,
    /// `k==v`
    DoubleEquals,
    /// `k!=v`
    NotEquals,
    /// `k in (a,b)`
    In,
    /// `k notin (a,b)`
    NotIn,
    /// `k`
    Exists,
    /// `!k`
    DoesNotExist,
    /// `k>1`
    GreaterThan,
    /// `k<1`
    LessThan,
}

impl Operator {
    /// The `selection.Operator` string: `=`, `==`, `!=`, `in`, `notin`, `exists`, `!`, `gt`, `lt`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

/// One requirement of a label selector (`labels.Requirement`): a key, an operator and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

/// Joins field errors the way `field.ErrorList.ToAggregate().Error()` does: duplicates dropped,
/// one message bare, several as `[a, b]`.
fn aggregate(errors: Vec<String>) -> Option<String> {
    let mut seen = BTreeSet::new();
    let mut unique = Vec::new();
    for e in errors {
        if seen.insert(e.clone()) {
            unique.push(e);
        }
    }
    match unique.len() {
        0 => None,
        1 => unique.pop(),
        _ => Some(format!("[{}]", unique.join(", "))),
    }
}

/// `field.Invalid(path, value, detail).Error()` with the value already rendered as Go does.
fn invalid(path: &str, rendered_value: &str, detail: &str) -> String {
    if detail.is_empty() {
        format!("{path}: Invalid value: {rendered_value}")
    } else {
        format!("{path}: Invalid value: {rendered_value}: {detail}")
    }
}

/// `validateLabelKey`: the key must be a qualified name.
fn validate_label_key(key: &str, path: &str) -> Option<String> {
    let errs = is_qualified_name(key);
    if errs.is_empty() {
        None
    } else {
        Some(invalid(path, &go_quote(key), &errs.join("; ")))
    }
}

/// `validateLabelValue`: the value must be a label value. `path` is `values[i]`.
fn validate_label_value(key: &str, value: &str, path: &str) -> Option<String> {
    let errs = is_valid_label_value(value);
    if errs.is_empty() {
        None
    } else {
        Some(invalid(
            &format!("{path}[{key}]"),
            &go_quote(value),
            &errs.join("; "),
        ))
    }
}

fn parse_go_int(s: &str) -> Option<i64> {
    // strconv.ParseInt(s, 10, 64): optional sign, decimal digits, no underscores.
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// The text of a label's value: strings as they are, anything else as its JSON text.
fn label_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Requirement {
    /// `labels.NewRequirement` with no field path: validates the key, the number of values for
    /// the operator, integer values for `gt`/`lt` and each value as a label value. The error is
    /// the aggregated field error list, as upstream prints it (e.g.
    /// `values[0][app]: Invalid value: "a b": a valid label must be ...`).
    pub fn new(key: &str, operator: Operator, values: Vec<String>) -> Result<Requirement, String> {
        let mut errs = Vec::new();
        if let Some(e) = validate_label_key(key, "key") {
            errs.push(e);
        }
        match operator {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    errs.push(invalid(
                        "values",
                        &go_string_slice(&values),
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if values.len() != 1 {
                    errs.push(invalid(
                        "values",
                        &go_string_slice(&values),
                        "exact-match compatibility requires one single value",
                    ));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    errs.push(invalid(
                        "values",
                        &go_string_slice(&values),
                        "values set must be empty for exists and does not exist",
                    ));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(invalid(
                        "values",
                        &go_string_slice(&values),
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if parse_go_int(v).is_none() {
                        errs.push(invalid(
                            &format!("values[{i}]"),
                            &go_quote(v),
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
        }
        for (i, v) in values.iter().enumerate() {
            if let Some(e) = validate_label_value(key, v, &format!("values[{i}]")) {
                errs.push(e);
            }
        }
        match aggregate(errs) {
            Some(e) => Err(e),
            None => Ok(Requirement {
                key: key.to_string(),
                operator,
                values,
            }),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, in the order given (the parser gives them sorted and de-duplicated).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn has_value(&self, v: &str) -> bool {
        self.values.iter().any(|x| x == v)
    }

    /// `Requirement.Matches`: whether a set of labels (`metadata.labels`) satisfies this.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        let got = labels.get(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                got.is_some_and(|v| self.has_value(&label_text(v)))
            }
            Operator::NotIn | Operator::NotEquals => {
                got.is_none_or(|v| !self.has_value(&label_text(v)))
            }
            Operator::Exists => got.is_some(),
            Operator::DoesNotExist => got.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(have) = got.and_then(|v| parse_go_int(&label_text(v))) else {
                    return false;
                };
                if self.values.len() != 1 {
                    return false;
                }
                let Some(want) = parse_go_int(&self.values[0]) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    /// `Requirement.String()`: `k=v`, `k in (a,b)`, `!k`, `k>1`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        if self.values.len() == 1 {
            f.write_str(&self.values[0])?;
        } else {
            let mut sorted = self.values.clone();
            sorted.sort();
            f.write_str(&sorted.join(","))?;
        }
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A label selector: requirements that must all hold.
///
/// Two special states exist, as upstream: *everything* (no requirements; [`is_empty`] is true;
/// what the empty string and the empty `metav1.LabelSelector` `{}` give) and *nothing* (matches no
/// object; [`matches_nothing`] is true; what a null `metav1.LabelSelector` gives, e.g. a PDB or
/// workload whose `spec.selector` is absent).
///
/// [`is_empty`]: LabelSelector::is_empty
/// [`matches_nothing`]: LabelSelector::matches_nothing
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl LabelSelector {
    /// `labels.Everything()`: matches every object.
    pub fn everything() -> LabelSelector {
        LabelSelector::default()
    }

    /// `labels.Nothing()`: matches no object.
    pub fn nothing() -> LabelSelector {
        LabelSelector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// `labels.Parse`: the `labelSelector` query parameter syntax. The empty string (or only
    /// blanks) selects everything. Errors carry upstream's text, e.g.
    /// `unable to parse requirement: <nil>: Invalid value: "a_": name part must consist of ...` or
    /// `found ',', expected: identifier after ','`.
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut parser = Parser::new(s);
        let mut requirements = parser.parse()?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            nothing: false,
        })
    }

    /// `metav1.LabelSelectorAsSelector` for a `metav1.LabelSelector` in JSON form: `null` gives
    /// [`LabelSelector::nothing`], `{}` (no `matchLabels`, no `matchExpressions`) gives
    /// [`LabelSelector::everything`]. Operators are `In`, `NotIn`, `Exists`, `DoesNotExist`; an
    /// other one is an error (`"Foo" is not a valid label selector operator`), as are invalid keys
    /// and values (`key: Invalid value: ...`). Pass `Value::Null` when the selector field is
    /// absent. Values of the wrong JSON type (which a typed decode would have refused) are
    /// reported as `invalid label selector: ...`.
    pub fn from_label_selector_json(sel: &Value) -> Result<LabelSelector, String> {
        let obj = match sel {
            Value::Null => return Ok(LabelSelector::nothing()),
            Value::Object(m) => m,
            _ => return Err("invalid label selector: must be an object".to_string()),
        };
        let match_labels = match obj.get("matchLabels") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                return Err("invalid label selector: matchLabels must be an object".to_string());
            }
        };
        let match_expressions = match obj.get("matchExpressions") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(a),
            Some(_) => {
                return Err("invalid label selector: matchExpressions must be an array".to_string());
            }
        };
        let n_labels = match_labels.map_or(0, |m| m.len());
        let n_exprs = match_expressions.map_or(0, |a| a.len());
        if n_labels + n_exprs == 0 {
            return Ok(LabelSelector::everything());
        }
        let mut requirements = Vec::with_capacity(n_labels + n_exprs);
        if let Some(m) = match_labels {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                let v = match m.get(k) {
                    Some(Value::String(s)) => s.clone(),
                    _ => {
                        return Err(format!(
                            "invalid label selector: matchLabels[{k}] must be a string"
                        ));
                    }
                };
                requirements.push(Requirement::new(k, Operator::Equals, vec![v])?);
            }
        }
        for (i, expr) in match_expressions.into_iter().flatten().enumerate() {
            let Value::Object(e) = expr else {
                return Err(format!(
                    "invalid label selector: matchExpressions[{i}] must be an object"
                ));
            };
            let key = match e.get("key") {
                None | Some(Value::Null) => "",
                Some(Value::String(s)) => s.as_str(),
                Some(_) => {
                    return Err(format!(
                        "invalid label selector: matchExpressions[{i}].key must be a string"
                    ));
                }
            };
            let operator = match e.get("operator") {
                None | Some(Value::Null) => "",
                Some(Value::String(s)) => s.as_str(),
                Some(_) => {
                    return Err(format!(
                        "invalid label selector: matchExpressions[{i}].operator must be a string"
                    ));
                }
            };
            let op = match operator {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(format!(
                        "{} is not a valid label selector operator",
                        go_quote(other)
                    ));
                }
            };
            let mut values = Vec::new();
            match e.get("values") {
                None | Some(Value::Null) => {}
                Some(Value::Array(a)) => {
                    for v in a {
                        match v {
                            Value::String(s) => values.push(s.clone()),
                            _ => {
                                return Err(format!(
                                    "invalid label selector: matchExpressions[{i}].values must be strings"
                                ));
                            }
                        }
                    }
                }
                Some(_) => {
                    return Err(format!(
                        "invalid label selector: matchExpressions[{i}].values must be an array"
                    ));
                }
            }
            requirements.push(Requirement::new(key, op, values)?);
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            nothing: false,
        })
    }

    /// Whether the labels (the object's `metadata.labels`; pass an empty map when absent)
    /// satisfy every requirement. A [`LabelSelector::nothing`] selector matches nothing.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// [`matches`](LabelSelector::matches) on an object's `metadata.labels`.
    pub fn matches_object(&self, obj: &Value) -> bool {
        match obj.pointer("/metadata/labels") {
            Some(Value::Object(m)) => self.matches(m),
            _ => self.matches(&Map::new()),
        }
    }

    /// `Selector.Empty()`: true when the selector does not restrict anything (everything).
    /// False for [`LabelSelector::nothing`].
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// True for the selector that matches no object (a null `metav1.LabelSelector`).
    pub fn matches_nothing(&self) -> bool {
        self.nothing
    }

    /// The requirements, sorted by key (empty for everything and nothing).
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// `RequiresExactMatch`: the single value the selector requires for `label`, if the first
    /// requirement on that label is `=`, `==` or `in` with exactly one value.
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let r = self.requirements.iter().find(|r| r.key == label)?;
        match r.operator {
            Operator::Equals | Operator::DoubleEquals | Operator::In if r.values.len() == 1 => {
                Some(r.values[0].as_str())
            }
            _ => None,
        }
    }
}

impl fmt::Display for LabelSelector {
    /// `Selector.String()`: requirements joined with `,` (empty for everything and nothing).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

// The lexer and parser follow labels.Lexer / labels.Parser token for token, so that the same
// inputs fail with the same messages.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

fn string_to_token(s: &[u8]) -> Option<Token> {
    Some(match s {
        b")" => Token::ClosedPar,
        b"," => Token::Comma,
        b"!" => Token::DoesNotExist,
        b"==" => Token::DoubleEquals,
        b"=" => Token::Equals,
        b">" => Token::GreaterThan,
        b"in" => Token::In,
        b"<" => Token::LessThan,
        b"!=" => Token::NotEquals,
        b"notin" => Token::NotIn,
        b"(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special_symbol(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

fn bytes_to_string(b: &[u8]) -> String {
    // Tokens are cut at ASCII bytes only, so the pieces of a &str stay valid UTF-8.
    String::from_utf8_lossy(b).into_owned()
}

impl Lexer<'_> {
    /// Go's `read`: the next byte, or 0 past the end (a NUL byte also reads as 0).
    fn read(&mut self) -> u8 {
        if self.pos < self.s.len() {
            let b = self.s[self.pos];
            self.pos += 1;
            b
        } else {
            0
        }
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn scan_id_or_keyword(&mut self) -> (Token, String) {
        let mut buffer = Vec::new();
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if is_special_symbol(ch) || is_whitespace(ch) {
                self.unread();
                break;
            }
            buffer.push(ch);
        }
        let tok = string_to_token(&buffer).unwrap_or(Token::Identifier);
        (tok, bytes_to_string(&buffer))
    }

    fn scan_special_symbol(&mut self) -> (Token, String) {
        let mut last: Option<(Token, String)> = None;
        let mut buffer = Vec::new();
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if is_special_symbol(ch) {
                buffer.push(ch);
                if let Some(tok) = string_to_token(&buffer) {
                    last = Some((tok, bytes_to_string(&buffer)));
                } else if last.is_some() {
                    self.unread();
                    break;
                }
            } else {
                self.unread();
                break;
            }
        }
        match last {
            Some(item) => item,
            None => (
                Token::Error,
                format!(
                    "error expected: keyword found '{}'",
                    bytes_to_string(&buffer)
                ),
            ),
        }
    }

    fn lex(&mut self) -> (Token, String) {
        let mut ch = self.read();
        while is_whitespace(ch) {
            ch = self.read();
        }
        if ch == 0 {
            (Token::EndOfString, String::new())
        } else if is_special_symbol(ch) {
            self.unread();
            self.scan_special_symbol()
        } else {
            self.unread();
            self.scan_id_or_keyword()
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

struct Parser {
    items: Vec<(Token, String)>,
    position: usize,
}

/// The binary operators as upstream lists them in "expected" messages.
const BINARY_OPERATORS: &str = "in, notin, =, ==, !=, gt, lt";

impl Parser {
    fn new(s: &str) -> Parser {
        let mut lexer = Lexer {
            s: s.as_bytes(),
            pos: 0,
        };
        let mut items = Vec::new();
        loop {
            let (tok, lit) = lexer.lex();
            items.push((tok, lit));
            if tok == Token::EndOfString {
                break;
            }
        }
        Parser { items, position: 0 }
    }

    fn item(&self, at: usize, context: Context) -> (Token, String) {
        let (tok, lit) = self
            .items
            .get(at)
            .cloned()
            .unwrap_or((Token::EndOfString, String::new()));
        let tok = match (context, tok) {
            (Context::Values, Token::In | Token::NotIn) => Token::Identifier,
            (_, t) => t,
        };
        (tok, lit)
    }

    fn lookahead(&self, context: Context) -> (Token, String) {
        self.item(self.position, context)
    }

    fn consume(&mut self, context: Context) -> (Token, String) {
        self.position += 1;
        self.item(self.position - 1, context)
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, String> {
        let mut requirements = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Context::Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self
                        .parse_requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    requirements.push(r);
                    let (t, l) = self.consume(Context::Values);
                    match t {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (t2, l2) = self.lookahead(Context::Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(format!(
                                    "found '{l2}', expected: identifier after ','"
                                ));
                            }
                        }
                        _ => {
                            return Err(format!("found '{l}', expected: ',' or 'end of string'"));
                        }
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => {
                    return Err(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    ));
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, String> {
        let (key, inferred) = self.parse_key_and_infer_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = inferred {
            return Requirement::new(&key, op, Vec::new());
        }
        let operator = self.parse_operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::new(&key, operator, values.into_iter().collect())
    }

    /// Returns the key and `Exists`/`DoesNotExist` when that is the whole requirement (`k`,
    /// `!k`); `DoesNotExist` is also returned for `!k` followed by something else, as upstream.
    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), String> {
        let mut operator = None;
        let (mut tok, mut literal) = self.consume(Context::Values);
        if tok == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (tok, literal) = self.consume(Context::Values);
        }
        if tok != Token::Identifier {
            return Err(format!("found '{literal}', expected: identifier"));
        }
        if let Some(e) = validate_label_key(&literal, "<nil>") {
            return Err(e);
        }
        let (t, _) = self.lookahead(Context::Values);
        if (t == Token::EndOfString || t == Token::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        Ok((literal, operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, String> {
        let (tok, lit) = self.consume(Context::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => return Err(format!("found '{lit}', expected: {BINARY_OPERATORS}")),
        })
    }

    fn parse_values(&mut self) -> Result<BTreeSet<String>, String> {
        let (tok, lit) = self.consume(Context::Values);
        if tok != Token::OpenPar {
            return Err(format!("found '{lit}' expected: '('"));
        }
        let (tok, lit) = self.lookahead(Context::Values);
        match tok {
            Token::Identifier | Token::Comma => {
                let s = self.parse_identifiers_list()?;
                let (tok, _) = self.consume(Context::Values);
                if tok != Token::ClosedPar {
                    return Err(format!("found '{lit}', expected: ')'"));
                }
                Ok(s)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(BTreeSet::from([String::new()]))
            }
            _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<BTreeSet<String>, String> {
        let mut s = BTreeSet::new();
        loop {
            let (tok, lit) = self.consume(Context::Values);
            match tok {
                Token::Identifier => {
                    s.insert(lit);
                    let (tok2, lit2) = self.lookahead(Context::Values);
                    match tok2 {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(s),
                        _ => return Err(format!("found '{lit2}', expected: ',' or ')'")),
                    }
                }
                Token::Comma => {
                    if s.is_empty() {
                        s.insert(String::new());
                    }
                    let (tok2, _) = self.lookahead(Context::Values);
                    if tok2 == Token::ClosedPar {
                        s.insert(String::new());
                        return Ok(s);
                    }
                    if tok2 == Token::Comma {
                        self.consume(Context::Values);
                        s.insert(String::new());
                    }
                }
                _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<BTreeSet<String>, String> {
        let (tok, _) = self.lookahead(Context::Values);
        if tok == Token::EndOfString || tok == Token::Comma {
            return Ok(BTreeSet::from([String::new()]));
        }
        let (tok, lit) = self.consume(Context::Values);
        if tok == Token::Identifier {
            Ok(BTreeSet::from([lit]))
        } else {
            Err(format!("found '{lit}', expected: identifier"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Field selectors
// ---------------------------------------------------------------------------------------------

/// The operator of a field selector term. `==` parses as [`FieldOperator::Equals`], as upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    Equals,
    NotEquals,
}

/// One term of a field selector (`fields.Requirement`), with the value unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub operator: FieldOperator,
    pub value: String,
}

impl FieldRequirement {
    /// Whether `value` (the object's value for the field; `None` reads as `""`, as
    /// `fields.Set.Get` does) satisfies the term.
    pub fn matches(&self, value: Option<&str>) -> bool {
        let v = value.unwrap_or("");
        match self.operator {
            FieldOperator::Equals => v == self.value,
            FieldOperator::NotEquals => v != self.value,
        }
    }
}

/// A field selector (`fields.ParseSelector`): `k=v`, `k==v`, `k!=v` terms joined by `,`, values
/// backslash-escaped (`\,`, `\=`, `\\`). No blanks are trimmed: `a = b` is field `a ` and value
/// ` b`, as upstream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

/// `fields.EscapeValue`: escapes `\`, `,` and `=` for use in a field selector value.
pub fn escape_field_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `fields.UnescapeValue`.
fn unescape_field_value(s: &str) -> Result<String, String> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => out.push(c),
                _ => {
                    return Err(format!(
                        "invalid field selector: invalid escape sequence: \\{c}"
                    ));
                }
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            // Upstream prints the rune with %v, i.e. as its code point number.
            ',' | '=' => {
                return Err(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                ));
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err("invalid field selector: invalid escape sequence: \\".to_string());
    }
    Ok(out)
}

/// `splitTerms`: splits on unescaped commas, keeping escapes in the terms.
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// `splitTerm`: the first `!=`, `==` or `=` splits the term (checked in that order at each
/// position).
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        if let Some(r) = rest.strip_prefix("!=") {
            return Some((&term[..i], FieldOperator::NotEquals, r));
        }
        if let Some(r) = rest.strip_prefix("==") {
            return Some((&term[..i], FieldOperator::Equals, r));
        }
        if let Some(r) = rest.strip_prefix('=') {
            return Some((&term[..i], FieldOperator::Equals, r));
        }
    }
    None
}

impl FieldSelector {
    /// `fields.Everything()`.
    pub fn everything() -> FieldSelector {
        FieldSelector::default()
    }

    /// `fields.ParseSelector`. Terms are sorted as strings before parsing (which fixes the order
    /// of [`requirements`](FieldSelector::requirements) and which bad term is reported first);
    /// empty terms are skipped, and so are terms whose field and value are both empty (`=`).
    /// Errors: `invalid selector: '<selector>'; can't understand '<term>'`,
    /// `invalid field selector: invalid escape sequence: \x`,
    /// `invalid field selector: unescaped character in value: 61` (the code point, as upstream).
    pub fn parse(s: &str) -> Result<FieldSelector, String> {
        let mut parts = split_terms(s);
        parts.sort_unstable();
        let mut requirements = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, op, rhs)) = split_term(part) else {
                return Err(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                ));
            };
            let value = unescape_field_value(rhs)?;
            if lhs.is_empty() && value.is_empty() {
                // Transform drops a term whose field and value are both empty.
                continue;
            }
            requirements.push(FieldRequirement {
                field: lhs.to_string(),
                operator: op,
                value,
            });
        }
        Ok(FieldSelector { requirements })
    }

    /// Whether every term holds. `get` returns the object's value for a field (see
    /// [`field_value`]); `None` compares as the empty string, as upstream's `fields.Set.Get`.
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.requirements
            .iter()
            .all(|r| r.matches(get(&r.field).as_deref()))
    }

    /// The terms, in upstream's (sorted) order, so the server can check the fields used.
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// True when the selector does not restrict anything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The value when the selector is exactly `metadata.name=X` (or `==`), so a list can be
    /// answered with a get. See [`requires_exact_match`](FieldSelector::requires_exact_match)
    /// for upstream's looser test.
    pub fn single_name(&self) -> Option<&str> {
        match self.requirements.as_slice() {
            [r] if r.field == "metadata.name" && r.operator == FieldOperator::Equals => {
                Some(r.value.as_str())
            }
            _ => None,
        }
    }

    /// `RequiresExactMatch`: the value of the first equality term on `field`, whatever the other
    /// terms are (the caller must still apply the whole selector).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && r.operator == FieldOperator::Equals)
            .map(|r| r.value.as_str())
    }

    /// Checks every term's field against the resource's supported fields, as the API server's
    /// field label conversion does before listing or watching; the first unsupported one (in
    /// term order) gives upstream's error (see [`field_value`]).
    pub fn check_fields(&self, group: &str, resource: &str) -> Result<(), String> {
        for r in &self.requirements {
            convert_field_label(group, resource, &r.field)?;
        }
        Ok(())
    }
}

impl fmt::Display for FieldSelector {
    /// `Selector.String()`: `a=b,c!=d` with values escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = match r.operator {
                FieldOperator::Equals => "=",
                FieldOperator::NotEquals => "!=",
            };
            write!(f, "{}{}{}", r.field, op, escape_field_value(&r.value))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Selectable fields per resource
// ---------------------------------------------------------------------------------------------

fn not_supported(label: &str) -> String {
    format!("field label not supported: {label}")
}

/// The field label conversion of the resource's kind in Kubernetes v1.33: the internal field
/// name for a field a client may select on, or the error the API server answers with.
fn convert_field_label<'a>(group: &str, resource: &str, label: &'a str) -> Result<&'a str, String> {
    let ok = |accepted: &[&str]| {
        if accepted.contains(&label) {
            Ok(label)
        } else {
            Err(not_supported(label))
        }
    };
    match (group, resource) {
        ("", "pods") => match label {
            // Backwards compatibility with old v1 clients.
            "spec.host" => Ok("spec.nodeName"),
            _ => ok(&[
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
            ]),
        },
        ("", "nodes") => ok(&["metadata.name", "spec.unschedulable"]),
        ("", "replicationcontrollers") => {
            ok(&["metadata.name", "metadata.namespace", "status.replicas"])
        }
        ("", "events") => ok(&[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            "metadata.namespace",
            "metadata.name",
        ]),
        ("", "namespaces") => ok(&["status.phase", "metadata.name"]),
        ("", "secrets") => ok(&["type", "metadata.namespace", "metadata.name"]),
        ("", "services") => ok(&[
            "metadata.namespace",
            "metadata.name",
            "spec.clusterIP",
            "spec.type",
        ]),
        ("events.k8s.io", "events") => Ok(match label {
            "reason" => "reason",
            "regarding.kind" => "involvedObject.kind",
            "regarding.namespace" => "involvedObject.namespace",
            "regarding.name" => "involvedObject.name",
            "regarding.uid" => "involvedObject.uid",
            "regarding.apiVersion" => "involvedObject.apiVersion",
            "regarding.resourceVersion" => "involvedObject.resourceVersion",
            "regarding.fieldPath" => "involvedObject.fieldPath",
            "reportingController" => "reportingComponent",
            "source" => "source",
            "type" => "type",
            "metadata.namespace" => "metadata.namespace",
            "metadata.name" => "metadata.name",
            _ => return Err(not_supported(label)),
        }),
        ("batch", "jobs") => match label {
            "metadata.name" | "metadata.namespace" | "status.successful" => Ok(label),
            _ => Err(format!(
                "field label {} not supported for batchv1.Job",
                go_quote(label)
            )),
        },
        ("certificates.k8s.io", "certificatesigningrequests") => {
            ok(&["metadata.name", "spec.signerName"])
        }
        // runtime.DefaultMetaV1FieldSelectorConversion, for every other kind (including
        // apps/v1 ReplicaSets, whose `status.replicas` upstream does not accept).
        _ => match label {
            "metadata.name" | "metadata.namespace" => Ok(label),
            _ => Err(format!(
                "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                go_quote(label)
            )),
        },
    }
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer).and_then(Value::as_str)
}

fn string_or_empty(obj: &Value, pointer: &str) -> String {
    str_at(obj, pointer).unwrap_or_default().to_string()
}

fn int_or_zero(obj: &Value, pointer: &str) -> String {
    match obj.pointer(pointer) {
        Some(Value::Number(n)) => n
            .as_i64()
            .map(|i| i.to_string())
            .unwrap_or_else(|| n.to_string()),
        _ => "0".to_string(),
    }
}

fn bool_text(obj: &Value, pointer: &str) -> String {
    let b = obj
        .pointer(pointer)
        .and_then(Value::as_bool)
        .unwrap_or(false);
    b.to_string()
}

/// The first non-empty string among the pointers, or `""`.
fn first_string(obj: &Value, pointers: &[&str]) -> String {
    pointers
        .iter()
        .find_map(|p| str_at(obj, p).filter(|s| !s.is_empty()))
        .unwrap_or_default()
        .to_string()
}

/// The value of selectable field `field` (as a client names it in a field selector) of `obj` (a
/// JSON object of the resource's external version), for the resources and fields Kubernetes
/// v1.33 supports:
///
/// - every resource: `metadata.name`, `metadata.namespace` (nodes and namespaces: only
///   `metadata.name`);
/// - pods: `spec.nodeName` (and the old alias `spec.host`), `spec.restartPolicy`,
///   `spec.schedulerName`, `spec.serviceAccountName`, `spec.hostNetwork` (`"true"`/`"false"`),
///   `status.phase`, `status.podIP`, `status.nominatedNodeName`, and `status.podIPs`, which
///   upstream accepts but never fills (always `None`);
/// - nodes: `spec.unschedulable`; namespaces: `status.phase`; secrets: `type`;
///   services: `spec.clusterIP`, `spec.type`; replicationcontrollers: `status.replicas`;
///   jobs (batch): `status.successful` (from `status.succeeded`);
///   certificatesigningrequests: `spec.signerName`;
/// - core events: `involvedObject.{kind,namespace,name,uid,apiVersion,resourceVersion,fieldPath}`,
///   `reason`, `reportingComponent`, `source` (`source.component`, else the reporting
///   controller), `type`; events.k8s.io events: the same through `regarding.*` and
///   `reportingController`. Event objects of either shape are read.
///
/// Absent values are `""` (`"0"` for counts, `"false"` for booleans) as in upstream's field sets.
/// `Ok(None)` means the field is accepted but has no value in upstream's field set (it matches
/// as `""`): `status.podIPs`, and `metadata.namespace` of an object without one.
/// An unsupported field is an `Err` with upstream's text, e.g. `field label not supported:
/// spec.foo` or `"spec.foo" is not a known field selector: only "metadata.name",
/// "metadata.namespace"`, which the API server returns as 400 BadRequest.
pub fn field_value(
    group: &str,
    resource: &str,
    obj: &Value,
    field: &str,
) -> Result<Option<String>, String> {
    let internal = convert_field_label(group, resource, field)?;
    let v = match internal {
        "metadata.name" => string_or_empty(obj, "/metadata/name"),
        "metadata.namespace" => match str_at(obj, "/metadata/namespace") {
            Some(ns) => ns.to_string(),
            None => return Ok(None),
        },
        _ => match (group, resource) {
            ("", "pods") => match internal {
                "spec.nodeName" => string_or_empty(obj, "/spec/nodeName"),
                "spec.restartPolicy" => string_or_empty(obj, "/spec/restartPolicy"),
                "spec.schedulerName" => string_or_empty(obj, "/spec/schedulerName"),
                "spec.serviceAccountName" => string_or_empty(obj, "/spec/serviceAccountName"),
                "spec.hostNetwork" => bool_text(obj, "/spec/hostNetwork"),
                "status.phase" => string_or_empty(obj, "/status/phase"),
                // The internal pod keeps podIPs; status.podIP wins when both are set.
                "status.podIP" => first_string(obj, &["/status/podIP", "/status/podIPs/0/ip"]),
                "status.nominatedNodeName" => string_or_empty(obj, "/status/nominatedNodeName"),
                _ => return Ok(None),
            },
            ("", "nodes") => bool_text(obj, "/spec/unschedulable"),
            ("", "replicationcontrollers") => int_or_zero(obj, "/status/replicas"),
            ("", "namespaces") => string_or_empty(obj, "/status/phase"),
            ("", "secrets") => string_or_empty(obj, "/type"),
            ("", "services") => match internal {
                "spec.clusterIP" => string_or_empty(obj, "/spec/clusterIP"),
                _ => string_or_empty(obj, "/spec/type"),
            },
            ("batch", "jobs") => int_or_zero(obj, "/status/succeeded"),
            ("certificates.k8s.io", "certificatesigningrequests") => {
                string_or_empty(obj, "/spec/signerName")
            }
            ("", "events") | ("events.k8s.io", "events") => event_field(obj, internal),
            _ => return Ok(None),
        },
    };
    Ok(Some(v))
}

/// An event's field by its core (internal) name, from either the core/v1 or the
/// events.k8s.io/v1 shape of the object.
fn event_field(obj: &Value, internal: &str) -> String {
    if let Some(sub) = internal.strip_prefix("involvedObject.") {
        return first_string(
            obj,
            &[
                &format!("/involvedObject/{sub}"),
                &format!("/regarding/{sub}"),
            ],
        );
    }
    let reporting = ["/reportingComponent", "/reportingController"];
    match internal {
        "reason" => string_or_empty(obj, "/reason"),
        "type" => string_or_empty(obj, "/type"),
        "reportingComponent" => first_string(obj, &reporting),
        "source" => first_string(
            obj,
            &[
                "/source/component",
                "/deprecatedSource/component",
                reporting[0],
                reporting[1],
            ],
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn sel(s: &str) -> LabelSelector {
        match LabelSelector::parse(s) {
            Ok(s) => s,
            Err(e) => panic!("parse {s:?}: {e}"),
        }
    }

    fn err(s: &str) -> String {
        match LabelSelector::parse(s) {
            Ok(v) => panic!("parse {s:?} should fail, got {v:?}"),
            Err(e) => e,
        }
    }

    const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    #[test]
    fn parses_all_forms() {
        let s = sel("x in (foo,,baz),y,z notin ()");
        let rs = s.requirements();
        assert_eq!(rs.len(), 3);
        assert_eq!(rs[0].key(), "x");
        assert_eq!(rs[0].operator(), Operator::In);
        assert_eq!(rs[0].values(), &["", "baz", "foo"]);
        assert_eq!(rs[1].operator(), Operator::Exists);
        assert_eq!(rs[2].operator(), Operator::NotIn);
        assert_eq!(rs[2].values(), &[""]);
        assert_eq!(s.to_string(), "x in (,baz,foo),y,z notin ()");

        assert_eq!(sel("a=b").to_string(), "a=b");
        assert_eq!(
            sel("a==b").requirements()[0].operator(),
            Operator::DoubleEquals
        );
        assert_eq!(
            sel("a!=b").requirements()[0].operator(),
            Operator::NotEquals
        );
        assert_eq!(sel("!a").to_string(), "!a");
        assert_eq!(
            sel("a>1").requirements()[0].operator(),
            Operator::GreaterThan
        );
        assert_eq!(sel("a<1").requirements()[0].values(), &["1"]);
        // A negative number is not a valid label value, so upstream refuses it.
        assert!(LabelSelector::parse("a<-1").is_err());
        assert_eq!(sel("a=").requirements()[0].values(), &[""]);
        assert_eq!(sel("a=,b").requirements().len(), 2);
        assert_eq!(
            sel("  env  in  ( a , b ) ,  tier = web ").to_string(),
            "env in (a,b),tier=web"
        );
        assert_eq!(sel("x in (in)").requirements()[0].values(), &["in"]);
        assert_eq!(sel("in in (notin)").requirements()[0].key(), "in");
        assert_eq!(
            sel("example.com/app=web").requirements()[0].key(),
            "example.com/app"
        );
        // Requirements are sorted by key.
        assert_eq!(sel("b=1,a=2").to_string(), "a=2,b=1");
    }

    /// Cases of upstream's TestSelectorParse and TestSetSelectorParser.
    #[test]
    fn upstream_parse_cases() {
        for good in [
            "x=a,y=b,z=c",
            "",
            "x!=a,y=b",
            "x=",
            "x= ",
            "x=,z= ",
            "x= ,z= ",
            "!x",
            "x>1",
            "x>1,z<5",
        ] {
            assert_eq!(sel(good).to_string(), good.replace(' ', ""), "{good}");
        }
        for bad in ["x=a||y=b", "x==a==b", "!x=a", "x<a"] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
        let cases: Vec<(String, Option<&str>)> = vec![
            ("\rx".into(), Some("x")),
            (
                "this-is-a-dns.domain.com/key-with-dash".into(),
                Some("this-is-a-dns.domain.com/key-with-dash"),
            ),
            (
                "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)".into(),
                Some("0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"),
            ),
            ("foo  in\t (abc)".into(), Some("foo in (abc)")),
            ("x notin\n (abc)".into(), Some("x notin (abc)")),
            ("x in (abc,)".into(), Some("x in (,abc)")),
            ("x in ()".into(), Some("x in ()")),
            (
                "x notin (abc,,def),bar,z in (),w".into(),
                Some("bar,w,x notin (,abc,def),z in ()"),
            ),
            ("x,y in (a)".into(), Some("x,y in (a)")),
            (
                "x=a,y!=b,z in (h,i,j)".into(),
                Some("x=a,y!=b,z in (h,i,j)"),
            ),
            ("x=a||y=b".into(), None),
            ("x,,y".into(), None),
            (",x,y".into(), None),
            ("x nott in (y)".into(), None),
            ("x notin ( )".into(), Some("x notin ()")),
            ("x notin (, a)".into(), Some("x notin (,a)")),
            ("a in (xyz),".into(), None),
            ("a in (xyz)b notin ()".into(), None),
            ("a ".into(), Some("a")),
            (
                "a in (x,y,notin, z,in)".into(),
                Some("a in (in,notin,x,y,z)"),
            ),
            ("a in (xyz abc)".into(), None),
            ("a notin(".into(), None),
            ("a (".into(), None),
            ("(".into(), None),
        ];
        for (input, want) in cases {
            match (LabelSelector::parse(&input), want) {
                (Ok(s), Some(w)) => assert_eq!(s.to_string(), w, "{input:?}"),
                (Err(_), None) => {}
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
        // Upstream's TestSelectorMatches / TestRequirementSelectorMatching.
        let set = |v: Value| labels(v);
        assert!(sel("notin=in").matches(&set(json!({"notin": "in"}))));
        assert!(sel("x<1").matches(&set(json!({"x": "0"}))));
        assert!(!sel("x>1").matches(&set(json!({"x": "0"}))));
        assert!(!sel("x=y,z=w").matches(&set(json!({"x": "w", "z": "w"}))));
        assert!(!sel("x!=y,z!=w").matches(&set(json!({"x": "z", "z": "w"}))));
        assert!(sel("x notin (),y").matches(&set(json!({"y": ""}))));
        assert!(!sel("x notin (),!y").matches(&set(json!({"y": ""}))));
        assert!(!sel("x in ()").matches(&set(json!({"y": "baz"}))));
        assert!(!sel("z>1").matches(&set(json!({"z": "v2"}))));
        assert_eq!(sel("x=a,a=x").to_string(), sel("a=x,x=a").to_string());
    }

    #[test]
    fn empty_is_everything() {
        for s in ["", "   ", "\t\n"] {
            let v = sel(s);
            assert!(v.is_empty());
            assert!(!v.matches_nothing());
            assert!(v.matches(&Map::new()));
        }
    }

    #[test]
    fn parse_errors_match_upstream() {
        assert_eq!(err("a,"), "found '', expected: identifier after ','");
        assert_eq!(err("a,,b"), "found ',', expected: identifier after ','");
        assert_eq!(
            err(",a"),
            "found ',', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(
            err("a b"),
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(err("a=b c"), "found 'c', expected: ',' or 'end of string'");
        assert_eq!(
            err("a in b"),
            "unable to parse requirement: found 'b' expected: '('"
        );
        assert_eq!(
            err("a in (b"),
            "unable to parse requirement: found '', expected: ',' or ')'"
        );
        assert_eq!(
            err("a in (b c)"),
            "unable to parse requirement: found 'c', expected: ',' or ')'"
        );
        assert_eq!(
            err("a in (=)"),
            "unable to parse requirement: found '=', expected: ',', ')' or identifier"
        );
        assert_eq!(
            err("a in (b,=)"),
            "unable to parse requirement: found '=', expected: ',', or identifier"
        );
        assert_eq!(
            err("a (b)"),
            "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(
            err("a=(b)"),
            "unable to parse requirement: found '(', expected: identifier"
        );
        assert_eq!(
            err("!"),
            "unable to parse requirement: found '', expected: identifier"
        );
        assert_eq!(err("!a=b"), "found '=', expected: ',' or 'end of string'");
        assert_eq!(
            err("a_=b"),
            format!("unable to parse requirement: <nil>: Invalid value: \"a_\": {NAME_PART_MSG}")
        );
        assert_eq!(
            err("a=b_"),
            format!(
                "unable to parse requirement: values[0][a]: Invalid value: \"b_\": {LABEL_VALUE_MSG}"
            )
        );
        assert_eq!(
            err("a>b"),
            "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer"
        );
        assert_eq!(
            err("a>-"),
            format!(
                "unable to parse requirement: [values[0]: Invalid value: \"-\": for 'Gt', 'Lt' operators, the value must be an integer, values[0][a]: Invalid value: \"-\": {LABEL_VALUE_MSG}]"
            )
        );
        let long = "v".repeat(64);
        assert_eq!(
            err(&format!("a={long}")),
            format!(
                "unable to parse requirement: values[0][a]: Invalid value: \"{long}\": must be no more than 63 characters"
            )
        );
        assert_eq!(
            err("a/b/c"),
            "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        );
    }

    #[test]
    fn matching() {
        let l = labels(json!({"app": "web", "tier": "front", "n": "5"}));
        assert!(sel("app=web").matches(&l));
        assert!(sel("app==web,tier").matches(&l));
        assert!(!sel("app=db").matches(&l));
        assert!(sel("app!=db").matches(&l));
        assert!(sel("missing!=x").matches(&l));
        assert!(sel("app in (web,db)").matches(&l));
        assert!(!sel("missing in (web)").matches(&l));
        assert!(sel("app notin (db)").matches(&l));
        assert!(sel("missing notin (db)").matches(&l));
        assert!(!sel("app notin (web)").matches(&l));
        assert!(sel("!missing").matches(&l));
        assert!(!sel("!app").matches(&l));
        assert!(sel("n>4,n<6").matches(&l));
        assert!(!sel("n>5").matches(&l));
        assert!(!sel("app>1").matches(&l));
        assert!(!sel("missing<1").matches(&l));
        assert!(!sel("app=").matches(&l));
        assert!(!sel("missing=").matches(&l));
        assert!(sel("x in (,a)").matches(&labels(json!({"x": ""}))));
        assert!(sel("").matches(&l));
        let obj = json!({"metadata": {"labels": {"app": "web"}}});
        assert!(sel("app=web").matches_object(&obj));
        assert!(sel("!app").matches_object(&json!({"metadata": {}})));
    }

    #[test]
    fn exact_match() {
        let s = sel("a=1,b in (2),c in (3,4),d!=5");
        assert_eq!(s.requires_exact_match("a"), Some("1"));
        assert_eq!(s.requires_exact_match("b"), Some("2"));
        assert_eq!(s.requires_exact_match("c"), None);
        assert_eq!(s.requires_exact_match("d"), None);
        assert_eq!(s.requires_exact_match("e"), None);
    }

    #[test]
    fn label_selector_json() {
        let nothing = LabelSelector::from_label_selector_json(&Value::Null).unwrap_or_default();
        assert!(nothing.matches_nothing());
        assert!(!nothing.is_empty());
        assert!(!nothing.matches(&Map::new()));

        for v in [
            json!({}),
            json!({"matchLabels": {}, "matchExpressions": []}),
        ] {
            let every =
                LabelSelector::from_label_selector_json(&v).unwrap_or_else(|e| panic!("{e}"));
            assert!(every.is_empty());
            assert!(every.matches(&Map::new()));
        }

        let s = LabelSelector::from_label_selector_json(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "env", "operator": "NotIn", "values": ["prod"]},
                {"key": "owner", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist", "values": []}
            ]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.to_string(),
            "app=web,env notin (prod),!legacy,owner,tier in (a,b)"
        );
        assert!(s.matches(&labels(json!({"app": "web", "tier": "b", "owner": "x"}))));
        assert!(!s.matches(&labels(json!({"app": "web", "tier": "c", "owner": "x"}))));
        assert!(!s.matches(&labels(
            json!({"app": "web", "tier": "a", "owner": "x", "legacy": "1"})
        )));

        let e = |v: Value| match LabelSelector::from_label_selector_json(&v) {
            Ok(s) => panic!("should fail: {s:?}"),
            Err(e) => e,
        };
        assert_eq!(
            e(json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]})),
            "\"Equals\" is not a valid label selector operator"
        );
        assert_eq!(
            e(json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})),
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
        );
        assert_eq!(
            e(
                json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x", "y"]}]})
            ),
            "values: Invalid value: []string{\"x\", \"y\"}: values set must be empty for exists and does not exist"
        );
        assert_eq!(
            e(json!({"matchLabels": {"a b": "x"}})),
            format!("key: Invalid value: \"a b\": {NAME_PART_MSG}")
        );
        assert_eq!(
            e(json!({"matchLabels": {"a": "x y"}})),
            format!("values[0][a]: Invalid value: \"x y\": {LABEL_VALUE_MSG}")
        );
    }

    #[test]
    fn requirement_new_aggregates() {
        let e = Requirement::new("-a", Operator::In, vec![])
            .err()
            .unwrap_or_default();
        assert_eq!(
            e,
            format!(
                "[key: Invalid value: \"-a\": {NAME_PART_MSG}, values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty]"
            )
        );
    }

    fn fsel(s: &str) -> FieldSelector {
        FieldSelector::parse(s).unwrap_or_else(|e| panic!("parse {s:?}: {e}"))
    }

    fn ferr(s: &str) -> String {
        match FieldSelector::parse(s) {
            Ok(v) => panic!("parse {s:?} should fail: {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn field_selector_parse() {
        let s = fsel("status.phase!=Running,spec.nodeName==n1,metadata.name=a");
        let r = s.requirements();
        assert_eq!(r.len(), 3);
        // Sorted as strings.
        assert_eq!(r[0].field, "metadata.name");
        assert_eq!(r[1].field, "spec.nodeName");
        assert_eq!(r[1].operator, FieldOperator::Equals);
        assert_eq!(r[2].operator, FieldOperator::NotEquals);
        assert_eq!(r[2].value, "Running");
        assert_eq!(
            s.to_string(),
            "metadata.name=a,spec.nodeName=n1,status.phase!=Running"
        );

        assert!(fsel("").is_empty());
        assert!(fsel(",,").is_empty());
        assert!(fsel("=").is_empty());
        assert_eq!(fsel("a=").requirements()[0].value, "");
        assert_eq!(fsel("a = b").requirements()[0].field, "a ");
        assert_eq!(fsel("a = b").requirements()[0].value, " b");
        assert_eq!(fsel(r"a=x\,y\=z\\").requirements()[0].value, r"x,y=z\");
        assert_eq!(fsel(r"a=x\,y").requirements().len(), 1);
        assert_eq!(fsel("a==").requirements()[0].value, "");
        assert_eq!(fsel(r"a!=\=b").requirements()[0].value, "=b");
    }

    /// Cases of upstream's fields TestSelectorParse, TestSplitTerms, TestSplitTerm and
    /// TestEscapeValue.
    #[test]
    fn upstream_field_cases() {
        for good in ["x=a,y=b,z=c", "", "x!=a,y=b", r"x=a||y\=b", r"x=a\=\=b"] {
            assert_eq!(fsel(good).to_string(), good, "{good}");
        }
        for bad in [
            "x=a||y=b",
            "x==a==b",
            "x=a,b",
            "x in (a)",
            "x in (a,b,c)",
            "x",
        ] {
            assert!(FieldSelector::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(split_terms(r"k=\\\,,k2=v2"), vec![r"k=\\\,", "k2=v2"]);
        assert_eq!(split_terms(r"k=\\,k2=v2"), vec![r"k=\\", "k2=v2"]);
        assert_eq!(split_terms("a=a,"), vec!["a=a", ""]);
        assert_eq!(split_terms("함=수,목=록"), vec!["함=수", "목=록"]);
        assert!(split_terms("").is_empty());
        assert_eq!(
            split_term("함=수"),
            Some(("함", FieldOperator::Equals, "수"))
        );
        assert_eq!(
            split_term(r"k=\\\a\b\=\,\"),
            Some(("k", FieldOperator::Equals, r"\\\a\b\=\,\"))
        );
        assert_eq!(split_term("a"), None);
        for (plain, escaped) in [
            ("", ""),
            ("a", "a"),
            ("=", r"\="),
            (",", r"\,"),
            (r"\", r"\\"),
            (r"\=\,\", r"\\\=\\\,\\"),
        ] {
            assert_eq!(escape_field_value(plain), escaped);
            assert_eq!(unescape_field_value(escaped).as_deref(), Ok(plain));
        }
        for bad in [r"\", r"\\\", r"\a"] {
            assert!(unescape_field_value(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_selector_errors() {
        assert_eq!(
            ferr("abc"),
            "invalid selector: 'abc'; can't understand 'abc'"
        );
        assert_eq!(
            ferr("b=1,zz"),
            "invalid selector: 'b=1,zz'; can't understand 'zz'"
        );
        assert_eq!(
            ferr(r"a=b\c"),
            r"invalid field selector: invalid escape sequence: \c"
        );
        assert_eq!(
            ferr(r"a=b\"),
            r"invalid field selector: invalid escape sequence: \"
        );
        assert_eq!(
            ferr("a==b=c"),
            "invalid field selector: unescaped character in value: 61"
        );
    }

    #[test]
    fn field_selector_match_and_name() {
        let s = fsel("metadata.name=web");
        assert_eq!(s.single_name(), Some("web"));
        assert_eq!(fsel("metadata.name==web").single_name(), Some("web"));
        assert_eq!(fsel("metadata.name!=web").single_name(), None);
        let two = fsel("metadata.name=web,metadata.namespace=a");
        assert_eq!(two.single_name(), None);
        assert_eq!(two.requires_exact_match("metadata.name"), Some("web"));
        let pod = json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {}});
        let get = |f: &str| field_value("", "pods", &pod, f).ok().flatten();
        assert!(two.matches(get));
        assert!(fsel("spec.nodeName=").matches(get));
        assert!(!fsel("spec.nodeName!=").matches(get));
        assert!(fsel("spec.hostNetwork=false,status.podIPs=").matches(get));
    }

    #[test]
    fn field_values_per_resource() {
        let pod = json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"nodeName": "n1", "restartPolicy": "Always", "hostNetwork": true,
                     "serviceAccountName": "sa", "schedulerName": "default-scheduler"},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.1"}], "nominatedNodeName": "n2"}
        });
        let v = |g: &str, r: &str, o: &Value, f: &str| field_value(g, r, o, f);
        assert_eq!(v("", "pods", &pod, "spec.nodeName"), Ok(Some("n1".into())));
        assert_eq!(v("", "pods", &pod, "spec.host"), Ok(Some("n1".into())));
        assert_eq!(
            v("", "pods", &pod, "spec.hostNetwork"),
            Ok(Some("true".into()))
        );
        assert_eq!(
            v("", "pods", &pod, "status.podIP"),
            Ok(Some("10.0.0.1".into()))
        );
        assert_eq!(v("", "pods", &pod, "status.podIPs"), Ok(None));
        assert_eq!(
            v("", "pods", &pod, "status.nominatedNodeName"),
            Ok(Some("n2".into()))
        );
        assert_eq!(
            v("", "pods", &pod, "metadata.namespace"),
            Ok(Some("ns".into()))
        );
        let bare = json!({"metadata": {"name": "p", "namespace": "ns"}});
        assert_eq!(
            v("", "pods", &bare, "spec.nodeName"),
            Ok(Some(String::new()))
        );
        assert_eq!(
            v("", "pods", &bare, "spec.hostNetwork"),
            Ok(Some("false".into()))
        );
        assert_eq!(
            v("", "pods", &pod, "spec.foo"),
            Err("field label not supported: spec.foo".into())
        );

        let node = json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}});
        assert_eq!(
            v("", "nodes", &node, "spec.unschedulable"),
            Ok(Some("true".into()))
        );
        assert_eq!(
            v("", "nodes", &node, "metadata.namespace"),
            Err("field label not supported: metadata.namespace".into())
        );
        assert_eq!(
            v(
                "",
                "namespaces",
                &json!({"status": {"phase": "Active"}}),
                "status.phase"
            ),
            Ok(Some("Active".into()))
        );
        assert_eq!(
            v("", "secrets", &json!({"type": "Opaque"}), "type"),
            Ok(Some("Opaque".into()))
        );
        assert_eq!(
            v(
                "",
                "services",
                &json!({"spec": {"type": "NodePort", "clusterIP": "10.96.0.1"}}),
                "spec.type"
            ),
            Ok(Some("NodePort".into()))
        );
        assert_eq!(
            v(
                "",
                "services",
                &json!({"spec": {"clusterIP": "10.96.0.1"}}),
                "spec.clusterIP"
            ),
            Ok(Some("10.96.0.1".into()))
        );
        assert_eq!(
            v(
                "",
                "replicationcontrollers",
                &json!({"status": {"replicas": 3}}),
                "status.replicas"
            ),
            Ok(Some("3".into()))
        );
        assert_eq!(
            v("", "replicationcontrollers", &json!({}), "status.replicas"),
            Ok(Some("0".into()))
        );
        assert_eq!(
            v(
                "batch",
                "jobs",
                &json!({"status": {"succeeded": 1}}),
                "status.successful"
            ),
            Ok(Some("1".into()))
        );
        assert_eq!(
            v("batch", "jobs", &json!({}), "status.succeeded"),
            Err("field label \"status.succeeded\" not supported for batchv1.Job".into())
        );
        assert_eq!(
            v("apps", "replicasets", &json!({}), "status.replicas"),
            Err("\"status.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".into())
        );
        assert_eq!(
            v(
                "",
                "configmaps",
                &json!({"metadata": {"name": "c"}}),
                "metadata.name"
            ),
            Ok(Some("c".into()))
        );
        assert_eq!(
            v(
                "rbac.authorization.k8s.io",
                "clusterroles",
                &json!({"metadata": {"name": "c"}}),
                "metadata.namespace"
            ),
            Ok(None)
        );
        assert_eq!(
            v(
                "certificates.k8s.io",
                "certificatesigningrequests",
                &json!({"spec": {"signerName": "x/y"}}),
                "spec.signerName"
            ),
            Ok(Some("x/y".into()))
        );
    }

    #[test]
    fn event_fields() {
        let core = json!({
            "metadata": {"name": "e", "namespace": "ns"},
            "involvedObject": {"kind": "Pod", "name": "p", "uid": "u1", "fieldPath": "spec.containers{c}"},
            "reason": "Started", "type": "Normal",
            "source": {"component": "kubelet"},
            "reportingComponent": "kubelet-rc"
        });
        let v = |g: &str, o: &Value, f: &str| field_value(g, "events", o, f);
        assert_eq!(v("", &core, "involvedObject.kind"), Ok(Some("Pod".into())));
        assert_eq!(
            v("", &core, "involvedObject.namespace"),
            Ok(Some(String::new()))
        );
        assert_eq!(
            v("", &core, "involvedObject.fieldPath"),
            Ok(Some("spec.containers{c}".into()))
        );
        assert_eq!(v("", &core, "source"), Ok(Some("kubelet".into())));
        assert_eq!(
            v("", &core, "reportingComponent"),
            Ok(Some("kubelet-rc".into()))
        );
        assert_eq!(v("", &core, "reason"), Ok(Some("Started".into())));
        assert_eq!(
            v("", &core, "regarding.kind"),
            Err("field label not supported: regarding.kind".into())
        );

        let new = json!({
            "metadata": {"name": "e", "namespace": "ns"},
            "regarding": {"kind": "Node", "name": "n1"},
            "reason": "Ready", "type": "Normal",
            "reportingController": "ctrl"
        });
        assert_eq!(
            v("events.k8s.io", &new, "regarding.kind"),
            Ok(Some("Node".into()))
        );
        assert_eq!(
            v("events.k8s.io", &new, "reportingController"),
            Ok(Some("ctrl".into()))
        );
        assert_eq!(v("events.k8s.io", &new, "source"), Ok(Some("ctrl".into())));
        assert_eq!(v("events.k8s.io", &new, "type"), Ok(Some("Normal".into())));
        assert_eq!(
            v("events.k8s.io", &new, "involvedObject.kind"),
            Err("field label not supported: involvedObject.kind".into())
        );
        // Either shape is readable from either group.
        assert_eq!(
            v("events.k8s.io", &core, "regarding.name"),
            Ok(Some("p".into()))
        );
        assert_eq!(v("", &new, "involvedObject.name"), Ok(Some("n1".into())));
    }

    #[test]
    fn check_fields() {
        assert!(
            fsel("spec.nodeName=a,metadata.name=b")
                .check_fields("", "pods")
                .is_ok()
        );
        assert_eq!(
            fsel("spec.nodeName=a,zz=b").check_fields("", "configmaps"),
            Err("\"spec.nodeName\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".into())
        );
        assert_eq!(
            fsel("x=1").check_fields("", "pods"),
            Err("field label not supported: x".into())
        );
    }

    #[test]
    fn escape_roundtrip() {
        assert_eq!(escape_field_value(r"a,b=c\d"), r"a\,b\=c\\d");
        let s = fsel(&format!("metadata.name={}", escape_field_value("x,y=z")));
        assert_eq!(s.single_name(), Some("x,y=z"));
    }
}
