//! JSON Schema translated into the OpenAPI 3.0 subset Gemini's older `responseSchema`
//! slot takes, for models that do not read standard JSON Schema.

use serde_json::{json, Map, Value};

/// The keywords `responseSchema` (an OpenAPI 3.0 subset) knows. The API rejects a
/// request with any other (`Unknown name "additionalProperties"`), so the rest are dropped.
const OPENAPI_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// Translates a JSON Schema into the OpenAPI subset `responseSchema` takes:
/// - `type` is written in upper case; `["integer","null"]` becomes
///   `{"type":"INTEGER","nullable":true}`; several non-null types become an `anyOf`;
/// - `oneOf` becomes `anyOf`, and a `{"type":"null"}` branch becomes `nullable`;
/// - `enum` keeps its strings (a `null` member becomes `nullable`; an enum of other
///   values is dropped, since Gemini enums are strings); a string `const` becomes a
///   one-value `enum`;
/// - `format` is kept only where Gemini supports it (`enum`, `date-time`, `int32`,
///   `int64`, `float`, `double`);
/// - every keyword outside the subset (`additionalProperties`, `$schema`, `$ref`, …) is
///   dropped, recursively through `properties`, `items` and `anyOf`.
pub(super) fn to_openapi_schema(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        // `true` (anything) and other non-object schemas have no OpenAPI form.
        return json!({});
    };
    let mut out = Map::new();
    let mut nullable = false;
    match map.get("type") {
        Some(Value::String(t)) if t == "null" => nullable = true,
        Some(Value::String(t)) => {
            out.insert("type".into(), json!(t.to_uppercase()));
        }
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            nullable |= names.contains(&"null");
            let non_null: Vec<&str> = names.into_iter().filter(|t| *t != "null").collect();
            match non_null.as_slice() {
                [] => {}
                [one] => {
                    out.insert("type".into(), json!(one.to_uppercase()));
                }
                many => {
                    let branches: Vec<Value> = many.iter().map(|t| json!({"type": t.to_uppercase()})).collect();
                    out.insert("anyOf".into(), Value::Array(branches));
                }
            }
        }
        _ => {}
    }
    for (key, value) in map {
        match key.as_str() {
            "type" => {}
            "properties" => {
                if let Value::Object(props) = value {
                    let props: Map<String, Value> =
                        props.iter().map(|(k, v)| (k.clone(), to_openapi_schema(v))).collect();
                    out.insert("properties".into(), Value::Object(props));
                }
            }
            "items" => {
                // A draft-4 tuple (`items: [..]`) has no OpenAPI form; its first schema is
                // the closest.
                let item = match value {
                    Value::Array(items) => items.first().cloned().unwrap_or(json!({})),
                    other => other.clone(),
                };
                out.insert("items".into(), to_openapi_schema(&item));
            }
            "anyOf" | "oneOf" => {
                if let Value::Array(branches) = value {
                    let mut kept = Vec::new();
                    for branch in branches {
                        if branch.get("type").and_then(Value::as_str) == Some("null") {
                            nullable = true;
                        } else {
                            kept.push(to_openapi_schema(branch));
                        }
                    }
                    match kept.len() {
                        0 => {}
                        // `anyOf: [X, null]` is just a nullable X.
                        1 if !out.contains_key("type") => {
                            if let Value::Object(only) = kept.remove(0) {
                                for (k, v) in only {
                                    out.entry(k).or_insert(v);
                                }
                            }
                        }
                        _ => {
                            out.insert("anyOf".into(), Value::Array(kept));
                        }
                    }
                }
            }
            "enum" => {
                if let Value::Array(values) = value {
                    nullable |= values.iter().any(Value::is_null);
                    let non_null: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
                    if non_null.iter().all(|v| v.is_string()) && !non_null.is_empty() {
                        out.insert("enum".into(), Value::Array(non_null.into_iter().cloned().collect()));
                    }
                }
            }
            "const" if value.is_string() => {
                out.insert("enum".into(), json!([value]));
            }
            "nullable" => nullable |= value.as_bool() == Some(true),
            "format" => {
                if matches!(
                    value.as_str(),
                    Some("enum" | "date-time" | "int32" | "int64" | "float" | "double")
                ) {
                    out.insert("format".into(), value.clone());
                }
            }
            k if OPENAPI_KEYWORDS.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    if nullable {
        out.insert("nullable".into(), json!(true));
    }
    Value::Object(out)
}
