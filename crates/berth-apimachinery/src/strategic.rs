//! Strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds, as
//! `k8s.io/apimachinery/pkg/util/strategicpatch.StrategicMergeMapPatch` applies it on the
//! server (`MergeParallelList` and `IgnoreUnmatchedNulls` on), with the errors mapped to HTTP
//! statuses the way kube-apiserver's patch handler does (`interpretStrategicMergePatchError`).
//!
//! - Maps merge recursively; `null` deletes a key.
//! - A list merges when its field's `patchStrategy` has `merge`: lists of maps by the field's
//!   `patchMergeKey` (matching elements merge recursively, new ones are added), lists of
//!   scalars as a set. Every other list is replaced by the patch's.
//! - A field with `patchStrategy:"replace"` (PodDisruptionBudget's `spec.selector`) is replaced
//!   whole even when it is a map.
//! - Directives: `$patch: replace|delete` in a map, `$patch: replace|delete` elements in a
//!   merging list, `$retainKeys`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`.
//!   Upstream's result can keep directives that sat in parts of the patch taken as they are
//!   (a new map, a replaced list, ...) and leaves them to the typed decoding to drop; here they
//!   are removed from every place where the schema has a struct (not from opaque content such
//!   as a ControllerRevision's `data`).
//!
//! The per-field metadata comes from the table `TABLE`: every struct reachable from the built-in kinds,
//! with its JSON fields, their Go types and their `patchStrategy`/`patchMergeKey` tags, generated
//! from the Go types of `k8s.io/api`, `k8s.io/apimachinery` (`meta/v1`) and
//! `k8s.io/apiextensions-apiserver` at `release-1.33`. As upstream (which looks the tags up by
//! reflection on the Go struct), a field that the struct does not have is an error only when the
//! merge needs its metadata: when both sides hold a map or a list under that key, or for the list
//! a `$setElementOrder` names. Kinds outside the table merge maps recursively and replace lists
//! (their `$setElementOrder` directives are ignored).
//!
//! Errors, as kube-apiserver answers them:
//! - 400 BadRequest for the format errors of `mergepatch` (`invalid patch format of
//!   retainKeys`, `... of setElementOrder list`, `... of primitive list`);
//! - 422 with the generic message for `lists of lists are not supported`;
//! - every other error (`map: map[image:x] does not contain declared merge key: name`,
//!   `unable to find api field in struct PodSpec for the json field "foo"`, `unknown patch
//!   type: ...`) is returned by the handler as a plain Go error: a 500 Status whose reason is
//!   empty (`StatusReasonUnknown`) and whose message is the error's text.

use crate::status::ApiError;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::OnceLock;

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_STRATEGY: &str = "retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

// The sentinel errors of k8s.io/apimachinery/pkg/util/mergepatch that reach the apply path.
const ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
const ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST: &str =
    "invalid patch format of setElementOrder list";

/// What the Go code would panic on (and the API server answer with a 500).
const PANIC_MESSAGE: &str = "runtime error: invalid memory address or nil pointer dereference";

/// Applies a strategic merge patch to `original`, an object of the built-in kind `group`/`kind`.
///
/// `patch` must be a JSON object (`null` leaves `original` as it is). The result has no patch
/// directives left in it.
pub fn apply(group: &str, kind: &str, original: &Value, patch: &Value) -> Result<Value, ApiError> {
    let schema = builtin_schema();
    let root = schema.root(group, kind).map_or(Node::Any, Node::Ty);
    apply_with_schema(schema, root, original, patch)
}

fn apply_with_schema(
    schema: &Schema,
    root: Node,
    original: &Value,
    patch: &Value,
) -> Result<Value, ApiError> {
    let patch = match patch {
        Value::Object(m) => m.clone(),
        // json.Unmarshal of `null` into a map leaves it nil: an empty patch.
        Value::Null => return Ok(original.clone()),
        other => {
            return Err(ApiError::bad_request(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_type_word(other)
            )));
        }
    };
    let Value::Object(original) = original else {
        return Err(ApiError::internal(
            "the object to patch is not a JSON object",
        ));
    };
    let merger = Merger { schema };
    let merged = merger
        .merge_map(original.clone(), patch, root)
        .map_err(SmpError::into_api_error)?;
    let mut out = Value::Object(merged);
    merger.strip_directives(&mut out, root);
    Ok(out)
}

fn json_type_word(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum SmpError {
    /// One of the `mergepatch` format errors kube-apiserver answers with 400 BadRequest.
    BadRequest(&'static str),
    /// `mergepatch.ErrNoListOfLists`: a 422 with the generic message.
    Unprocessable,
    /// Any other error: the handler returns it as is, a 500 with an empty reason.
    Other(String),
}

impl SmpError {
    fn into_api_error(self) -> ApiError {
        match self {
            SmpError::BadRequest(m) => ApiError::bad_request(m),
            SmpError::Unprocessable => ApiError::new(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
            )
            .with_details(json!({})),
            SmpError::Other(m) => ApiError::new(500, "", m),
        }
    }
}

type SmpResult<T> = std::result::Result<T, SmpError>;

fn other<T>(message: impl Into<String>) -> SmpResult<T> {
    Err(SmpError::Other(message.into()))
}

/// `mergepatch.ErrNoMergeKey`.
fn err_no_merge_key(m: &Map<String, Value>, key: &str) -> SmpError {
    SmpError::Other(format!(
        "map: {} does not contain declared merge key: {key}",
        go_v_map(m)
    ))
}

/// `mergepatch.ErrBadArgType(expected, actual)`.
fn err_bad_arg_type(expected: &str, actual: &Value) -> SmpError {
    SmpError::Other(format!(
        "expected a {expected}, but received a {}",
        go_type_name(actual)
    ))
}

/// `mergepatch.ErrBadPatchType`.
fn err_bad_patch_type(t: &Value, m: &Map<String, Value>) -> SmpError {
    SmpError::Other(format!(
        "unknown patch type: {} in map: {}",
        go_s(t),
        go_v_map(m)
    ))
}

const GO_MAP: &str = "map[string]interface {}";
const GO_SLICE: &str = "[]interface {}";

// ---------------------------------------------------------------------------------------------
// Patch metadata
// ---------------------------------------------------------------------------------------------

/// One JSON field of a struct.
#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) json: &'static str,
    /// Encoded Go type: `*T` pointer, `[T` slice, `{T` map with string keys, `s` a value whose
    /// JSON form is a scalar, otherwise the `pkg.Name` of a struct.
    pub(crate) ty: &'static str,
    /// The `patchStrategy` tag, as written (`merge`, `merge,retainKeys`, `replace`, ...).
    pub(crate) strategy: &'static str,
    /// The `patchMergeKey` tag.
    pub(crate) merge_key: &'static str,
}

pub(crate) struct Schema {
    roots: HashMap<(&'static str, &'static str), &'static str>,
    pub(crate) types: HashMap<&'static str, Vec<Field>>,
}

impl Schema {
    /// Parses a table: lines `group/Kind=pkg.Type` (roots) and `pkg.Type field field...` with a
    /// field written `json:type` or `json:type:strategy:mergeKey`.
    fn parse(table: &'static str) -> Schema {
        let mut roots = HashMap::new();
        let mut types = HashMap::new();
        for line in table.lines() {
            let mut words = line.split_whitespace();
            let Some(head) = words.next() else { continue };
            if let Some((gk, ty)) = head.split_once('=') {
                if let Some((group, kind)) = gk.split_once('/') {
                    roots.insert((group, kind), ty);
                }
                continue;
            }
            let fields = words
                .filter_map(|w| {
                    let mut parts = w.splitn(4, ':');
                    let json = parts.next()?;
                    let ty = parts.next()?;
                    Some(Field {
                        json,
                        ty,
                        strategy: parts.next().unwrap_or(""),
                        merge_key: parts.next().unwrap_or(""),
                    })
                })
                .collect();
            types.insert(head, fields);
        }
        Schema { roots, types }
    }

    pub(crate) fn root(&self, group: &str, kind: &str) -> Option<&'static str> {
        self.roots.get(&(group, kind)).copied()
    }
}

pub(crate) fn builtin_schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::parse(TABLE))
}

/// Where the merge is in the schema (upstream's `LookupPatchMeta`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Node {
    /// A kind without metadata: no list strategies, no errors for unknown fields.
    Any,
    /// An encoded Go type (see [`Field::ty`]).
    Ty(&'static str),
}

#[derive(Debug, Clone, Copy, Default)]
struct PatchMeta {
    strategy: &'static str,
    merge_key: &'static str,
}

/// Go's `reflect.Kind` name of an encoded type.
fn kind_name(node: Node) -> &'static str {
    match node {
        Node::Any => "struct",
        Node::Ty(t) => {
            if t.starts_with('*') {
                "ptr"
            } else if t.starts_with('[') {
                "slice"
            } else if t.starts_with('{') {
                "map"
            } else if t == "s" {
                "string"
            } else {
                "struct"
            }
        }
    }
}

/// The Go name of a struct type (`PodSpec` for `core.PodSpec`).
fn bare_name(t: &str) -> &str {
    t.rsplit_once('.').map_or(t, |(_, n)| n)
}

fn find_field<'f>(fields: &'f [Field], key: &str) -> Option<&'f Field> {
    // encoding/json's rule: an exact match, else the first case-insensitive one.
    fields
        .iter()
        .find(|f| f.json == key)
        .or_else(|| fields.iter().find(|f| f.json.eq_ignore_ascii_case(key)))
}

/// `extractRetainKeysPatchStrategy`: whether the strategies have `retainKeys`, and the other one.
fn extract_retain_keys_patch_strategy(strategy: &'static str) -> SmpResult<(bool, &'static str)> {
    // strings.Split("", ",") is [""]: one empty strategy.
    let parts: Vec<&'static str> = strategy.split(',').collect();
    match parts.as_slice() {
        [] => Ok((false, "")),
        [one] if *one == RETAIN_KEYS_STRATEGY => Ok((true, "")),
        [one] => Ok((false, one)),
        [a, b] if *a == RETAIN_KEYS_STRATEGY => Ok((true, b)),
        [a, b] if *b == RETAIN_KEYS_STRATEGY => Ok((true, a)),
        _ => other(format!("unexpected patch strategy: [{}]", parts.join(" "))),
    }
}

// ---------------------------------------------------------------------------------------------
// The merge
// ---------------------------------------------------------------------------------------------

struct Merger<'s> {
    schema: &'s Schema,
}

impl Merger<'_> {
    /// `LookupPatchMetadataForStruct`.
    fn lookup_struct(&self, node: Node, key: &str) -> SmpResult<(Node, PatchMeta)> {
        let Node::Ty(t) = node else {
            return Ok((Node::Any, PatchMeta::default()));
        };
        let t = t.strip_prefix('*').unwrap_or(t);
        let deref = Node::Ty(t);
        if kind_name(deref) != "struct" {
            return other(format!(
                "merging an object in json but data type is not struct, instead is: {}",
                kind_name(deref)
            ));
        }
        let fields = self.schema.types.get(t).map_or(&[][..], Vec::as_slice);
        match find_field(fields, key) {
            Some(f) => Ok((
                Node::Ty(f.ty),
                PatchMeta {
                    strategy: f.strategy,
                    merge_key: f.merge_key,
                },
            )),
            None => other(format!(
                "unable to find api field in struct {} for the json field {}",
                bare_name(t),
                go_quote(key)
            )),
        }
    }

    /// `LookupPatchMetadataForSlice`: the element type of the list field `key`.
    fn lookup_slice(&self, node: Node, key: &str) -> SmpResult<(Node, PatchMeta)> {
        let (sub, meta) = self.lookup_struct(node, key)?;
        let Node::Ty(t) = sub else {
            return Ok((Node::Any, meta));
        };
        if let Some(elem) = t.strip_prefix('[') {
            if elem.starts_with('[') {
                return other("unexpected slice of slice");
            }
            Ok((Node::Ty(elem), meta))
        } else if let Some(pointee) = t.strip_prefix('*') {
            Ok((Node::Ty(pointee.strip_prefix('[').unwrap_or(pointee)), meta))
        } else {
            other(format!(
                "expected slice or array type, but got: {}",
                kind_name(node)
            ))
        }
    }

    /// `mergeMap`.
    fn merge_map(
        &self,
        mut original: Map<String, Value>,
        mut patch: Map<String, Value>,
        schema: Node,
    ) -> SmpResult<Map<String, Value>> {
        if let Some(directive) = patch.get(DIRECTIVE_MARKER).cloned() {
            return handle_directive_in_merge_map(&directive, patch);
        }
        apply_retain_keys_directive(&mut original, &mut patch)?;
        self.merge_patch_into_original(&mut original, &mut patch, schema)?;

        for (key, patch_v) in patch {
            let mut k = key;
            let mut is_delete_list = false;
            if k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
                let original_key = extract_key(&k, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?;
                is_delete_list = true;
                if !original_key.is_empty() {
                    k = original_key;
                }
            }

            if patch_v.is_null() {
                original.shift_remove(&k);
                continue;
            }

            let Some(slot) = original.get_mut(&k) else {
                if !is_delete_list {
                    put_patch_value(&mut original, k, patch_v);
                }
                continue;
            };
            if go_kind(slot) != go_kind(&patch_v) {
                if !is_delete_list {
                    put_patch_value(&mut original, k, patch_v);
                }
                continue;
            }
            match (std::mem::take(slot), patch_v) {
                (Value::Object(o), Value::Object(p)) => {
                    let (sub, meta) = self.lookup_struct(schema, &k)?;
                    let (_, strategy) = extract_retain_keys_patch_strategy(meta.strategy)?;
                    *slot = Value::Object(if strategy == REPLACE_DIRECTIVE {
                        p
                    } else {
                        self.merge_map(o, p, sub)?
                    });
                }
                (Value::Array(o), Value::Array(p)) => {
                    let (sub, meta) = self.lookup_slice(schema, &k)?;
                    let (_, strategy) = extract_retain_keys_patch_strategy(meta.strategy)?;
                    let list = PatchMeta {
                        strategy,
                        merge_key: meta.merge_key,
                    };
                    *slot = Value::Array(self.merge_slice_handler(
                        o,
                        p,
                        sub,
                        list,
                        is_delete_list,
                        None,
                    )?);
                }
                (_, p) => *slot = p,
            }
        }
        Ok(original)
    }

    /// `mergePatchIntoOriginal`: merges each list named by a `$setElementOrder/<list>`
    /// directive (with that list of the patch, if any) and orders it as the directive says.
    fn merge_patch_into_original(
        &self,
        original: &mut Map<String, Value>,
        patch: &mut Map<String, Value>,
        schema: Node,
    ) -> SmpResult<()> {
        let keys: Vec<String> = patch
            .keys()
            .filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX))
            .cloned()
            .collect();
        for key in keys {
            let Some(set_order) = patch.shift_remove(&key) else {
                continue;
            };
            if schema == Node::Any {
                // Without metadata lists are replaced, in the patch's order.
                continue;
            }
            let Value::Array(set_order) = set_order else {
                return Err(err_bad_arg_type(GO_SLICE, &set_order));
            };
            let original_key = extract_key(&key, SET_ELEMENT_ORDER_PREFIX)?;
            let original_list = match original.get(&original_key) {
                None => None,
                Some(Value::Array(a)) => Some(a.clone()),
                Some(v) => return Err(err_bad_arg_type(GO_SLICE, v)),
            };
            let patch_list = match patch.get(&original_key) {
                None => None,
                Some(Value::Array(a)) => Some(a.clone()),
                Some(v) => return Err(err_bad_arg_type(GO_SLICE, v)),
            };
            let (sub, meta) = self.lookup_slice(schema, &original_key)?;
            let (_, strategy) = extract_retain_keys_patch_strategy(meta.strategy)?;
            let original_items = original_list.clone().unwrap_or_default();
            let patch_items = patch_list.clone().unwrap_or_default();
            validate_patch_with_set_order_list(&patch_items, &set_order, meta.merge_key)?;

            // Upstream orders by `originalFieldValue`, a slice that shares its backing array
            // with the list the merge deletes from and appends to: emulate what it then holds.
            let mut view = AliasedList::new(original_items);
            let merged = match (original_list, patch_list) {
                (Some(o), None) => o,
                (None, Some(p)) => remove_directives_in_list(p),
                (Some(o), Some(p)) => {
                    let list = PatchMeta {
                        strategy,
                        merge_key: meta.merge_key,
                    };
                    self.merge_slice_handler(o, p, sub, list, false, Some(&mut view))?
                }
                (None, None) => continue,
            };
            let original_items = view.items;

            let (in_order, server_only) = if meta.merge_key.is_empty() {
                partition_primitives_by_present_in_list(merged, &set_order)
            } else {
                partition_maps_by_present_in_list(merged, &set_order, meta.merge_key)?
            };
            let kind = slice_element_type(&[&original_items, &patch_items])?;
            let both = normalize_element_order(
                in_order,
                server_only,
                &set_order,
                &original_items,
                meta.merge_key,
                kind,
            )?;
            original.insert(original_key.clone(), Value::Array(both));
            patch.shift_remove(&original_key);
        }
        Ok(())
    }

    /// `mergeSliceHandler`; `list.strategy` is the strategy besides `retainKeys`.
    fn merge_slice_handler(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        schema: Node,
        list: PatchMeta,
        is_delete_list: bool,
        view: Option<&mut AliasedList>,
    ) -> SmpResult<Vec<Value>> {
        if list.strategy == MERGE_DIRECTIVE || is_delete_list {
            self.merge_slice(
                original,
                patch,
                schema,
                list.merge_key,
                is_delete_list,
                view,
            )
        } else {
            Ok(patch)
        }
    }

    /// `mergeSlice`.
    fn merge_slice(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        schema: Node,
        merge_key: &str,
        is_delete_list: bool,
        mut view: Option<&mut AliasedList>,
    ) -> SmpResult<Vec<Value>> {
        if original.is_empty() && patch.is_empty() {
            return Ok(original);
        }
        let kind = slice_element_type(&[&original, &patch])?;
        let (merged, original, patch) = if kind == ElemKind::Map {
            if merge_key.is_empty() {
                return other(format!(
                    "cannot merge lists without merge key for {}",
                    kind_name(schema)
                ));
            }
            let (original, patch, replaced) =
                merge_slice_with_special_elements(original, patch, merge_key, view.as_deref_mut())?;
            // After a `$patch: replace` the merge works on a new list.
            let view = if replaced { None } else { view };
            let merged = self.merge_slice_without_special_elements(
                original.clone(),
                patch.clone(),
                merge_key,
                schema,
                view,
            )?;
            (merged, original, patch)
        } else {
            if is_delete_list {
                return Ok(delete_from_slice(original, &patch));
            }
            let mut both = original.clone();
            both.extend(patch.iter().cloned());
            (deduplicate_scalars(both), original, patch)
        };

        let (in_patch, server_only) = if merge_key.is_empty() {
            partition_primitives_by_present_in_list(merged, &patch)
        } else {
            partition_maps_by_present_in_list(merged, &patch, merge_key)?
        };
        normalize_element_order(in_patch, server_only, &patch, &original, merge_key, kind)
    }

    /// `mergeSliceWithoutSpecialElements`: merges the patch's elements into the elements of
    /// `original` that have the same merge key value, appends the others.
    fn merge_slice_without_special_elements(
        &self,
        mut original: Vec<Value>,
        patch: Vec<Value>,
        merge_key: &str,
        schema: Node,
        mut view: Option<&mut AliasedList>,
    ) -> SmpResult<Vec<Value>> {
        for v in patch {
            let Value::Object(p) = v else {
                return other(PANIC_MESSAGE);
            };
            let Some(merge_value) = p.get(merge_key).cloned() else {
                return Err(err_no_merge_key(&p, merge_key));
            };
            match find_map_in_slice_based_on_key_value(&original, merge_key, &merge_value)? {
                Some(i) => {
                    let Value::Object(o) = std::mem::take(&mut original[i]) else {
                        return other(PANIC_MESSAGE);
                    };
                    let merged = Value::Object(self.merge_map(o, p, schema)?);
                    if let Some(view) = view.as_deref_mut() {
                        view.set(i, &merged);
                    }
                    original[i] = merged;
                }
                None => {
                    let v = Value::Object(p);
                    if let Some(view) = view.as_deref_mut() {
                        view.push(&v);
                    }
                    original.push(v);
                }
            }
        }
        Ok(original)
    }

    /// Removes the directive keys that are left in the result, wherever the schema has a struct
    /// (the typed decoding would drop them there): opaque values (`RawExtension`, `JSON`) and the
    /// keys of maps (labels, data) are left alone.
    fn strip_directives(&self, v: &mut Value, node: Node) {
        let t = match node {
            Node::Any => {
                strip_all_directives(v);
                return;
            }
            Node::Ty(t) => t.trim_start_matches('*'),
        };
        if let Some(elem) = t.strip_prefix('[') {
            if let Value::Array(a) = v {
                for x in a {
                    self.strip_directives(x, Node::Ty(elem));
                }
            }
        } else if let Some(elem) = t.strip_prefix('{') {
            if let Value::Object(m) = v {
                for x in m.values_mut() {
                    self.strip_directives(x, Node::Ty(elem));
                }
            }
        } else if t != "s" {
            let Some(fields) = self.schema.types.get(t) else {
                return;
            };
            if fields.is_empty() {
                return;
            }
            if let Value::Object(m) = v {
                m.retain(|k, _| !is_directive_key(k));
                for (k, x) in m.iter_mut() {
                    if let Some(f) = find_field(fields, k) {
                        self.strip_directives(x, Node::Ty(f.ty));
                    }
                }
            }
        }
    }
}

fn is_directive_key(k: &str) -> bool {
    k == DIRECTIVE_MARKER
        || k == RETAIN_KEYS_DIRECTIVE
        || k.starts_with(SET_ELEMENT_ORDER_PREFIX)
        || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
}

fn strip_all_directives(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !is_directive_key(k));
            m.values_mut().for_each(strip_all_directives);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_all_directives),
        _ => {}
    }
}

/// Puts a patch value where the original has nothing to merge it with: without its `null`
/// entries and without the maps that carry a `$patch` directive (`removeDirectives`).
fn put_patch_value(original: &mut Map<String, Value>, k: String, mut v: Value) {
    discard_null_values_from_patch(&mut v);
    match remove_directives(v) {
        Some(v) => {
            original.insert(k, v);
        }
        None => {
            original.shift_remove(&k);
        }
    }
}

/// `handleDirectiveInMergeMap`.
fn handle_directive_in_merge_map(
    directive: &Value,
    mut patch: Map<String, Value>,
) -> SmpResult<Map<String, Value>> {
    match directive.as_str() {
        Some(REPLACE_DIRECTIVE) => {
            patch.shift_remove(DIRECTIVE_MARKER);
            Ok(patch)
        }
        Some(DELETE_DIRECTIVE) => Ok(Map::new()),
        _ => Err(err_bad_patch_type(directive, &patch)),
    }
}

/// `applyRetainKeysDirective`: clears the keys of `original` that `$retainKeys` does not list.
fn apply_retain_keys_directive(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> SmpResult<()> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS));
    };
    let retained = |k: &str| retain.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || k.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !retained(k) {
            return Err(SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS));
        }
    }
    original.retain(|k, _| retained(k));
    Ok(())
}

/// `extractKey`: the list name after `<prefix>/`.
fn extract_key(s: &str, prefix: &str) -> SmpResult<String> {
    match s.split_once('/') {
        Some((head, rest)) if head == prefix => Ok(rest.to_string()),
        _ => Err(match prefix {
            DELETE_FROM_PRIMITIVE_LIST_PREFIX => {
                SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST)
            }
            SET_ELEMENT_ORDER_PREFIX => {
                SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST)
            }
            _ => SmpError::Other(format!("fail to find unknown prefix {prefix:?} in {s}\n")),
        }),
    }
}

/// `removeDirectives`: `None` when the value is a map with a `$patch` directive (it is dropped).
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            let mut out = Map::new();
            for (k, v) in m {
                if let Some(v) = remove_directives(v) {
                    out.insert(k, v);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(a) => Some(Value::Array(remove_directives_in_list(a))),
        other => Some(other),
    }
}

fn remove_directives_in_list(a: Vec<Value>) -> Vec<Value> {
    a.into_iter().filter_map(remove_directives).collect()
}

/// `discardNullValuesFromPatch`.
fn discard_null_values_from_patch(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(discard_null_values_from_patch);
        }
        Value::Array(a) => a.iter_mut().for_each(discard_null_values_from_patch),
        _ => {}
    }
}

/// Go's dynamic type of a decoded JSON value (`reflect.TypeOf`), for the type comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoKind {
    Nil,
    Bool,
    Int64,
    Float64,
    String,
    Slice,
    Map,
}

fn go_kind(v: &Value) -> GoKind {
    match v {
        Value::Null => GoKind::Nil,
        Value::Bool(_) => GoKind::Bool,
        // The API server decodes patches with UnmarshalCaseSensitivePreserveInts.
        Value::Number(n) if n.as_i64().is_some() => GoKind::Int64,
        Value::Number(_) => GoKind::Float64,
        Value::String(_) => GoKind::String,
        Value::Array(_) => GoKind::Slice,
        Value::Object(_) => GoKind::Map,
    }
}

fn go_type_name(v: &Value) -> &'static str {
    match go_kind(v) {
        GoKind::Nil => "%!s(<nil>)",
        GoKind::Bool => "bool",
        GoKind::Int64 => "int64",
        GoKind::Float64 => "float64",
        GoKind::String => "string",
        GoKind::Slice => GO_SLICE,
        GoKind::Map => GO_MAP,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ElemKind {
    Map,
    Other,
}

/// `sliceElementType`: the common type of the elements of the lists.
fn slice_element_type(lists: &[&[Value]]) -> SmpResult<ElemKind> {
    let mut prev: Option<GoKind> = None;
    for list in lists {
        for v in list.iter() {
            let current = go_kind(v);
            match prev {
                None => {
                    match current {
                        // reflect.TypeOf(nil).Kind() panics upstream.
                        GoKind::Nil => return other(PANIC_MESSAGE),
                        GoKind::Slice => return Err(SmpError::Unprocessable),
                        _ => {}
                    }
                    prev = Some(current);
                }
                Some(p) if p != current => {
                    let printed: Vec<String> = lists.iter().map(|l| go_v_list(l)).collect();
                    return other(format!(
                        "list element types are not identical: [{}]",
                        printed.join(" ")
                    ));
                }
                Some(_) => {}
            }
        }
    }
    match prev {
        Some(GoKind::Map) => Ok(ElemKind::Map),
        Some(_) => Ok(ElemKind::Other),
        None => other("no elements in any of the given slices"),
    }
}

/// `mergeSliceWithSpecialElements`: applies the `$patch: delete` elements to `original` and
/// returns it with the patch's other elements, or, with a `$patch: replace` element, the patch's
/// other elements as the new list and nothing left to merge.
fn merge_slice_with_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
    mut view: Option<&mut AliasedList>,
) -> SmpResult<(Vec<Value>, Vec<Value>, bool)> {
    let mut without_special = Vec::new();
    let mut replace = false;
    for v in patch {
        let Value::Object(m) = &v else {
            return other(PANIC_MESSAGE);
        };
        let Some(directive) = m.get(DIRECTIVE_MARKER) else {
            without_special.push(v);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => match m.get(merge_key) {
                Some(merge_value) => {
                    original = delete_matching_entries(
                        original,
                        merge_key,
                        merge_value,
                        view.as_deref_mut(),
                    )?;
                }
                None => return Err(err_no_merge_key(m, merge_key)),
            },
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => {
                return other("merging lists cannot yet be specified in the patch");
            }
            _ => return Err(err_bad_patch_type(directive, m)),
        }
    }
    if replace {
        Ok((without_special, Vec::new(), true))
    } else {
        Ok((original, without_special, false))
    }
}

/// `deleteMatchingEntries`.
fn delete_matching_entries(
    mut original: Vec<Value>,
    merge_key: &str,
    merge_value: &Value,
    mut view: Option<&mut AliasedList>,
) -> SmpResult<Vec<Value>> {
    while let Some(i) = find_map_in_slice_based_on_key_value(&original, merge_key, merge_value)? {
        original.remove(i);
        if let Some(view) = view.as_deref_mut() {
            view.remove(i);
        }
    }
    Ok(original)
}

/// What a Go slice header of the original list's length shows of the backing array while the
/// merge deletes from the list (`append(s[:i], s[i+1:]...)` shifts the tail left and leaves the
/// last slot as it was) and appends to it (into the freed slots).
struct AliasedList {
    items: Vec<Value>,
    /// Length of the slice the merge works on.
    len: usize,
}

impl AliasedList {
    fn new(items: Vec<Value>) -> Self {
        let len = items.len();
        AliasedList { items, len }
    }

    fn remove(&mut self, i: usize) {
        if i < self.len && self.len <= self.items.len() {
            for k in i..self.len - 1 {
                self.items[k] = self.items[k + 1].clone();
            }
            self.len -= 1;
        }
    }

    fn push(&mut self, v: &Value) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = v.clone();
        }
        self.len += 1;
    }

    fn set(&mut self, i: usize, v: &Value) {
        if let Some(slot) = self.items.get_mut(i) {
            *slot = v.clone();
        }
    }
}

/// `findMapInSliceBasedOnKeyValue`: the index of the first map whose `key` is `value`.
fn find_map_in_slice_based_on_key_value(
    list: &[Value],
    key: &str,
    value: &Value,
) -> SmpResult<Option<usize>> {
    for (i, v) in list.iter().enumerate() {
        let Value::Object(m) = v else {
            return other(format!("value for key {i} is not a map"));
        };
        if m.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// `deleteFromSlice`: the scalars of `current` that are not in `to_delete`.
fn delete_from_slice(current: Vec<Value>, to_delete: &[Value]) -> Vec<Value> {
    current
        .into_iter()
        .filter(|v| !to_delete.contains(v))
        .collect()
}

/// `deduplicateScalars`, with its exact (order-changing) algorithm.
fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut length = s.len();
    let mut i = 0;
    while i + 1 < length {
        let mut j = i + 1;
        while j < length {
            if s[i] == s[j] {
                s.swap(j, length - 1);
                length -= 1;
                s.truncate(length);
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    s
}

/// `partitionPrimitivesByPresentInList`: (items in `by`, the others).
fn partition_primitives_by_present_in_list(
    original: Vec<Value>,
    by: &[Value],
) -> (Vec<Value>, Vec<Value>) {
    original.into_iter().partition(|v| by.contains(v))
}

/// `partitionMapsByPresentInList`: (maps whose merge key value is in `by`, the others).
fn partition_maps_by_present_in_list(
    original: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> SmpResult<(Vec<Value>, Vec<Value>)> {
    let mut present = Vec::new();
    let mut server_only = Vec::new();
    for v in original {
        let Value::Object(m) = &v else {
            return Err(err_bad_arg_type(GO_MAP, &v));
        };
        let Some(merge_value) = m.get(merge_key) else {
            return Err(err_no_merge_key(m, merge_key));
        };
        if find_map_in_slice_based_on_key_value(by, merge_key, merge_value)?.is_some() {
            present.push(v);
        } else {
            server_only.push(v);
        }
    }
    Ok((present, server_only))
}

/// `validateMergeKeyInLists`.
fn validate_merge_key_in_lists(merge_key: &str, lists: &[&[Value]]) -> SmpResult<()> {
    for list in lists {
        for item in list.iter() {
            let Value::Object(m) = item else {
                return Err(err_bad_arg_type(GO_MAP, item));
            };
            if !m.contains_key(merge_key) {
                return Err(err_no_merge_key(m, merge_key));
            }
        }
    }
    Ok(())
}

/// `extractToDeleteItems`: (the items to keep, the `$patch: delete` items).
fn extract_to_delete_items(list: Vec<Value>) -> SmpResult<(Vec<Value>, Vec<Value>)> {
    let mut keep = Vec::new();
    let mut delete = Vec::new();
    for v in list {
        let Value::Object(m) = &v else {
            return Err(err_bad_arg_type(GO_MAP, &v));
        };
        if m.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            delete.push(v);
        } else {
            keep.push(v);
        }
    }
    Ok((keep, delete))
}

/// `index`: where `value` (by merge key value for maps) is in `list`.
fn index_of(list: &[Value], value: &Value, merge_key: &str, kind: ElemKind) -> Option<usize> {
    match kind {
        ElemKind::Map => {
            // A missing key reads as nil, as a Go map lookup does.
            static NIL: Value = Value::Null;
            fn key_of<'v>(v: &'v Value, merge_key: &str) -> &'v Value {
                v.as_object().and_then(|m| m.get(merge_key)).unwrap_or(&NIL)
            }
            let wanted = key_of(value, merge_key);
            list.iter().position(|v| key_of(v, merge_key) == wanted)
        }
        ElemKind::Other => list.iter().position(|v| v == value),
    }
}

/// `normalizeSliceOrder`: sorts `to_sort` (stably) by the positions of its items in `order`;
/// `$patch: delete` items go last.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: ElemKind,
) -> SmpResult<Vec<Value>> {
    let (to_sort, to_delete) = if kind == ElemKind::Map {
        validate_merge_key_in_lists(merge_key, &[&to_sort, order])?;
        extract_to_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    // Upstream's comparison puts an item it cannot find first; every item is in `order` on the
    // paths that reach here, so a stable sort on the positions is the same order.
    let mut keyed: Vec<(usize, Value)> = to_sort
        .into_iter()
        .map(|v| (index_of(order, &v, merge_key, kind).unwrap_or(0), v))
        .collect();
    keyed.sort_by_key(|(i, _)| *i);
    let mut sorted: Vec<Value> = keyed.into_iter().map(|(_, v)| v).collect();
    sorted.extend(to_delete);
    Ok(sorted)
}

/// `normalizeElementOrder`: orders the patch's items by `patch_order`, the server-only items by
/// `server_order`, and interleaves them.
fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: ElemKind,
) -> SmpResult<Vec<Value>> {
    let patch = normalize_slice_order(patch, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted_slice(
        server_only,
        patch,
        server_order,
        merge_key,
        kind,
    ))
}

/// `mergeSortedSlice`: inserts the items of `left` into `right`; an item of `left` goes before
/// the current item of `right` when both are in `server_order` and it comes first there.
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: ElemKind,
) -> Vec<Value> {
    let less = |l: &Value, r: &Value| match (
        index_of(server_order, l, merge_key, kind),
        index_of(server_order, r, merge_key, kind),
    ) {
        (Some(li), Some(ri)) => li < ri,
        _ => false,
    };
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => less(l, r),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

/// `validatePatchWithSetOrderList`: the items of the patch list must appear in the
/// `$setElementOrder` list, in the same relative order.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    set_order: &[Value],
    merge_key: &str,
) -> SmpResult<()> {
    if set_order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete = if merge_key.is_empty() {
        patch_list.to_vec()
    } else {
        extract_to_delete_items(patch_list.to_vec())?.0
    };
    let (mut patch_index, mut order_index) = (0, 0);
    while patch_index < non_delete.len() && order_index < set_order.len() {
        let item = &non_delete[patch_index];
        if item
            .as_object()
            .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
        {
            patch_index += 1;
            continue;
        }
        if merge_key_value_equal(item, &set_order[order_index], merge_key)? {
            patch_index += 1;
        }
        order_index += 1;
    }
    if patch_index < non_delete.len() && order_index >= set_order.len() {
        return other(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER_PREFIX} list:\n{}\n",
            go_v_list(patch_list),
            go_v_list(set_order)
        ));
    }
    Ok(())
}

/// `mergeKeyValueEqual`.
fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> SmpResult<bool> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let Value::Object(l) = left else {
        return Err(err_bad_arg_type(GO_MAP, left));
    };
    let Value::Object(r) = right else {
        return Err(err_bad_arg_type(GO_MAP, right));
    };
    let Some(lv) = l.get(merge_key) else {
        return Err(err_no_merge_key(l, merge_key));
    };
    let Some(rv) = r.get(merge_key) else {
        return Err(err_no_merge_key(r, merge_key));
    };
    Ok(lv == rv)
}

// ---------------------------------------------------------------------------------------------
// Go formatting, for error messages
// ---------------------------------------------------------------------------------------------

/// `fmt.Sprintf("%v", v)` of a decoded JSON value.
fn go_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::String(s) => s.clone(),
        Value::Array(a) => go_v_list(a),
        Value::Object(m) => go_v_map(m),
    }
}

fn go_v_list(a: &[Value]) -> String {
    let items: Vec<String> = a.iter().map(go_v).collect();
    format!("[{}]", items.join(" "))
}

/// Go prints maps with their keys sorted.
fn go_v_map(m: &Map<String, Value>) -> String {
    let mut entries: Vec<(&String, &Value)> = m.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let items: Vec<String> = entries
        .into_iter()
        .map(|(k, v)| format!("{k}:{}", go_v(v)))
        .collect();
    format!("map[{}]", items.join(" "))
}

/// `fmt.Sprintf("%s", v)`: strings as they are, other scalars as `%!s(int64=1)`.
fn go_s(v: &Value) -> String {
    match v {
        Value::Null => "%!s(<nil>)".to_string(),
        Value::Bool(b) => format!("%!s(bool={b})"),
        Value::Number(n) => format!("%!s({}={})", go_type_name(v), go_number(n)),
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_s).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let items: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{k}:{}", go_s(v)))
                .collect();
            format!("map[{}]", items.join(" "))
        }
    }
}

fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    n.as_f64().map_or_else(|| n.to_string(), go_float)
}

/// `%v` of a float64: the shortest representation, with an exponent when it is below -4 or at
/// least 6 (`strconv.FormatFloat(f, 'g', -1, 64)`).
fn go_float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return format!("{f}");
    }
    let sci = format!("{f:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return format!("{f}");
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// `strconv.Quote`.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_control() => {
                let n = c as u32;
                if n < 0x80 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/// Patch metadata of the built-in kinds, generated from the Go types (`json`, `patchStrategy`
/// and `patchMergeKey` struct tags) of `k8s.io/api` (core, apps, batch, autoscaling/v2 and the
/// autoscaling/v1 `Scale`, policy, networking, rbac, coordination, discovery, events,
/// scheduling, storage, admissionregistration, certificates, node and flowcontrol, all `v1`),
/// `k8s.io/apimachinery/pkg/apis/meta/v1` and `k8s.io/apiextensions-apiserver` (`v1`), branch
/// `release-1.33`. Embedded structs (`json:",inline"`) have their fields promoted; `metav1.Time`,
/// `resource.Quantity`, `intstr.IntOrString` and the named string and number types are scalars
/// (`s`), `[]byte` a list of scalars (`[s`, as Go's reflection sees it); `runtime.RawExtension`
/// is a struct without JSON fields. The field names of every struct match k8s-openapi's
/// `v1_33` types.
///
/// Lines: `group/Kind=pkg.Type` for each kind, then `pkg.Type field...` for each struct reachable
/// from them, a field being `json:type` or `json:type:patchStrategy:patchMergeKey` with the type
/// encoded as in [`Field::ty`].
const TABLE: &str = r#"
/Binding=core.Binding
/ComponentStatus=core.ComponentStatus
/ConfigMap=core.ConfigMap
/Endpoints=core.Endpoints
/Event=core.Event
/LimitRange=core.LimitRange
/Namespace=core.Namespace
/Node=core.Node
/PersistentVolume=core.PersistentVolume
/PersistentVolumeClaim=core.PersistentVolumeClaim
/Pod=core.Pod
/PodTemplate=core.PodTemplate
/ReplicationController=core.ReplicationController
/ResourceQuota=core.ResourceQuota
/Secret=core.Secret
/Service=core.Service
/ServiceAccount=core.ServiceAccount
admissionregistration.k8s.io/MutatingWebhookConfiguration=admissionregistration.MutatingWebhookConfiguration
admissionregistration.k8s.io/ValidatingAdmissionPolicy=admissionregistration.ValidatingAdmissionPolicy
admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding=admissionregistration.ValidatingAdmissionPolicyBinding
admissionregistration.k8s.io/ValidatingWebhookConfiguration=admissionregistration.ValidatingWebhookConfiguration
apiextensions.k8s.io/CustomResourceDefinition=apiextensions.CustomResourceDefinition
apps/ControllerRevision=apps.ControllerRevision
apps/DaemonSet=apps.DaemonSet
apps/Deployment=apps.Deployment
apps/ReplicaSet=apps.ReplicaSet
apps/StatefulSet=apps.StatefulSet
autoscaling/HorizontalPodAutoscaler=autoscaling.HorizontalPodAutoscaler
autoscaling/Scale=autoscalingv1.Scale
batch/CronJob=batch.CronJob
batch/Job=batch.Job
certificates.k8s.io/CertificateSigningRequest=certificates.CertificateSigningRequest
coordination.k8s.io/Lease=coordination.Lease
discovery.k8s.io/EndpointSlice=discovery.EndpointSlice
events.k8s.io/Event=events.Event
flowcontrol.apiserver.k8s.io/FlowSchema=flowcontrol.FlowSchema
flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration=flowcontrol.PriorityLevelConfiguration
networking.k8s.io/IPAddress=networking.IPAddress
networking.k8s.io/Ingress=networking.Ingress
networking.k8s.io/IngressClass=networking.IngressClass
networking.k8s.io/NetworkPolicy=networking.NetworkPolicy
networking.k8s.io/ServiceCIDR=networking.ServiceCIDR
node.k8s.io/RuntimeClass=node.RuntimeClass
policy/Eviction=policy.Eviction
policy/PodDisruptionBudget=policy.PodDisruptionBudget
rbac.authorization.k8s.io/ClusterRole=rbac.ClusterRole
rbac.authorization.k8s.io/ClusterRoleBinding=rbac.ClusterRoleBinding
rbac.authorization.k8s.io/Role=rbac.Role
rbac.authorization.k8s.io/RoleBinding=rbac.RoleBinding
scheduling.k8s.io/PriorityClass=scheduling.PriorityClass
storage.k8s.io/CSIDriver=storage.CSIDriver
storage.k8s.io/CSINode=storage.CSINode
storage.k8s.io/CSIStorageCapacity=storage.CSIStorageCapacity
storage.k8s.io/StorageClass=storage.StorageClass
storage.k8s.io/VolumeAttachment=storage.VolumeAttachment
admissionregistration.AuditAnnotation key:s valueExpression:s
admissionregistration.ExpressionWarning fieldRef:s warning:s
admissionregistration.MatchCondition name:s expression:s
admissionregistration.MatchResources namespaceSelector:*meta.LabelSelector objectSelector:*meta.LabelSelector resourceRules:[admissionregistration.NamedRuleWithOperations excludeResourceRules:[admissionregistration.NamedRuleWithOperations matchPolicy:*s
admissionregistration.MutatingWebhook name:s clientConfig:admissionregistration.WebhookClientConfig rules:[admissionregistration.RuleWithOperations failurePolicy:*s matchPolicy:*s namespaceSelector:*meta.LabelSelector objectSelector:*meta.LabelSelector sideEffects:*s timeoutSeconds:*s admissionReviewVersions:[s reinvocationPolicy:*s matchConditions:[admissionregistration.MatchCondition:merge:name
admissionregistration.MutatingWebhookConfiguration kind:s apiVersion:s metadata:meta.ObjectMeta webhooks:[admissionregistration.MutatingWebhook:merge:name
admissionregistration.NamedRuleWithOperations resourceNames:[s operations:[s apiGroups:[s apiVersions:[s resources:[s scope:*s
admissionregistration.ParamKind apiVersion:s kind:s
admissionregistration.ParamRef name:s namespace:s selector:*meta.LabelSelector parameterNotFoundAction:*s
admissionregistration.RuleWithOperations operations:[s apiGroups:[s apiVersions:[s resources:[s scope:*s
admissionregistration.ServiceReference namespace:s name:s path:*s port:*s
admissionregistration.TypeChecking expressionWarnings:[admissionregistration.ExpressionWarning
admissionregistration.ValidatingAdmissionPolicy kind:s apiVersion:s metadata:meta.ObjectMeta spec:admissionregistration.ValidatingAdmissionPolicySpec status:admissionregistration.ValidatingAdmissionPolicyStatus
admissionregistration.ValidatingAdmissionPolicyBinding kind:s apiVersion:s metadata:meta.ObjectMeta spec:admissionregistration.ValidatingAdmissionPolicyBindingSpec
admissionregistration.ValidatingAdmissionPolicyBindingSpec policyName:s paramRef:*admissionregistration.ParamRef matchResources:*admissionregistration.MatchResources validationActions:[s
admissionregistration.ValidatingAdmissionPolicySpec paramKind:*admissionregistration.ParamKind matchConstraints:*admissionregistration.MatchResources validations:[admissionregistration.Validation failurePolicy:*s auditAnnotations:[admissionregistration.AuditAnnotation matchConditions:[admissionregistration.MatchCondition:merge:name variables:[admissionregistration.Variable:merge:name
admissionregistration.ValidatingAdmissionPolicyStatus observedGeneration:s typeChecking:*admissionregistration.TypeChecking conditions:[meta.Condition
admissionregistration.ValidatingWebhook name:s clientConfig:admissionregistration.WebhookClientConfig rules:[admissionregistration.RuleWithOperations failurePolicy:*s matchPolicy:*s namespaceSelector:*meta.LabelSelector objectSelector:*meta.LabelSelector sideEffects:*s timeoutSeconds:*s admissionReviewVersions:[s matchConditions:[admissionregistration.MatchCondition:merge:name
admissionregistration.ValidatingWebhookConfiguration kind:s apiVersion:s metadata:meta.ObjectMeta webhooks:[admissionregistration.ValidatingWebhook:merge:name
admissionregistration.Validation expression:s message:s reason:*s messageExpression:s
admissionregistration.Variable name:s expression:s
admissionregistration.WebhookClientConfig url:*s service:*admissionregistration.ServiceReference caBundle:[s
apiextensions.CustomResourceColumnDefinition name:s type:s format:s description:s priority:s jsonPath:s
apiextensions.CustomResourceConversion strategy:s webhook:*apiextensions.WebhookConversion
apiextensions.CustomResourceDefinition kind:s apiVersion:s metadata:meta.ObjectMeta spec:apiextensions.CustomResourceDefinitionSpec status:apiextensions.CustomResourceDefinitionStatus
apiextensions.CustomResourceDefinitionCondition type:s status:s lastTransitionTime:s reason:s message:s
apiextensions.CustomResourceDefinitionNames plural:s singular:s shortNames:[s kind:s listKind:s categories:[s
apiextensions.CustomResourceDefinitionSpec group:s names:apiextensions.CustomResourceDefinitionNames scope:s versions:[apiextensions.CustomResourceDefinitionVersion conversion:*apiextensions.CustomResourceConversion preserveUnknownFields:s
apiextensions.CustomResourceDefinitionStatus conditions:[apiextensions.CustomResourceDefinitionCondition acceptedNames:apiextensions.CustomResourceDefinitionNames storedVersions:[s
apiextensions.CustomResourceDefinitionVersion name:s served:s storage:s deprecated:s deprecationWarning:*s schema:*apiextensions.CustomResourceValidation subresources:*apiextensions.CustomResourceSubresources additionalPrinterColumns:[apiextensions.CustomResourceColumnDefinition selectableFields:[apiextensions.SelectableField
apiextensions.CustomResourceSubresourceScale specReplicasPath:s statusReplicasPath:s labelSelectorPath:*s
apiextensions.CustomResourceSubresourceStatus
apiextensions.CustomResourceSubresources status:*apiextensions.CustomResourceSubresourceStatus scale:*apiextensions.CustomResourceSubresourceScale
apiextensions.CustomResourceValidation openAPIV3Schema:*apiextensions.JSONSchemaProps
apiextensions.ExternalDocumentation description:s url:s
apiextensions.JSON
apiextensions.JSONSchemaProps id:s $schema:s $ref:*s description:s type:s format:s title:s default:*apiextensions.JSON maximum:*s exclusiveMaximum:s minimum:*s exclusiveMinimum:s maxLength:*s minLength:*s pattern:s maxItems:*s minItems:*s uniqueItems:s multipleOf:*s enum:[apiextensions.JSON maxProperties:*s minProperties:*s required:[s items:*apiextensions.JSONSchemaPropsOrArray allOf:[apiextensions.JSONSchemaProps oneOf:[apiextensions.JSONSchemaProps anyOf:[apiextensions.JSONSchemaProps not:*apiextensions.JSONSchemaProps properties:{apiextensions.JSONSchemaProps additionalProperties:*apiextensions.JSONSchemaPropsOrBool patternProperties:{apiextensions.JSONSchemaProps dependencies:{apiextensions.JSONSchemaPropsOrStringArray additionalItems:*apiextensions.JSONSchemaPropsOrBool definitions:{apiextensions.JSONSchemaProps externalDocs:*apiextensions.ExternalDocumentation example:*apiextensions.JSON nullable:s x-kubernetes-preserve-unknown-fields:*s x-kubernetes-embedded-resource:s x-kubernetes-int-or-string:s x-kubernetes-list-map-keys:[s x-kubernetes-list-type:*s x-kubernetes-map-type:*s x-kubernetes-validations:[apiextensions.ValidationRule:merge:rule
apiextensions.JSONSchemaPropsOrArray Schema:*apiextensions.JSONSchemaProps JSONSchemas:[apiextensions.JSONSchemaProps
apiextensions.JSONSchemaPropsOrBool Allows:s Schema:*apiextensions.JSONSchemaProps
apiextensions.JSONSchemaPropsOrStringArray Schema:*apiextensions.JSONSchemaProps Property:[s
apiextensions.SelectableField jsonPath:s
apiextensions.ServiceReference namespace:s name:s path:*s port:*s
apiextensions.ValidationRule rule:s message:s messageExpression:s reason:*s fieldPath:s optionalOldSelf:*s
apiextensions.WebhookClientConfig url:*s service:*apiextensions.ServiceReference caBundle:[s
apiextensions.WebhookConversion clientConfig:*apiextensions.WebhookClientConfig conversionReviewVersions:[s
apps.ControllerRevision kind:s apiVersion:s metadata:meta.ObjectMeta data:runtime.RawExtension revision:s
apps.DaemonSet kind:s apiVersion:s metadata:meta.ObjectMeta spec:apps.DaemonSetSpec status:apps.DaemonSetStatus
apps.DaemonSetCondition type:s status:s lastTransitionTime:s reason:s message:s
apps.DaemonSetSpec selector:*meta.LabelSelector template:core.PodTemplateSpec updateStrategy:apps.DaemonSetUpdateStrategy minReadySeconds:s revisionHistoryLimit:*s
apps.DaemonSetStatus currentNumberScheduled:s numberMisscheduled:s desiredNumberScheduled:s numberReady:s observedGeneration:s updatedNumberScheduled:s numberAvailable:s numberUnavailable:s collisionCount:*s conditions:[apps.DaemonSetCondition:merge:type
apps.DaemonSetUpdateStrategy type:s rollingUpdate:*apps.RollingUpdateDaemonSet
apps.Deployment kind:s apiVersion:s metadata:meta.ObjectMeta spec:apps.DeploymentSpec status:apps.DeploymentStatus
apps.DeploymentCondition type:s status:s lastUpdateTime:s lastTransitionTime:s reason:s message:s
apps.DeploymentSpec replicas:*s selector:*meta.LabelSelector template:core.PodTemplateSpec strategy:apps.DeploymentStrategy:retainKeys: minReadySeconds:s revisionHistoryLimit:*s paused:s progressDeadlineSeconds:*s
apps.DeploymentStatus observedGeneration:s replicas:s updatedReplicas:s readyReplicas:s availableReplicas:s unavailableReplicas:s terminatingReplicas:*s conditions:[apps.DeploymentCondition:merge:type collisionCount:*s
apps.DeploymentStrategy type:s rollingUpdate:*apps.RollingUpdateDeployment
apps.ReplicaSet kind:s apiVersion:s metadata:meta.ObjectMeta spec:apps.ReplicaSetSpec status:apps.ReplicaSetStatus
apps.ReplicaSetCondition type:s status:s lastTransitionTime:s reason:s message:s
apps.ReplicaSetSpec replicas:*s minReadySeconds:s selector:*meta.LabelSelector template:core.PodTemplateSpec
apps.ReplicaSetStatus replicas:s fullyLabeledReplicas:s readyReplicas:s availableReplicas:s terminatingReplicas:*s observedGeneration:s conditions:[apps.ReplicaSetCondition:merge:type
apps.RollingUpdateDaemonSet maxUnavailable:*s maxSurge:*s
apps.RollingUpdateDeployment maxUnavailable:*s maxSurge:*s
apps.RollingUpdateStatefulSetStrategy partition:*s maxUnavailable:*s
apps.StatefulSet kind:s apiVersion:s metadata:meta.ObjectMeta spec:apps.StatefulSetSpec status:apps.StatefulSetStatus
apps.StatefulSetCondition type:s status:s lastTransitionTime:s reason:s message:s
apps.StatefulSetOrdinals start:s
apps.StatefulSetPersistentVolumeClaimRetentionPolicy whenDeleted:s whenScaled:s
apps.StatefulSetSpec replicas:*s selector:*meta.LabelSelector template:core.PodTemplateSpec volumeClaimTemplates:[core.PersistentVolumeClaim serviceName:s podManagementPolicy:s updateStrategy:apps.StatefulSetUpdateStrategy revisionHistoryLimit:*s minReadySeconds:s persistentVolumeClaimRetentionPolicy:*apps.StatefulSetPersistentVolumeClaimRetentionPolicy ordinals:*apps.StatefulSetOrdinals
apps.StatefulSetStatus observedGeneration:s replicas:s readyReplicas:s currentReplicas:s updatedReplicas:s currentRevision:s updateRevision:s collisionCount:*s conditions:[apps.StatefulSetCondition:merge:type availableReplicas:s
apps.StatefulSetUpdateStrategy type:s rollingUpdate:*apps.RollingUpdateStatefulSetStrategy
autoscaling.ContainerResourceMetricSource name:s target:autoscaling.MetricTarget container:s
autoscaling.ContainerResourceMetricStatus name:s current:autoscaling.MetricValueStatus container:s
autoscaling.CrossVersionObjectReference kind:s name:s apiVersion:s
autoscaling.ExternalMetricSource metric:autoscaling.MetricIdentifier target:autoscaling.MetricTarget
autoscaling.ExternalMetricStatus metric:autoscaling.MetricIdentifier current:autoscaling.MetricValueStatus
autoscaling.HPAScalingPolicy type:s value:s periodSeconds:s
autoscaling.HPAScalingRules stabilizationWindowSeconds:*s selectPolicy:*s policies:[autoscaling.HPAScalingPolicy tolerance:*s
autoscaling.HorizontalPodAutoscaler kind:s apiVersion:s metadata:meta.ObjectMeta spec:autoscaling.HorizontalPodAutoscalerSpec status:autoscaling.HorizontalPodAutoscalerStatus
autoscaling.HorizontalPodAutoscalerBehavior scaleUp:*autoscaling.HPAScalingRules scaleDown:*autoscaling.HPAScalingRules
autoscaling.HorizontalPodAutoscalerCondition type:s status:s lastTransitionTime:s reason:s message:s
autoscaling.HorizontalPodAutoscalerSpec scaleTargetRef:autoscaling.CrossVersionObjectReference minReplicas:*s maxReplicas:s metrics:[autoscaling.MetricSpec behavior:*autoscaling.HorizontalPodAutoscalerBehavior
autoscaling.HorizontalPodAutoscalerStatus observedGeneration:*s lastScaleTime:*s currentReplicas:s desiredReplicas:s currentMetrics:[autoscaling.MetricStatus conditions:[autoscaling.HorizontalPodAutoscalerCondition:merge:type
autoscaling.MetricIdentifier name:s selector:*meta.LabelSelector
autoscaling.MetricSpec type:s object:*autoscaling.ObjectMetricSource pods:*autoscaling.PodsMetricSource resource:*autoscaling.ResourceMetricSource containerResource:*autoscaling.ContainerResourceMetricSource external:*autoscaling.ExternalMetricSource
autoscaling.MetricStatus type:s object:*autoscaling.ObjectMetricStatus pods:*autoscaling.PodsMetricStatus resource:*autoscaling.ResourceMetricStatus containerResource:*autoscaling.ContainerResourceMetricStatus external:*autoscaling.ExternalMetricStatus
autoscaling.MetricTarget type:s value:*s averageValue:*s averageUtilization:*s
autoscaling.MetricValueStatus value:*s averageValue:*s averageUtilization:*s
autoscaling.ObjectMetricSource describedObject:autoscaling.CrossVersionObjectReference target:autoscaling.MetricTarget metric:autoscaling.MetricIdentifier
autoscaling.ObjectMetricStatus metric:autoscaling.MetricIdentifier current:autoscaling.MetricValueStatus describedObject:autoscaling.CrossVersionObjectReference
autoscaling.PodsMetricSource metric:autoscaling.MetricIdentifier target:autoscaling.MetricTarget
autoscaling.PodsMetricStatus metric:autoscaling.MetricIdentifier current:autoscaling.MetricValueStatus
autoscaling.ResourceMetricSource name:s target:autoscaling.MetricTarget
autoscaling.ResourceMetricStatus name:s current:autoscaling.MetricValueStatus
autoscalingv1.Scale kind:s apiVersion:s metadata:meta.ObjectMeta spec:autoscalingv1.ScaleSpec status:autoscalingv1.ScaleStatus
autoscalingv1.ScaleSpec replicas:s
autoscalingv1.ScaleStatus replicas:s selector:s
batch.CronJob kind:s apiVersion:s metadata:meta.ObjectMeta spec:batch.CronJobSpec status:batch.CronJobStatus
batch.CronJobSpec schedule:s timeZone:*s startingDeadlineSeconds:*s concurrencyPolicy:s suspend:*s jobTemplate:batch.JobTemplateSpec successfulJobsHistoryLimit:*s failedJobsHistoryLimit:*s
batch.CronJobStatus active:[core.ObjectReference lastScheduleTime:*s lastSuccessfulTime:*s
batch.Job kind:s apiVersion:s metadata:meta.ObjectMeta spec:batch.JobSpec status:batch.JobStatus
batch.JobCondition type:s status:s lastProbeTime:s lastTransitionTime:s reason:s message:s
batch.JobSpec parallelism:*s completions:*s activeDeadlineSeconds:*s podFailurePolicy:*batch.PodFailurePolicy successPolicy:*batch.SuccessPolicy backoffLimit:*s backoffLimitPerIndex:*s maxFailedIndexes:*s selector:*meta.LabelSelector manualSelector:*s template:core.PodTemplateSpec ttlSecondsAfterFinished:*s completionMode:*s suspend:*s podReplacementPolicy:*s managedBy:*s
batch.JobStatus conditions:[batch.JobCondition:merge:type startTime:*s completionTime:*s active:s succeeded:s failed:s terminating:*s completedIndexes:s failedIndexes:*s uncountedTerminatedPods:*batch.UncountedTerminatedPods ready:*s
batch.JobTemplateSpec metadata:meta.ObjectMeta spec:batch.JobSpec
batch.PodFailurePolicy rules:[batch.PodFailurePolicyRule
batch.PodFailurePolicyOnExitCodesRequirement containerName:*s operator:s values:[s
batch.PodFailurePolicyOnPodConditionsPattern type:s status:s
batch.PodFailurePolicyRule action:s onExitCodes:*batch.PodFailurePolicyOnExitCodesRequirement onPodConditions:[batch.PodFailurePolicyOnPodConditionsPattern
batch.SuccessPolicy rules:[batch.SuccessPolicyRule
batch.SuccessPolicyRule succeededIndexes:*s succeededCount:*s
batch.UncountedTerminatedPods succeeded:[s failed:[s
certificates.CertificateSigningRequest kind:s apiVersion:s metadata:meta.ObjectMeta spec:certificates.CertificateSigningRequestSpec status:certificates.CertificateSigningRequestStatus
certificates.CertificateSigningRequestCondition type:s status:s reason:s message:s lastUpdateTime:s lastTransitionTime:s
certificates.CertificateSigningRequestSpec request:[s signerName:s expirationSeconds:*s usages:[s username:s uid:s groups:[s extra:{[s
certificates.CertificateSigningRequestStatus conditions:[certificates.CertificateSigningRequestCondition certificate:[s
coordination.Lease kind:s apiVersion:s metadata:meta.ObjectMeta spec:coordination.LeaseSpec
coordination.LeaseSpec holderIdentity:*s leaseDurationSeconds:*s acquireTime:*s renewTime:*s leaseTransitions:*s strategy:*s preferredHolder:*s
core.AWSElasticBlockStoreVolumeSource volumeID:s fsType:s partition:s readOnly:s
core.Affinity nodeAffinity:*core.NodeAffinity podAffinity:*core.PodAffinity podAntiAffinity:*core.PodAntiAffinity
core.AppArmorProfile type:s localhostProfile:*s
core.AttachedVolume name:s devicePath:s
core.AzureDiskVolumeSource diskName:s diskURI:s cachingMode:*s fsType:*s readOnly:*s kind:*s
core.AzureFilePersistentVolumeSource secretName:s shareName:s readOnly:s secretNamespace:*s
core.AzureFileVolumeSource secretName:s shareName:s readOnly:s
core.Binding kind:s apiVersion:s metadata:meta.ObjectMeta target:core.ObjectReference
core.CSIPersistentVolumeSource driver:s volumeHandle:s readOnly:s fsType:s volumeAttributes:{s controllerPublishSecretRef:*core.SecretReference nodeStageSecretRef:*core.SecretReference nodePublishSecretRef:*core.SecretReference controllerExpandSecretRef:*core.SecretReference nodeExpandSecretRef:*core.SecretReference
core.CSIVolumeSource driver:s readOnly:*s fsType:*s volumeAttributes:{s nodePublishSecretRef:*core.LocalObjectReference
core.Capabilities add:[s drop:[s
core.CephFSPersistentVolumeSource monitors:[s path:s user:s secretFile:s secretRef:*core.SecretReference readOnly:s
core.CephFSVolumeSource monitors:[s path:s user:s secretFile:s secretRef:*core.LocalObjectReference readOnly:s
core.CinderPersistentVolumeSource volumeID:s fsType:s readOnly:s secretRef:*core.SecretReference
core.CinderVolumeSource volumeID:s fsType:s readOnly:s secretRef:*core.LocalObjectReference
core.ClientIPConfig timeoutSeconds:*s
core.ClusterTrustBundleProjection name:*s signerName:*s labelSelector:*meta.LabelSelector optional:*s path:s
core.ComponentCondition type:s status:s message:s error:s
core.ComponentStatus kind:s apiVersion:s metadata:meta.ObjectMeta conditions:[core.ComponentCondition:merge:type
core.ConfigMap kind:s apiVersion:s metadata:meta.ObjectMeta immutable:*s data:{s binaryData:{[s
core.ConfigMapEnvSource name:s optional:*s
core.ConfigMapKeySelector name:s key:s optional:*s
core.ConfigMapNodeConfigSource namespace:s name:s uid:s resourceVersion:s kubeletConfigKey:s
core.ConfigMapProjection name:s items:[core.KeyToPath optional:*s
core.ConfigMapVolumeSource name:s items:[core.KeyToPath defaultMode:*s optional:*s
core.Container name:s image:s command:[s args:[s workingDir:s ports:[core.ContainerPort:merge:containerPort envFrom:[core.EnvFromSource env:[core.EnvVar:merge:name resources:core.ResourceRequirements resizePolicy:[core.ContainerResizePolicy restartPolicy:*s volumeMounts:[core.VolumeMount:merge:mountPath volumeDevices:[core.VolumeDevice:merge:devicePath livenessProbe:*core.Probe readinessProbe:*core.Probe startupProbe:*core.Probe lifecycle:*core.Lifecycle terminationMessagePath:s terminationMessagePolicy:s imagePullPolicy:s securityContext:*core.SecurityContext stdin:s stdinOnce:s tty:s
core.ContainerImage names:[s sizeBytes:s
core.ContainerPort name:s hostPort:s containerPort:s protocol:s hostIP:s
core.ContainerResizePolicy resourceName:s restartPolicy:s
core.ContainerState waiting:*core.ContainerStateWaiting running:*core.ContainerStateRunning terminated:*core.ContainerStateTerminated
core.ContainerStateRunning startedAt:s
core.ContainerStateTerminated exitCode:s signal:s reason:s message:s startedAt:s finishedAt:s containerID:s
core.ContainerStateWaiting reason:s message:s
core.ContainerStatus name:s state:core.ContainerState lastState:core.ContainerState ready:s restartCount:s image:s imageID:s containerID:s started:*s allocatedResources:{s resources:*core.ResourceRequirements volumeMounts:[core.VolumeMountStatus:merge:mountPath user:*core.ContainerUser allocatedResourcesStatus:[core.ResourceStatus:merge:name stopSignal:*s
core.ContainerUser linux:*core.LinuxContainerUser
core.DaemonEndpoint Port:s
core.DownwardAPIProjection items:[core.DownwardAPIVolumeFile
core.DownwardAPIVolumeFile path:s fieldRef:*core.ObjectFieldSelector resourceFieldRef:*core.ResourceFieldSelector mode:*s
core.DownwardAPIVolumeSource items:[core.DownwardAPIVolumeFile defaultMode:*s
core.EmptyDirVolumeSource medium:s sizeLimit:*s
core.EndpointAddress ip:s hostname:s nodeName:*s targetRef:*core.ObjectReference
core.EndpointPort name:s port:s protocol:s appProtocol:*s
core.EndpointSubset addresses:[core.EndpointAddress notReadyAddresses:[core.EndpointAddress ports:[core.EndpointPort
core.Endpoints kind:s apiVersion:s metadata:meta.ObjectMeta subsets:[core.EndpointSubset
core.EnvFromSource prefix:s configMapRef:*core.ConfigMapEnvSource secretRef:*core.SecretEnvSource
core.EnvVar name:s value:s valueFrom:*core.EnvVarSource
core.EnvVarSource fieldRef:*core.ObjectFieldSelector resourceFieldRef:*core.ResourceFieldSelector configMapKeyRef:*core.ConfigMapKeySelector secretKeyRef:*core.SecretKeySelector
core.EphemeralContainer name:s image:s command:[s args:[s workingDir:s ports:[core.ContainerPort:merge:containerPort envFrom:[core.EnvFromSource env:[core.EnvVar:merge:name resources:core.ResourceRequirements resizePolicy:[core.ContainerResizePolicy restartPolicy:*s volumeMounts:[core.VolumeMount:merge:mountPath volumeDevices:[core.VolumeDevice:merge:devicePath livenessProbe:*core.Probe readinessProbe:*core.Probe startupProbe:*core.Probe lifecycle:*core.Lifecycle terminationMessagePath:s terminationMessagePolicy:s imagePullPolicy:s securityContext:*core.SecurityContext stdin:s stdinOnce:s tty:s targetContainerName:s
core.EphemeralVolumeSource volumeClaimTemplate:*core.PersistentVolumeClaimTemplate
core.Event kind:s apiVersion:s metadata:meta.ObjectMeta involvedObject:core.ObjectReference reason:s message:s source:core.EventSource firstTimestamp:s lastTimestamp:s count:s type:s eventTime:s series:*core.EventSeries action:s related:*core.ObjectReference reportingComponent:s reportingInstance:s
core.EventSeries count:s lastObservedTime:s
core.EventSource component:s host:s
core.ExecAction command:[s
core.FCVolumeSource targetWWNs:[s lun:*s fsType:s readOnly:s wwids:[s
core.FlexPersistentVolumeSource driver:s fsType:s secretRef:*core.SecretReference readOnly:s options:{s
core.FlexVolumeSource driver:s fsType:s secretRef:*core.LocalObjectReference readOnly:s options:{s
core.FlockerVolumeSource datasetName:s datasetUUID:s
core.GCEPersistentDiskVolumeSource pdName:s fsType:s partition:s readOnly:s
core.GRPCAction port:s service:*s
core.GitRepoVolumeSource repository:s revision:s directory:s
core.GlusterfsPersistentVolumeSource endpoints:s path:s readOnly:s endpointsNamespace:*s
core.GlusterfsVolumeSource endpoints:s path:s readOnly:s
core.HTTPGetAction path:s port:s host:s scheme:s httpHeaders:[core.HTTPHeader
core.HTTPHeader name:s value:s
core.HostAlias ip:s hostnames:[s
core.HostIP ip:s
core.HostPathVolumeSource path:s type:*s
core.ISCSIPersistentVolumeSource targetPortal:s iqn:s lun:s iscsiInterface:s fsType:s readOnly:s portals:[s chapAuthDiscovery:s chapAuthSession:s secretRef:*core.SecretReference initiatorName:*s
core.ISCSIVolumeSource targetPortal:s iqn:s lun:s iscsiInterface:s fsType:s readOnly:s portals:[s chapAuthDiscovery:s chapAuthSession:s secretRef:*core.LocalObjectReference initiatorName:*s
core.ImageVolumeSource reference:s pullPolicy:s
core.KeyToPath key:s path:s mode:*s
core.Lifecycle postStart:*core.LifecycleHandler preStop:*core.LifecycleHandler stopSignal:*s
core.LifecycleHandler exec:*core.ExecAction httpGet:*core.HTTPGetAction tcpSocket:*core.TCPSocketAction sleep:*core.SleepAction
core.LimitRange kind:s apiVersion:s metadata:meta.ObjectMeta spec:core.LimitRangeSpec
core.LimitRangeItem type:s max:{s min:{s default:{s defaultRequest:{s maxLimitRequestRatio:{s
core.LimitRangeSpec limits:[core.LimitRangeItem
core.LinuxContainerUser uid:s gid:s supplementalGroups:[s
core.LoadBalancerIngress ip:s hostname:s ipMode:*s ports:[core.PortStatus
core.LoadBalancerStatus ingress:[core.LoadBalancerIngress
core.LocalObjectReference name:s
core.LocalVolumeSource path:s fsType:*s
core.ModifyVolumeStatus targetVolumeAttributesClassName:s status:s
core.NFSVolumeSource server:s path:s readOnly:s
core.Namespace kind:s apiVersion:s metadata:meta.ObjectMeta spec:core.NamespaceSpec status:core.NamespaceStatus
core.NamespaceCondition type:s status:s lastTransitionTime:s reason:s message:s
core.NamespaceSpec finalizers:[s
core.NamespaceStatus phase:s conditions:[core.NamespaceCondition:merge:type
core.Node kind:s apiVersion:s metadata:meta.ObjectMeta spec:core.NodeSpec status:core.NodeStatus
core.NodeAddress type:s address:s
core.NodeAffinity requiredDuringSchedulingIgnoredDuringExecution:*core.NodeSelector preferredDuringSchedulingIgnoredDuringExecution:[core.PreferredSchedulingTerm
core.NodeCondition type:s status:s lastHeartbeatTime:s lastTransitionTime:s reason:s message:s
core.NodeConfigSource configMap:*core.ConfigMapNodeConfigSource
core.NodeConfigStatus assigned:*core.NodeConfigSource active:*core.NodeConfigSource lastKnownGood:*core.NodeConfigSource error:s
core.NodeDaemonEndpoints kubeletEndpoint:core.DaemonEndpoint
core.NodeFeatures supplementalGroupsPolicy:*s
core.NodeRuntimeHandler name:s features:*core.NodeRuntimeHandlerFeatures
core.NodeRuntimeHandlerFeatures recursiveReadOnlyMounts:*s userNamespaces:*s
core.NodeSelector nodeSelectorTerms:[core.NodeSelectorTerm
core.NodeSelectorRequirement key:s operator:s values:[s
core.NodeSelectorTerm matchExpressions:[core.NodeSelectorRequirement matchFields:[core.NodeSelectorRequirement
core.NodeSpec podCIDR:s podCIDRs:[s:merge: providerID:s unschedulable:s taints:[core.Taint configSource:*core.NodeConfigSource externalID:s
core.NodeStatus capacity:{s allocatable:{s phase:s conditions:[core.NodeCondition:merge:type addresses:[core.NodeAddress:merge:type daemonEndpoints:core.NodeDaemonEndpoints nodeInfo:core.NodeSystemInfo images:[core.ContainerImage volumesInUse:[s volumesAttached:[core.AttachedVolume config:*core.NodeConfigStatus runtimeHandlers:[core.NodeRuntimeHandler features:*core.NodeFeatures
core.NodeSwapStatus capacity:*s
core.NodeSystemInfo machineID:s systemUUID:s bootID:s kernelVersion:s osImage:s containerRuntimeVersion:s kubeletVersion:s kubeProxyVersion:s operatingSystem:s architecture:s swap:*core.NodeSwapStatus
core.ObjectFieldSelector apiVersion:s fieldPath:s
core.ObjectReference kind:s namespace:s name:s uid:s apiVersion:s resourceVersion:s fieldPath:s
core.PersistentVolume kind:s apiVersion:s metadata:meta.ObjectMeta spec:core.PersistentVolumeSpec status:core.PersistentVolumeStatus
core.PersistentVolumeClaim kind:s apiVersion:s metadata:meta.ObjectMeta spec:core.PersistentVolumeClaimSpec status:core.PersistentVolumeClaimStatus
core.PersistentVolumeClaimCondition type:s status:s lastProbeTime:s lastTransitionTime:s reason:s message:s
core.PersistentVolumeClaimSpec accessModes:[s selector:*meta.LabelSelector resources:core.VolumeResourceRequirements volumeName:s storageClassName:*s volumeMode:*s dataSource:*core.TypedLocalObjectReference dataSourceRef:*core.TypedObjectReference volumeAttributesClassName:*s
core.PersistentVolumeClaimStatus phase:s accessModes:[s capacity:{s conditions:[core.PersistentVolumeClaimCondition:merge:type allocatedResources:{s allocatedResourceStatuses:{s currentVolumeAttributesClassName:*s modifyVolumeStatus:*core.ModifyVolumeStatus
core.PersistentVolumeClaimTemplate metadata:meta.ObjectMeta spec:core.PersistentVolumeClaimSpec
core.PersistentVolumeClaimVolumeSource claimName:s readOnly:s
core.PersistentVolumeSpec capacity:{s gcePersistentDisk:*core.GCEPersistentDiskVolumeSource awsElasticBlockStore:*core.AWSElasticBlockStoreVolumeSource hostPath:*core.HostPathVolumeSource glusterfs:*core.GlusterfsPersistentVolumeSource nfs:*core.NFSVolumeSource rbd:*core.RBDPersistentVolumeSource iscsi:*core.ISCSIPersistentVolumeSource cinder:*core.CinderPersistentVolumeSource cephfs:*core.CephFSPersistentVolumeSource fc:*core.FCVolumeSource flocker:*core.FlockerVolumeSource flexVolume:*core.FlexPersistentVolumeSource azureFile:*core.AzureFilePersistentVolumeSource vsphereVolume:*core.VsphereVirtualDiskVolumeSource quobyte:*core.QuobyteVolumeSource azureDisk:*core.AzureDiskVolumeSource photonPersistentDisk:*core.PhotonPersistentDiskVolumeSource portworxVolume:*core.PortworxVolumeSource scaleIO:*core.ScaleIOPersistentVolumeSource local:*core.LocalVolumeSource storageos:*core.StorageOSPersistentVolumeSource csi:*core.CSIPersistentVolumeSource accessModes:[s claimRef:*core.ObjectReference persistentVolumeReclaimPolicy:s storageClassName:s mountOptions:[s volumeMode:*s nodeAffinity:*core.VolumeNodeAffinity volumeAttributesClassName:*s
core.PersistentVolumeStatus phase:s message:s reason:s lastPhaseTransitionTime:*s
core.PhotonPersistentDiskVolumeSource pdID:s fsType:s
core.Pod kind:s apiVersion:s metadata:meta.ObjectMeta spec:core.PodSpec status:core.PodStatus
core.PodAffinity requiredDuringSchedulingIgnoredDuringExecution:[core.PodAffinityTerm preferredDuringSchedulingIgnoredDuringExecution:[core.WeightedPodAffinityTerm
core.PodAffinityTerm labelSelector:*meta.LabelSelector namespaces:[s topologyKey:s namespaceSelector:*meta.LabelSelector matchLabelKeys:[s mismatchLabelKeys:[s
core.PodAntiAffinity requiredDuringSchedulingIgnoredDuringExecution:[core.PodAffinityTerm preferredDuringSchedulingIgnoredDuringExecution:[core.WeightedPodAffinityTerm
core.PodCondition type:s observedGeneration:s status:s lastProbeTime:s lastTransitionTime:s reason:s message:s
core.PodDNSConfig nameservers:[s searches:[s options:[core.PodDNSConfigOption
core.PodDNSConfigOption name:s value:*s
core.PodIP ip:s
core.PodOS name:s
core.PodReadinessGate conditionType:s
core.PodResourceClaim name:s resourceClaimName:*s resourceClaimTemplateName:*s
core.PodResourceClaimStatus name:s resourceClaimName:*s
core.PodSchedulingGate name:s
core.PodSecurityContext seLinuxOptions:*core.SELinuxOptions windowsOptions:*core.WindowsSecurityContextOptions runAsUser:*s runAsGroup:*s runAsNonRoot:*s supplementalGroups:[s supplementalGroupsPolicy:*s fsGroup:*s sysctls:[core.Sysctl fsGroupChangePolicy:*s seccompProfile:*core.SeccompProfile appArmorProfile:*core.AppArmorProfile seLinuxChangePolicy:*s
core.PodSpec volumes:[core.Volume:merge,retainKeys:name initContainers:[core.Container:merge:name containers:[core.Container:merge:name ephemeralContainers:[core.EphemeralContainer:merge:name restartPolicy:s terminationGracePeriodSeconds:*s activeDeadlineSeconds:*s dnsPolicy:s nodeSelector:{s serviceAccountName:s serviceAccount:s automountServiceAccountToken:*s nodeName:s hostNetwork:s hostPID:s hostIPC:s shareProcessNamespace:*s securityContext:*core.PodSecurityContext imagePullSecrets:[core.LocalObjectReference:merge:name hostname:s subdomain:s affinity:*core.Affinity schedulerName:s tolerations:[core.Toleration hostAliases:[core.HostAlias:merge:ip priorityClassName:s priority:*s dnsConfig:*core.PodDNSConfig readinessGates:[core.PodReadinessGate runtimeClassName:*s enableServiceLinks:*s preemptionPolicy:*s overhead:{s topologySpreadConstraints:[core.TopologySpreadConstraint:merge:topologyKey setHostnameAsFQDN:*s os:*core.PodOS hostUsers:*s schedulingGates:[core.PodSchedulingGate:merge:name resourceClaims:[core.PodResourceClaim:merge,retainKeys:name resources:*core.ResourceRequirements
core.PodStatus observedGeneration:s phase:s conditions:[core.PodCondition:merge:type message:s reason:s nominatedNodeName:s hostIP:s hostIPs:[core.HostIP:merge:ip podIP:s podIPs:[core.PodIP:merge:ip startTime:*s initContainerStatuses:[core.ContainerStatus containerStatuses:[core.ContainerStatus qosClass:s ephemeralContainerStatuses:[core.ContainerStatus resize:s resourceClaimStatuses:[core.PodResourceClaimStatus:merge,retainKeys:name
core.PodTemplate kind:s apiVersion:s metadata:meta.ObjectMeta template:core.PodTemplateSpec
core.PodTemplateSpec metadata:meta.ObjectMeta spec:core.PodSpec
core.PortStatus port:s protocol:s error:*s
core.PortworxVolumeSource volumeID:s fsType:s readOnly:s
core.PreferredSchedulingTerm weight:s preference:core.NodeSelectorTerm
core.Probe exec:*core.ExecAction httpGet:*core.HTTPGetAction tcpSocket:*core.TCPSocketAction grpc:*core.GRPCAction initialDelaySeconds:s timeoutSeconds:s periodSeconds:s successThreshold:s failureThreshold:s terminationGracePeriodSeconds:*s
core.ProjectedVolumeSource sources:[core.VolumeProjection defaultMode:*s
core.QuobyteVolumeSource registry:s volume:s readOnly:s user:s group:s tenant:s
core.RBDPersistentVolumeSource monitors:[s image:s fsType:s pool:s user:s keyring:s secretRef:*core.SecretReference readOnly:s
core.RBDVolumeSource monitors:[s image:s fsType:s pool:s user:s keyring:s secretRef:*core.LocalObjectReference readOnly:s
core.ReplicationController kind:s apiVersion:s metadata:meta.ObjectMeta spec:core.ReplicationControllerSpec status:core.ReplicationControllerStatus
core.ReplicationControllerCondition type:s status:s lastTransitionTime:s reason:s message:s
core.ReplicationControllerSpec replicas:*s minReadySeconds:s selector:{s template:*core.PodTemplateSpec
core.ReplicationControllerStatus replicas:s fullyLabeledReplicas:s readyReplicas:s availableReplicas:s observedGeneration:s conditions:[core.ReplicationControllerCondition:merge:type
core.ResourceClaim name:s request:s
core.ResourceFieldSelector containerName:s resource:s divisor:s
core.ResourceHealth resourceID:s health:s
core.ResourceQuota kind:s apiVersion:s metadata:meta.ObjectMeta spec:core.ResourceQuotaSpec status:core.ResourceQuotaStatus
core.ResourceQuotaSpec hard:{s scopes:[s scopeSelector:*core.ScopeSelector
core.ResourceQuotaStatus hard:{s used:{s
core.ResourceRequirements limits:{s requests:{s claims:[core.ResourceClaim
core.ResourceStatus name:s resources:[core.ResourceHealth
core.SELinuxOptions user:s role:s type:s level:s
core.ScaleIOPersistentVolumeSource gateway:s system:s secretRef:*core.SecretReference sslEnabled:s protectionDomain:s storagePool:s storageMode:s volumeName:s fsType:s readOnly:s
core.ScaleIOVolumeSource gateway:s system:s secretRef:*core.LocalObjectReference sslEnabled:s protectionDomain:s storagePool:s storageMode:s volumeName:s fsType:s readOnly:s
core.ScopeSelector matchExpressions:[core.ScopedResourceSelectorRequirement
core.ScopedResourceSelectorRequirement scopeName:s operator:s values:[s
core.SeccompProfile type:s localhostProfile:*s
core.Secret kind:s apiVersion:s metadata:meta.ObjectMeta immutable:*s data:{[s stringData:{s type:s
core.SecretEnvSource name:s optional:*s
core.SecretKeySelector name:s key:s optional:*s
core.SecretProjection name:s items:[core.KeyToPath optional:*s
core.SecretReference name:s namespace:s
core.SecretVolumeSource secretName:s items:[core.KeyToPath defaultMode:*s optional:*s
core.SecurityContext capabilities:*core.Capabilities privileged:*s seLinuxOptions:*core.SELinuxOptions windowsOptions:*core.WindowsSecurityContextOptions runAsUser:*s runAsGroup:*s runAsNonRoot:*s readOnlyRootFilesystem:*s allowPrivilegeEscalation:*s procMount:*s seccompProfile:*core.SeccompProfile appArmorProfile:*core.AppArmorProfile
core.Service kind:s apiVersion:s metadata:meta.ObjectMeta spec:core.ServiceSpec status:core.ServiceStatus
core.ServiceAccount kind:s apiVersion:s metadata:meta.ObjectMeta secrets:[core.ObjectReference:merge:name imagePullSecrets:[core.LocalObjectReference automountServiceAccountToken:*s
core.ServiceAccountTokenProjection audience:s expirationSeconds:*s path:s
core.ServicePort name:s protocol:s appProtocol:*s port:s targetPort:s nodePort:s
core.ServiceSpec ports:[core.ServicePort:merge:port selector:{s clusterIP:s clusterIPs:[s type:s externalIPs:[s sessionAffinity:s loadBalancerIP:s loadBalancerSourceRanges:[s externalName:s externalTrafficPolicy:s healthCheckNodePort:s publishNotReadyAddresses:s sessionAffinityConfig:*core.SessionAffinityConfig ipFamilies:[s ipFamilyPolicy:*s allocateLoadBalancerNodePorts:*s loadBalancerClass:*s internalTrafficPolicy:*s trafficDistribution:*s
core.ServiceStatus loadBalancer:core.LoadBalancerStatus conditions:[meta.Condition:merge:type
core.SessionAffinityConfig clientIP:*core.ClientIPConfig
core.SleepAction seconds:s
core.StorageOSPersistentVolumeSource volumeName:s volumeNamespace:s fsType:s readOnly:s secretRef:*core.ObjectReference
core.StorageOSVolumeSource volumeName:s volumeNamespace:s fsType:s readOnly:s secretRef:*core.LocalObjectReference
core.Sysctl name:s value:s
core.TCPSocketAction port:s host:s
core.Taint key:s value:s effect:s timeAdded:*s
core.Toleration key:s operator:s value:s effect:s tolerationSeconds:*s
core.TopologySelectorLabelRequirement key:s values:[s
core.TopologySelectorTerm matchLabelExpressions:[core.TopologySelectorLabelRequirement
core.TopologySpreadConstraint maxSkew:s topologyKey:s whenUnsatisfiable:s labelSelector:*meta.LabelSelector minDomains:*s nodeAffinityPolicy:*s nodeTaintsPolicy:*s matchLabelKeys:[s
core.TypedLocalObjectReference apiGroup:*s kind:s name:s
core.TypedObjectReference apiGroup:*s kind:s name:s namespace:*s
core.Volume name:s hostPath:*core.HostPathVolumeSource emptyDir:*core.EmptyDirVolumeSource gcePersistentDisk:*core.GCEPersistentDiskVolumeSource awsElasticBlockStore:*core.AWSElasticBlockStoreVolumeSource gitRepo:*core.GitRepoVolumeSource secret:*core.SecretVolumeSource nfs:*core.NFSVolumeSource iscsi:*core.ISCSIVolumeSource glusterfs:*core.GlusterfsVolumeSource persistentVolumeClaim:*core.PersistentVolumeClaimVolumeSource rbd:*core.RBDVolumeSource flexVolume:*core.FlexVolumeSource cinder:*core.CinderVolumeSource cephfs:*core.CephFSVolumeSource flocker:*core.FlockerVolumeSource downwardAPI:*core.DownwardAPIVolumeSource fc:*core.FCVolumeSource azureFile:*core.AzureFileVolumeSource configMap:*core.ConfigMapVolumeSource vsphereVolume:*core.VsphereVirtualDiskVolumeSource quobyte:*core.QuobyteVolumeSource azureDisk:*core.AzureDiskVolumeSource photonPersistentDisk:*core.PhotonPersistentDiskVolumeSource projected:*core.ProjectedVolumeSource portworxVolume:*core.PortworxVolumeSource scaleIO:*core.ScaleIOVolumeSource storageos:*core.StorageOSVolumeSource csi:*core.CSIVolumeSource ephemeral:*core.EphemeralVolumeSource image:*core.ImageVolumeSource
core.VolumeDevice name:s devicePath:s
core.VolumeMount name:s readOnly:s recursiveReadOnly:*s mountPath:s subPath:s mountPropagation:*s subPathExpr:s
core.VolumeMountStatus name:s mountPath:s readOnly:s recursiveReadOnly:*s
core.VolumeNodeAffinity required:*core.NodeSelector
core.VolumeProjection secret:*core.SecretProjection downwardAPI:*core.DownwardAPIProjection configMap:*core.ConfigMapProjection serviceAccountToken:*core.ServiceAccountTokenProjection clusterTrustBundle:*core.ClusterTrustBundleProjection
core.VolumeResourceRequirements limits:{s requests:{s
core.VsphereVirtualDiskVolumeSource volumePath:s fsType:s storagePolicyName:s storagePolicyID:s
core.WeightedPodAffinityTerm weight:s podAffinityTerm:core.PodAffinityTerm
core.WindowsSecurityContextOptions gmsaCredentialSpecName:*s gmsaCredentialSpec:*s runAsUserName:*s hostProcess:*s
discovery.Endpoint addresses:[s conditions:discovery.EndpointConditions hostname:*s targetRef:*core.ObjectReference deprecatedTopology:{s nodeName:*s zone:*s hints:*discovery.EndpointHints
discovery.EndpointConditions ready:*s serving:*s terminating:*s
discovery.EndpointHints forZones:[discovery.ForZone forNodes:[discovery.ForNode
discovery.EndpointPort name:*s protocol:*s port:*s appProtocol:*s
discovery.EndpointSlice kind:s apiVersion:s metadata:meta.ObjectMeta addressType:s endpoints:[discovery.Endpoint ports:[discovery.EndpointPort
discovery.ForNode name:s
discovery.ForZone name:s
events.Event kind:s apiVersion:s metadata:meta.ObjectMeta eventTime:s series:*events.EventSeries reportingController:s reportingInstance:s action:s reason:s regarding:core.ObjectReference related:*core.ObjectReference note:s type:s deprecatedSource:core.EventSource deprecatedFirstTimestamp:s deprecatedLastTimestamp:s deprecatedCount:s
events.EventSeries count:s lastObservedTime:s
flowcontrol.ExemptPriorityLevelConfiguration nominalConcurrencyShares:*s lendablePercent:*s
flowcontrol.FlowDistinguisherMethod type:s
flowcontrol.FlowSchema kind:s apiVersion:s metadata:meta.ObjectMeta spec:flowcontrol.FlowSchemaSpec status:flowcontrol.FlowSchemaStatus
flowcontrol.FlowSchemaCondition type:s status:s lastTransitionTime:s reason:s message:s
flowcontrol.FlowSchemaSpec priorityLevelConfiguration:flowcontrol.PriorityLevelConfigurationReference matchingPrecedence:s distinguisherMethod:*flowcontrol.FlowDistinguisherMethod rules:[flowcontrol.PolicyRulesWithSubjects
flowcontrol.FlowSchemaStatus conditions:[flowcontrol.FlowSchemaCondition:merge:type
flowcontrol.GroupSubject name:s
flowcontrol.LimitResponse type:s queuing:*flowcontrol.QueuingConfiguration
flowcontrol.LimitedPriorityLevelConfiguration nominalConcurrencyShares:*s limitResponse:flowcontrol.LimitResponse lendablePercent:*s borrowingLimitPercent:*s
flowcontrol.NonResourcePolicyRule verbs:[s nonResourceURLs:[s
flowcontrol.PolicyRulesWithSubjects subjects:[flowcontrol.Subject resourceRules:[flowcontrol.ResourcePolicyRule nonResourceRules:[flowcontrol.NonResourcePolicyRule
flowcontrol.PriorityLevelConfiguration kind:s apiVersion:s metadata:meta.ObjectMeta spec:flowcontrol.PriorityLevelConfigurationSpec status:flowcontrol.PriorityLevelConfigurationStatus
flowcontrol.PriorityLevelConfigurationCondition type:s status:s lastTransitionTime:s reason:s message:s
flowcontrol.PriorityLevelConfigurationReference name:s
flowcontrol.PriorityLevelConfigurationSpec type:s limited:*flowcontrol.LimitedPriorityLevelConfiguration exempt:*flowcontrol.ExemptPriorityLevelConfiguration
flowcontrol.PriorityLevelConfigurationStatus conditions:[flowcontrol.PriorityLevelConfigurationCondition:merge:type
flowcontrol.QueuingConfiguration queues:s handSize:s queueLengthLimit:s
flowcontrol.ResourcePolicyRule verbs:[s apiGroups:[s resources:[s clusterScope:s namespaces:[s
flowcontrol.ServiceAccountSubject namespace:s name:s
flowcontrol.Subject kind:s user:*flowcontrol.UserSubject group:*flowcontrol.GroupSubject serviceAccount:*flowcontrol.ServiceAccountSubject
flowcontrol.UserSubject name:s
meta.Condition type:s status:s observedGeneration:s lastTransitionTime:s reason:s message:s
meta.DeleteOptions kind:s apiVersion:s gracePeriodSeconds:*s preconditions:*meta.Preconditions orphanDependents:*s propagationPolicy:*s dryRun:[s ignoreStoreReadErrorWithClusterBreakingPotential:*s
meta.FieldsV1
meta.LabelSelector matchLabels:{s matchExpressions:[meta.LabelSelectorRequirement
meta.LabelSelectorRequirement key:s operator:s values:[s
meta.ManagedFieldsEntry manager:s operation:s apiVersion:s time:*s fieldsType:s fieldsV1:*meta.FieldsV1 subresource:s
meta.ObjectMeta name:s generateName:s namespace:s selfLink:s uid:s resourceVersion:s generation:s creationTimestamp:s deletionTimestamp:*s deletionGracePeriodSeconds:*s labels:{s annotations:{s ownerReferences:[meta.OwnerReference:merge:uid finalizers:[s:merge: managedFields:[meta.ManagedFieldsEntry
meta.OwnerReference apiVersion:s kind:s name:s uid:s controller:*s blockOwnerDeletion:*s
meta.Preconditions uid:*s resourceVersion:*s
networking.HTTPIngressPath path:s pathType:*s backend:networking.IngressBackend
networking.HTTPIngressRuleValue paths:[networking.HTTPIngressPath
networking.IPAddress kind:s apiVersion:s metadata:meta.ObjectMeta spec:networking.IPAddressSpec
networking.IPAddressSpec parentRef:*networking.ParentReference
networking.IPBlock cidr:s except:[s
networking.Ingress kind:s apiVersion:s metadata:meta.ObjectMeta spec:networking.IngressSpec status:networking.IngressStatus
networking.IngressBackend service:*networking.IngressServiceBackend resource:*core.TypedLocalObjectReference
networking.IngressClass kind:s apiVersion:s metadata:meta.ObjectMeta spec:networking.IngressClassSpec
networking.IngressClassParametersReference apiGroup:*s kind:s name:s scope:*s namespace:*s
networking.IngressClassSpec controller:s parameters:*networking.IngressClassParametersReference
networking.IngressLoadBalancerIngress ip:s hostname:s ports:[networking.IngressPortStatus
networking.IngressLoadBalancerStatus ingress:[networking.IngressLoadBalancerIngress
networking.IngressPortStatus port:s protocol:s error:*s
networking.IngressRule host:s http:*networking.HTTPIngressRuleValue
networking.IngressServiceBackend name:s port:networking.ServiceBackendPort
networking.IngressSpec ingressClassName:*s defaultBackend:*networking.IngressBackend tls:[networking.IngressTLS rules:[networking.IngressRule
networking.IngressStatus loadBalancer:networking.IngressLoadBalancerStatus
networking.IngressTLS hosts:[s secretName:s
networking.NetworkPolicy kind:s apiVersion:s metadata:meta.ObjectMeta spec:networking.NetworkPolicySpec
networking.NetworkPolicyEgressRule ports:[networking.NetworkPolicyPort to:[networking.NetworkPolicyPeer
networking.NetworkPolicyIngressRule ports:[networking.NetworkPolicyPort from:[networking.NetworkPolicyPeer
networking.NetworkPolicyPeer podSelector:*meta.LabelSelector namespaceSelector:*meta.LabelSelector ipBlock:*networking.IPBlock
networking.NetworkPolicyPort protocol:*s port:*s endPort:*s
networking.NetworkPolicySpec podSelector:meta.LabelSelector ingress:[networking.NetworkPolicyIngressRule egress:[networking.NetworkPolicyEgressRule policyTypes:[s
networking.ParentReference group:s resource:s namespace:s name:s
networking.ServiceBackendPort name:s number:s
networking.ServiceCIDR kind:s apiVersion:s metadata:meta.ObjectMeta spec:networking.ServiceCIDRSpec status:networking.ServiceCIDRStatus
networking.ServiceCIDRSpec cidrs:[s
networking.ServiceCIDRStatus conditions:[meta.Condition:merge:type
node.Overhead podFixed:{s
node.RuntimeClass kind:s apiVersion:s metadata:meta.ObjectMeta handler:s overhead:*node.Overhead scheduling:*node.Scheduling
node.Scheduling nodeSelector:{s tolerations:[core.Toleration
policy.Eviction kind:s apiVersion:s metadata:meta.ObjectMeta deleteOptions:*meta.DeleteOptions
policy.PodDisruptionBudget kind:s apiVersion:s metadata:meta.ObjectMeta spec:policy.PodDisruptionBudgetSpec status:policy.PodDisruptionBudgetStatus
policy.PodDisruptionBudgetSpec minAvailable:*s selector:*meta.LabelSelector:replace: maxUnavailable:*s unhealthyPodEvictionPolicy:*s
policy.PodDisruptionBudgetStatus observedGeneration:s disruptedPods:{s disruptionsAllowed:s currentHealthy:s desiredHealthy:s expectedPods:s conditions:[meta.Condition:merge:type
rbac.AggregationRule clusterRoleSelectors:[meta.LabelSelector
rbac.ClusterRole kind:s apiVersion:s metadata:meta.ObjectMeta rules:[rbac.PolicyRule aggregationRule:*rbac.AggregationRule
rbac.ClusterRoleBinding kind:s apiVersion:s metadata:meta.ObjectMeta subjects:[rbac.Subject roleRef:rbac.RoleRef
rbac.PolicyRule verbs:[s apiGroups:[s resources:[s resourceNames:[s nonResourceURLs:[s
rbac.Role kind:s apiVersion:s metadata:meta.ObjectMeta rules:[rbac.PolicyRule
rbac.RoleBinding kind:s apiVersion:s metadata:meta.ObjectMeta subjects:[rbac.Subject roleRef:rbac.RoleRef
rbac.RoleRef apiGroup:s kind:s name:s
rbac.Subject kind:s apiGroup:s name:s namespace:s
runtime.RawExtension
scheduling.PriorityClass kind:s apiVersion:s metadata:meta.ObjectMeta value:s globalDefault:s description:s preemptionPolicy:*s
storage.CSIDriver kind:s apiVersion:s metadata:meta.ObjectMeta spec:storage.CSIDriverSpec
storage.CSIDriverSpec attachRequired:*s podInfoOnMount:*s volumeLifecycleModes:[s storageCapacity:*s fsGroupPolicy:*s tokenRequests:[storage.TokenRequest requiresRepublish:*s seLinuxMount:*s nodeAllocatableUpdatePeriodSeconds:*s
storage.CSINode kind:s apiVersion:s metadata:meta.ObjectMeta spec:storage.CSINodeSpec
storage.CSINodeDriver name:s nodeID:s topologyKeys:[s allocatable:*storage.VolumeNodeResources
storage.CSINodeSpec drivers:[storage.CSINodeDriver:merge:name
storage.CSIStorageCapacity kind:s apiVersion:s metadata:meta.ObjectMeta nodeTopology:*meta.LabelSelector storageClassName:s capacity:*s maximumVolumeSize:*s
storage.StorageClass kind:s apiVersion:s metadata:meta.ObjectMeta provisioner:s parameters:{s reclaimPolicy:*s mountOptions:[s allowVolumeExpansion:*s volumeBindingMode:*s allowedTopologies:[core.TopologySelectorTerm
storage.TokenRequest audience:s expirationSeconds:*s
storage.VolumeAttachment kind:s apiVersion:s metadata:meta.ObjectMeta spec:storage.VolumeAttachmentSpec status:storage.VolumeAttachmentStatus
storage.VolumeAttachmentSource persistentVolumeName:*s inlineVolumeSpec:*core.PersistentVolumeSpec
storage.VolumeAttachmentSpec attacher:s source:storage.VolumeAttachmentSource nodeName:s
storage.VolumeAttachmentStatus attached:s attachmentMetadata:{s attachError:*storage.VolumeError detachError:*storage.VolumeError
storage.VolumeError time:s message:s errorCode:*s
storage.VolumeNodeResources count:*s
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn smp(group: &str, kind: &str, original: Value, patch: Value) -> Value {
        apply(group, kind, &original, &patch).unwrap_or_else(|e| panic!("{e}"))
    }

    fn smp_err(group: &str, kind: &str, original: Value, patch: Value) -> ApiError {
        match apply(group, kind, &original, &patch) {
            Ok(v) => panic!("expected an error, got {v}"),
            Err(e) => e,
        }
    }

    /// Whether any directive key is left anywhere in `v`.
    fn has_directive(v: &Value) -> bool {
        match v {
            Value::Object(m) => m
                .iter()
                .any(|(k, v)| is_directive_key(k) || has_directive(v)),
            Value::Array(a) => a.iter().any(has_directive),
            _ => false,
        }
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "annotations": {"deployment.kubernetes.io/revision": "1"},
                "labels": {"app": "web"}
            },
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}
                },
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "image": "nginx:1.25",
                                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                "env": [
                                    {"name": "A", "value": "1"},
                                    {"name": "X", "value": "x"},
                                    {"name": "B", "value": "2"}
                                ],
                                "volumeMounts": [{"name": "data", "mountPath": "/data"}]
                            },
                            {"name": "side", "image": "busybox:1.36", "args": ["sleep", "3600"]}
                        ],
                        "volumes": [{"name": "data", "emptyDir": {}}],
                        "restartPolicy": "Always"
                    }
                }
            }
        })
    }

    // --- the cases kubectl sends ---------------------------------------------------------

    #[test]
    fn kubectl_apply_second_apply_keeps_other_containers_and_fields() {
        let patch = json!({
            "metadata": {"annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Deployment\"}\n"
            }},
            "spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "web"}, {"name": "side"}],
                "containers": [{"image": "nginx:1.26", "name": "web"}]
            }}}
        });
        let out = smp("apps", "Deployment", deployment(), patch);
        let containers = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().map(Vec::len), Some(2));
        assert_eq!(containers[0]["name"], "web");
        assert_eq!(containers[0]["image"], "nginx:1.26");
        assert_eq!(
            containers[0]["ports"],
            json!([{"containerPort": 80, "protocol": "TCP"}])
        );
        assert_eq!(containers[0]["env"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            containers[1],
            deployment()["spec"]["template"]["spec"]["containers"][1]
        );
        assert_eq!(
            out["metadata"]["annotations"],
            json!({
                "deployment.kubernetes.io/revision": "1",
                "kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Deployment\"}\n"
            })
        );
        assert_eq!(out["spec"]["replicas"], 2);
        assert!(!has_directive(&out));
    }

    #[test]
    fn set_element_order_places_new_and_reordered_containers() {
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "init"}, {"name": "side"}, {"name": "web"}],
            "containers": [{"name": "init", "image": "alpine"}]
        }}}});
        let out = smp("apps", "Deployment", deployment(), patch);
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["init", "side", "web"]);
        assert!(!has_directive(&out));
    }

    #[test]
    fn kubectl_cordon_and_uncordon() {
        let node = json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}},
            "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}
        });
        let out = smp(
            "",
            "Node",
            node.clone(),
            json!({"spec": {"unschedulable": true}}),
        );
        assert_eq!(out["spec"]["unschedulable"], true);
        assert_eq!(out["spec"]["podCIDRs"], json!(["10.244.0.0/24"]));
        assert_eq!(out["status"], node["status"]);
        let back = smp("", "Node", out, json!({"spec": {"unschedulable": null}}));
        assert_eq!(back, node);
    }

    #[test]
    fn kubectl_rollout_restart_adds_template_annotation() {
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"
        }}}}});
        let out = smp("apps", "Deployment", deployment(), patch);
        assert_eq!(
            out["spec"]["template"]["metadata"],
            json!({
                "labels": {"app": "web"},
                "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}
            })
        );
        assert_eq!(
            out["spec"]["template"]["spec"],
            deployment()["spec"]["template"]["spec"]
        );
    }

    #[test]
    fn delete_one_env_var_with_patch_delete() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "env": [{"$patch": "delete", "name": "X"}]}
        ]}}}});
        let out = smp("apps", "Deployment", deployment(), patch);
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
        );
        assert!(!has_directive(&out));
    }

    #[test]
    fn retain_keys_switches_deployment_strategy_to_recreate() {
        let patch = json!({"spec": {"strategy": {
            "$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null
        }}});
        let out = smp("apps", "Deployment", deployment(), patch);
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        // Without `rollingUpdate: null` the directive alone clears it too.
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
        let out = smp("apps", "Deployment", deployment(), patch);
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        assert!(!has_directive(&out));
    }

    #[test]
    fn retain_keys_switches_a_volume_source() {
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/volumes": [{"name": "data"}],
            "volumes": [{
                "$retainKeys": ["configMap", "name"],
                "configMap": {"name": "cfg"},
                "name": "data"
            }]
        }}}});
        let out = smp("apps", "Deployment", deployment(), patch);
        assert_eq!(
            out["spec"]["template"]["spec"]["volumes"],
            json!([{"name": "data", "configMap": {"name": "cfg"}}])
        );
        assert!(!has_directive(&out));
    }

    // --- lists by patch merge key ---------------------------------------------------------

    #[test]
    fn container_ports_merge_by_container_port() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}]}
        ]}}}});
        let out = smp("apps", "Deployment", deployment(), patch);
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["ports"],
            json!([
                {"containerPort": 80, "protocol": "TCP", "name": "http"},
                {"containerPort": 443}
            ])
        );
    }

    #[test]
    fn env_merges_by_name_and_orders_as_upstream() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}]}
        ]}}}});
        let out = smp("apps", "Deployment", deployment(), patch);
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["env"],
            json!([
                {"name": "A", "value": "1"},
                {"name": "X", "value": "x"},
                {"name": "B", "value": "two"},
                {"name": "C", "value": "3"}
            ])
        );
        // Without `$setElementOrder`, upstream puts the patch's items that are not in the live
        // list before the live items that the patch does not name.
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "env": [{"name": "C", "value": "3"}]}
        ]}}}});
        let out = smp("apps", "Deployment", deployment(), patch);
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["env"],
            json!([
                {"name": "C", "value": "3"},
                {"name": "A", "value": "1"},
                {"name": "X", "value": "x"},
                {"name": "B", "value": "2"}
            ])
        );
    }

    #[test]
    fn volumes_and_volume_mounts_merge() {
        let patch = json!({"spec": {"template": {"spec": {
            "volumes": [{"name": "cache", "emptyDir": {"medium": "Memory"}}],
            "containers": [{"name": "web", "volumeMounts": [
                {"mountPath": "/data", "readOnly": true},
                {"name": "cache", "mountPath": "/cache"}
            ]}]
        }}}});
        let out = smp("apps", "Deployment", deployment(), patch);
        let spec = &out["spec"]["template"]["spec"];
        assert_eq!(
            spec["volumes"],
            json!([
                {"name": "cache", "emptyDir": {"medium": "Memory"}},
                {"name": "data", "emptyDir": {}}
            ])
        );
        assert_eq!(
            spec["containers"][0]["volumeMounts"],
            json!([
                {"name": "data", "mountPath": "/data", "readOnly": true},
                {"name": "cache", "mountPath": "/cache"}
            ])
        );
    }

    fn pod() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "p", "namespace": "default",
                "finalizers": ["a.example.com/f", "b.example.com/f"],
                "ownerReferences": [
                    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs1", "uid": "u1"}
                ]
            },
            "spec": {
                "containers": [{"name": "c", "image": "nginx"}],
                "imagePullSecrets": [{"name": "reg1"}],
                "tolerations": [
                    {"key": "k1", "operator": "Exists", "effect": "NoSchedule"},
                    {"key": "k2", "operator": "Exists"}
                ],
                "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}],
                "topologySpreadConstraints": [{
                    "maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchLabels": {"app": "p"}}
                }],
                "nodeSelector": {"disk": "ssd"}
            },
            "status": {
                "phase": "Running",
                "conditions": [
                    {"type": "Ready", "status": "False"},
                    {"type": "PodScheduled", "status": "True"}
                ]
            }
        })
    }

    #[test]
    fn pod_spec_merge_keys() {
        let patch = json!({"spec": {
            "imagePullSecrets": [{"name": "reg2"}],
            "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["b"]}],
            "topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 2}],
            "nodeSelector": {"gpu": "yes"}
        }});
        let out = smp("", "Pod", pod(), patch);
        assert_eq!(
            out["spec"]["imagePullSecrets"],
            json!([{"name": "reg2"}, {"name": "reg1"}])
        );
        // The hostnames of a host alias have no strategy: replaced.
        assert_eq!(
            out["spec"]["hostAliases"],
            json!([{"ip": "10.0.0.1", "hostnames": ["b"]}])
        );
        assert_eq!(out["spec"]["topologySpreadConstraints"][0]["maxSkew"], 2);
        assert_eq!(
            out["spec"]["topologySpreadConstraints"][0]["whenUnsatisfiable"],
            "DoNotSchedule"
        );
        // nodeSelector is a map: merged key by key.
        assert_eq!(
            out["spec"]["nodeSelector"],
            json!({"disk": "ssd", "gpu": "yes"})
        );
    }

    #[test]
    fn tolerations_are_atomic() {
        let patch = json!({"spec": {"tolerations": [{"key": "k3", "operator": "Exists"}]}});
        let out = smp("", "Pod", pod(), patch);
        assert_eq!(
            out["spec"]["tolerations"],
            json!([{"key": "k3", "operator": "Exists"}])
        );
    }

    #[test]
    fn status_conditions_merge_by_type() {
        let patch = json!({"status": {"conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"}
        ]}});
        let out = smp("", "Pod", pod(), patch);
        assert_eq!(
            out["status"]["conditions"],
            json!([
                {"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"},
                {"type": "PodScheduled", "status": "True"}
            ])
        );
        let deploy = json!({"status": {"conditions": [{"type": "Available", "status": "True"}]}});
        let out = smp(
            "apps",
            "Deployment",
            deploy,
            json!({"status": {"conditions": [{"type": "Progressing", "status": "True"}]}}),
        );
        assert_eq!(
            out["status"]["conditions"],
            json!([
                {"type": "Progressing", "status": "True"},
                {"type": "Available", "status": "True"}
            ])
        );
    }

    #[test]
    fn owner_references_merge_by_uid_and_finalizers_as_a_set() {
        let patch = json!({"metadata": {
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "u2"}
            ],
            "finalizers": ["b.example.com/f", "c.example.com/f"]
        }});
        let out = smp("", "Pod", pod(), patch);
        assert_eq!(
            out["metadata"]["ownerReferences"],
            json!([
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "u2"},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs1", "uid": "u1"}
            ])
        );
        assert_eq!(
            out["metadata"]["finalizers"],
            json!(["a.example.com/f", "b.example.com/f", "c.example.com/f"])
        );
    }

    #[test]
    fn delete_from_primitive_list() {
        let patch = json!({"metadata": {
            "$deleteFromPrimitiveList/finalizers": ["a.example.com/f", "missing"]
        }});
        let out = smp("", "Pod", pod(), patch);
        assert_eq!(out["metadata"]["finalizers"], json!(["b.example.com/f"]));
        assert!(!has_directive(&out));
        // A list the object does not have is left absent.
        let patch = json!({"spec": {"$deleteFromPrimitiveList/podCIDRs": ["x"]}});
        let out = smp("", "Node", json!({"spec": {}}), patch);
        assert_eq!(out, json!({"spec": {}}));
    }

    #[test]
    fn set_element_order_of_a_primitive_list() {
        let patch = json!({"metadata": {
            "$setElementOrder/finalizers": ["c.example.com/f", "b.example.com/f", "a.example.com/f"],
            "finalizers": ["c.example.com/f"]
        }});
        let out = smp("", "Pod", pod(), patch);
        assert_eq!(
            out["metadata"]["finalizers"],
            json!(["c.example.com/f", "b.example.com/f", "a.example.com/f"])
        );
        assert!(!has_directive(&out));
    }

    #[test]
    fn service_ports_merge_by_port() {
        let svc = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "s"},
            "spec": {
                "selector": {"app": "web"},
                "ports": [
                    {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                    {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"}
                ],
                "externalIPs": ["1.2.3.4"]
            }
        });
        let patch = json!({"spec": {
            "ports": [{"port": 80, "targetPort": 9090}],
            "externalIPs": ["5.6.7.8"]
        }});
        let out = smp("", "Service", svc, patch);
        assert_eq!(
            out["spec"]["ports"],
            json!([
                {"name": "http", "port": 80, "targetPort": 9090, "protocol": "TCP"},
                {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"}
            ])
        );
        assert_eq!(out["spec"]["externalIPs"], json!(["5.6.7.8"]));
    }

    #[test]
    fn node_taints_replace_and_addresses_merge_by_type() {
        let node = json!({
            "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]},
            "status": {"addresses": [
                {"type": "InternalIP", "address": "10.0.0.5"},
                {"type": "Hostname", "address": "n1"}
            ]}
        });
        let patch = json!({
            "spec": {"taints": [{"key": "b", "effect": "NoExecute"}]},
            "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.6"}]}
        });
        let out = smp("", "Node", node, patch);
        assert_eq!(
            out["spec"]["taints"],
            json!([{"key": "b", "effect": "NoExecute"}])
        );
        assert_eq!(
            out["status"]["addresses"],
            json!([
                {"type": "InternalIP", "address": "10.0.0.6"},
                {"type": "Hostname", "address": "n1"}
            ])
        );
    }

    #[test]
    fn maps_merge_and_null_deletes() {
        let cm = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "labels": {"a": "1", "b": "2"}},
            "data": {"k1": "v1", "k2": "v2"}
        });
        let patch = json!({
            "metadata": {"labels": {"b": null, "c": "3"}},
            "data": {"k1": null, "k3": "v3"}
        });
        let out = smp("", "ConfigMap", cm, patch);
        assert_eq!(out["metadata"]["labels"], json!({"a": "1", "c": "3"}));
        assert_eq!(out["data"], json!({"k2": "v2", "k3": "v3"}));
        let secret = json!({"kind": "Secret", "data": {"a": "YQ=="}, "type": "Opaque"});
        let out = smp(
            "",
            "Secret",
            secret,
            json!({"stringData": {"b": "x"}, "data": null}),
        );
        assert_eq!(
            out,
            json!({"kind": "Secret", "type": "Opaque", "stringData": {"b": "x"}})
        );
    }

    #[test]
    fn patch_replace_and_delete_in_maps() {
        let out = smp(
            "apps",
            "Deployment",
            deployment(),
            json!({"metadata": {"labels": {"$patch": "replace", "tier": "front"}}}),
        );
        assert_eq!(out["metadata"]["labels"], json!({"tier": "front"}));
        let out = smp(
            "apps",
            "Deployment",
            deployment(),
            json!({"spec": {"strategy": {"$patch": "delete"}}}),
        );
        assert_eq!(out["spec"]["strategy"], json!({}));
        // A `$patch` map for a key the object does not have adds nothing.
        let out = smp(
            "apps",
            "Deployment",
            deployment(),
            json!({"spec": {"paused": {"$patch": "delete"}, "minReadySeconds": 5}}),
        );
        assert_eq!(out["spec"].get("paused"), None);
        assert_eq!(out["spec"]["minReadySeconds"], 5);
        assert!(!has_directive(&out));
    }

    #[test]
    fn patch_replace_in_a_merging_list() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"$patch": "replace"},
            {"name": "only", "image": "alpine"}
        ]}}}});
        let out = smp("apps", "Deployment", deployment(), patch);
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "only", "image": "alpine"}])
        );
        assert!(!has_directive(&out));
    }

    #[test]
    fn replace_strategy_of_pdb_selector() {
        let pdb = json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "a", "tier": "x"}}}
        });
        let out = smp(
            "policy",
            "PodDisruptionBudget",
            pdb,
            json!({"spec": {"selector": {"matchLabels": {"app": "b"}}}}),
        );
        assert_eq!(
            out["spec"],
            json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "b"}}})
        );
        // Elsewhere a selector merges.
        let out = smp(
            "apps",
            "Deployment",
            deployment(),
            json!({"spec": {"selector": {"matchLabels": {"tier": "x"}}}}),
        );
        assert_eq!(
            out["spec"]["selector"],
            json!({"matchLabels": {"app": "web", "tier": "x"}})
        );
    }

    #[test]
    fn lists_without_strategy_are_replaced() {
        let role = json!({
            "kind": "Role",
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
        });
        let out = smp(
            "rbac.authorization.k8s.io",
            "Role",
            role,
            json!({"rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]}]}),
        );
        assert_eq!(
            out["rules"],
            json!([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]}])
        );
        let ing = json!({"spec": {"rules": [{"host": "a"}], "tls": [{"hosts": ["a"]}]}});
        let out = smp(
            "networking.k8s.io",
            "Ingress",
            ing,
            json!({"spec": {"rules": [{"host": "b"}]}}),
        );
        assert_eq!(
            out["spec"],
            json!({"rules": [{"host": "b"}], "tls": [{"hosts": ["a"]}]})
        );
        // Container args have no strategy either.
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "side", "args": ["sleep", "10"]}
        ]}}}});
        let out = smp("apps", "Deployment", deployment(), patch);
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][1]["args"],
            json!(["sleep", "10"])
        );
        let sts = json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "a"}}]}});
        let out = smp(
            "apps",
            "StatefulSet",
            sts,
            json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "b"}}]}}),
        );
        assert_eq!(
            out["spec"]["volumeClaimTemplates"],
            json!([{"metadata": {"name": "b"}}])
        );
    }

    #[test]
    fn pod_templates_of_other_workloads() {
        let cronjob = json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {
            "template": {"spec": {"containers": [
                {"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}
            ]}}
        }}}});
        let patch = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "b", "image": "alpine"}]
        }}}}}});
        let out = smp("batch", "CronJob", cronjob, patch);
        assert_eq!(
            out["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"],
            json!([{"name": "a", "image": "busybox"}, {"name": "b", "image": "alpine"}])
        );
        for (group, kind) in [
            ("apps", "DaemonSet"),
            ("apps", "StatefulSet"),
            ("apps", "ReplicaSet"),
            ("batch", "Job"),
            ("", "ReplicationController"),
            ("", "PodTemplate"),
        ] {
            let original = if kind == "PodTemplate" {
                json!({"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}})
            } else {
                json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}})
            };
            let patch = if kind == "PodTemplate" {
                json!({"template": {"spec": {"containers": [{"name": "b", "image": "y"}]}}})
            } else {
                json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "y"}]}}}})
            };
            let out = smp(group, kind, original, patch);
            let containers = if kind == "PodTemplate" {
                &out["template"]["spec"]["containers"]
            } else {
                &out["spec"]["template"]["spec"]["containers"]
            };
            assert_eq!(
                containers.as_array().map(Vec::len),
                Some(2),
                "{group}/{kind}"
            );
        }
    }

    #[test]
    fn opaque_content_keeps_its_keys() {
        // A ControllerRevision's data is a RawExtension: left as it is, `$patch` included.
        let rev = json!({
            "kind": "ControllerRevision",
            "metadata": {"name": "r"},
            "data": {"spec": {"template": {"$patch": "replace", "spec": {}}}},
            "revision": 1
        });
        let out = smp(
            "apps",
            "ControllerRevision",
            rev.clone(),
            json!({"metadata": {"labels": {"a": "b"}}}),
        );
        assert_eq!(out["data"], rev["data"]);
        // Merging into it needs fields the type does not have: upstream's error.
        let err = smp_err(
            "apps",
            "ControllerRevision",
            rev,
            json!({"data": {"spec": {"x": 1}}}),
        );
        assert_eq!(
            err.message,
            "unable to find api field in struct RawExtension for the json field \"spec\""
        );
    }

    #[test]
    fn directives_in_new_values_are_removed() {
        let original = json!({"spec": {"template": {"metadata": {}}}});
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "containers": [{"name": "a", "image": "x", "env": [{"name": "E", "$patch": "delete"}]}],
            "$retainKeys": ["containers"]
        }}}});
        let out = smp("apps", "Deployment", original, patch);
        assert_eq!(
            out["spec"]["template"]["spec"],
            json!({"containers": [{"name": "a", "image": "x", "env": []}]})
        );
        assert!(!has_directive(&out));
    }

    #[test]
    fn unknown_kinds_merge_maps_and_replace_lists() {
        let original = json!({"spec": {"items": [{"name": "a", "v": 1}], "m": {"x": 1}}});
        let patch = json!({"spec": {
            "items": [{"name": "a", "w": 2}],
            "m": {"y": 2, "$retainKeys": ["y"]},
            "$setElementOrder/items": [{"name": "a"}]
        }});
        let out = smp("example.com", "Widget", original, patch);
        assert_eq!(
            out,
            json!({"spec": {"items": [{"name": "a", "w": 2}], "m": {"y": 2}}})
        );
    }

    #[test]
    fn other_kinds_in_the_table() {
        let slice = json!({"endpoints": [{"addresses": ["10.0.0.1"]}], "ports": [{"port": 80}]});
        let out = smp(
            "discovery.k8s.io",
            "EndpointSlice",
            slice,
            json!({"ports": [{"port": 81}]}),
        );
        assert_eq!(out["ports"], json!([{"port": 81}]));
        let ev = json!({"note": "a", "series": {"count": 1}});
        let out = smp(
            "events.k8s.io",
            "Event",
            ev,
            json!({"series": {"count": 2}}),
        );
        assert_eq!(out, json!({"note": "a", "series": {"count": 2}}));
        let crd = json!({"spec": {"versions": [{"name": "v1"}, {"name": "v2"}]}});
        let out = smp(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            crd,
            json!({"spec": {"versions": [{"name": "v1", "served": true}]}}),
        );
        assert_eq!(
            out["spec"]["versions"],
            json!([{"name": "v1", "served": true}])
        );
        let hook = json!({"webhooks": [{"name": "a", "sideEffects": "None"}]});
        let out = smp(
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            hook,
            json!({"webhooks": [{"name": "b"}]}),
        );
        assert_eq!(
            out["webhooks"],
            json!([{"name": "b"}, {"name": "a", "sideEffects": "None"}])
        );
        for (group, kind) in [
            ("", "Namespace"),
            ("", "PersistentVolumeClaim"),
            ("", "ServiceAccount"),
            ("", "Endpoints"),
            ("", "Event"),
            ("", "LimitRange"),
            ("", "ResourceQuota"),
            ("", "Secret"),
            ("autoscaling", "HorizontalPodAutoscaler"),
            ("coordination.k8s.io", "Lease"),
            ("networking.k8s.io", "NetworkPolicy"),
            ("networking.k8s.io", "IngressClass"),
            ("rbac.authorization.k8s.io", "ClusterRole"),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            ("rbac.authorization.k8s.io", "RoleBinding"),
            ("scheduling.k8s.io", "PriorityClass"),
            ("storage.k8s.io", "StorageClass"),
        ] {
            assert!(
                builtin_schema().root(group, kind).is_some(),
                "{group}/{kind}"
            );
        }
    }

    // --- errors ------------------------------------------------------------------------

    #[test]
    fn error_missing_merge_key() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        let err = smp_err("apps", "Deployment", deployment(), patch);
        assert_eq!(err.code, 500);
        assert_eq!(err.reason, "");
        assert_eq!(
            err.message,
            "map: map[image:x] does not contain declared merge key: name"
        );
    }

    #[test]
    fn error_unknown_field_for_set_element_order() {
        let patch =
            json!({"spec": {"template": {"spec": {"$setElementOrder/foo": [{"name": "a"}]}}}});
        let err = smp_err("apps", "Deployment", deployment(), patch);
        assert_eq!(err.code, 500);
        assert_eq!(
            err.message,
            "unable to find api field in struct PodSpec for the json field \"foo\""
        );
        let patch = json!({"spec": {"$setElementOrder/paused": [true]}});
        let err = smp_err("apps", "Deployment", deployment(), patch);
        assert_eq!(err.message, "expected slice or array type, but got: struct");
    }

    #[test]
    fn error_unknown_field_with_maps_on_both_sides() {
        let original = json!({"spec": {"foo": {"a": 1}}});
        let err = smp_err(
            "apps",
            "Deployment",
            original.clone(),
            json!({"spec": {"foo": {"b": 1}}}),
        );
        assert_eq!(
            err.message,
            "unable to find api field in struct DeploymentSpec for the json field \"foo\""
        );
        // A scalar for an unknown field needs no metadata.
        let out = smp("apps", "Deployment", original, json!({"spec": {"foo": 3}}));
        assert_eq!(out, json!({"spec": {"foo": 3}}));
    }

    #[test]
    fn error_bad_directive_formats_are_bad_requests() {
        let cases = [
            (
                json!({"spec": {"strategy": {"$retainKeys": "type", "type": "Recreate"}}}),
                "invalid patch format of retainKeys",
            ),
            (
                json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}),
                "invalid patch format of retainKeys",
            ),
            (
                json!({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}),
                "invalid patch format of primitive list",
            ),
            (
                json!({"metadata": {"$setElementOrder": ["a"]}}),
                "invalid patch format of setElementOrder list",
            ),
        ];
        for (patch, message) in cases {
            let err = smp_err("apps", "Deployment", deployment(), patch.clone());
            assert_eq!(
                (err.code, err.reason, err.message.as_str()),
                (400, "BadRequest", message),
                "{patch}"
            );
        }
    }

    #[test]
    fn error_patch_merge_directive() {
        let err = smp_err(
            "apps",
            "Deployment",
            deployment(),
            json!({"metadata": {"labels": {"$patch": "merge", "a": "b"}}}),
        );
        assert_eq!(
            err.message,
            "unknown patch type: merge in map: map[$patch:merge a:b]"
        );
        let err = smp_err(
            "apps",
            "Deployment",
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": "merge"}]}}}}),
        );
        assert_eq!(
            err.message,
            "merging lists cannot yet be specified in the patch"
        );
        let err = smp_err(
            "apps",
            "Deployment",
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": 1, "name": "web"}]}}}}),
        );
        assert_eq!(
            err.message,
            "unknown patch type: %!s(int64=1) in map: map[$patch:1 name:web]"
        );
    }

    #[test]
    fn error_set_element_order_mismatch() {
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "side"}],
            "containers": [{"name": "web", "image": "x"}]
        }}}});
        let err = smp_err("apps", "Deployment", deployment(), patch);
        assert_eq!(
            err.message,
            "The order in patch list:\n[map[image:x name:web]]\n doesn't match $setElementOrder list:\n[map[name:side]]\n"
        );
    }

    #[test]
    fn error_list_of_lists_is_unprocessable() {
        let original = json!({"metadata": {"finalizers": [["a"]]}});
        let err = smp_err(
            "",
            "Pod",
            original,
            json!({"metadata": {"finalizers": [["b"]]}}),
        );
        assert_eq!(err.code, 422);
        assert_eq!(err.reason, "Invalid");
        assert_eq!(
            err.message,
            "the server rejected our request due to an error in our request"
        );
    }

    #[test]
    fn error_mixed_element_types() {
        let err = smp_err(
            "",
            "Pod",
            json!({"metadata": {"finalizers": ["a"]}}),
            json!({"metadata": {"finalizers": [1]}}),
        );
        assert_eq!(
            err.message,
            "list element types are not identical: [[a] [1]]"
        );
    }

    #[test]
    fn patch_must_be_an_object() {
        let err = smp_err("", "Pod", pod(), json!([1]));
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            "json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
        assert_eq!(smp("", "Pod", pod(), Value::Null), pod());
        assert_eq!(smp("", "Pod", pod(), json!({})), pod());
    }

    #[test]
    fn top_level_directives() {
        assert_eq!(
            smp(
                "",
                "ConfigMap",
                json!({"data": {"a": "1"}}),
                json!({"$patch": "replace", "kind": "ConfigMap"})
            ),
            json!({"kind": "ConfigMap"})
        );
        assert_eq!(
            smp(
                "",
                "ConfigMap",
                json!({"data": {"a": "1"}}),
                json!({"$patch": "delete"})
            ),
            json!({})
        );
    }

    #[test]
    fn go_formatting() {
        assert_eq!(
            go_v(&json!({"b": [1, 2.5, null, true], "a": {"c": "d"}})),
            "map[a:map[c:d] b:[1 2.5 <nil> true]]"
        );
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(0.5), "0.5");
        assert_eq!(go_s(&json!(true)), "%!s(bool=true)");
        assert_eq!(go_s(&json!(1.5)), "%!s(float64=1.5)");
        assert_eq!(go_s(&Value::Null), "%!s(<nil>)");
        assert_eq!(go_quote("a\"b\\\n\u{1}"), "\"a\\\"b\\\\\\n\\x01\"");
        assert_eq!(
            deduplicate_scalars(vec![json!(1), json!(2), json!(1), json!(3)]),
            vec![json!(1), json!(2), json!(3)]
        );
        assert_eq!(
            deduplicate_scalars(vec![json!(1), json!(1), json!(2), json!(3)]),
            vec![json!(1), json!(3), json!(2)]
        );
    }

    #[test]
    fn table_is_consistent() {
        let schema = builtin_schema();
        assert!(schema.roots.len() >= 50);
        for ty in schema.roots.values() {
            assert!(schema.types.contains_key(ty), "root {ty}");
        }
        for (name, fields) in &schema.types {
            for f in fields {
                let target = f.ty.trim_start_matches(['*', '[', '{']);
                assert!(
                    target == "s" || schema.types.contains_key(target),
                    "{name}.{} refers to {target}",
                    f.json
                );
                assert!(
                    matches!(
                        f.strategy,
                        "" | "merge" | "retainKeys" | "merge,retainKeys" | "replace"
                    ),
                    "{name}.{}: {}",
                    f.json,
                    f.strategy
                );
                let merges = f.strategy.split(',').any(|s| s == "merge");
                if !f.merge_key.is_empty() {
                    assert!(merges, "{name}.{}", f.json);
                }
                let list_of_structs =
                    f.ty.starts_with('[') && f.ty.trim_start_matches(['*', '[']) != "s";
                if merges && list_of_structs {
                    assert!(!f.merge_key.is_empty(), "{name}.{}", f.json);
                }
            }
        }
        let pod_spec = &schema.types["core.PodSpec"];
        let meta = |json: &str| {
            pod_spec
                .iter()
                .find(|f| f.json == json)
                .map(|f| (f.strategy, f.merge_key))
        };
        assert_eq!(meta("containers"), Some(("merge", "name")));
        assert_eq!(meta("volumes"), Some(("merge,retainKeys", "name")));
        assert_eq!(meta("tolerations"), Some(("", "")));
        assert_eq!(
            meta("topologySpreadConstraints"),
            Some(("merge", "topologyKey"))
        );
    }

    // --- upstream's test cases ---------------------------------------------------------

    /// The test schema of upstream's patch_test.go (`MergeItem`, `RetainKeysMergeItem`).
    const MERGE_ITEM_TABLE: &str = "\
test.MergeItem name:s value:s other:s mergingList:[test.MergeItem:merge:name nonMergingList:[test.MergeItem mergingIntList:[s:merge: nonMergingIntList:[s mergeItemPtr:*test.MergeItem:merge:name simpleMap:{s replacingItem:runtime.RawExtension:replace: retainKeysMap:test.RetainKeysMergeItem:retainKeys: retainKeysMergingList:[test.MergeItem:merge,retainKeys:name
test.RetainKeysMergeItem name:s value:s other:s simpleMap:{s mergingIntList:[s:merge: mergingList:[test.MergeItem:merge:name nonMergingList:[test.MergeItem
runtime.RawExtension
";

    /// Patch applications of k8s.io/apimachinery/pkg/util/strategicpatch/patch_test.go
    /// (release-1.33): `customStrategicMergePatchTestCaseData`,
    /// `createStrategicMergePatchTestCaseData` (two-way: original + twoWay = modified, three-way:
    /// current + threeWay = result, lists sorted as upstream's `sortMergeListsByName` sorts them
    /// before applying), `customStrategicMergePatchRawTestCases`,
    /// `strategicMergePatchRawTestCases` and `replaceRawExtensionPatchTestCases` (order
    /// significant; `e` is a part of the expected error), one JSON object per line, duplicates
    /// removed.
    const UPSTREAM_CASES: &str = r#"
{"d":"custom: unique scalars when merging lists","o":{"mergingIntList":[1,2]},"p":{"mergingIntList":[2,3]},"r":{"mergingIntList":[1,2,3]}}
{"d":"custom: delete map from nested map","o":{"simpleMap":{"key1":1,"key2":1}},"p":{"simpleMap":{"$patch":"delete"}},"r":{"simpleMap":{}}}
{"d":"custom: delete all items from merging list","o":{"mergingList":[{"name":1},{"name":2}]},"p":{"mergingList":[{"$patch":"replace"}]},"r":{"mergingList":[]}}
{"d":"custom: merge empty merging lists","o":{"mergingList":[]},"p":{"mergingList":[]},"r":{"mergingList":[]}}
{"d":"custom: delete all keys from map","o":{"name":1,"value":1},"p":{"$patch":"replace"},"r":{}}
{"d":"custom: add key and delete all keys from map","o":{"name":1,"value":1},"p":{"other":"a","$patch":"replace"},"r":{"other":"a"}}
{"d":"custom: delete all duplicate entries in a merging list","o":{"mergingList":[{"name":1},{"name":1},{"name":2,"value":"a"},{"name":3},{"name":3}]},"p":{"mergingList":[{"name":1,"$patch":"delete"},{"name":3,"$patch":"delete"}]},"r":{"mergingList":[{"name":2,"value":"a"}]}}
{"d":"custom: retainKeys map can add a field when no retainKeys directive present","o":{"retainKeysMap":{"name":"foo"}},"p":{"retainKeysMap":{"value":"bar"}},"r":{"retainKeysMap":{"name":"foo","value":"bar"}}}
{"d":"custom: retainKeys map can change a field when no retainKeys directive present","o":{"retainKeysMap":{"name":"foo","value":"a"}},"p":{"retainKeysMap":{"value":"b"}},"r":{"retainKeysMap":{"name":"foo","value":"b"}}}
{"d":"custom: retainKeys map can delete a field when no retainKeys directive present","o":{"retainKeysMap":{"name":"foo","value":"a"}},"p":{"retainKeysMap":{"value":null}},"r":{"retainKeysMap":{"name":"foo"}}}
{"d":"custom: retainKeys map merge an empty map","o":{"retainKeysMap":{"name":"foo","value":"a"}},"p":{"retainKeysMap":{}},"r":{"retainKeysMap":{"name":"foo","value":"a"}}}
{"d":"custom: retainKeys list can add a field when no retainKeys directive present","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo"}]},"p":{"retainKeysMergingList":[{"name":"foo","value":"a"}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]}}
{"d":"custom: retainKeys list can change a field when no retainKeys directive present","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]},"p":{"retainKeysMergingList":[{"name":"foo","value":"b"}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"b"}]}}
{"d":"custom: retainKeys list can delete a field when no retainKeys directive present","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]},"p":{"retainKeysMergingList":[{"name":"foo","value":null}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo"}]}}
{"d":"custom: preserve the order from the patch in a merging list","o":{"mergingList":[{"name":1},{"name":2,"value":"b"},{"name":3}]},"p":{"mergingList":[{"name":1,"value":"a"},{"name":2,"other":"x"},{"name":3,"value":"c"}]},"r":{"mergingList":[{"name":1,"value":"a"},{"name":2,"value":"b","other":"x"},{"name":3,"value":"c"}]}}
{"d":"custom: preserve the order from the patch in a merging list 2","o":{"mergingList":[{"name":1},{"name":2,"value":"b"},{"name":3}]},"p":{"mergingList":[{"name":1,"value":"a"},{"name":3,"value":"c"}]},"r":{"mergingList":[{"name":1,"value":"a"},{"name":2,"value":"b"},{"name":3,"value":"c"}]}}
{"d":"custom: preserve the order from the patch in a merging int list","o":{"mergingIntList":[1,2,3]},"p":{"mergingIntList":[1,2,3]},"r":{"mergingIntList":[1,2,3]}}
{"d":"custom: preserve the order from the patch in a merging int list","o":{"mergingIntList":[1,2,3]},"p":{"mergingIntList":[1,3]},"r":{"mergingIntList":[1,2,3]}}
{"d":"create/two-way: nil original","o":{},"p":{"name":1,"value":1},"r":{"name":1,"value":1}}
{"d":"create/three-way: nil original","o":{"name":1,"other":"a"},"p":{"value":1},"r":{"name":1,"value":1,"other":"a"}}
{"d":"create/two-way: nil patch","o":{"name":1},"p":{},"r":{"name":1}}
{"d":"create/two-way: add field to map","o":{"name":1},"p":{"value":1},"r":{"name":1,"value":1}}
{"d":"create/three-way: add field to map with conflict","o":{"name":"a","other":"a"},"p":{"name":1,"value":1},"r":{"name":1,"value":1,"other":"a"}}
{"d":"create/two-way: add field and delete field from map","o":{"name":1},"p":{"name":null,"value":1},"r":{"value":1}}
{"d":"create/three-way: add field and delete field from map","o":{"name":1,"other":"a"},"p":{"name":null,"value":1},"r":{"value":1,"other":"a"}}
{"d":"create/three-way: add field and delete field from map with conflict","o":{"name":"a","other":"a"},"p":{"name":null,"value":1},"r":{"value":1,"other":"a"}}
{"d":"create/two-way: delete field from nested map","o":{"simpleMap":{"key1":1,"key2":1}},"p":{"simpleMap":{"key2":null}},"r":{"simpleMap":{"key1":1}}}
{"d":"create/three-way: delete field from nested map","o":{"simpleMap":{"key1":1,"key2":1,"other":"a"}},"p":{"simpleMap":{"key2":null}},"r":{"simpleMap":{"key1":1,"other":"a"}}}
{"d":"create/three-way: delete field from nested map with conflict","o":{"simpleMap":{"key1":"a","key2":1,"other":"a"}},"p":{"simpleMap":{"key1":1,"key2":null}},"r":{"simpleMap":{"key1":1,"other":"a"}}}
{"d":"create/two-way: delete all fields from map","o":{"name":1,"value":1},"p":{"name":null,"value":null},"r":{}}
{"d":"create/three-way: delete all fields from map","o":{"name":1,"value":1,"other":"a"},"p":{"name":null,"value":null},"r":{"other":"a"}}
{"d":"create/three-way: delete all fields from map with conflict","o":{"name":1,"value":"a","other":"a"},"p":{"name":null,"value":null},"r":{"other":"a"}}
{"d":"create/two-way: add field and delete all fields from map","o":{"name":1,"value":1},"p":{"name":null,"value":null,"other":"a"},"r":{"other":"a"}}
{"d":"create/three-way: add field and delete all fields from map with conflict","o":{"name":1,"value":1,"other":"b"},"p":{"name":null,"value":null,"other":"a"},"r":{"other":"a"}}
{"d":"create/two-way: replace list of scalars","o":{"nonMergingIntList":[1,2]},"p":{"nonMergingIntList":[2,3]},"r":{"nonMergingIntList":[2,3]}}
{"d":"create/three-way: replace list of scalars with conflict","o":{"nonMergingIntList":[1,4]},"p":{"nonMergingIntList":[2,3]},"r":{"nonMergingIntList":[2,3]}}
{"d":"create/two-way: delete all maps from merging list","o":{"mergingList":[{"name":1},{"name":2}]},"p":{"mergingList":[{"name":1,"$patch":"delete"},{"name":2,"$patch":"delete"}]},"r":{"mergingList":[]}}
{"d":"create/three-way: delete all maps from merging list with conflict","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"other":"b"}]},"p":{"mergingList":[{"name":1,"$patch":"delete"},{"name":2,"$patch":"delete"}]},"r":{"mergingList":[]}}
{"d":"create/three-way: delete all maps from empty merging list","o":{"mergingList":[]},"p":{"mergingList":[{"name":1,"$patch":"delete"},{"name":2,"$patch":"delete"}]},"r":{"mergingList":[]}}
{"d":"create/two-way: merge empty merging lists","o":{"mergingList":[]},"p":{},"r":{"mergingList":[]}}
{"d":"create/two-way: defined null values should propagate overwrite current fields (with conflict)","o":{"name":2},"p":{"name":1,"value":1,"other":null},"r":{"name":1,"value":1}}
{"d":"create/three-way: defined null values should propagate overwrite current fields (with conflict)","o":{"name":"a","other":"a"},"p":{"name":1,"value":1,"other":null},"r":{"name":1,"value":1}}
{"d":"create/two-way: defined null values should propagate removing original fields","o":{"name":"original-name","value":"original-value"},"p":{"name":"modified-name","value":null},"r":{"name":"modified-name"}}
{"d":"create/three-way: defined null values should propagate removing original fields","o":{"name":"original-name","value":"original-value","other":"current-other"},"p":{"name":"modified-name","value":null},"r":{"name":"modified-name","other":"current-other"}}
{"d":"create/two-way: nil patch with retainKeys map","o":{"name":"a","retainKeysMap":{"name":"foo"}},"p":{},"r":{"name":"a","retainKeysMap":{"name":"foo"}}}
{"d":"create/three-way: nil patch with retainKeys map","o":{"name":"a","value":"b","retainKeysMap":{"name":"foo"}},"p":{},"r":{"name":"a","value":"b","retainKeysMap":{"name":"foo"}}}
{"d":"create/two-way: retainKeys map with no change should not be present","o":{"name":"a","retainKeysMap":{"name":"foo"}},"p":{"value":"b"},"r":{"name":"a","value":"b","retainKeysMap":{"name":"foo"}}}
{"d":"create/three-way: retainKeys map with no change should not be present","o":{"name":"a","other":"c","retainKeysMap":{"name":"foo"}},"p":{"value":"b"},"r":{"name":"a","value":"b","other":"c","retainKeysMap":{"name":"foo"}}}
{"d":"raw/two-way: $setElementOrder contains item that is not present in the list to be merged","o":{"mergingList":[{"name":1},{"name":3}]},"p":{"$setElementOrder/mergingList":[{"name":3},{"name":2},{"name":1}],"mergingList":[{"name":3,"value":3},{"name":1,"value":1}]},"r":{"mergingList":[{"name":3,"value":3},{"name":1,"value":1}]}}
{"d":"raw/two-way: $setElementOrder contains item that is not present in the int list to be merged","o":{"mergingIntList":[1,3]},"p":{"$setElementOrder/mergingIntList":[3,2,1]},"r":{"mergingIntList":[3,1]}}
{"d":"raw/two-way: should check if order in $setElementOrder and patch list match","o":{"mergingList":[{"name":1},{"name":3},{"name":2}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2},{"name":3}],"mergingList":[{"name":3,"value":3},{"name":1,"value":1}]},"e":"doesn't match"}
{"d":"raw/two-way: $setElementOrder contains item that is not present in the int list to be merged","o":{"mergingIntList":[1,3,2]},"p":{"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[3,1]},"e":"doesn't match"}
{"d":"raw/two-way: missing merge key should error out","o":{"mergingList":[{"name":1,"value":"a"}]},"p":{"mergingList":[{"value":"b"}]},"e":"does not contain declared merge key"}
{"d":"raw/two-way: $deleteFromPrimitiveList of nonexistent item in primitive list should not add the item to the list","o":{"mergingIntList":[1,2]},"p":{"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"mergingIntList":[1,2]}}
{"d":"raw/two-way: $deleteFromPrimitiveList on empty primitive list should not add the item to the list","o":{"mergingIntList":null},"p":{"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"mergingIntList":null}}
{"d":"raw/two-way: $deleteFromPrimitiveList on nonexistent primitive list should not add the primitive list","o":{"foo":["bar"]},"p":{"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"foo":["bar"]}}
{"d":"raw/two-way: $deleteFromPrimitiveList should delete item from a list with merge patch strategy","o":{"mergingIntList":[1,2,3]},"p":{"$deleteFromPrimitiveList/mergingIntList":[2]},"r":{"mergingIntList":[1,3]}}
{"d":"raw/two-way: $deleteFromPrimitiveList should delete item from a list without merge patch strategy","o":{"nonMergingIntList":[1,2,3]},"p":{"$deleteFromPrimitiveList/nonMergingIntList":[2]},"r":{"nonMergingIntList":[1,3]}}
{"d":"raw/two-way: nested patch merge with empty list","o":{"name":"hi"},"p":{"mergingList":[{"name":"hello"},{"$patch":"delete","name":"doesntexist"}]},"r":{"name":"hi","mergingList":[{"name":"hello"}]}}
{"d":"raw/three-way: nested patch merge with empty list","o":{"name":"hi","mergingList":[{"name":"hello2"}]},"p":{"$setElementOrder/mergingList":[{"name":"hello"},{"name":"doesntexist"}],"mergingList":[{"name":"hello"}]},"r":{"name":"hi","mergingList":[{"name":"hello"},{"name":"hello2"}]}}
{"d":"raw/two-way: delete items in lists of scalars","o":{"mergingIntList":[1,2,3]},"p":{"$setElementOrder/mergingIntList":[1,2],"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"mergingIntList":[1,2]}}
{"d":"raw/three-way: delete items in lists of scalars","o":{"mergingIntList":[1,2,3,4]},"p":{"$setElementOrder/mergingIntList":[1,2],"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"mergingIntList":[1,2,4]}}
{"d":"raw/two-way: delete all duplicate items in lists of scalars","o":{"mergingIntList":[1,2,3,3]},"p":{"$setElementOrder/mergingIntList":[1,2],"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"mergingIntList":[1,2]}}
{"d":"raw/three-way: delete all duplicate items in lists of scalars","o":{"mergingIntList":[1,2,3,3,4]},"p":{"$setElementOrder/mergingIntList":[1,2],"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"mergingIntList":[1,2,4]}}
{"d":"raw/two-way: add and delete items in lists of scalars","o":{"mergingIntList":[1,2,3]},"p":{"$setElementOrder/mergingIntList":[1,2,4],"$deleteFromPrimitiveList/mergingIntList":[3],"mergingIntList":[4]},"r":{"mergingIntList":[1,2,4]}}
{"d":"raw/three-way: add and delete items in lists of scalars","o":{"mergingIntList":[1,2,3,4]},"p":{"$setElementOrder/mergingIntList":[1,2,4],"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"mergingIntList":[1,2,4]}}
{"d":"raw/two-way: merge lists of maps","o":{"mergingList":[{"name":1},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":4},{"name":1},{"name":2},{"name":3}],"mergingList":[{"name":4,"value":4},{"name":3,"value":3}]},"r":{"mergingList":[{"name":4,"value":4},{"name":1},{"name":2,"value":2},{"name":3,"value":3}]}}
{"d":"raw/three-way: merge lists of maps","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":4},{"name":1},{"name":2},{"name":3}],"mergingList":[{"name":4,"value":4},{"name":3,"value":3}]},"r":{"mergingList":[{"name":4,"value":4},{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}}
{"d":"raw/two-way: merge lists of maps with conflict","o":{"mergingList":[{"name":1},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2},{"name":3}],"mergingList":[{"name":3,"value":3}]},"r":{"mergingList":[{"name":1},{"name":2,"value":2},{"name":3,"value":3}]}}
{"d":"raw/three-way: merge lists of maps with conflict","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":3,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2},{"name":3}],"mergingList":[{"name":2,"value":2},{"name":3,"value":3}]},"r":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}}
{"d":"raw/two-way: add field to map in merging list","o":{"mergingList":[{"name":1},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":1}]},"r":{"mergingList":[{"name":1,"value":1},{"name":2,"value":2}]}}
{"d":"raw/three-way: add field to map in merging list","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":1}]},"r":{"mergingList":[{"name":1,"value":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}}
{"d":"raw/three-way: add field to map in merging list with conflict","o":{"mergingList":[{"name":1,"other":"a"},{"name":3,"value":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":1},{"name":2,"value":2}]},"r":{"mergingList":[{"name":1,"value":1,"other":"a"},{"name":2,"value":2},{"name":3,"value":2,"other":"b"}]}}
{"d":"raw/three-way: add duplicate field to map in merging list","o":{"mergingList":[{"name":1,"value":1,"other":"a"},{"name":2,"value":2,"other":"b"}]},"p":{},"r":{"mergingList":[{"name":1,"value":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}}
{"d":"raw/two-way: add an item that already exists in current object in merging list","o":{"mergingList":[{"name":1,"value":"a"},{"name":2}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2},{"name":3}],"mergingList":[{"name":3}]},"r":{"mergingList":[{"name":1,"value":"a"},{"name":2},{"name":3}]}}
{"d":"raw/three-way: add an item that already exists in current object in merging list","o":{"mergingList":[{"name":1,"value":"a","other":"x"},{"name":2},{"name":3}]},"p":{},"r":{"mergingList":[{"name":1,"value":"a","other":"x"},{"name":2},{"name":3}]}}
{"d":"raw/three-way: add duplicate field to map in merging list with conflict","o":{"mergingList":[{"name":1,"value":1,"other":"a"},{"name":2,"value":3,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":2,"value":2}]},"r":{"mergingList":[{"name":1,"value":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}}
{"d":"raw/two-way: replace map field value in merging list","o":{"mergingList":[{"name":1,"value":1},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":"a"}]},"r":{"mergingList":[{"name":1,"value":"a"},{"name":2,"value":2}]}}
{"d":"raw/three-way: replace map field value in merging list","o":{"mergingList":[{"name":1,"value":1,"other":"a"},{"name":2,"value":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":"a"}]},"r":{"mergingList":[{"name":1,"value":"a","other":"a"},{"name":2,"value":2,"other":"b"}]}}
{"d":"raw/three-way: replace map field value in merging list with conflict","o":{"mergingList":[{"name":1,"value":3,"other":"a"},{"name":2,"value":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":"a"}]},"r":{"mergingList":[{"name":1,"value":"a","other":"a"},{"name":2,"value":2,"other":"b"}]}}
{"d":"raw/two-way: delete map from merging list","o":{"mergingList":[{"name":1},{"name":2}]},"p":{"$setElementOrder/mergingList":[{"name":2}],"mergingList":[{"name":1,"$patch":"delete"}]},"r":{"mergingList":[{"name":2}]}}
{"d":"raw/three-way: delete map from merging list","o":{"mergingList":[{"name":1},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":2}],"mergingList":[{"name":1,"$patch":"delete"}]},"r":{"mergingList":[{"name":2,"other":"b"}]}}
{"d":"raw/three-way: delete map from merging list with conflict","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":2}],"mergingList":[{"name":1,"$patch":"delete"}]},"r":{"mergingList":[{"name":2,"other":"b"}]}}
{"d":"raw/three-way: delete missing map from merging list","o":{"mergingList":[{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":2}],"mergingList":[{"name":1,"$patch":"delete"}]},"r":{"mergingList":[{"name":2,"other":"b"}]}}
{"d":"raw/three-way: delete missing map from merging list with conflict","o":{"mergingList":[{"name":3,"other":"a"}]},"p":{"$setElementOrder/mergingList":[{"name":2}],"mergingList":[{"name":2},{"name":1,"$patch":"delete"}]},"r":{"mergingList":[{"name":2},{"name":3,"other":"a"}]}}
{"d":"raw/two-way: add map and delete map from merging list","o":{"mergingList":[{"name":1},{"name":2}]},"p":{"$setElementOrder/mergingList":[{"name":2},{"name":3}],"mergingList":[{"name":3},{"name":1,"$patch":"delete"}]},"r":{"mergingList":[{"name":2},{"name":3}]}}
{"d":"raw/three-way: add map and delete map from merging list","o":{"mergingList":[{"name":1},{"name":2,"other":"b"},{"name":4,"other":"c"}]},"p":{"$setElementOrder/mergingList":[{"name":2},{"name":3}],"mergingList":[{"name":3},{"name":1,"$patch":"delete"}]},"r":{"mergingList":[{"name":2,"other":"b"},{"name":4,"other":"c"},{"name":3}]}}
{"d":"raw/three-way: add map and delete map from merging list with conflict","o":{"mergingList":[{"name":1,"other":"a"},{"name":4,"other":"c"}]},"p":{"$setElementOrder/mergingList":[{"name":2},{"name":3}],"mergingList":[{"name":2},{"name":3},{"name":1,"$patch":"delete"}]},"r":{"mergingList":[{"name":4,"other":"c"},{"name":2},{"name":3}]}}
{"d":"raw/two-way: delete field from map in merging list","o":{"mergingList":[{"name":1,"value":1},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":null}]},"r":{"mergingList":[{"name":1},{"name":2,"value":2}]}}
{"d":"raw/three-way: delete field from map in merging list","o":{"mergingList":[{"name":1,"value":1,"other":"a"},{"name":2,"value":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":null}]},"r":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}}
{"d":"raw/three-way: delete field from map in merging list with conflict","o":{"mergingList":[{"name":1,"value":"a","other":"a"},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":null}]},"r":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2}]}}
{"d":"raw/three-way: delete missing field from map in merging list","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":null}]},"r":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}}
{"d":"raw/three-way: delete missing field from map in merging list with conflict","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":null},{"name":2,"value":2}]},"r":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}}
{"d":"raw/two-way: replace non merging list nested in merging list","o":{"mergingList":[{"name":1,"nonMergingList":[{"name":1},{"name":2,"value":2}]},{"name":2}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"nonMergingList":[{"name":1,"value":1}]}]},"r":{"mergingList":[{"name":1,"nonMergingList":[{"name":1,"value":1}]},{"name":2}]}}
{"d":"raw/three-way: replace non merging list nested in merging list","o":{"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":1},{"name":2,"value":2}]},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"nonMergingList":[{"name":1,"value":1}]}]},"r":{"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":1,"value":1}]},{"name":2,"other":"b"}]}}
{"d":"raw/three-way: replace non merging list nested in merging list with value conflict","o":{"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":1,"value":"c"}]},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"nonMergingList":[{"name":1,"value":1}]}]},"r":{"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":1,"value":1}]},{"name":2,"other":"b"}]}}
{"d":"raw/three-way: replace non merging list nested in merging list with deletion conflict","o":{"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":2,"value":2}]},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"nonMergingList":[{"name":1,"value":1}]}]},"r":{"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":1,"value":1}]},{"name":2,"other":"b"}]}}
{"d":"raw/two-way: add field to map in merging list nested in merging list","o":{"mergingList":[{"name":1,"mergingList":[{"name":1},{"name":2,"value":2}]},{"name":2}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"name":1,"mergingList":[{"name":1,"value":1}]}]},"r":{"mergingList":[{"name":1,"mergingList":[{"name":1,"value":1},{"name":2,"value":2}]},{"name":2}]}}
{"d":"raw/three-way: add field to map in merging list nested in merging list","o":{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":1},{"name":2,"value":2}]},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"name":1,"mergingList":[{"name":1,"value":1}]}]},"r":{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":1,"value":1},{"name":2,"value":2}]},{"name":2,"other":"b"}]}}
{"d":"raw/three-way: add field to map in merging list nested in merging list with value conflict","o":{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":1,"value":"a","other":"c"},{"name":2,"value":"b","other":"d"}]},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"name":1,"mergingList":[{"name":1,"value":1},{"name":2,"value":2}]}]},"r":{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":1,"value":1,"other":"c"},{"name":2,"value":2,"other":"d"}]},{"name":2,"other":"b"}]}}
{"d":"raw/three-way: add field to map in merging list nested in merging list with deletion conflict","o":{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":2,"value":2,"other":"d"}]},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"name":1,"mergingList":[{"name":1,"value":1}]}]},"r":{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":1,"value":1},{"name":2,"value":2,"other":"d"}]},{"name":2,"other":"b"}]}}
{"d":"raw/two-way: add field to map in merging list nested in merging list with deletion conflict","o":{"mergingList":[{"name":1,"mergingList":[{"name":1},{"name":2,"value":2}]},{"name":2}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"$setElementOrder/mergingList":[{"name":2},{"name":1}],"name":1,"mergingList":[{"name":1,"value":1}]}]},"r":{"mergingList":[{"name":1,"mergingList":[{"name":2,"value":2},{"name":1,"value":1}]},{"name":2}]}}
{"d":"raw/three-way: add field to map in merging list nested in merging list with deletion conflict","o":{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":2,"value":2,"other":"d"}]},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"$setElementOrder/mergingList":[{"name":2},{"name":1}],"name":1,"mergingList":[{"name":1,"value":1}]}]},"r":{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":2,"value":2,"other":"d"},{"name":1,"value":1}]},{"name":2,"other":"b"}]}}
{"d":"raw/two-way: add map to merging list by pointer","o":{"mergeItemPtr":[{"name":1}]},"p":{"$setElementOrder/mergeItemPtr":[{"name":1},{"name":2}],"mergeItemPtr":[{"name":2}]},"r":{"mergeItemPtr":[{"name":1},{"name":2}]}}
{"d":"raw/three-way: add map to merging list by pointer","o":{"mergeItemPtr":[{"name":1,"other":"a"},{"name":3}]},"p":{"$setElementOrder/mergeItemPtr":[{"name":1},{"name":2}],"mergeItemPtr":[{"name":2}]},"r":{"mergeItemPtr":[{"name":1,"other":"a"},{"name":2},{"name":3}]}}
{"d":"raw/three-way: add map to merging list by pointer with conflict","o":{"mergeItemPtr":[{"name":3}]},"p":{"$setElementOrder/mergeItemPtr":[{"name":1},{"name":2}],"mergeItemPtr":[{"name":1},{"name":2}]},"r":{"mergeItemPtr":[{"name":1},{"name":2},{"name":3}]}}
{"d":"raw/two-way: add field to map in merging list by pointer","o":{"mergeItemPtr":[{"name":1,"mergeItemPtr":[{"name":1},{"name":2,"value":2}]},{"name":2}]},"p":{"$setElementOrder/mergeItemPtr":[{"name":1},{"name":2}],"mergeItemPtr":[{"$setElementOrder/mergeItemPtr":[{"name":1},{"name":2}],"name":1,"mergeItemPtr":[{"name":1,"value":1}]}]},"r":{"mergeItemPtr":[{"name":1,"mergeItemPtr":[{"name":1,"value":1},{"name":2,"value":2}]},{"name":2}]}}
{"d":"raw/three-way: add field to map in merging list by pointer","o":{"mergeItemPtr":[{"name":1,"other":"a","mergeItemPtr":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergeItemPtr":[{"name":1},{"name":2}],"mergeItemPtr":[{"$setElementOrder/mergeItemPtr":[{"name":1},{"name":2}],"name":1,"mergeItemPtr":[{"name":1,"value":1}]}]},"r":{"mergeItemPtr":[{"name":1,"other":"a","mergeItemPtr":[{"name":1,"value":1,"other":"a"},{"name":2,"value":2,"other":"b"}]},{"name":2,"other":"b"}]}}
{"d":"raw/three-way: add field to map in merging list by pointer with conflict","o":{"mergeItemPtr":[{"name":1,"other":"a","mergeItemPtr":[{"name":1,"value":"a"},{"name":2,"value":2,"other":"b"}]},{"name":2,"other":"b"}]},"p":{"$setElementOrder/mergeItemPtr":[{"name":1},{"name":2}],"mergeItemPtr":[{"$setElementOrder/mergeItemPtr":[{"name":1},{"name":2}],"name":1,"mergeItemPtr":[{"name":1,"value":1}]}]},"r":{"mergeItemPtr":[{"name":1,"other":"a","mergeItemPtr":[{"name":1,"value":1},{"name":2,"value":2,"other":"b"}]},{"name":2,"other":"b"}]}}
{"d":"raw/two-way: merge lists of scalars","o":{"mergingIntList":[1,2]},"p":{"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[3]},"r":{"mergingIntList":[1,2,3]}}
{"d":"raw/three-way: merge lists of scalars","o":{"mergingIntList":[1,2,4]},"p":{"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[3]},"r":{"mergingIntList":[1,2,3,4]}}
{"d":"raw/three-way: add duplicate field to map in merging int list","o":{"mergingIntList":[1,2,3]},"p":{},"r":{"mergingIntList":[1,2,3]}}
{"d":"raw/two-way: add an item in a list of primitives and preserve order","o":{"mergingIntList":[1,2]},"p":{"$setElementOrder/mergingIntList":[3,1,2],"mergingIntList":[3]},"r":{"mergingIntList":[3,1,2]}}
{"d":"raw/three-way: add an item in a list of primitives and preserve order","o":{"mergingIntList":[1,4,2]},"p":{"$setElementOrder/mergingIntList":[3,1,2],"mergingIntList":[3]},"r":{"mergingIntList":[3,1,4,2]}}
{"d":"raw/two-way: delete an item in a list of primitives and preserve order","o":{"mergingIntList":[1,2,3]},"p":{"$setElementOrder/mergingIntList":[2,1],"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"mergingIntList":[2,1]}}
{"d":"raw/two-way: add an item in a list and preserve order","o":{"mergingList":[{"name":1},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":3},{"name":1},{"name":2}],"mergingList":[{"name":3,"value":3}]},"r":{"mergingList":[{"name":3,"value":3},{"name":1},{"name":2,"value":2}]}}
{"d":"raw/three-way: add an item in a list and preserve order","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":3},{"name":1},{"name":2}],"mergingList":[{"name":3,"value":3}]},"r":{"mergingList":[{"name":3,"value":3},{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}}
{"d":"raw/two-way: add multiple items in a list and preserve order","o":{"mergingList":[{"name":1},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":4},{"name":2},{"name":3}],"mergingList":[{"name":4,"value":4},{"name":3,"value":3}]},"r":{"mergingList":[{"name":1},{"name":4,"value":4},{"name":2,"value":2},{"name":3,"value":3}]}}
{"d":"raw/three-way: add multiple items in a list and preserve order","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":4},{"name":2},{"name":3}],"mergingList":[{"name":4,"value":4},{"name":3,"value":3}]},"r":{"mergingList":[{"name":1,"other":"a"},{"name":4,"value":4},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}}
{"d":"raw/two-way: delete an item in a list and preserve order","o":{"mergingList":[{"name":1},{"name":3,"value":3},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":2},{"name":1}],"mergingList":[{"name":3,"$patch":"delete"}]},"r":{"mergingList":[{"name":2,"value":2},{"name":1}]}}
{"d":"raw/three-way: delete an item in a list and preserve order","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]},"p":{"$setElementOrder/mergingList":[{"name":2},{"name":1}],"mergingList":[{"name":3,"$patch":"delete"}]},"r":{"mergingList":[{"name":2,"value":2,"other":"b"},{"name":1,"other":"a"}]}}
{"d":"raw/two-way: change an item in a list and preserve order","o":{"mergingList":[{"name":1},{"name":3,"value":3},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":2},{"name":3},{"name":1}],"mergingList":[{"name":3,"value":"x"}]},"r":{"mergingList":[{"name":2,"value":2},{"name":3,"value":"x"},{"name":1}]}}
{"d":"raw/three-way: change an item in a list and preserve order","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]},"p":{"$setElementOrder/mergingList":[{"name":2},{"name":3},{"name":1}],"mergingList":[{"name":3,"value":"x"}]},"r":{"mergingList":[{"name":2,"value":2,"other":"b"},{"name":3,"value":"x"},{"name":1,"other":"a"}]}}
{"d":"raw/two-way: add and delete an item in a list and preserve order","o":{"mergingList":[{"name":1},{"name":3,"value":3},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":1}],"mergingList":[{"name":4,"value":4},{"name":3,"$patch":"delete"}]},"r":{"mergingList":[{"name":4,"value":4},{"name":2,"value":2},{"name":1}]}}
{"d":"raw/three-way: add and delete an item in a list and preserve order","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]},"p":{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":1}],"mergingList":[{"name":4,"value":4},{"name":3,"$patch":"delete"}]},"r":{"mergingList":[{"name":4,"value":4},{"name":2,"value":2,"other":"b"},{"name":1,"other":"a"}]}}
{"d":"raw/two-way: set elements order in a list","o":{"mergingList":[{"name":1},{"name":3,"value":3},{"name":4,"value":4},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":3},{"name":1}]},"r":{"mergingList":[{"name":4,"value":4},{"name":2,"value":2},{"name":3,"value":3},{"name":1}]}}
{"d":"raw/three-way: set elements order in a list","o":{"mergingList":[{"name":1,"other":"a"},{"name":3,"value":3},{"name":4,"value":4},{"name":2,"value":2}]},"p":{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":3},{"name":1}]},"r":{"mergingList":[{"name":4,"value":4},{"name":2,"value":2},{"name":3,"value":3},{"name":1,"other":"a"}]}}
{"d":"raw/three-way: set elements order in a list with server-only items","o":{"mergingList":[{"name":1,"other":"a"},{"name":3,"value":3},{"name":4,"value":4},{"name":2,"value":2},{"name":9}]},"p":{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":3},{"name":1}]},"r":{"mergingList":[{"name":4,"value":4},{"name":2,"value":2},{"name":3,"value":3},{"name":1,"other":"a"},{"name":9}]}}
{"d":"raw/two-way: set elements order in a list with server-only items 2","o":{"mergingList":[{"name":1},{"name":2,"value":2},{"name":3,"value":3},{"name":4,"value":4}]},"p":{"$setElementOrder/mergingList":[{"name":2},{"name":1},{"name":4},{"name":3}]},"r":{"mergingList":[{"name":2,"value":2},{"name":1},{"name":4,"value":4},{"name":3,"value":3}]}}
{"d":"raw/three-way: set elements order in a list with server-only items 2","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2},{"name":9},{"name":3,"value":3},{"name":4,"value":4}]},"p":{"$setElementOrder/mergingList":[{"name":2},{"name":1},{"name":4},{"name":3}]},"r":{"mergingList":[{"name":2,"value":2},{"name":1,"other":"a"},{"name":9},{"name":4,"value":4},{"name":3,"value":3}]}}
{"d":"raw/three-way: set elements order in a list with server-only items 3","o":{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2},{"name":7},{"name":9},{"name":8},{"name":3,"value":3},{"name":4,"value":4}]},"p":{"$setElementOrder/mergingList":[{"name":2},{"name":1},{"name":4},{"name":3}]},"r":{"mergingList":[{"name":2,"value":2},{"name":1,"other":"a"},{"name":7},{"name":9},{"name":8},{"name":4,"value":4},{"name":3,"value":3}]}}
{"d":"raw/two-way: add multiple items in a int list and preserve order","o":{"mergingIntList":[1,2]},"p":{"$setElementOrder/mergingIntList":[1,4,2,3],"mergingIntList":[4,3]},"r":{"mergingIntList":[1,4,2,3]}}
{"d":"raw/two-way: delete an item in a int list and preserve order","o":{"mergingIntList":[1,3,2]},"p":{"$setElementOrder/mergingIntList":[2,1],"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"mergingIntList":[2,1]}}
{"d":"raw/two-way: add and delete an item in a int list and preserve order","o":{"mergingIntList":[1,3,2]},"p":{"$setElementOrder/mergingIntList":[4,2,1],"mergingIntList":[4],"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"mergingIntList":[4,2,1]}}
{"d":"raw/three-way: add and delete an item in a int list and preserve order","o":{"mergingIntList":[1,2,3]},"p":{"$setElementOrder/mergingIntList":[4,2,1],"mergingIntList":[4],"$deleteFromPrimitiveList/mergingIntList":[3]},"r":{"mergingIntList":[4,2,1]}}
{"d":"raw/two-way: set elements order in a int list","o":{"mergingIntList":[1,3,4,2]},"p":{"$setElementOrder/mergingIntList":[4,2,3,1]},"r":{"mergingIntList":[4,2,3,1]}}
{"d":"raw/three-way: set elements order in a int list with server-only items","o":{"mergingIntList":[1,3,4,2,9]},"p":{"$setElementOrder/mergingIntList":[4,2,3,1]},"r":{"mergingIntList":[4,2,3,1,9]}}
{"d":"raw/two-way: set elements order in a int list with server-only items 2","o":{"mergingIntList":[1,2,3,4]},"p":{"$setElementOrder/mergingIntList":[2,1,4,3]},"r":{"mergingIntList":[2,1,4,3]}}
{"d":"raw/three-way: set elements order in a int list with server-only items 2","o":{"mergingIntList":[1,2,9,3,4]},"p":{"$setElementOrder/mergingIntList":[2,1,4,3]},"r":{"mergingIntList":[2,1,9,4,3]}}
{"d":"raw/three-way: set elements order in a int list with server-only items 3","o":{"mergingIntList":[1,2,7,9,8,3,4]},"p":{"$setElementOrder/mergingIntList":[2,1,4,3]},"r":{"mergingIntList":[2,1,7,9,8,4,3]}}
{"d":"raw/two-way: behavior of set element order for a merging list with duplicate","o":{"mergingList":[{"name":1},{"name":2,"value":"dup1"},{"name":3},{"name":2,"value":"dup2"},{"name":4}]},"p":{"$setElementOrder/mergingList":[{"name":2},{"name":1},{"name":4},{"name":3},{"name":2}]},"r":{"mergingList":[{"name":2,"value":"dup1"},{"name":2,"value":"dup2"},{"name":1},{"name":4},{"name":3}]}}
{"d":"raw/two-way: behavior of set element order for a merging int list with duplicate","o":{"mergingIntList":[1,2,3,2,4]},"p":{"$setElementOrder/mergingIntList":[2,1,4,3,2]},"r":{"mergingIntList":[2,2,1,4,3]}}
{"d":"raw/two-way: retainKeys map should clear defaulted field","o":{},"p":{"retainKeysMap":{"other":"bar"}},"r":{"retainKeysMap":{"other":"bar"}}}
{"d":"raw/three-way: retainKeys map should clear defaulted field","o":{"retainKeysMap":{"value":"foo"}},"p":{"retainKeysMap":{"$retainKeys":["other"],"other":"bar"}},"r":{"retainKeysMap":{"other":"bar"}}}
{"d":"raw/two-way: retainKeys map should clear defaulted field with conflict (discriminated union)","o":{},"p":{"retainKeysMap":{"name":"type2","other":"bar"}},"r":{"retainKeysMap":{"name":"type2","other":"bar"}}}
{"d":"raw/three-way: retainKeys map should clear defaulted field with conflict (discriminated union)","o":{"retainKeysMap":{"name":"type1","value":"foo"}},"p":{"retainKeysMap":{"$retainKeys":["name","other"],"name":"type2","other":"bar"}},"r":{"retainKeysMap":{"name":"type2","other":"bar"}}}
{"d":"raw/two-way: retainKeys map adds a field","o":{"retainKeysMap":{"name":"foo"}},"p":{"retainKeysMap":{"$retainKeys":["name","value"],"value":"bar"}},"r":{"retainKeysMap":{"name":"foo","value":"bar"}}}
{"d":"raw/three-way: retainKeys map adds a field and clear a field","o":{"retainKeysMap":{"name":"foo","other":"a"}},"p":{"retainKeysMap":{"$retainKeys":["name","value"],"value":"bar"}},"r":{"retainKeysMap":{"name":"foo","value":"bar"}}}
{"d":"raw/two-way: retainKeys map deletes a field","o":{"retainKeysMap":{"name":"foo","value":"bar"}},"p":{"retainKeysMap":{"$retainKeys":["name"],"value":null}},"r":{"retainKeysMap":{"name":"foo"}}}
{"d":"raw/three-way: retainKeys map deletes a field and clears a field","o":{"retainKeysMap":{"name":"foo","value":"bar","other":"a"}},"p":{"retainKeysMap":{"$retainKeys":["name"],"value":null}},"r":{"retainKeysMap":{"name":"foo"}}}
{"d":"raw/two-way: retainKeys map clears a field","o":{"retainKeysMap":{"name":"foo","value":"bar"}},"p":{},"r":{"retainKeysMap":{"name":"foo","value":"bar"}}}
{"d":"raw/three-way: retainKeys map clears a field","o":{"retainKeysMap":{"name":"foo","value":"bar","other":"a"}},"p":{"retainKeysMap":{"$retainKeys":["name","value"]}},"r":{"retainKeysMap":{"name":"foo","value":"bar"}}}
{"d":"raw/two-way: retainKeys map nested map with no change","o":{"retainKeysMap":{"name":"foo","simpleMap":{"key1":"a"}}},"p":{"retainKeysMap":{"$retainKeys":["name","simpleMap","value"],"value":"bar"}},"r":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"a"}}}}
{"d":"raw/two-way: retainKeys map adds a field in a nested map","o":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"a"}}},"p":{"retainKeysMap":{"$retainKeys":["name","simpleMap","value"],"simpleMap":{"key2":"b"}}},"r":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"a","key2":"b"}}}}
{"d":"raw/three-way: retainKeys map adds a field in a nested map","o":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"a","key3":"c"}}},"p":{"retainKeysMap":{"$retainKeys":["name","simpleMap","value"],"simpleMap":{"key2":"b"}}},"r":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"a","key2":"b","key3":"c"}}}}
{"d":"raw/two-way: retainKeys map deletes a field in a nested map","o":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"a","key2":"b"}}},"p":{"retainKeysMap":{"$retainKeys":["name","simpleMap","value"],"simpleMap":{"key2":null}}},"r":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"a"}}}}
{"d":"raw/three-way: retainKeys map deletes a field in a nested map","o":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"a","key2":"b","key3":"c"}}},"p":{"retainKeysMap":{"$retainKeys":["name","simpleMap","value"],"simpleMap":{"key2":null}}},"r":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"a","key3":"c"}}}}
{"d":"raw/two-way: retainKeys map changes a field in a nested map","o":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"a","key2":"b"}}},"p":{"retainKeysMap":{"$retainKeys":["name","simpleMap","value"],"simpleMap":{"key1":"x"}}},"r":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"x","key2":"b"}}}}
{"d":"raw/three-way: retainKeys map changes a field in a nested map","o":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"a","key2":"b","key3":"c"}}},"p":{"retainKeysMap":{"$retainKeys":["name","simpleMap","value"],"simpleMap":{"key1":"x"}}},"r":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"x","key2":"b","key3":"c"}}}}
{"d":"raw/two-way: retainKeys map changes a field in a nested map with conflict","o":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"old","key2":"b"}}},"p":{"retainKeysMap":{"$retainKeys":["name","simpleMap","value"],"simpleMap":{"key1":"modified"}}},"r":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"modified","key2":"b"}}}}
{"d":"raw/three-way: retainKeys map changes a field in a nested map with conflict","o":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"new","key2":"b","key3":"c"}}},"p":{"retainKeysMap":{"$retainKeys":["name","simpleMap","value"],"simpleMap":{"key1":"modified"}}},"r":{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"modified","key2":"b","key3":"c"}}}}
{"d":"raw/two-way: retainKeys map replaces non-merging list","o":{"retainKeysMap":{"name":"foo","value":"bar","nonMergingList":[{"name":"a"},{"name":"b"}]}},"p":{"retainKeysMap":{"$retainKeys":["name","nonMergingList","value"],"nonMergingList":[{"name":"a"},{"name":"c"},{"name":"b"}]}},"r":{"retainKeysMap":{"name":"foo","value":"bar","nonMergingList":[{"name":"a"},{"name":"c"},{"name":"b"}]}}}
{"d":"raw/two-way: retainKeys map nested non-merging list with no change","o":{"retainKeysMap":{"name":"foo","nonMergingList":[{"name":"a"},{"name":"b"}]}},"p":{"retainKeysMap":{"$retainKeys":["name","nonMergingList","value"],"value":"bar"}},"r":{"retainKeysMap":{"name":"foo","value":"bar","nonMergingList":[{"name":"a"},{"name":"b"}]}}}
{"d":"raw/three-way: retainKeys map nested non-merging list with no change with conflict","o":{"retainKeysMap":{"name":"foo","nonMergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]}},"p":{"retainKeysMap":{"$retainKeys":["name","nonMergingList","value"],"value":"bar","nonMergingList":[{"name":"a"},{"name":"b"}]}},"r":{"retainKeysMap":{"name":"foo","value":"bar","nonMergingList":[{"name":"a"},{"name":"b"}]}}}
{"d":"raw/two-way: retainKeys map deletes nested non-merging list","o":{"retainKeysMap":{"name":"foo","nonMergingList":[{"name":"a"},{"name":"b"}]}},"p":{"retainKeysMap":{"$retainKeys":["name","value"],"value":"bar","nonMergingList":null}},"r":{"retainKeysMap":{"name":"foo","value":"bar"}}}
{"d":"raw/three-way: retainKeys map delete nested non-merging list with conflict","o":{"retainKeysMap":{"name":"foo","nonMergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]}},"p":{"retainKeysMap":{"$retainKeys":["name","value"],"value":"bar","nonMergingList":null}},"r":{"retainKeysMap":{"name":"foo","value":"bar"}}}
{"d":"raw/two-way: retainKeys map nested merging int list with no change","o":{"retainKeysMap":{"name":"foo","mergingIntList":[1,2]}},"p":{"retainKeysMap":{"$retainKeys":["mergingIntList","name","value"],"value":"bar"}},"r":{"retainKeysMap":{"name":"foo","value":"bar","mergingIntList":[1,2]}}}
{"d":"raw/three-way: retainKeys map nested merging int list with no change","o":{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3]}},"p":{"retainKeysMap":{"$retainKeys":["mergingIntList","name","value"],"$setElementOrder/mergingIntList":[1,2],"value":"bar"}},"r":{"retainKeysMap":{"name":"foo","value":"bar","mergingIntList":[1,2,3]}}}
{"d":"raw/two-way: retainKeys map adds an item in nested merging int list","o":{"retainKeysMap":{"name":"foo","mergingIntList":[1,2]}},"p":{"retainKeysMap":{"$setElementOrder/mergingIntList":[1,2,4],"$retainKeys":["mergingIntList","name"],"mergingIntList":[4]}},"r":{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,4]}}}
{"d":"raw/three-way: retainKeys map adds an item in nested merging int list","o":{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3]}},"p":{"retainKeysMap":{"$setElementOrder/mergingIntList":[1,2,4],"$retainKeys":["mergingIntList","name"],"mergingIntList":[4]}},"r":{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,4,3]}}}
{"d":"raw/two-way: retainKeys map deletes an item in nested merging int list","o":{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3]}},"p":{"retainKeysMap":{"$retainKeys":["mergingIntList","name"],"$deleteFromPrimitiveList/mergingIntList":[2],"$setElementOrder/mergingIntList":[1,3]}},"r":{"retainKeysMap":{"name":"foo","mergingIntList":[1,3]}}}
{"d":"raw/three-way: retainKeys map deletes an item in nested merging int list","o":{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3,4]}},"p":{"retainKeysMap":{"$retainKeys":["mergingIntList","name"],"$deleteFromPrimitiveList/mergingIntList":[2],"$setElementOrder/mergingIntList":[1,3]}},"r":{"retainKeysMap":{"name":"foo","mergingIntList":[1,3,4]}}}
{"d":"raw/two-way: retainKeys map adds an item and deletes an item in nested merging int list","o":{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3]}},"p":{"retainKeysMap":{"$retainKeys":["mergingIntList","name"],"mergingIntList":[5],"$deleteFromPrimitiveList/mergingIntList":[2],"$setElementOrder/mergingIntList":[1,3,5]}},"r":{"retainKeysMap":{"name":"foo","mergingIntList":[1,3,5]}}}
{"d":"raw/three-way: retainKeys map adds an item and deletes an item in nested merging int list","o":{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3,4]}},"p":{"retainKeysMap":{"$retainKeys":["mergingIntList","name"],"mergingIntList":[5],"$deleteFromPrimitiveList/mergingIntList":[2],"$setElementOrder/mergingIntList":[1,3,5]}},"r":{"retainKeysMap":{"name":"foo","mergingIntList":[1,3,5,4]}}}
{"d":"raw/two-way: retainKeys map deletes nested merging int list","o":{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3]}},"p":{"retainKeysMap":{"$retainKeys":["name"],"mergingIntList":null}},"r":{"retainKeysMap":{"name":"foo"}}}
{"d":"raw/two-way: retainKeys map nested merging list with no change","o":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"}]}},"p":{"retainKeysMap":{"$retainKeys":["mergingList","name","value"],"value":"bar"}},"r":{"retainKeysMap":{"name":"foo","value":"bar","mergingList":[{"name":"a"},{"name":"b"}]}}}
{"d":"raw/three-way: retainKeys map nested merging list with no change","o":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]}},"p":{"retainKeysMap":{"$retainKeys":["mergingList","name","value"],"$setElementOrder/mergingList":[{"name":"a"},{"name":"b"}],"value":"bar"}},"r":{"retainKeysMap":{"name":"foo","value":"bar","mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]}}}
{"d":"raw/two-way: retainKeys map adds an item in nested merging list","o":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"}]}},"p":{"retainKeysMap":{"$retainKeys":["mergingList","name"],"$setElementOrder/mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}],"mergingList":[{"name":"c"}]}},"r":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]}}}
{"d":"raw/three-way: retainKeys map adds an item in nested merging list","o":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"},{"name":"x"}]}},"p":{"retainKeysMap":{"$retainKeys":["mergingList","name"],"$setElementOrder/mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}],"mergingList":[{"name":"c"}]}},"r":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"x"}]}}}
{"d":"raw/two-way: retainKeys map changes an item in nested merging list","o":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b","value":"foo"}]}},"p":{"retainKeysMap":{"$retainKeys":["mergingList","name"],"$setElementOrder/mergingList":[{"name":"a"},{"name":"b"}],"mergingList":[{"name":"b","value":"bar"}]}},"r":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b","value":"bar"}]}}}
{"d":"raw/three-way: retainKeys map changes an item in nested merging list","o":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b","value":"foo"},{"name":"x"}]}},"p":{"retainKeysMap":{"$retainKeys":["mergingList","name"],"$setElementOrder/mergingList":[{"name":"a"},{"name":"b"}],"mergingList":[{"name":"b","value":"bar"}]}},"r":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b","value":"bar"},{"name":"x"}]}}}
{"d":"raw/two-way: retainKeys map deletes nested merging list","o":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"}]}},"p":{"retainKeysMap":{"$retainKeys":["name","value"],"value":"bar","mergingList":null}},"r":{"retainKeysMap":{"name":"foo","value":"bar"}}}
{"d":"raw/two-way: retainKeys map deletes an item in nested merging list","o":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"}]}},"p":{"retainKeysMap":{"$retainKeys":["mergingList","name"],"$setElementOrder/mergingList":[{"name":"a"}],"mergingList":[{"name":"b","$patch":"delete"}]}},"r":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"}]}}}
{"d":"raw/three-way: retainKeys map deletes an item in nested merging list","o":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"},{"name":"x"}]}},"p":{"retainKeysMap":{"$retainKeys":["mergingList","name"],"$setElementOrder/mergingList":[{"name":"a"}],"mergingList":[{"name":"b","$patch":"delete"}]}},"r":{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"x"}]}}}
{"d":"raw/two-way: retainKeys list of maps clears a field","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]},"p":{},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]}}
{"d":"raw/three-way: retainKeys list of maps clears a field","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a","other":"x"}]},"p":{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo"}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]}}
{"d":"raw/two-way: retainKeys list of maps clears a field with conflict","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"old"}]},"p":{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo","value":"modified"}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"modified"}]}}
{"d":"raw/three-way: retainKeys list of maps clears a field with conflict","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"new","other":"x"}]},"p":{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo","value":"modified"}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"modified"}]}}
{"d":"raw/two-way: retainKeys list of maps changes a field and clear a field","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"old"}]},"p":{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo","value":"new"}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"new"}]}}
{"d":"raw/three-way: retainKeys list of maps changes a field and clear a field","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"old","other":"x"}]},"p":{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo","value":"new"}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"new"}]}}
{"d":"raw/three-way: retainKeys list of maps changes a field and clear a field with conflict","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"modified","other":"x"}]},"p":{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo","value":"new"}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"new"}]}}
{"d":"raw/two-way: retainKeys list of maps adds a field","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo"}]},"p":{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo","value":"a"}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]}}
{"d":"raw/three-way: retainKeys list of maps adds a field and clear a field","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","other":"x"}]},"p":{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo","value":"a"}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]}}
{"d":"raw/two-way: retainKeys list of maps deletes a field","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]},"p":{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name"],"name":"foo","value":null}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo"}]}}
{"d":"raw/three-way: retainKeys list of maps deletes a field and clear a field","o":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a","other":"x"}]},"p":{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name"],"name":"foo","value":null}]},"r":{"retainKeysMergingList":[{"name":"bar"},{"name":"foo"}]}}
{"d":"raw/two-way: delete and reorder in one list, reorder in another","o":{"mergingList":[{"name":"a","value":"a"},{"name":"b","value":"b"}],"mergeItemPtr":[{"name":"c","value":"c"},{"name":"d","value":"d"}]},"p":{"$setElementOrder/mergingList":[{"name":"b"}],"$setElementOrder/mergeItemPtr":[{"name":"d"},{"name":"c"}],"mergingList":[{"$patch":"delete","name":"a"}]},"r":{"mergingList":[{"name":"b","value":"b"}],"mergeItemPtr":[{"name":"d","value":"d"},{"name":"c","value":"c"}]}}
{"d":"raw/two-way: replace RawExtension field, rest unchanched","o":{"name":"my-object","value":"some-value","other":"current-other","replacingItem":{"Some":"Generic","Yaml":"Inside","The":"RawExtension","Field":"Period"}},"p":{"mergingList":[{"name":1},{"name":2},{"name":3}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}},"r":{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":2},{"name":3}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}}}
{"d":"raw/three-way: replace RawExtension field, rest unchanched","o":{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":2},{"name":3}],"replacingItem":{"Some":"Generic","Yaml":"Inside","The":"RawExtension","Field":"Period"}},"p":{"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}},"r":{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":2},{"name":3}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}}}
{"d":"raw/two-way: replace RawExtension field and merge list","o":{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1}],"replacingItem":{"Some":"Generic","Yaml":"Inside","The":"RawExtension","Field":"Period"}},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":2}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}},"r":{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":2}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}}}
{"d":"raw/three-way: replace RawExtension field and merge list","o":{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":3}],"replacingItem":{"Some":"Generic","Yaml":"Inside","The":"RawExtension","Field":"Period"}},"p":{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":2}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}},"r":{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":2},{"name":3}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}}}
"#;

    #[test]
    fn upstream_patch_test_cases() {
        let schema = Schema::parse(MERGE_ITEM_TABLE);
        let root = Node::Ty("test.MergeItem");
        let mut count = 0;
        for line in UPSTREAM_CASES.lines().filter(|l| !l.trim().is_empty()) {
            let c: Value = serde_json::from_str(line).expect("case");
            let d = c["d"].as_str().unwrap_or_default();
            let got = apply_with_schema(&schema, root, &c["o"], &c["p"]);
            match (c.get("e").and_then(Value::as_str), got) {
                (Some(e), Err(err)) => assert!(err.message.contains(e), "{d}: {}", err.message),
                (Some(e), Ok(v)) => panic!("{d}: expected an error with {e:?}, got {v}"),
                (None, Ok(v)) => assert_eq!(v, c["r"], "{d}"),
                (None, Err(err)) => panic!("{d}: {err}"),
            }
            count += 1;
        }
        assert_eq!(count, 200);
    }

    #[test]
    fn upstream_unknown_field_cases() {
        // TestUnknownField: applying the two-way patches to `original` with MergeItem.
        let schema = Schema::parse(MERGE_ITEM_TABLE);
        let root = Node::Ty("test.MergeItem");
        let base =
            json!({"array": [1, 2, 3], "complex": {"nested": true}, "name": "foo", "scalar": true});
        let cases = [
            (base.clone(), json!({}), base.clone()),
            (
                base.clone(),
                json!({"complex_nullable": {"key": null}}),
                json!({"array": [1, 2, 3], "complex": {"nested": true}, "complex_nullable": {}, "name": "foo", "scalar": true}),
            ),
            (
                json!({}),
                json!({"complex": {"nested": null, "nested2": "foo"}}),
                json!({"complex": {"nested2": "foo"}}),
            ),
            (
                json!({"thing": null}),
                json!({"nested": {"value": 5}}),
                json!({"nested": {"value": 5}, "thing": null}),
            ),
            (
                json!({}),
                json!({"complex_nullable": [{"inner_one": {"key_one": "foo", "key_two": null}}]}),
                json!({"complex_nullable": [{"inner_one": {"key_one": "foo"}}]}),
            ),
            (
                json!({}),
                json!({"complex_nullable": ["key1", null, "key2"]}),
                json!({"complex_nullable": ["key1", null, "key2"]}),
            ),
            (
                json!({"name": "foo", "scalar": true, "complex": {"nested": true}, "array": [1, 2, 3]}),
                json!({"complex": null, "scalar": null}),
                json!({"array": [1, 2, 3], "name": "foo"}),
            ),
        ];
        for (original, patch, want) in cases {
            let got = apply_with_schema(&schema, root, &original, &patch);
            assert_eq!(got, Ok(want), "{patch}");
        }
        let err = apply_with_schema(&schema, root, &base, &json!({"complex": {"nested": false}}));
        assert_eq!(
            err.map_err(|e| e.message),
            Err(
                "unable to find api field in struct MergeItem for the json field \"complex\""
                    .into()
            )
        );
    }
}
