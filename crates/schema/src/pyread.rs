//! Read the generated Python modules back into the schema model with a real
//! Python parser, so hand edits are seen, and remember where each object is.

use std::collections::BTreeMap;
use std::path::Path;

use driftsync_core::schema::{
    Column, ColumnValue, Constraint, DbObject, DbSchema, EnumType, Locations, Relation,
    RelationKind, Subject, TypeRef,
};
use rustpython_parser::ast::{self, Constant, Expr, Ranged, Stmt};
use rustpython_parser::lexer::lex;
use rustpython_parser::{Mode, Parse, Tok};

use crate::generate::{ENUMS_FILE, OBJECTS_FILE, TABLES_FILE, VERSION_FILE};
use crate::SchemaError;

/// What the repository's modules say.
#[derive(Clone, Debug, Default)]
pub struct RepoSchema {
    /// The model they describe.
    pub model: DbSchema,
    /// Where each object is (files relative to the repository root).
    pub locations: Locations,
    /// The annotation text of each field, keyed `relation.column`.
    pub annotations: BTreeMap<String, String>,
    /// The version module's values, when it exists.
    pub version: Option<VersionInfo>,
    /// The class of each enum and relation (`enum:s.n` / `rel:s.n` → class).
    pub class_names: BTreeMap<String, String>,
    /// What could not be read (an enum member `A = auto()` in a `(str, Enum)`):
    /// reported, and `update` refuses to overwrite it without `--force`.
    pub unreadable: Vec<Unreadable>,
    /// A hand-written module tree (no generated `enums.py` or `tables.py`),
    /// read class by class; [`crate::adopt::resolve`] matches it to the database.
    pub adopted: Option<crate::adopt::Tree>,
    /// What matching the hand-written tree found (classes matching nothing).
    pub adoption: Vec<driftsync_core::schema::Change>,
    /// The write variants the modules define per relation (`insert
    /// OrganizationInsert` entries of RELATIONS), with their fields.
    pub variants: BTreeMap<String, Vec<VariantClass>>,
    /// How each row class is written (`TypedDict` or pydantic `BaseModel`).
    pub row_styles: BTreeMap<String, crate::generate::Style>,
}

/// An `…Insert` / `…Update` class as the module has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantClass {
    /// Which variant.
    pub variant: crate::generate::Variant,
    /// Its class name.
    pub class: String,
    /// Fields: (column, canonical annotation, `NotRequired[…]` kept).
    pub fields: Vec<(String, String)>,
}

/// Something in a module the reader could not turn into the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// What it belongs to.
    pub subject: Subject,
    /// Repository-relative file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// What it is and why it cannot be read.
    pub message: String,
}

/// The type a field without a `# sql:` comment reads as (a field added by hand).
pub const NO_SQL_COMMENT: &str = "unknown (no `# sql:` comment)";

/// The values of `schema_version.py`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionInfo {
    /// `SCHEMA_VERSION`.
    pub schema_version: u64,
    /// `LAST_SYNC`.
    pub last_sync: String,
    /// `DB_HASH`.
    pub db_hash: String,
}

/// A parsed module: statements, source, and comments by line.
pub(crate) struct Module {
    pub(crate) file: String,
    source: String,
    pub(crate) suite: Vec<Stmt>,
    /// 1-based line → (comment text without `#`, alone on its line?).
    comments: BTreeMap<u32, (String, bool)>,
    line_starts: Vec<usize>,
}

impl Module {
    pub(crate) fn parse(path: &Path, file: &str) -> Result<Module, SchemaError> {
        let source = std::fs::read_to_string(path).map_err(|e| SchemaError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let position = |offset: usize| {
            let line = line_starts.partition_point(|&s| s <= offset);
            let col = offset - line_starts[line - 1] + 1;
            (line as u32, col as u32)
        };
        let suite = ast::Suite::parse(&source, file).map_err(|e| {
            let (line, column) = position(usize::from(e.offset));
            SchemaError::Python {
                file: file.to_string(),
                line,
                column,
                message: e.error.to_string(),
            }
        })?;
        let mut comments = BTreeMap::new();
        for (tok, range) in lex(&source, Mode::Module).flatten() {
            if let Tok::Comment(text) = tok {
                let start = usize::from(range.start());
                let (line, col) = position(start);
                let before = &source[line_starts[line as usize - 1]..start];
                let _ = col;
                comments.insert(
                    line,
                    (
                        text.trim_start_matches('#').trim().to_string(),
                        before.trim().is_empty(),
                    ),
                );
            }
        }
        Ok(Module {
            file: file.to_string(),
            source,
            suite,
            comments,
            line_starts,
        })
    }

    pub(crate) fn line(&self, node: &impl Ranged) -> u32 {
        let offset = usize::from(node.start());
        self.line_starts.partition_point(|&s| s <= offset) as u32
    }

    pub(crate) fn text(&self, node: &impl Ranged) -> String {
        let r = node.range();
        self.source[usize::from(r.start())..usize::from(r.end())]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The `# sql:` comment of a field at `line`: on the same line, or the
    /// comment lines directly above it.
    fn field_comment(&self, line: u32) -> Option<&str> {
        if let Some((c, false)) = self.comments.get(&line) {
            return Some(c);
        }
        let mut l = line.checked_sub(1)?;
        while let Some((c, true)) = self.comments.get(&l) {
            if c.starts_with("sql: ") {
                return Some(c);
            }
            l = l.checked_sub(1)?;
        }
        None
    }

    /// The value assigned to the top-level name `name`, with its statement.
    fn assigned(&self, name: &str) -> Option<&Expr> {
        self.suite.iter().find_map(|s| match s {
            Stmt::Assign(a) if a.targets.iter().any(|t| is_name(t, name)) => Some(&*a.value),
            Stmt::AnnAssign(a) if is_name(&a.target, name) => a.value.as_deref(),
            _ => None,
        })
    }

    fn class(&self, name: &str) -> Option<&ast::StmtClassDef> {
        self.suite.iter().find_map(|s| match s {
            Stmt::ClassDef(c) if c.name.as_str() == name => Some(c),
            _ => None,
        })
    }

    fn error(&self, node: &impl Ranged, message: impl Into<String>) -> SchemaError {
        let offset = usize::from(node.start());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        SchemaError::Python {
            file: self.file.clone(),
            line: line as u32,
            column: (offset - self.line_starts[line - 1] + 1) as u32,
            message: message.into(),
        }
    }
}

pub(crate) fn is_name(e: &Expr, name: &str) -> bool {
    matches!(e, Expr::Name(n) if n.id.as_str() == name)
}

pub(crate) fn string(e: &Expr) -> Option<&str> {
    match e {
        Expr::Constant(ast::ExprConstant {
            value: Constant::Str(s),
            ..
        }) => Some(s),
        _ => None,
    }
}

/// `name` or `module.name` (`Optional`, `typing.Optional`; `auto`, `enum.auto`).
pub(crate) fn is_from(e: &Expr, module: &str, name: &str) -> bool {
    match e {
        Expr::Name(n) => n.id.as_str() == name,
        Expr::Attribute(a) => a.attr.as_str() == name && is_name(&a.value, module),
        _ => false,
    }
}

/// `auto()` or `enum.auto()`.
pub(crate) fn is_auto(e: &Expr) -> bool {
    matches!(e, Expr::Call(c) if c.args.is_empty() && is_from(&c.func, "enum", "auto"))
}

pub(crate) fn split_qualified(q: &str) -> (String, String) {
    match q.split_once('.') {
        Some((s, n)) => (s.to_string(), n.to_string()),
        None => (String::new(), q.to_string()),
    }
}

/// Read the modules in `dir`; `rel_dir` is how findings name that directory
/// (relative to the repository root). Missing modules read as empty.
pub fn read_dir(dir: &Path, rel_dir: &str) -> Result<RepoSchema, SchemaError> {
    read_modules(dir, rel_dir, None)
}

/// Like [`read_dir`], for `update`: a module driftsync generated that no
/// longer reads (merge-conflict markers, a deleted class) is skipped with a
/// note, to be regenerated; a module someone else wrote still fails.
pub fn read_dir_repairing(
    dir: &Path,
    rel_dir: &str,
) -> Result<(RepoSchema, Vec<String>), SchemaError> {
    let mut notes = Vec::new();
    let repo = read_modules(dir, rel_dir, Some(&mut notes))?;
    Ok((repo, notes))
}

/// Does a module carry the header driftsync writes (its docstring naming
/// driftsync on the first line)?
pub fn is_generated(text: &str) -> bool {
    text.lines()
        .next()
        .is_some_and(|l| l.starts_with("\"\"\"") && l.contains("driftsync"))
}

type Reader = fn(&Module, &mut RepoSchema) -> Result<(), SchemaError>;

fn read_modules(
    dir: &Path,
    rel_dir: &str,
    mut repairs: Option<&mut Vec<String>>,
) -> Result<RepoSchema, SchemaError> {
    let join = |f: &str| {
        if rel_dir.is_empty() || rel_dir == "." {
            f.to_string()
        } else {
            format!("{}/{f}", rel_dir.trim_end_matches('/'))
        }
    };
    let mut repo = RepoSchema {
        locations: Locations {
            enums_file: join(ENUMS_FILE),
            relations_file: join(TABLES_FILE),
            version_file: join(VERSION_FILE),
            objects_file: join(OBJECTS_FILE),
            lines: BTreeMap::new(),
            files: BTreeMap::new(),
        },
        ..RepoSchema::default()
    };
    let readers: [(&str, Reader); 4] = [
        (ENUMS_FILE, read_enums),
        (OBJECTS_FILE, read_objects),
        (TABLES_FILE, read_tables),
        (VERSION_FILE, read_version),
    ];
    for (file, reader) in readers {
        let path = dir.join(file);
        if !path.exists() {
            continue;
        }
        let result = Module::parse(&path, &join(file)).and_then(|m| reader(&m, &mut repo));
        match (result, repairs.as_deref_mut()) {
            (Ok(()), _) => {}
            (Err(e @ SchemaError::Python { .. }), Some(notes))
                if std::fs::read_to_string(&path).is_ok_and(|t| is_generated(&t)) =>
            {
                notes.push(format!("{e}: regenerating it"));
            }
            (Err(e), _) => return Err(e),
        }
    }
    let generated = [ENUMS_FILE, TABLES_FILE]
        .iter()
        .any(|f| std::fs::read_to_string(dir.join(f)).is_ok_and(|t| is_generated(&t)));
    if !generated && dir.is_dir() {
        if let Some(tree) = crate::adopt::scan(dir, &join)? {
            // A team's own modules: read class by class, matched to the
            // database by name in `adopt::resolve`.
            repo.model = DbSchema::default();
            repo.locations.lines.clear();
            repo.class_names.clear();
            repo.unreadable.clear();
            repo.version = None;
            repo.adopted = Some(tree);
        }
    }
    repo.model.canonicalize();
    Ok(repo)
}

fn read_version(m: &Module, repo: &mut RepoSchema) -> Result<(), SchemaError> {
    if let Some(Stmt::AnnAssign(a)) = m.suite.iter().find(|s| match s {
        Stmt::AnnAssign(a) => is_name(&a.target, "DB_HASH"),
        _ => false,
    }) {
        repo.locations
            .lines
            .insert(Subject::Database.key(), m.line(a));
    }
    let get = |n: &str| m.assigned(n);
    let int = |n: &str| match get(n) {
        Some(Expr::Constant(ast::ExprConstant {
            value: Constant::Int(i),
            ..
        })) => i.to_string().parse().ok(),
        _ => None,
    };
    repo.version = Some(VersionInfo {
        schema_version: int("SCHEMA_VERSION").unwrap_or(0),
        last_sync: get("LAST_SYNC")
            .and_then(string)
            .unwrap_or_default()
            .to_string(),
        db_hash: get("DB_HASH")
            .and_then(string)
            .unwrap_or_default()
            .to_string(),
    });
    Ok(())
}

fn dict_entries(e: &Expr) -> Vec<(&Expr, &Expr)> {
    match e {
        Expr::Dict(d) => d
            .keys
            .iter()
            .zip(&d.values)
            .filter_map(|(k, v)| k.as_ref().map(|k| (k, v)))
            .collect(),
        _ => Vec::new(),
    }
}

fn read_objects(m: &Module, repo: &mut RepoSchema) -> Result<(), SchemaError> {
    let Some(registry) = m.assigned("OBJECTS") else {
        return Ok(());
    };
    for (k, v) in dict_entries(registry) {
        let key =
            string(k).ok_or_else(|| m.error(k, "OBJECTS keys must be strings `<kind> <name>`"))?;
        let (kind, name) = DbObject::parse_key(key).ok_or_else(|| {
            m.error(
                k,
                format!("`{key}` is not `domain|composite type|sequence|function <name>`"),
            )
        })?;
        let Expr::List(list) = v else {
            return Err(m.error(v, "OBJECTS values must be lists of strings"));
        };
        let facts = list
            .elts
            .iter()
            .map(|e| {
                string(e)
                    .map(str::to_string)
                    .ok_or_else(|| m.error(e, "OBJECTS values must be lists of strings"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let o = DbObject { kind, name, facts };
        repo.locations.lines.insert(
            Subject::Object {
                kind,
                name: o.name.clone(),
            }
            .key(),
            m.line(k),
        );
        repo.model.objects.insert(o.key(), o);
    }
    Ok(())
}

fn read_enums(m: &Module, repo: &mut RepoSchema) -> Result<(), SchemaError> {
    let Some(registry) = m.assigned("ENUMS") else {
        return Ok(());
    };
    for (k, v) in dict_entries(registry) {
        let q = string(k).ok_or_else(|| m.error(k, "ENUMS keys must be strings `schema.name`"))?;
        let Expr::Name(class) = v else {
            return Err(m.error(v, "ENUMS values must be enum class names"));
        };
        repo.class_names
            .insert(format!("enum:{q}"), class.id.to_string());
        let Some(def) = m.class(class.id.as_str()) else {
            return Err(m.error(
                v,
                format!("class {} is not defined in this module", class.id),
            ));
        };
        let str_enum = def.bases.iter().any(|b| is_from(b, "enum", "StrEnum"));
        let mut labels = Vec::new();
        for stmt in &def.body {
            let Stmt::Assign(a) = stmt else { continue };
            let [Expr::Name(member)] = a.targets.as_slice() else {
                continue;
            };
            if let Some(s) = string(&a.value) {
                labels.push(s.to_string());
            } else if str_enum && is_auto(&a.value) {
                // StrEnum's auto() is the member name in lower case.
                labels.push(member.id.to_lowercase());
            } else {
                let why = if is_auto(&a.value) {
                    "auto() outside a StrEnum gives no database label"
                } else {
                    "it is not a string literal"
                };
                repo.unreadable.push(Unreadable {
                    subject: Subject::Enum {
                        name: q.to_string(),
                    },
                    file: m.file.clone(),
                    line: m.line(a),
                    message: format!(
                        "member {} = {} of enum {q} cannot be read: {why}; write its label as a string",
                        member.id,
                        m.text(&*a.value)
                    ),
                });
            }
        }
        let (schema, name) = split_qualified(q);
        repo.locations.lines.insert(
            Subject::Enum {
                name: q.to_string(),
            }
            .key(),
            m.line(def),
        );
        repo.model.enums.insert(
            q.to_string(),
            EnumType {
                schema,
                name,
                labels,
            },
        );
    }
    Ok(())
}

/// The fields of a row class: (name, annotation node, line).
/// A row class's line and its fields: (name, annotation, line).
type Fields<'a> = (u32, Vec<(String, &'a Expr, u32)>);

fn fields<'a>(m: &'a Module, class: &str) -> Option<Fields<'a>> {
    if let Some(def) = m.class(class) {
        let fields = def
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::AnnAssign(a) => match &*a.target {
                    // A pydantic field `attr: T = Field(alias="column")` is the column.
                    Expr::Name(n) => Some((
                        alias(a.value.as_deref()).unwrap_or_else(|| n.id.to_string()),
                        &*a.annotation,
                        m.line(a),
                    )),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        return Some((m.line(def), fields));
    }
    // Functional form: `X = TypedDict("X", {"a b": int, ...})`.
    let stmt = m.suite.iter().find_map(|s| match s {
        Stmt::Assign(a) if a.targets.iter().any(|t| is_name(t, class)) => Some(a),
        _ => None,
    })?;
    let Expr::Call(call) = &*stmt.value else {
        return None;
    };
    let dict = call.args.get(1)?;
    let fields = dict_entries(dict)
        .into_iter()
        .filter_map(|(k, v)| Some((string(k)?.to_string(), v, m.line(k))))
        .collect();
    Some((m.line(stmt), fields))
}

/// The `alias=` of a `Field(alias="…")` value.
fn alias(value: Option<&Expr>) -> Option<String> {
    let Some(Expr::Call(c)) = value else {
        return None;
    };
    c.keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "alias"))
        .and_then(|k| string(&k.value))
        .map(str::to_string)
}

/// A variant field's annotation: `NotRequired[…]` kept around the canonical
/// spelling of what it wraps.
fn variant_annotation(m: &Module, e: &Expr) -> String {
    match e {
        Expr::Subscript(s) if is_from(&s.value, "typing", "NotRequired") => {
            format!("NotRequired[{}]", canonical_annotation(m, &s.slice).0)
        }
        other => canonical_annotation(m, other).0,
    }
}

fn is_none(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Constant(ast::ExprConstant {
            value: Constant::None,
            ..
        })
    )
}

/// The members of a union annotation, flattening `A | B`, `Union[A, B]` and
/// `Optional[A]` (which adds `None`).
fn union_members<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::BinOp(b) if b.op == ast::Operator::BitOr => {
            union_members(&b.left, out);
            union_members(&b.right, out);
        }
        Expr::Subscript(s) if is_from(&s.value, "typing", "Union") => match &*s.slice {
            Expr::Tuple(t) => t.elts.iter().for_each(|m| union_members(m, out)),
            one => union_members(one, out),
        },
        Expr::Subscript(s) if is_from(&s.value, "typing", "Optional") => {
            union_members(&s.slice, out);
            out.push(e);
        }
        other => out.push(other),
    }
}

/// An annotation in its canonical spelling, and whether it admits `None`:
/// `Optional[X]`, `X | None`, `Union[X, None]` and `None | X` are all `X | None`.
pub(crate) fn canonical_annotation(m: &Module, e: &Expr) -> (String, bool) {
    let mut members = Vec::new();
    union_members(e, &mut members);
    let optional = |x: &Expr| {
        is_none(x) || matches!(x, Expr::Subscript(s) if is_from(&s.value, "typing", "Optional"))
    };
    let nullable = members.iter().any(|x| optional(x));
    let mut parts: Vec<String> = Vec::new();
    for x in members.iter().filter(|x| !optional(x)) {
        let t = m.text(*x);
        if !parts.contains(&t) {
            parts.push(t);
        }
    }
    let core = if parts.is_empty() {
        "None".to_string()
    } else {
        parts.join(" | ")
    };
    (crate::pytypes::nullable(&core, nullable), nullable)
}

/// The `# sql:` comment of a field: type, NOT NULL (when it says), collation, value.
struct SqlComment {
    data_type: String,
    /// `Some` when the comment records nullability (modules generated by driftsync do).
    nullable: Option<bool>,
    collation: Option<String>,
    value: Option<ColumnValue>,
}

fn parse_comment(comment: Option<&str>) -> SqlComment {
    let Some(c) = comment.and_then(|c| c.strip_prefix("sql: ")) else {
        return SqlComment {
            data_type: NO_SQL_COMMENT.to_string(),
            nullable: None,
            collation: None,
            value: None,
        };
    };
    let (head, value) = match ["; default: ", "; identity: ", "; generated: "]
        .iter()
        .filter_map(|m| c.find(m))
        .min()
    {
        Some(i) => (&c[..i], ColumnValue::parse(&c[i + 2..])),
        None => (c, None),
    };
    let mut parts = head.split("; ");
    let first = parts.next().unwrap_or_default();
    let (data_type, not_null) = match first.strip_suffix(crate::generate::NOT_NULL) {
        Some(t) => (t, true),
        None => (first, false),
    };
    let collation = parts
        .find_map(|p| p.strip_prefix("collate: "))
        .map(str::to_string);
    SqlComment {
        data_type: data_type.to_string(),
        nullable: Some(!not_null),
        collation,
        value,
    }
}

fn read_tables(m: &Module, repo: &mut RepoSchema) -> Result<(), SchemaError> {
    let Some(registry) = m.assigned("RELATIONS") else {
        return Ok(());
    };
    for (k, v) in dict_entries(registry) {
        let q =
            string(k).ok_or_else(|| m.error(k, "RELATIONS keys must be strings `schema.name`"))?;
        let Expr::List(list) = v else {
            return Err(m.error(v, "RELATIONS values must be lists of strings"));
        };
        let items: Vec<&str> = list.elts.iter().filter_map(string).collect();
        let head = items
            .first()
            .ok_or_else(|| m.error(v, "the first entry must be `<kind> <ClassName>`"))?;
        let (kind, class) = head
            .rsplit_once(' ')
            .and_then(|(k, c)| Some((RelationKind::parse(k)?, c)))
            .ok_or_else(|| m.error(v, format!("`{head}` is not `<kind> <ClassName>`")))?;
        repo.class_names
            .insert(format!("rel:{q}"), class.to_string());
        let (schema, name) = split_qualified(q);
        let mut rel = Relation::new(&schema, &name, kind);
        for item in &items[1..] {
            let variant = item
                .split_once(' ')
                .and_then(|(v, c)| Some((crate::generate::Variant::parse(v)?, c)));
            if let Some((variant, vclass)) = variant {
                let Some((vline, fs)) = fields(m, vclass) else {
                    return Err(m.error(
                        v,
                        format!(
                            "{} class {vclass} is not defined in this module",
                            variant.as_str()
                        ),
                    ));
                };
                let class_key = Subject::Class {
                    name: vclass.to_string(),
                };
                repo.locations.lines.insert(class_key.key(), vline);
                let mut vfields = Vec::new();
                for (fname, ann, fline) in fs {
                    repo.locations.lines.insert(
                        Subject::Class {
                            name: format!("{vclass}.{fname}"),
                        }
                        .key(),
                        fline,
                    );
                    vfields.push((fname, variant_annotation(m, ann)));
                }
                repo.variants
                    .entry(q.to_string())
                    .or_default()
                    .push(VariantClass {
                        variant,
                        class: vclass.to_string(),
                        fields: vfields,
                    });
            } else if let Some(o) = item.strip_prefix("option: ") {
                rel.options.push(o.to_string());
            } else if let Some(d) = item.strip_prefix("definition: ") {
                rel.definition = Some(d.to_string());
            } else if let Some((n, d)) = item
                .strip_prefix("constraint ")
                .and_then(|r| r.split_once(": "))
            {
                let c = Constraint::from_definition(d)
                    .ok_or_else(|| m.error(v, format!("unknown constraint kind in `{item}`")))?;
                rel.constraints.insert(n.to_string(), c);
            } else if let Some((n, d)) =
                item.strip_prefix("index ").and_then(|r| r.split_once(": "))
            {
                rel.indexes.insert(n.to_string(), d.to_string());
            } else if let Some((n, d)) = item
                .strip_prefix("trigger ")
                .and_then(|r| r.split_once(": "))
            {
                rel.triggers.insert(n.to_string(), d.to_string());
            } else if let Some((n, d)) = item
                .strip_prefix("policy ")
                .and_then(|r| r.split_once(": "))
            {
                rel.policies.insert(n.to_string(), d.to_string());
            } else {
                return Err(m.error(v, format!("unknown RELATIONS entry `{item}`")));
            }
        }
        let style = match m.class(class) {
            Some(def)
                if def
                    .bases
                    .iter()
                    .any(|b| is_from(b, "pydantic", "BaseModel")) =>
            {
                crate::generate::Style::Pydantic
            }
            _ => crate::generate::Style::TypedDict,
        };
        repo.row_styles.insert(class.to_string(), style);
        let rel_line = match fields(m, class) {
            Some((line, fs)) => {
                repo.locations.lines.insert(
                    Subject::Class {
                        name: class.to_string(),
                    }
                    .key(),
                    line,
                );
                for (fname, ann, fline) in fs {
                    let (annotation, annotated_nullable) = canonical_annotation(m, ann);
                    let SqlComment {
                        data_type,
                        nullable,
                        collation,
                        value,
                    } = parse_comment(m.field_comment(fline));
                    // The comment records what the database said; the annotation
                    // may have been edited by hand (compared in `workflow::compare`).
                    let nullable = nullable.unwrap_or(annotated_nullable);
                    repo.locations.lines.insert(
                        Subject::Column {
                            relation: q.to_string(),
                            column: fname.clone(),
                        }
                        .key(),
                        fline,
                    );
                    repo.annotations.insert(format!("{q}.{fname}"), annotation);
                    rel.columns.push(Column {
                        name: fname,
                        type_ref: TypeRef::Other {
                            name: data_type.clone(),
                        },
                        data_type,
                        nullable,
                        value,
                        collation,
                    });
                }
                line
            }
            None => {
                return Err(m.error(
                    v,
                    format!("row class {class} is not defined in this module"),
                ))
            }
        };
        repo.locations.lines.insert(
            Subject::Relation {
                name: q.to_string(),
            }
            .key(),
            rel_line,
        );
        repo.model.relations.insert(q.to_string(), rel);
    }
    Ok(())
}
