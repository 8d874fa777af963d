//! JSON laid out for diffs: containers are indented down to a depth, below which each value is
//! written compactly on one line. Keys keep their order (the workspace enables serde_json's
//! `preserve_order`), so the output is as deterministic as the value.

use serde_json::Value;

pub fn to_string(value: &Value, depth: usize) -> String {
    let mut out = String::new();
    write(value, depth, 0, &mut out);
    out.push('\n');
    out
}

fn write(value: &Value, depth: usize, level: usize, out: &mut String) {
    let compact = |value: &Value| serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
    if level >= depth {
        out.push_str(&compact(value));
        return;
    }
    let indent = "  ".repeat(level + 1);
    let closing = "  ".repeat(level);
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (index, item) in items.iter().enumerate() {
                out.push_str(&indent);
                write(item, depth, level + 1, out);
                if index + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&closing);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push_str("{\n");
            for (index, (key, item)) in map.iter().enumerate() {
                out.push_str(&indent);
                out.push_str(&compact(&Value::String(key.clone())));
                out.push_str(": ");
                write(item, depth, level + 1, out);
                if index + 1 < map.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&closing);
            out.push('}');
        }
        other => out.push_str(&compact(other)),
    }
}
