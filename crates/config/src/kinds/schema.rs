//! `type: schema`: a database schema against typed Python modules in the repository.

use driftsync_core::report::Severity;
use driftsync_core::Location;

use super::KindSpec;
use crate::model::{SchemaStyle, SchemaTarget, SchemaVariants, TargetKind};
use crate::raw::RawTarget;
use crate::resolve::Ctx;

/// The `schema` type.
pub const SPEC: KindSpec = KindSpec {
    name: "schema",
    fields: &[
        "database",
        "local",
        "fail_on",
        "schemas",
        "exclude_schemas",
        "class_names",
        "type_overrides",
        "variants",
        "style",
        "docs",
    ],
    resolve,
};

fn resolve(name: &str, raw: &RawTarget, ctx: &mut Ctx<'_>) -> Option<TargetKind> {
    let errors_before = ctx.errors.len();
    let database = match &raw.database {
        None => {
            ctx.error_key(
                &["targets", name],
                format!("schema target `{name}` has no `database`"),
                Some("add `database: ${DATABASE_URL}` (postgres://… or sqlite://PATH)".into()),
            );
            None
        }
        Some(d) => {
            let at = ["targets", name, "database"];
            let url = ctx.interpolate(&at, d)?;
            let known = Location::parse(&url).is_ok_and(|l| l.is_database());
            if !known && !ctx.is_unset(&at) {
                ctx.error_value(
                    &at,
                    "`database` is not a postgres:// or sqlite:// URL",
                    Some("write `database: ${DATABASE_URL}` or `database: sqlite://app.db`".into()),
                );
            }
            Some(sqlite_under_root(&url, ctx.root))
        }
    };
    let local_at = ["targets", name, "local"];
    let local = match &raw.local {
        Some(l) => ctx.rel_path(&local_at, l.trim_end_matches('/')),
        None => ctx.rel_path(&local_at, "schemas"),
    };
    let fail_on = match &raw.fail_on {
        None => Some(Severity::Low),
        Some(s) => {
            let found = Severity::parse(s).ok();
            if found.is_none() {
                ctx.error_value(
                    &["targets", name, "fail_on"],
                    format!("`{s}` is not a severity"),
                    Some("write one of info, low, medium, high, critical".into()),
                );
            }
            found
        }
    };
    let mut variants = SchemaVariants::default();
    if let Some(list) = &raw.variants {
        let mut row = false;
        for (i, v) in list.iter().enumerate() {
            let index = i.to_string();
            match v.as_str() {
                "row" => row = true,
                "insert" => variants.insert = true,
                "update" => variants.update = true,
                other => ctx.error_value(
                    &["targets", name, "variants", &index],
                    format!("`{other}` is not a variant"),
                    Some(
                        "write a list of row, insert, update (`variants: [row, insert, update]`)"
                            .into(),
                    ),
                ),
            }
        }
        if !row {
            ctx.error_value(
                &["targets", name, "variants"],
                "`variants` must include `row` (the row type is always generated)",
                Some("write `variants: [row, insert, update]`".into()),
            );
        }
    }
    let style = match raw.style.as_deref() {
        None | Some("typeddict") => SchemaStyle::TypedDict,
        Some("pydantic") => SchemaStyle::Pydantic,
        Some(other) => {
            ctx.error_value(
                &["targets", name, "style"],
                format!("`{other}` is not a style"),
                Some("write `style: typeddict` (default) or `style: pydantic`".into()),
            );
            SchemaStyle::TypedDict
        }
    };
    let docs = match &raw.docs {
        Some(d) => ctx.rel_path(&["targets", name, "docs"], d.trim_end_matches('/')),
        None => None,
    };
    if ctx.errors.len() > errors_before {
        return None;
    }
    Some(TargetKind::Schema(SchemaTarget {
        variants,
        style,
        docs,
        database: database?,
        local: local?,
        fail_on: fail_on?,
        schemas: raw.schemas.clone().unwrap_or_default(),
        exclude_schemas: raw.exclude_schemas.clone().unwrap_or_default(),
        class_names: raw.class_names.clone().unwrap_or_default(),
        type_overrides: raw.type_overrides.clone().unwrap_or_default(),
    }))
}

/// A relative SQLite path (`sqlite://app.db`, `sqlite:app.db`) made absolute
/// under the repository root, like every path in the file, whatever the
/// directory driftsync started in; any other URL unchanged.
fn sqlite_under_root(url: &str, root: &std::path::Path) -> String {
    match Location::parse(url) {
        Ok(l) if l.dialect() == Some(driftsync_core::Dialect::Sqlite) => l.under(root).to_string(),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_under_root;
    use std::path::Path;

    #[test]
    fn relative_sqlite_paths_are_under_the_root() {
        let root = Path::new("/repo");
        assert_eq!(
            sqlite_under_root("sqlite://app.db", root),
            "sqlite:///repo/app.db"
        );
        assert_eq!(
            sqlite_under_root("sqlite:db/app.db", root),
            "sqlite:/repo/db/app.db"
        );
        assert_eq!(
            sqlite_under_root("sqlite:///abs.db", root),
            "sqlite:///abs.db"
        );
        assert_eq!(
            sqlite_under_root("postgres://u@h/d", root),
            "postgres://u@h/d"
        );
    }
}
