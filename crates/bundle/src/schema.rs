//! A JSON Schema validator for the subset of keywords driftsync's own schemas
//! use (`type`, `required`, `properties`, `additionalProperties`, `items`,
//! `minLength`, `minItems`, `uniqueItems`, `enum`), applied to a positioned
//! YAML tree so every problem has a line and a column.

use serde_json::Value as Json;

use crate::yaml::{Node, NodeValue};

/// One schema violation at a position in the YAML file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// The JSON type a YAML node has (plain scalars are typed as YAML 1.2 core reads them).
pub fn json_type(node: &Node) -> &'static str {
    match &node.value {
        NodeValue::Map(_) => "object",
        NodeValue::Seq(_) => "array",
        NodeValue::Scalar(_, true) => "string",
        NodeValue::Scalar(s, false) => match s.as_str() {
            "" | "~" | "null" | "Null" | "NULL" => "null",
            "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => "boolean",
            s if s.parse::<i64>().is_ok() => "integer",
            s if s.parse::<f64>().is_ok() && s.chars().any(|c| c.is_ascii_digit()) => "number",
            _ => "string",
        },
    }
}

/// Check `node` against `schema`, appending problems; `at` names the path for messages.
pub fn validate(schema: &Json, node: &Node, at: &str, out: &mut Vec<Problem>) {
    let ty = json_type(node);
    if let Some(want) = schema.get("type") {
        let allowed: Vec<&str> = match want {
            Json::String(s) => vec![s.as_str()],
            Json::Array(a) => a.iter().filter_map(Json::as_str).collect(),
            _ => vec![],
        };
        let ok = allowed.contains(&ty) || (ty == "integer" && allowed.contains(&"number"));
        if !ok {
            let hint = if allowed.contains(&"string") && ty != "object" && ty != "array" {
                " (quote the value)"
            } else {
                ""
            };
            problem(
                out,
                node,
                format!("{at}: expected {}, found {ty}{hint}", allowed.join(" or ")),
            );
            return;
        }
    }
    if let Some(values) = schema.get("enum").and_then(Json::as_array) {
        let text = node.as_str().unwrap_or("");
        if !values.iter().any(|v| v.as_str() == Some(text)) {
            let list: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            problem(
                out,
                node,
                format!("{at}: must be one of {}", list.join(", ")),
            );
        }
    }
    match &node.value {
        NodeValue::Scalar(s, _) => {
            if let Some(min) = schema.get("minLength").and_then(Json::as_u64) {
                if (s.chars().count() as u64) < min {
                    problem(
                        out,
                        node,
                        format!("{at}: must be at least {min} characters"),
                    );
                }
            }
        }
        NodeValue::Seq(items) => {
            if let Some(min) = schema.get("minItems").and_then(Json::as_u64) {
                if (items.len() as u64) < min {
                    problem(out, node, format!("{at}: must list at least {min} item(s)"));
                }
            }
            let unique = schema.get("uniqueItems").and_then(Json::as_bool) == Some(true);
            for (i, item) in items.iter().enumerate() {
                if unique
                    && items[..i]
                        .iter()
                        .any(|prev| prev.value == item.value && item.as_str().is_some())
                {
                    problem(
                        out,
                        item,
                        format!("{at}[{i}]: duplicate of an earlier item"),
                    );
                }
                if let Some(sub) = schema.get("items") {
                    validate(sub, item, &format!("{at}[{i}]"), out);
                }
            }
        }
        NodeValue::Map(pairs) => {
            let props = schema.get("properties").and_then(Json::as_object);
            let closed = schema.get("additionalProperties") == Some(&Json::Bool(false));
            for req in schema
                .get("required")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
            {
                if node.get(req).is_none() {
                    problem(out, node, format!("{at}: missing required key `{req}`"));
                }
            }
            for (k, v) in pairs {
                let key = k.as_str().unwrap_or("");
                match props.and_then(|p| p.get(key)) {
                    Some(sub) => validate(sub, v, &join(at, key), out),
                    None if closed => {
                        let known: Vec<&str> = props
                            .map(|p| p.keys().map(String::as_str).collect())
                            .unwrap_or_default();
                        problem(
                            out,
                            k,
                            format!(
                                "{}: unknown key; expected one of {}",
                                join(at, key),
                                known.join(", ")
                            ),
                        );
                    }
                    None => {}
                }
            }
        }
    }
}

fn problem(out: &mut Vec<Problem>, n: &Node, message: String) {
    out.push(Problem {
        line: n.line,
        col: n.col,
        message,
    });
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}
