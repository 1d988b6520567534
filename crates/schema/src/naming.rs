//! Python names for database objects: class names with singularisation, enum
//! member names, and string literals quoted the way black writes them.

use std::collections::{BTreeMap, BTreeSet};

/// Irregular plurals that suffix rules get wrong.
const IRREGULAR: &[(&str, &str)] = &[
    ("people", "person"),
    ("children", "child"),
    ("men", "man"),
    ("women", "woman"),
    ("mice", "mouse"),
    ("geese", "goose"),
    ("feet", "foot"),
    ("teeth", "tooth"),
    ("data", "data"),
    ("series", "series"),
    ("species", "species"),
    ("news", "news"),
    ("status", "status"),
    ("analyses", "analysis"),
    ("indices", "index"),
    ("matrices", "matrix"),
    ("vertices", "vertex"),
];

/// The singular of an English plural noun: `organizations` → `organization`,
/// `properties` → `property`, `addresses` → `address`, `people` → `person`.
pub fn singularize(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    if let Some((_, s)) = IRREGULAR.iter().find(|(p, _)| *p == lower) {
        return (*s).to_string();
    }
    let strip = |n: usize, add: &str| format!("{}{add}", &word[..word.len() - n]);
    if lower.ends_with("ies") && lower.len() > 4 {
        strip(3, "y")
    } else if ["sses", "shes", "ches", "xes", "zes"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        strip(2, "")
    } else if lower.ends_with("ss") || lower.ends_with("us") || lower.ends_with("is") {
        word.to_string()
    } else if lower.ends_with('s') && lower.len() > 1 {
        strip(1, "")
    } else {
        word.to_string()
    }
}

/// `organization_type` → `OrganizationType`; anything not a letter or digit separates words.
pub fn pascal_case(name: &str) -> String {
    let mut out = String::new();
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() {
        out.push_str("Unnamed");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

/// Chooses unique class names for enums and relations.
///
/// A table `organizations` in `public` becomes `OrganizationRow`; in another
/// schema the schema is prefixed (`AuthUserRow`). Overrides (keyed by
/// qualified or bare name) win. Clashes get a numeric suffix, in name order.
pub struct ClassNames {
    names: BTreeMap<String, String>,
    collisions: Vec<Collision>,
}

/// A new object whose natural class name an existing object already has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collision {
    /// The new object: `enum:s.n` or `rel:s.n`.
    pub key: String,
    /// The name it would have had.
    pub wanted: String,
    /// The object that has it: `enum:s.n` or `rel:s.n`.
    pub holder: String,
    /// The name it got instead.
    pub chosen: String,
}

impl ClassNames {
    /// Names for the given enums and relations (qualified names, `(schema, name)`).
    /// `previous` (`enum:s.n` / `rel:s.n` → class) are the names the modules
    /// already use: an object keeps its class, so a new object never renames
    /// an existing one; it gets a numbered name and a [`Collision`].
    pub fn new(
        enums: &[(String, String)],
        relations: &[(String, String)],
        overrides: &BTreeMap<String, String>,
        previous: &BTreeMap<String, String>,
    ) -> ClassNames {
        let mut used = BTreeSet::new();
        let mut names = BTreeMap::new();
        let prefix = |schema: &str| {
            if schema == "public" || schema == "main" {
                String::new()
            } else {
                pascal_case(schema)
            }
        };
        // (key, wanted name, overridden?)
        let mut want: Vec<(String, String, bool)> = Vec::new();
        let mut enums = enums.to_vec();
        enums.sort();
        let mut relations = relations.to_vec();
        relations.sort();
        for (schema, name) in &enums {
            let q = format!("enum:{schema}.{name}");
            let o = overrides
                .get(&format!("{schema}.{name}"))
                .or_else(|| overrides.get(name));
            want.push((
                q,
                o.cloned()
                    .unwrap_or_else(|| prefix(schema) + &pascal_case(name)),
                o.is_some(),
            ));
        }
        for (schema, name) in &relations {
            let q = format!("rel:{schema}.{name}");
            let o = overrides
                .get(&format!("{schema}.{name}"))
                .or_else(|| overrides.get(name));
            want.push((
                q,
                o.cloned().unwrap_or_else(|| {
                    format!("{}{}Row", prefix(schema), pascal_case(&singularize(name)))
                }),
                o.is_some(),
            ));
        }
        let usable = |c: &str| is_identifier(c) && !RESERVED_CLASSES.contains(&c);
        for (key, _, overridden) in &want {
            match previous.get(key) {
                Some(p) if !overridden && usable(p) && used.insert(p.clone()) => {
                    names.insert(key.clone(), p.clone());
                }
                _ => {}
            }
        }
        let holder = |c: &str| previous.iter().find(|(_, v)| *v == c).map(|(k, _)| k);
        let mut collisions = Vec::new();
        for (key, base, _) in want {
            if names.contains_key(&key) {
                continue;
            }
            let base = python_identifier(&base);
            let mut candidate = base.clone();
            let mut n = 2;
            while used.contains(&candidate) || RESERVED_CLASSES.contains(&candidate.as_str()) {
                candidate = format!("{base}{n}");
                n += 1;
            }
            used.insert(candidate.clone());
            if let Some(h) = holder(&base).filter(|h| **h != key && names.contains_key(*h)) {
                collisions.push(Collision {
                    key: key.clone(),
                    wanted: base.clone(),
                    holder: h.clone(),
                    chosen: candidate.clone(),
                });
            }
            names.insert(key, candidate);
        }
        ClassNames { names, collisions }
    }

    /// New objects that did not get their natural name because an existing one has it.
    pub fn collisions(&self) -> &[Collision] {
        &self.collisions
    }

    /// The class for enum `schema.name`.
    pub fn enum_class(&self, qualified: &str) -> &str {
        &self.names[&format!("enum:{qualified}")]
    }

    /// The class for relation `schema.name`.
    pub fn relation_class(&self, qualified: &str) -> &str {
        &self.names[&format!("rel:{qualified}")]
    }
}

/// Names the generated modules import or define; a class must not shadow them.
const RESERVED_CLASSES: &[&str] = &[
    "Any",
    "Enum",
    "Final",
    "TypedDict",
    "NotRequired",
    "BaseModel",
    "Field",
    "UUID",
    "Decimal",
    "date",
    "datetime",
    "time",
    "timedelta",
    "IPv4Address",
    "IPv6Address",
    "IPv4Interface",
    "IPv6Interface",
    "IPv4Network",
    "IPv6Network",
    "ENUMS",
    "RELATIONS",
    "Json",
];

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Is `s` usable as a Python attribute / field name as it stands?
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && !KEYWORDS.contains(&s)
}

/// Make `s` a valid identifier (for class names from overrides).
fn python_identifier(s: &str) -> String {
    if is_identifier(s) {
        return s.to_string();
    }
    pascal_case(s)
}

/// Enum member names for labels: `for-profit` → `FOR_PROFIT`; unique, valid,
/// never starting with an underscore.
pub fn member_names(labels: &[String]) -> Vec<String> {
    let mut used = BTreeSet::new();
    labels
        .iter()
        .map(|label| {
            let mut s = String::new();
            for c in label.chars() {
                if c.is_ascii_alphanumeric() {
                    s.push(c.to_ascii_uppercase());
                } else if !s.ends_with('_') {
                    s.push('_');
                }
            }
            let mut s = s.trim_matches('_').to_string();
            if s.is_empty() {
                s = "VALUE".into();
            }
            if s.starts_with(|c: char| c.is_ascii_digit()) || KEYWORDS.contains(&s.as_str()) {
                s.insert_str(0, "V_");
            }
            let mut candidate = s.clone();
            let mut n = 2;
            while !used.insert(candidate.clone()) {
                candidate = format!("{s}_{n}");
                n += 1;
            }
            candidate
        })
        .collect()
}

/// A Python string literal, quoted as black would: double quotes unless that
/// needs more escapes than single quotes.
pub fn py_str(s: &str) -> String {
    let doubles = s.matches('"').count();
    let singles = s.matches('\'').count();
    let quote = if doubles > singles { '\'' } else { '"' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singularises_common_table_names() {
        for (p, s) in [
            ("organizations", "organization"),
            ("properties", "property"),
            ("addresses", "address"),
            ("boxes", "box"),
            ("matches", "match"),
            ("people", "person"),
            ("status", "status"),
            ("user", "user"),
            ("data", "data"),
            ("class", "class"),
        ] {
            assert_eq!(singularize(p), s, "{p}");
        }
    }

    #[test]
    fn class_names_are_unique_and_overridable() {
        let rels = vec![
            ("public".to_string(), "organizations".to_string()),
            ("public".to_string(), "organization".to_string()),
            ("auth".to_string(), "users".to_string()),
            ("public".to_string(), "people".to_string()),
        ];
        let enums = vec![("public".to_string(), "organization_type".to_string())];
        let mut o = BTreeMap::new();
        o.insert("people".to_string(), "Human".to_string());
        let n = ClassNames::new(&enums, &rels, &o, &BTreeMap::new());
        assert_eq!(n.enum_class("public.organization_type"), "OrganizationType");
        assert_eq!(n.relation_class("public.organizations"), "OrganizationRow2");
        assert_eq!(n.relation_class("public.organization"), "OrganizationRow");
        assert_eq!(n.relation_class("auth.users"), "AuthUserRow");
        assert_eq!(n.relation_class("public.people"), "Human");
    }

    #[test]
    fn member_names_are_valid_and_unique() {
        let labels: Vec<String> = ["for-profit", "for profit", "1st", "", "class"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            member_names(&labels),
            ["FOR_PROFIT", "FOR_PROFIT_2", "V_1ST", "VALUE", "CLASS"]
        );
    }

    #[test]
    fn strings_are_quoted_like_black() {
        assert_eq!(py_str("a"), "\"a\"");
        assert_eq!(py_str("say \"hi\""), "'say \"hi\"'");
        assert_eq!(py_str("it's"), "\"it's\"");
        assert_eq!(py_str("a\\b\n"), "\"a\\\\b\\n\"");
    }
}
