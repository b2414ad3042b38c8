//! Spec files: the short YAML documents users write (and full App/CronApp custom resources, so
//! `kubectl get app web -o yaml` can be fed back), loaded into the custom resources.
//!
//! A file holds one or more documents separated by `---`. A short document is the spec's fields
//! plus `kind` (default `App`), `name` and `namespace` at the top, and `from: ./file` in a
//! `configFiles` entry instead of `content` (the file is read, relative to the spec file).
//!
//! Each document is parsed twice: once into a generic tree that records the line of every key
//! (for `kind` detection and for lint findings that point at a field), once into the typed spec
//! through `serde_path_to_error`, so a type error names both its line and its field path.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_saphyr::{DefaultMessageFormatter, MessageFormatter, Spanned};

use crate::types::{
    App, AppSpec, Autoscaling, Concurrency, ConfigFile, CronApp, CronAppSpec, EnvironmentOverride,
    HealthCheck, Lifecycle, LogType, Metrics, PortSpec, Resources, Rollout, TlsSpec,
};

/// `apiVersion` of Berth's custom resources.
pub const API_VERSION: &str = "berth.dev/v1alpha1";

/// A spec file could not be read or does not hold valid specs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The file or directory could not be read.
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// The text is not well-formed YAML.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed YAML that is not a valid spec: `field` is the path of the offending field in
    /// the custom resource (`spec.ports[0].port`, `metadata.name`, `kind`).
    #[error("{}:{line}: {}{message}", path.display(), field_prefix(field))]
    Invalid {
        path: PathBuf,
        line: usize,
        field: String,
        message: String,
    },
}

/// `field: `, or nothing for an error about the whole document.
fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

impl SpecError {
    pub fn path(&self) -> &Path {
        match self {
            SpecError::Io { path, .. }
            | SpecError::Syntax { path, .. }
            | SpecError::Invalid { path, .. } => path,
        }
    }

    /// 1-based line, or 0 when the error is about the whole file.
    pub fn line(&self) -> usize {
        match self {
            SpecError::Io { .. } => 0,
            SpecError::Syntax { line, .. } | SpecError::Invalid { line, .. } => *line,
        }
    }

    /// Field path (`spec.ports[0].port`); empty for I/O and syntax errors.
    pub fn field(&self) -> &str {
        match self {
            SpecError::Invalid { field, .. } => field,
            _ => "",
        }
    }

    /// The message without location and field.
    pub fn message(&self) -> &str {
        match self {
            SpecError::Io { message, .. }
            | SpecError::Syntax { message, .. }
            | SpecError::Invalid { message, .. } => message,
        }
    }
}

/// A loaded document: the custom resource with its metadata filled in.
// Unboxed (App is ~1.3 kB, CronApp ~1 kB): a run holds a few documents, and plain variants
// are what the renderer, operator and CLI match on.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum SpecDoc {
    App(App),
    CronApp(CronApp),
}

impl SpecDoc {
    /// `App` or `CronApp`.
    pub fn kind(&self) -> &'static str {
        match self {
            SpecDoc::App(_) => "App",
            SpecDoc::CronApp(_) => "CronApp",
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            SpecDoc::App(a) => &a.metadata,
            SpecDoc::CronApp(c) => &c.metadata,
        }
    }

    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }
}

/// Lines of the fields of a document, keyed by field path in the custom resource
/// (`spec.ports[0].port`, `metadata.name`), whether the document was short or full.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldLines(BTreeMap<String, usize>);

impl FieldLines {
    /// Line of `field`, else of its nearest ancestor present in the document.
    pub fn line_of(&self, field: &str) -> Option<usize> {
        let mut key = field;
        loop {
            if let Some(line) = self.0.get(key) {
                return Some(*line);
            }
            key = parent_path(key)?;
        }
    }
}

/// `a.b[0].c` -> `a.b[0]` -> `a.b` -> `a` -> none.
fn parent_path(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '['])?;
    Some(&path[..cut])
}

/// A document of a spec file.
#[derive(Debug, Clone)]
pub struct LoadedDoc {
    pub path: PathBuf,
    /// 1-based line where the document's content starts.
    pub line: usize,
    pub doc: SpecDoc,
    /// Where each field of the document is.
    pub lines: FieldLines,
}

impl LoadedDoc {
    /// Line of `field` (see [`FieldLines::line_of`]), else the document's line.
    pub fn line_of(&self, field: &str) -> usize {
        self.lines.line_of(field).unwrap_or(self.line)
    }
}

/// Loads every document of `text`; `path` names the file in messages and anchors `from:`.
pub fn load_str(text: &str, path: &Path) -> Result<Vec<LoadedDoc>, SpecError> {
    load_str_each(text, path).into_iter().collect()
}

/// Loads a file, or every `*.yaml`/`*.yml` file under a directory (recursively, sorted by path).
pub fn load_path(path: &Path) -> Result<Vec<LoadedDoc>, SpecError> {
    let mut docs = Vec::new();
    for file in spec_files(path)? {
        tracing::debug!(file = %file.display(), "loading spec file");
        docs.extend(load_file(&file)?);
    }
    Ok(docs)
}

/// [`load_path`] over several paths, in order.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<LoadedDoc>, SpecError> {
    let mut docs = Vec::new();
    for path in paths {
        docs.extend(load_path(path)?);
    }
    Ok(docs)
}

pub(crate) fn load_file(file: &Path) -> Result<Vec<LoadedDoc>, SpecError> {
    load_str(&read_text(file)?, file)
}

pub(crate) fn read_text(file: &Path) -> Result<String, SpecError> {
    std::fs::read_to_string(file).map_err(|e| SpecError::Io {
        path: file.to_path_buf(),
        message: e.to_string(),
    })
}

/// The spec files `path` names: itself if it is a file, else the YAML files under it.
pub(crate) fn spec_files(path: &Path) -> Result<Vec<PathBuf>, SpecError> {
    let io = |p: &Path, e: std::io::Error| SpecError::Io {
        path: p.to_path_buf(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let entry = entry.map_err(|e| io(&dir, e))?;
            let p = entry.path();
            let file_type = entry.file_type().map_err(|e| io(&p, e))?;
            // Follow symlinks to directories like `ls -R` would not: a loop would never end.
            if file_type.is_dir() {
                pending.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Each document of `text` loaded on its own, so one bad document does not hide the others.
pub(crate) fn load_str_each(text: &str, path: &Path) -> Vec<Result<LoadedDoc, SpecError>> {
    split_documents(text)
        .into_iter()
        .filter_map(|chunk| load_chunk(&chunk, path).transpose())
        .collect()
}

/// A document's text, padded with blank lines so that YAML positions are positions in the file.
struct Chunk {
    padded: String,
}

/// Splits on `---` document markers (a line starting with `---` followed by a blank or nothing):
/// YAML forbids such a line inside a document, so this never cuts a scalar in two.
fn split_documents(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut start_line = 0usize;
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        let is_marker = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']));
        if is_marker && line_no > 0 {
            chunks.push(Chunk {
                padded: pad(start_line, &current),
            });
            current.clear();
            start_line = line_no;
        }
        current.push_str(line);
    }
    chunks.push(Chunk {
        padded: pad(start_line, &current),
    });
    chunks
}

fn pad(lines: usize, text: &str) -> String {
    let mut out = "\n".repeat(lines);
    out.push_str(text);
    out
}

/// Short or full form, App or CronApp.
enum Form {
    ShortApp,
    ShortCron,
    FullApp,
    FullCron,
}

fn load_chunk(chunk: &Chunk, path: &Path) -> Result<Option<LoadedDoc>, SpecError> {
    let text = chunk.padded.as_str();
    let tree: Option<Spanned<Node>> = serde_saphyr::from_str(text).map_err(|e| syntax(e, path))?;
    let Some(tree) = tree else {
        // Only comments, or an empty document between two markers.
        return Ok(None);
    };
    let doc_line = tree.referenced.line() as usize;
    let Node::Map(entries) = &tree.value else {
        if matches!(tree.value, Node::Scalar(None)) {
            return Ok(None);
        }
        return Err(SpecError::Invalid {
            path: path.to_path_buf(),
            line: doc_line,
            field: String::new(),
            message: "a spec document must be a mapping".into(),
        });
    };
    let scalar = |key: &str| {
        entries.iter().find_map(|(k, _, v)| match v {
            Node::Scalar(s) if k == key => s.clone(),
            _ => None,
        })
    };
    let full = entries
        .iter()
        .any(|(k, _, _)| matches!(k.as_str(), "apiVersion" | "metadata" | "spec"));
    let kind = scalar("kind");
    let invalid = |field: &str, message: String| SpecError::Invalid {
        path: path.to_path_buf(),
        line: entries
            .iter()
            .find(|(k, _, _)| k == field)
            .map_or(doc_line, |(_, line, _)| *line),
        field: field.to_string(),
        message,
    };
    let form = match (full, kind.as_deref()) {
        (false, None | Some("App")) => Form::ShortApp,
        (false, Some("CronApp")) => Form::ShortCron,
        (true, Some("App")) => Form::FullApp,
        (true, Some("CronApp")) => Form::FullCron,
        (true, None) => {
            return Err(invalid(
                "kind",
                "missing: a document with apiVersion/metadata/spec needs kind App or CronApp"
                    .into(),
            ));
        }
        (_, Some(other)) => {
            return Err(invalid(
                "kind",
                format!("unknown kind {other:?}, expected App or CronApp"),
            ));
        }
    };
    let short = matches!(form, Form::ShortApp | Form::ShortCron);
    let mut lines = BTreeMap::new();
    collect_lines(&tree.value, "", short, &mut lines);
    let lines = FieldLines(lines);
    let ctx = DocContext {
        path,
        tree: &tree.value,
        doc_line,
        lines: &lines,
        short,
    };
    let doc = match form {
        Form::ShortApp => {
            let short: ShortApp = typed(text, &ctx)?;
            short.into_doc(&ctx)?
        }
        Form::ShortCron => {
            let short: ShortCron = typed(text, &ctx)?;
            short.into_doc(&ctx)?
        }
        Form::FullApp => {
            let full: FullDoc<AppSpec> = typed(text, &ctx)?;
            let (metadata, spec) = full.check(&ctx)?;
            let mut app = App::new("", spec);
            app.metadata = metadata;
            SpecDoc::App(app)
        }
        Form::FullCron => {
            let full: FullDoc<CronAppSpec> = typed(text, &ctx)?;
            let (metadata, spec) = full.check(&ctx)?;
            let mut cron = CronApp::new("", spec);
            cron.metadata = metadata;
            SpecDoc::CronApp(cron)
        }
    };
    Ok(Some(LoadedDoc {
        path: path.to_path_buf(),
        line: doc_line,
        doc,
        lines,
    }))
}

struct DocContext<'a> {
    path: &'a Path,
    tree: &'a Node,
    doc_line: usize,
    lines: &'a FieldLines,
    short: bool,
}

impl DocContext<'_> {
    /// The custom resource's path of a field path in the document.
    fn resource_path(&self, doc_path: &str) -> String {
        if !self.short {
            return doc_path.to_string();
        }
        short_to_resource_path(doc_path)
    }

    fn invalid(&self, field: String, message: String) -> SpecError {
        SpecError::Invalid {
            path: self.path.to_path_buf(),
            line: self.lines.line_of(&field).unwrap_or(self.doc_line),
            field,
            message,
        }
    }
}

/// `ports[0].port` -> `spec.ports[0].port`; `name` -> `metadata.name`.
fn short_to_resource_path(doc_path: &str) -> String {
    let first_end = doc_path.find(['.', '[']).unwrap_or(doc_path.len());
    match &doc_path[..first_end] {
        "" => "spec".to_string(),
        "kind" => doc_path.to_string(),
        "name" | "namespace" => format!("metadata.{doc_path}"),
        _ => format!("spec.{doc_path}"),
    }
}

fn syntax(e: serde_saphyr::Error, path: &Path) -> SpecError {
    let location = e.location();
    SpecError::Syntax {
        path: path.to_path_buf(),
        line: location.map_or(0, |l| l.line() as usize),
        column: location.map_or(0, |l| l.column() as usize),
        message: bare_message(&e),
    }
}

fn bare_message(e: &serde_saphyr::Error) -> String {
    let message = DefaultMessageFormatter.format_message(e);
    // The parser's advice is for programmers, not for people writing spec files.
    message
        .trim_end_matches(", set DuplicateKeyPolicy in Options if acceptable")
        .to_string()
}

/// Deserializes the document into `T`, with the path of the failing field on error.
fn typed<T: de::DeserializeOwned>(text: &str, ctx: &DocContext<'_>) -> Result<T, SpecError> {
    let mut failed_path = None;
    let result = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            failed_path = Some(e.path().to_string());
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let doc_path = failed_path.unwrap_or_default();
        let doc_path = if doc_path == "." { "" } else { &doc_path };
        let field = ctx.resource_path(doc_path);
        let line = e
            .location()
            .map(|l| l.line() as usize)
            .filter(|l| *l > 0)
            .or_else(|| ctx.lines.line_of(&field))
            .unwrap_or(ctx.doc_line);
        let message = match e.without_snippet() {
            // The parser's own message lacks the value: `invalid i32`.
            serde_saphyr::Error::InvalidScalar { ty, .. } => match ctx.tree.scalar_at(doc_path) {
                Some(text) if text.parse::<f64>().is_ok() => {
                    format!("invalid value: {text}, expected {ty}")
                }
                Some(text) => format!("invalid type: string {text:?}, expected {ty}"),
                None => bare_message(&e),
            },
            _ => bare_message(&e),
        };
        SpecError::Invalid {
            path: ctx.path.to_path_buf(),
            line,
            field,
            message,
        }
    })
}

/// A generic YAML tree with the line of every mapping key and sequence item.
enum Node {
    Map(Vec<(String, usize, Node)>),
    Seq(Vec<(usize, Node)>),
    Scalar(Option<String>),
}

impl Node {
    /// The scalar at a serde_path_to_error path (`ports[0].port`).
    fn scalar_at(&self, path: &str) -> Option<&str> {
        let mut node = self;
        for part in path.split('.').filter(|p| !p.is_empty()) {
            let (key, indexes) = part.split_once('[').unwrap_or((part, ""));
            if !key.is_empty() {
                let Node::Map(entries) = node else {
                    return None;
                };
                node = entries
                    .iter()
                    .find(|(k, _, _)| k == key)
                    .map(|(_, _, v)| v)?;
            }
            for index in indexes.split('[').filter(|i| !i.is_empty()) {
                let index: usize = index.trim_end_matches(']').parse().ok()?;
                let Node::Seq(items) = node else {
                    return None;
                };
                node = items.get(index).map(|(_, v)| v)?;
            }
        }
        match node {
            Node::Scalar(Some(s)) => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Scalar(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push((item.referenced.line() as usize, item.value));
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Node>>()? {
            let value = map.next_value::<Node>()?;
            // Complex keys (mappings as keys) are kept out of the line map; typing refuses them.
            if let Node::Scalar(Some(k)) = key.value {
                entries.push((k, key.referenced.line() as usize, value));
            }
        }
        Ok(Node::Map(entries))
    }
}

/// Records the line of every key and item under `prefix` (paths as serde_path_to_error
/// prints them), translated to custom-resource paths for short documents.
fn collect_lines(node: &Node, prefix: &str, short: bool, out: &mut BTreeMap<String, usize>) {
    match node {
        Node::Map(entries) => {
            for (key, line, value) in entries {
                let path = if prefix.is_empty() {
                    if short {
                        short_to_resource_path(key)
                    } else {
                        key.clone()
                    }
                } else {
                    format!("{prefix}.{key}")
                };
                out.entry(path.clone()).or_insert(*line);
                collect_lines(value, &path, short, out);
            }
        }
        Node::Seq(items) => {
            for (i, (line, value)) in items.iter().enumerate() {
                let path = format!("{prefix}[{i}]");
                out.entry(path.clone()).or_insert(*line);
                collect_lines(value, &path, short, out);
            }
        }
        Node::Scalar(_) => {}
    }
}

/// A full custom resource document (`kubectl get -o yaml` output): status is ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FullDoc<S> {
    api_version: String,
    #[allow(dead_code)] // checked on the tree before typing
    kind: String,
    metadata: ObjectMeta,
    spec: S,
    #[serde(default)]
    #[allow(dead_code)]
    status: Option<IgnoredAny>,
}

impl<S> FullDoc<S> {
    fn check(self, ctx: &DocContext<'_>) -> Result<(ObjectMeta, S), SpecError> {
        if self.api_version != API_VERSION {
            return Err(ctx.invalid(
                "apiVersion".into(),
                format!(
                    "unsupported apiVersion {:?}, expected {API_VERSION}",
                    self.api_version
                ),
            ));
        }
        let mut metadata = self.metadata;
        if metadata.name.as_deref().is_none_or(str::is_empty) {
            return Err(ctx.invalid("metadata.name".into(), "missing field `name`".into()));
        }
        // Fields the API server owns: re-applying them would conflict (resourceVersion) or be
        // refused (managedFields in a server-side apply).
        metadata.managed_fields = None;
        metadata.resource_version = None;
        metadata.uid = None;
        metadata.creation_timestamp = None;
        metadata.deletion_timestamp = None;
        metadata.deletion_grace_period_seconds = None;
        metadata.generation = None;
        metadata.self_link = None;
        Ok((metadata, self.spec))
    }
}

/// `kind` of a short App document.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub(crate) enum AppKind {
    App,
}

/// `kind` of a short CronApp document.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub(crate) enum CronAppKind {
    CronApp,
}

/// A `configFiles` entry in a spec file: `content`, or `from` a local file.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["content"]}, {"required": ["from"]}]))]
pub(crate) struct ShortConfigFile {
    /// Absolute path in the container.
    pub path: String,
    /// File content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A local file read into `content`, relative to the spec file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

fn config_files(
    entries: Vec<ShortConfigFile>,
    ctx: &DocContext<'_>,
) -> Result<Vec<ConfigFile>, SpecError> {
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let field = format!("spec.configFiles[{i}]");
            let content = match (entry.content, entry.from) {
                (Some(content), None) => content,
                (None, Some(from)) => {
                    let base = ctx.path.parent().unwrap_or(Path::new(""));
                    let file = base.join(&from);
                    std::fs::read_to_string(&file).map_err(|e| {
                        ctx.invalid(
                            format!("{field}.from"),
                            format!("cannot read {}: {e}", file.display()),
                        )
                    })?
                }
                (Some(_), Some(_)) => {
                    return Err(ctx.invalid(
                        format!("{field}.from"),
                        "set either `content` or `from`, not both".into(),
                    ));
                }
                (None, None) => {
                    return Err(ctx.invalid(
                        field,
                        "missing field `content` (or `from` to read a local file)".into(),
                    ));
                }
            };
            Ok(ConfigFile {
                path: entry.path,
                content,
            })
        })
        .collect()
}

fn metadata(name: String, namespace: Option<String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace,
        ..Default::default()
    }
}

/// A short App document. Mirrors [`AppSpec`] field for field (the conversion below destructures
/// both, so a field added to `AppSpec` fails to compile here until it is mirrored).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "AppFile")]
pub(crate) struct ShortApp {
    /// `App` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AppKind>,
    /// Name of the App (a DNS-1123 label, at most 63 characters).
    pub name: String,
    /// Namespace (default: the current namespace of the CLI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_files: Vec<ShortConfigFile>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, EnvironmentOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_type: Option<LogType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub debug: bool,
}

impl ShortApp {
    fn into_doc(self, ctx: &DocContext<'_>) -> Result<SpecDoc, SpecError> {
        let ShortApp {
            kind: _,
            name,
            namespace,
            project,
            environment,
            runtime,
            image,
            entrypoint,
            command,
            args,
            working_dir,
            ports,
            replicas,
            resources,
            health,
            domain,
            tls,
            env,
            config_files: files,
            environments,
            lifecycle,
            metrics,
            log_type,
            autoscaling,
            rollout,
            debug,
        } = self;
        let spec = AppSpec {
            project,
            environment,
            runtime,
            image,
            entrypoint,
            command,
            args,
            working_dir,
            ports,
            replicas,
            resources,
            health,
            domain,
            tls,
            env,
            config_files: config_files(files, ctx)?,
            environments,
            lifecycle,
            metrics,
            log_type,
            autoscaling,
            rollout,
            debug,
        };
        let mut app = App::new(&name, spec);
        app.metadata = metadata(name, namespace);
        Ok(SpecDoc::App(app))
    }

    fn from_app(app: &App) -> ShortApp {
        let AppSpec {
            project,
            environment,
            runtime,
            image,
            entrypoint,
            command,
            args,
            working_dir,
            ports,
            replicas,
            resources,
            health,
            domain,
            tls,
            env,
            config_files,
            environments,
            lifecycle,
            metrics,
            log_type,
            autoscaling,
            rollout,
            debug,
        } = app.spec.clone();
        ShortApp {
            kind: None,
            name: app.metadata.name.clone().unwrap_or_default(),
            namespace: app.metadata.namespace.clone(),
            project,
            environment,
            runtime,
            image,
            entrypoint,
            command,
            args,
            working_dir,
            ports,
            replicas,
            resources,
            health,
            domain,
            tls,
            env,
            config_files: short_files(config_files),
            environments,
            lifecycle,
            metrics,
            log_type,
            autoscaling,
            rollout,
            debug,
        }
    }
}

fn short_files(files: Vec<ConfigFile>) -> Vec<ShortConfigFile> {
    files
        .into_iter()
        .map(|f| ShortConfigFile {
            path: f.path,
            content: Some(f.content),
            from: None,
        })
        .collect()
}

/// A short CronApp document; mirrors [`CronAppSpec`] like [`ShortApp`] mirrors [`AppSpec`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "CronAppFile")]
pub(crate) struct ShortCron {
    /// `CronApp`.
    pub kind: CronAppKind,
    /// Name of the CronApp (a DNS-1123 label, at most 52 characters).
    pub name: String,
    /// Namespace (default: the current namespace of the CLI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub schedule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_deadline_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspend: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_files: Vec<ShortConfigFile>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, EnvironmentOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_type: Option<LogType>,
}

impl ShortCron {
    fn into_doc(self, ctx: &DocContext<'_>) -> Result<SpecDoc, SpecError> {
        let ShortCron {
            kind: _,
            name,
            namespace,
            project,
            environment,
            schedule,
            time_zone,
            concurrency,
            starting_deadline_seconds,
            deadline_seconds,
            retries,
            suspend,
            runtime,
            image,
            entrypoint,
            command,
            args,
            working_dir,
            resources,
            env,
            config_files: files,
            environments,
            log_type,
        } = self;
        let spec = CronAppSpec {
            project,
            environment,
            schedule,
            time_zone,
            concurrency,
            starting_deadline_seconds,
            deadline_seconds,
            retries,
            suspend,
            runtime,
            image,
            entrypoint,
            command,
            args,
            working_dir,
            resources,
            env,
            config_files: config_files(files, ctx)?,
            environments,
            log_type,
        };
        let mut cron = CronApp::new(&name, spec);
        cron.metadata = metadata(name, namespace);
        Ok(SpecDoc::CronApp(cron))
    }

    fn from_cron(cron: &CronApp) -> ShortCron {
        let CronAppSpec {
            project,
            environment,
            schedule,
            time_zone,
            concurrency,
            starting_deadline_seconds,
            deadline_seconds,
            retries,
            suspend,
            runtime,
            image,
            entrypoint,
            command,
            args,
            working_dir,
            resources,
            env,
            config_files,
            environments,
            log_type,
        } = cron.spec.clone();
        ShortCron {
            kind: CronAppKind::CronApp,
            name: cron.metadata.name.clone().unwrap_or_default(),
            namespace: cron.metadata.namespace.clone(),
            project,
            environment,
            schedule,
            time_zone,
            concurrency,
            starting_deadline_seconds,
            deadline_seconds,
            retries,
            suspend,
            runtime,
            image,
            entrypoint,
            command,
            args,
            working_dir,
            resources,
            env,
            config_files: short_files(config_files),
            environments,
            log_type,
        }
    }
}

/// The short YAML of a document (what a user would write), config files inlined as `content`.
/// Labels and annotations of a full resource are not part of the short form and are dropped.
pub fn to_short_yaml(doc: &SpecDoc) -> String {
    let result = match doc {
        SpecDoc::App(app) => serde_saphyr::to_string(&ShortApp::from_app(app)),
        SpecDoc::CronApp(cron) => serde_saphyr::to_string(&ShortCron::from_cron(cron)),
    };
    // Serializing plain structs of strings, numbers and maps cannot fail; say so if it ever does.
    result.unwrap_or_else(|e| format!("# cannot serialize: {e}\n"))
}
