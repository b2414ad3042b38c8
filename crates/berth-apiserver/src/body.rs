//! Request bodies: media types, size limit, JSON and YAML decoding.

use berth_apimachinery::status::ApiError;
use serde_json::Value;

/// Kubernetes' limit on a request body (`MaxRequestBodyBytes`, 3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// The media types Berth reads request bodies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Json,
    Yaml,
    Protobuf,
    JsonPatch,
    MergePatch,
    StrategicMergePatch,
    ApplyPatch,
}

impl MediaType {
    pub fn parse(content_type: &str) -> Option<MediaType> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        Some(match essence.as_str() {
            "application/json" | "" => MediaType::Json,
            "application/yaml" | "application/x-yaml" | "text/yaml" => MediaType::Yaml,
            "application/vnd.kubernetes.protobuf" => MediaType::Protobuf,
            "application/json-patch+json" => MediaType::JsonPatch,
            "application/merge-patch+json" => MediaType::MergePatch,
            "application/strategic-merge-patch+json" => MediaType::StrategicMergePatch,
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
                MediaType::ApplyPatch
            }
            _ => return None,
        })
    }

    pub fn is_patch(self) -> bool {
        matches!(
            self,
            MediaType::JsonPatch
                | MediaType::MergePatch
                | MediaType::StrategicMergePatch
                | MediaType::ApplyPatch
        )
    }
}

/// Decodes a JSON document into a value, with Kubernetes' wording for syntax errors.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the object provided is unrecognized or malformed: {}",
            json_error_text(&e, bytes)
        ))
    })
}

fn json_error_text(e: &serde_json::Error, bytes: &[u8]) -> String {
    // Go reports the byte offset; serde_json reports line and column. Give both.
    let offset = bytes
        .split(|b| *b == b'\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum::<usize>()
        + e.column();
    format!("{e} (offset {offset})")
}

/// Decodes a YAML document (one object) into a JSON value.
pub fn parse_yaml(bytes: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("the YAML body is not valid UTF-8"))?;
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))
}

/// Decodes an object body (create, update) in JSON or YAML; it must be a JSON object.
pub fn parse_object(bytes: &[u8], media: MediaType) -> Result<Value, ApiError> {
    let v = match media {
        MediaType::Json | MediaType::MergePatch | MediaType::StrategicMergePatch => {
            parse_json(bytes)?
        }
        MediaType::Yaml | MediaType::ApplyPatch => parse_yaml(bytes)?,
        MediaType::Protobuf => {
            return Err(ApiError::unsupported_media_type(
                "application/vnd.kubernetes.protobuf",
            ));
        }
        MediaType::JsonPatch => parse_json(bytes)?,
    };
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the object provided is unrecognized or malformed: expected a JSON object",
        ));
    }
    Ok(v)
}
