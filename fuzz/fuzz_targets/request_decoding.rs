//! Fuzzes everything the API server does with untrusted request bytes before storage: URL path
//! parsing, media types, JSON/YAML/protobuf body decoding, patch parsing, selector parsing, and
//! typed decoding of built-in kinds. None of it may panic.
#![no_main]

use berth_apimachinery::builtin::{self, FieldValidation};
use berth_apimachinery::resources::builtin_resources;
use berth_apimachinery::selectors::{FieldSelector, LabelSelector};
use berth_apiserver::body::{self, MediaType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if let Ok(text) = std::str::from_utf8(rest) {
        let _ = berth_apiserver::request::parse(text);
        let _ = MediaType::parse(text);
        let _ = LabelSelector::parse(text);
        let _ = FieldSelector::parse(text);
    }
    let _ = berth_apimachinery::protobuf::decode(rest);
    let media = match selector % 4 {
        0 => MediaType::Json,
        1 => MediaType::Yaml,
        2 => MediaType::MergePatch,
        _ => MediaType::ApplyPatch,
    };
    if let Ok(obj) = body::parse_object(rest, media) {
        let resources = builtin_resources();
        let info = &resources[usize::from(selector) % resources.len()];
        for v in [FieldValidation::Strict, FieldValidation::Warn, FieldValidation::Ignore] {
            let _ = builtin::decode(info, obj.clone(), v);
        }
    }
});
