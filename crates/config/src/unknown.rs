//! Keys the configuration's schema does not know — every one of them, with
//! its position, before serde (which stops at the first) reads the file.

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// A key its mapping does not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// The mapping's path (`["defaults"]`, `["safety", "pre_sync_checks", "0"]`).
    pub path: Vec<String>,
    /// The key.
    pub key: String,
    /// The keys the mapping takes, in schema order.
    pub valid: Vec<String>,
}

/// Every key of `doc` that `schema` (a JSON Schema with `$ref`s into its
/// `$defs`, as schemars writes it) does not allow, in document order.
pub fn unknown_keys(doc: &Yaml, schema: &Json) -> Vec<UnknownKey> {
    let mut out = Vec::new();
    walk(doc, schema, schema, &mut Vec::new(), &mut out);
    out
}

/// `doc` without the keys in `unknown`.
pub fn strip(doc: &mut Yaml, unknown: &[UnknownKey]) {
    for u in unknown {
        remove(doc, &u.path, &u.key);
    }
}

fn remove(doc: &mut Yaml, path: &[String], key: &str) {
    match path.split_first() {
        None => {
            if let Yaml::Mapping(m) = doc {
                m.remove(key);
            }
        }
        Some((step, rest)) => {
            let next = match doc {
                Yaml::Mapping(m) => m.get_mut(step.as_str()),
                Yaml::Sequence(s) => step.parse::<usize>().ok().and_then(|i| s.get_mut(i)),
                _ => None,
            };
            if let Some(n) = next {
                remove(n, rest, key);
            }
        }
    }
}

/// The schema behind a `$ref`, and the object alternative of an
/// `anyOf`/`oneOf` (an optional mapping is `anyOf: [{$ref}, {type: null}]`).
fn resolve<'a>(s: &'a Json, root: &'a Json, doc: &Yaml) -> &'a Json {
    if let Some(r) = s.get("$ref").and_then(Json::as_str) {
        let target = r
            .strip_prefix("#/")
            .map(|p| p.split('/').try_fold(root, |v, k| v.get(k)));
        if let Some(Some(t)) = target {
            return resolve(t, root, doc);
        }
    }
    for alt in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(alt).and_then(Json::as_array) {
            let want = match doc {
                Yaml::Mapping(_) => "object",
                Yaml::Sequence(_) => "array",
                _ => return s,
            };
            for a in alts {
                let a = resolve(a, root, doc);
                if a.get("type").is_some_and(|t| type_has(t, want)) {
                    return a;
                }
            }
        }
    }
    s
}

fn type_has(t: &Json, want: &str) -> bool {
    match t {
        Json::String(s) => s == want,
        Json::Array(a) => a.iter().any(|x| x.as_str() == Some(want)),
        _ => false,
    }
}

fn walk(doc: &Yaml, s: &Json, root: &Json, path: &mut Vec<String>, out: &mut Vec<UnknownKey>) {
    let s = resolve(s, root, doc);
    match doc {
        Yaml::Mapping(m) => {
            let props = s.get("properties").and_then(Json::as_object);
            let extra = s.get("additionalProperties");
            for (k, v) in m {
                let Some(key) = k.as_str() else { continue };
                if let Some(p) = props.and_then(|p| p.get(key)) {
                    path.push(key.to_string());
                    walk(v, p, root, path, out);
                    path.pop();
                } else if extra == Some(&Json::Bool(false)) {
                    out.push(UnknownKey {
                        path: path.clone(),
                        key: key.to_string(),
                        valid: props.map_or_else(Vec::new, |p| p.keys().cloned().collect()),
                    });
                } else if let Some(e) = extra.filter(|e| e.is_object()) {
                    path.push(key.to_string());
                    walk(v, e, root, path, out);
                    path.pop();
                }
            }
        }
        Yaml::Sequence(items) => {
            if let Some(item) = s.get("items") {
                for (i, x) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(x, item, root, path, out);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_unknown_key_through_refs_maps_and_lists() {
        let doc: Yaml = serde_yaml::from_str(
            "version: '1.0'\nbogus: 1\ndefaults:\n  dry_run: true\n  idempotnt: true\ntargets:\n  a:\n    run: x\n    frobnicate: 2\nsafety:\n  pre_sync_checks:\n    - { name: x, colour: red }\n",
        )
        .unwrap();
        let found: Vec<(Vec<String>, String)> = unknown_keys(&doc, &crate::json_schema())
            .into_iter()
            .map(|u| (u.path, u.key))
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            found,
            [
                (s(&[]), "bogus".to_string()),
                (s(&["defaults"]), "idempotnt".to_string()),
                (s(&["targets", "a"]), "frobnicate".to_string()),
                (s(&["safety", "pre_sync_checks", "0"]), "colour".to_string()),
            ]
        );
        let mut doc = doc;
        let keys = unknown_keys(&doc, &crate::json_schema());
        strip(&mut doc, &keys);
        assert!(unknown_keys(&doc, &crate::json_schema()).is_empty());
    }
}
