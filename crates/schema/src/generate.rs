//! Generate the Python modules: `enums.py`, `tables.py`, `__init__.py`.
//!
//! Deterministic (a function of the model and the options only), formatted
//! the way black formats it (double quotes, magic trailing commas, two blank
//! lines around classes, lines within 88 columns where black could fold them),
//! and readable back by [`crate::pyread`] into the same model.

use std::collections::BTreeMap;
use std::fmt::Write;

use driftsync_core::schema::{Column, ColumnValue, DbSchema, Relation, RelationKind};

use crate::naming::{is_identifier, py_str, ClassNames};
use crate::pytypes::{nullable, Dialect, Imports, TypeMapper};

/// Black's default line length.
pub const LINE_LENGTH: usize = 88;

/// File names inside the local directory.
pub const ENUMS_FILE: &str = "enums.py";
/// The row-types module.
pub const TABLES_FILE: &str = "tables.py";
/// Domains, composite types, sequences and functions.
pub const OBJECTS_FILE: &str = "objects.py";
/// The package marker.
pub const INIT_FILE: &str = "__init__.py";
/// The version module.
pub const VERSION_FILE: &str = "schema_version.py";

/// How to name and type the generated code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Class-name overrides, keyed by `schema.name` or bare `name`.
    pub class_names: BTreeMap<String, String>,
    /// Python type overrides, keyed by database type name (`citext`, `public.email`).
    pub type_overrides: BTreeMap<String, String>,
    /// The class names the modules already use (`enum:s.n` / `rel:s.n` →
    /// class): kept, so a new object never renames an existing class.
    pub previous_class_names: BTreeMap<String, String>,
    /// Which classes per table beside the row type (default: the row only).
    pub variants: Variants,
    /// How row types are written (default: `TypedDict`).
    pub style: Style,
}

/// Supabase-style write types per table, beside the row type: `…Insert`
/// (`NotRequired` for a column with a default, an identity `BY DEFAULT` or
/// that is nullable) and `…Update` (every field `NotRequired`). Columns the
/// database writes itself (`GENERATED ALWAYS AS IDENTITY`, generated
/// columns) are left out of both. Views get the row type only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Variants {
    /// Write `…Insert` TypedDicts.
    pub insert: bool,
    /// Write `…Update` TypedDicts.
    pub update: bool,
}

/// A write variant of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Variant {
    /// What an `INSERT` takes.
    Insert,
    /// What an `UPDATE … SET` takes.
    Update,
}

impl Variant {
    /// `insert` / `update`, as in RELATIONS and the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Insert => "insert",
            Variant::Update => "update",
        }
    }

    /// The class-name suffix: `Insert` / `Update`.
    pub fn suffix(self) -> &'static str {
        match self {
            Variant::Insert => "Insert",
            Variant::Update => "Update",
        }
    }

    /// Parse [`Variant::as_str`].
    pub fn parse(s: &str) -> Option<Variant> {
        match s {
            "insert" => Some(Variant::Insert),
            "update" => Some(Variant::Update),
            _ => None,
        }
    }
}

impl Variants {
    /// The variants asked for, in order.
    pub fn list(self) -> Vec<Variant> {
        let mut v = Vec::new();
        if self.insert {
            v.push(Variant::Insert);
        }
        if self.update {
            v.push(Variant::Update);
        }
        v
    }
}

/// How row types are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// `class XRow(TypedDict)`.
    #[default]
    TypedDict,
    /// `class XRow(BaseModel)` (pydantic v2); columns whose names are not
    /// plain attribute names get `Field(alias="…")`.
    Pydantic,
}

/// The class of a table's variant: the row class without `Row`, plus
/// `Insert` / `Update` (`OrganizationRow` → `OrganizationInsert`).
pub fn variant_class(row_class: &str, variant: Variant) -> String {
    let base = row_class
        .strip_suffix("Row")
        .filter(|b| !b.is_empty())
        .unwrap_or(row_class);
    format!("{base}{}", variant.suffix())
}

/// Does a relation get write variants? Tables, partitioned and foreign tables; not views.
pub fn has_variants(rel: &Relation) -> bool {
    !matches!(
        rel.kind,
        RelationKind::View | RelationKind::MaterializedView
    )
}

/// The fields of `variant` for `rel`: (column, annotation), in column
/// order; `annotate` gives a column's row annotation (with `| None`).
pub fn variant_fields(
    rel: &Relation,
    variant: Variant,
    mut annotate: impl FnMut(&Column) -> String,
) -> Vec<(String, String)> {
    rel.columns
        .iter()
        .filter(|c| {
            !matches!(
                c.value,
                Some(ColumnValue::IdentityAlways | ColumnValue::Generated(_))
            )
        })
        .map(|c| {
            let ann = annotate(c);
            let optional = variant == Variant::Update || c.nullable || c.value.is_some();
            let ann = if optional {
                format!("NotRequired[{ann}]")
            } else {
                ann
            };
            (c.name.clone(), ann)
        })
        .collect()
}

/// One variant class: which, its name, its fields (column, annotation).
pub type VariantSpec = (Variant, String, Vec<(String, String)>);

/// Every variant class `options` asks for: relation → (variant, class, fields).
pub fn variant_annotations(
    schema: &DbSchema,
    options: &Options,
    dialect: Dialect,
) -> BTreeMap<String, Vec<VariantSpec>> {
    let names = class_names(schema, options);
    let mapper = TypeMapper {
        dialect,
        schema,
        names: &names,
        overrides: &options.type_overrides,
    };
    let mut imports = Imports::default();
    let mut out = BTreeMap::new();
    for (q, rel) in &schema.relations {
        if !has_variants(rel) {
            continue;
        }
        let row = names.relation_class(q);
        let list: Vec<_> = options
            .variants
            .list()
            .into_iter()
            .map(|v| {
                let fields = variant_fields(rel, v, |c| {
                    nullable(
                        &mapper.annotation(&c.type_ref, &c.data_type, &mut imports),
                        c.nullable,
                    )
                });
                (v, variant_class(row, v), fields)
            })
            .collect();
        if !list.is_empty() {
            out.insert(q.clone(), list);
        }
    }
    out
}

/// BaseModel attributes a pydantic field must not shadow.
const PYDANTIC_RESERVED: &[&str] = &[
    "construct",
    "copy",
    "dict",
    "json",
    "schema",
    "schema_json",
    "validate",
    "fields",
    "from_orm",
    "parse_obj",
    "parse_raw",
    "parse_file",
    "update_forward_refs",
];

/// The attribute names of a pydantic row: a column's own name when it can
/// be one, else an identifier (with `Field(alias=…)` giving the column).
fn pydantic_attributes(columns: &[Column]) -> Vec<(String, Option<String>)> {
    let mut used = std::collections::BTreeSet::new();
    let plain = |n: &str| {
        is_class_field(n)
            && !n.starts_with('_')
            && !n.starts_with("model_")
            && !PYDANTIC_RESERVED.contains(&n)
    };
    let mut out: Vec<(String, Option<String>)> = columns
        .iter()
        .map(|c| {
            if plain(&c.name) {
                used.insert(c.name.clone());
                (c.name.clone(), None)
            } else {
                (String::new(), Some(c.name.clone()))
            }
        })
        .collect();
    for (attr, alias) in out.iter_mut() {
        let Some(name) = alias else { continue };
        let mut base: String = name
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() {
                    ch.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect::<String>()
            .trim_matches('_')
            .to_string();
        if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) || !plain(&base) {
            base = format!("field_{base}");
        }
        let mut candidate = base.clone();
        while used.contains(&candidate) || !plain(&candidate) {
            candidate.push('_');
        }
        used.insert(candidate.clone());
        *attr = candidate;
    }
    out
}

/// Can `name` be a field in class syntax? Not a keyword or other non-identifier,
/// and not `__private` (Python would mangle it to `_Class__private`).
pub fn is_class_field(name: &str) -> bool {
    is_identifier(name) && (!name.starts_with("__") || name.ends_with("__"))
}

/// Class names for every enum and relation of `schema`.
pub fn class_names(schema: &DbSchema, options: &Options) -> ClassNames {
    let enums: Vec<(String, String)> = schema
        .enums
        .values()
        .map(|e| (e.schema.clone(), e.name.clone()))
        .collect();
    let rels: Vec<(String, String)> = schema
        .relations
        .values()
        .map(|r| (r.schema.clone(), r.name.clone()))
        .collect();
    ClassNames::new(
        &enums,
        &rels,
        &options.class_names,
        &options.previous_class_names,
    )
}

/// How a field's `# sql:` comment marks a NOT NULL column (after the type).
pub const NOT_NULL: &str = " not null";

/// The comment that records a column's database facts:
/// `sql: integer not null; default: 0`. It records what the database said, so
/// a hand edit of the annotation is told apart from a database change.
pub fn column_comment(c: &Column) -> String {
    let mut s = format!("sql: {}", c.data_type);
    if !c.nullable {
        s.push_str(NOT_NULL);
    }
    if let Some(coll) = &c.collation {
        let _ = write!(s, "; collate: {coll}");
    }
    if let Some(v) = &c.value {
        let _ = write!(s, "; {}", v.describe());
    }
    s
}

/// The expected annotation (with `| None`) of every column, keyed `relation.column`.
pub fn annotations(
    schema: &DbSchema,
    options: &Options,
    dialect: Dialect,
) -> BTreeMap<String, String> {
    let names = class_names(schema, options);
    let mapper = TypeMapper {
        dialect,
        schema,
        names: &names,
        overrides: &options.type_overrides,
    };
    let mut imports = Imports::default();
    let mut out = BTreeMap::new();
    for (q, rel) in &schema.relations {
        for c in &rel.columns {
            let ann = mapper.annotation(&c.type_ref, &c.data_type, &mut imports);
            out.insert(format!("{q}.{}", c.name), nullable(&ann, c.nullable));
        }
    }
    out
}

/// Every generated module but the version file: file name → content.
pub fn generate(
    schema: &DbSchema,
    options: &Options,
    dialect: Dialect,
) -> BTreeMap<String, String> {
    let names = class_names(schema, options);
    let mut files = BTreeMap::new();
    files.insert(
        INIT_FILE.to_string(),
        "\"\"\"Typed mirror of the database schema, generated by driftsync.\"\"\"\n".to_string(),
    );
    files.insert(ENUMS_FILE.to_string(), enums_module(schema, &names));
    files.insert(OBJECTS_FILE.to_string(), objects_module(schema));
    files.insert(
        TABLES_FILE.to_string(),
        tables_module(schema, options, dialect, &names),
    );
    files
}

fn enums_module(schema: &DbSchema, names: &ClassNames) -> String {
    let mut out = String::from(
        "\"\"\"Database enums. Generated by `driftsync schema update`: do not edit by hand.\"\"\"\n\n\
         from enum import Enum\nfrom typing import Final\n",
    );
    for (q, e) in &schema.enums {
        let class = names.enum_class(q);
        let _ = write!(
            out,
            "\n\nclass {class}(str, Enum):\n    {}\n",
            docstring(&format!("Enum {q}."))
        );
        if !e.labels.is_empty() {
            out.push('\n');
        }
        for (member, label) in crate::naming::member_names(&e.labels).iter().zip(&e.labels) {
            let _ = writeln!(out, "    {member} = {}", py_str(label));
        }
    }
    out.push_str(if schema.enums.is_empty() {
        "\n"
    } else {
        "\n\n"
    });
    if schema.enums.is_empty() {
        out.push_str("ENUMS: Final[dict[str, type[Enum]]] = {}\n");
    } else {
        out.push_str("ENUMS: Final[dict[str, type[Enum]]] = {\n");
        for q in schema.enums.keys() {
            let _ = writeln!(out, "    {}: {},", py_str(q), names.enum_class(q));
        }
        out.push_str("}\n");
    }
    out
}

fn objects_module(schema: &DbSchema) -> String {
    let mut out = String::from(
        "\"\"\"Database domains, composite types, sequences and functions. Generated by `driftsync schema update`: do not edit by hand.\"\"\"\n\n\
         from typing import Final\n\n",
    );
    if schema.objects.is_empty() {
        out.push_str("OBJECTS: Final[dict[str, list[str]]] = {}\n");
        return out;
    }
    out.push_str("OBJECTS: Final[dict[str, list[str]]] = {\n");
    for (key, o) in &schema.objects {
        if o.facts.is_empty() {
            let _ = writeln!(out, "    {}: [],", py_str(key));
            continue;
        }
        let _ = writeln!(out, "    {}: [", py_str(key));
        for f in &o.facts {
            let _ = writeln!(out, "        {},", py_str(f));
        }
        out.push_str("    ],\n");
    }
    out.push_str("}\n");
    out
}

/// A docstring line: `"""text"""`, quoting safely.
fn docstring(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() {
                '\''
            } else {
                c
            }
        })
        .collect();
    format!("\"\"\"{clean}\"\"\"")
}

fn tables_module(
    schema: &DbSchema,
    options: &Options,
    dialect: Dialect,
    names: &ClassNames,
) -> String {
    let mapper = TypeMapper {
        dialect,
        schema,
        names,
        overrides: &options.type_overrides,
    };
    let mut imports = Imports::default();
    imports.add("typing", "Final");
    let pydantic = options.style == Style::Pydantic;
    if !pydantic {
        imports.add("typing", "TypedDict");
    }
    let mut body = String::new();
    for (q, rel) in &schema.relations {
        let class = names.relation_class(q);
        if pydantic {
            pydantic_row(&mut body, q, rel, class, &mapper, &mut imports);
            variant_classes(&mut body, rel, class, options, &mapper, &mut imports);
            continue;
        }
        let fields: Vec<(String, String, String)> = rel
            .columns
            .iter()
            .map(|c| {
                let ann = mapper.annotation(&c.type_ref, &c.data_type, &mut imports);
                (
                    c.name.clone(),
                    nullable(&ann, c.nullable),
                    column_comment(c),
                )
            })
            .collect();
        let class_syntax = fields.iter().all(|(n, _, _)| is_class_field(n));
        // Black: two blank lines around classes, one after the imports otherwise.
        body.push_str(if body.is_empty() && !class_syntax {
            "\n"
        } else {
            "\n\n"
        });
        if class_syntax {
            let _ = writeln!(body, "class {class}(TypedDict):");
            let _ = writeln!(
                body,
                "    {}",
                docstring(&format!("Row of {} {q}.", rel.kind.as_str()))
            );
            if !fields.is_empty() {
                body.push('\n');
            }
            for (name, ann, comment) in &fields {
                field_line(&mut body, 4, &format!("{name}: "), ann, "", comment);
            }
        } else {
            let _ = writeln!(body, "{class} = TypedDict(\n    {},\n    {{", py_str(class));
            for (name, ann, comment) in &fields {
                field_line(
                    &mut body,
                    8,
                    &format!("{}: ", py_str(name)),
                    ann,
                    ",",
                    comment,
                );
            }
            body.push_str("    },\n)\n");
        }
        variant_classes(&mut body, rel, class, options, &mapper, &mut imports);
    }
    // Two blank lines after a class, one after the imports (as black does).
    body.push_str(if schema.relations.is_empty() {
        "\n"
    } else {
        "\n\n"
    });
    body.push_str("RELATIONS: Final[dict[str, list[str]]] = {");
    if schema.relations.is_empty() {
        body.push_str("}\n");
    } else {
        body.push('\n');
        for (q, rel) in &schema.relations {
            let _ = writeln!(body, "    {}: [", py_str(q));
            let mut entry = |s: String| {
                let _ = writeln!(body, "        {},", py_str(&s));
            };
            entry(format!("{} {}", rel.kind.as_str(), names.relation_class(q)));
            if has_variants(rel) {
                for v in options.variants.list() {
                    entry(format!(
                        "{} {}",
                        v.as_str(),
                        variant_class(names.relation_class(q), v)
                    ));
                }
            }
            for o in &rel.options {
                entry(format!("option: {o}"));
            }
            for (n, c) in &rel.constraints {
                entry(format!("constraint {n}: {}", c.definition));
            }
            for (n, d) in &rel.indexes {
                entry(format!("index {n}: {d}"));
            }
            for (n, d) in &rel.triggers {
                entry(format!("trigger {n}: {d}"));
            }
            for (n, d) in &rel.policies {
                entry(format!("policy {n}: {d}"));
            }
            if let Some(d) = &rel.definition {
                entry(format!("definition: {d}"));
            }
            body.push_str("    ],\n");
        }
        body.push_str("}\n");
    }
    let mut out = String::from(
        "\"\"\"Database row types. Generated by `driftsync schema update`: do not edit by hand.\"\"\"\n\n",
    );
    let (local, external): (Vec<_>, Vec<_>) =
        imports.0.iter().partition(|(m, _)| m.starts_with('.'));
    for (module, names) in external {
        import_line(&mut out, module, names.iter());
    }
    if !local.is_empty() {
        out.push('\n');
        for (module, names) in local {
            import_line(&mut out, module, names.iter());
        }
    }
    out.push_str(&body);
    out
}

/// A pydantic row class: `class XRow(BaseModel)`, fields with their `# sql:`
/// comments, `Field(alias=…)` for a column that cannot be an attribute.
fn pydantic_row(
    body: &mut String,
    q: &str,
    rel: &Relation,
    class: &str,
    mapper: &TypeMapper<'_>,
    imports: &mut Imports,
) {
    imports.add("pydantic", "BaseModel");
    let _ = write!(
        body,
        "\n\nclass {class}(BaseModel):\n    {}\n",
        docstring(&format!("Row of {} {q}.", rel.kind.as_str()))
    );
    if !rel.columns.is_empty() {
        body.push('\n');
    }
    for (c, (attr, alias)) in rel.columns.iter().zip(pydantic_attributes(&rel.columns)) {
        let ann = nullable(
            &mapper.annotation(&c.type_ref, &c.data_type, imports),
            c.nullable,
        );
        let tail = match &alias {
            Some(a) => {
                imports.add("pydantic", "Field");
                format!(" = Field(alias={})", py_str(a))
            }
            None => String::new(),
        };
        field_line(
            body,
            4,
            &format!("{attr}: "),
            &ann,
            &tail,
            &column_comment(c),
        );
    }
}

/// The `…Insert` / `…Update` TypedDicts of a table, after its row class.
fn variant_classes(
    body: &mut String,
    rel: &Relation,
    row: &str,
    options: &Options,
    mapper: &TypeMapper<'_>,
    imports: &mut Imports,
) {
    if !has_variants(rel) {
        return;
    }
    for v in options.variants.list() {
        let class = variant_class(row, v);
        let fields = variant_fields(rel, v, |c| {
            nullable(
                &mapper.annotation(&c.type_ref, &c.data_type, imports),
                c.nullable,
            )
        });
        imports.add("typing", "TypedDict");
        if fields.iter().any(|(_, a)| a.starts_with("NotRequired[")) {
            imports.add("typing", "NotRequired");
        }
        let what = match v {
            Variant::Insert => "Insert into",
            Variant::Update => "Update of",
        };
        let q = format!("{}.{}", rel.schema, rel.name);
        if fields.iter().all(|(n, _)| is_class_field(n)) {
            let _ = write!(
                body,
                "\n\nclass {class}(TypedDict):\n    {}\n",
                docstring(&format!("{what} {} {q}.", rel.kind.as_str()))
            );
            if !fields.is_empty() {
                body.push('\n');
            }
            for (name, ann) in &fields {
                plain_field(body, 4, &format!("{name}: "), ann, "");
            }
        } else {
            let _ = writeln!(
                body,
                "\n\n{class} = TypedDict(\n    {},\n    {{",
                py_str(&class)
            );
            for (name, ann) in &fields {
                plain_field(body, 8, &format!("{}: ", py_str(name)), ann, ",");
            }
            body.push_str("    },\n)\n");
        }
    }
}

/// A field without a comment, wrapped in parentheses the way black does
/// when it does not fit.
fn plain_field(out: &mut String, indent: usize, head: &str, ann: &str, tail: &str) {
    let pad = " ".repeat(indent);
    let code = format!("{pad}{head}{ann}{tail}");
    if code.len() <= LINE_LENGTH || tail == "," {
        out.push_str(&code);
        out.push('\n');
    } else {
        let _ = writeln!(out, "{pad}{head}(\n{pad}    {ann}\n{pad}){tail}");
    }
}

fn import_line<'a>(out: &mut String, module: &str, names: impl Iterator<Item = &'a String>) {
    let names: Vec<&String> = names.collect();
    let one = format!(
        "from {module} import {}",
        names
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if one.len() <= LINE_LENGTH {
        out.push_str(&one);
        out.push('\n');
    } else {
        let _ = writeln!(out, "from {module} import (");
        for n in names {
            let _ = writeln!(out, "    {n},");
        }
        out.push_str(")\n");
    }
}

/// One TypedDict field with its `# sql:` comment, kept within the line length
/// the way black would: the comment moves above the field when the line is
/// too long, and a too-long annotation is wrapped in parentheses.
fn field_line(out: &mut String, indent: usize, head: &str, ann: &str, tail: &str, comment: &str) {
    let pad = " ".repeat(indent);
    let code = format!("{pad}{head}{ann}{tail}");
    let with_comment = format!("{code}  # {comment}");
    if with_comment.len() <= LINE_LENGTH {
        out.push_str(&with_comment);
        out.push('\n');
        return;
    }
    let _ = writeln!(out, "{pad}# {comment}");
    if code.len() <= LINE_LENGTH || tail == "," {
        out.push_str(&code);
        out.push('\n');
    } else {
        let _ = writeln!(out, "{pad}{head}(\n{pad}    {ann}\n{pad}){tail}");
    }
}
