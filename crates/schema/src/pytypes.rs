//! Database types → Python annotations, with the imports they need.

use std::collections::{BTreeMap, BTreeSet};

use driftsync_core::schema::{DbSchema, TypeRef};

use crate::naming::ClassNames;

/// Which database a model came from; decides how bare type names map.
pub use driftsync_core::Dialect;

/// Imports a generated module needs: `module` → names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imports(pub BTreeMap<String, BTreeSet<String>>);

impl Imports {
    /// Need `from module import name`.
    pub fn add(&mut self, module: &str, name: &str) {
        self.0
            .entry(module.to_string())
            .or_default()
            .insert(name.to_string());
    }
}

/// A Python type for a PostgreSQL base type name, with its import; `None` when unknown.
pub fn postgres_base(name: &str) -> Option<(&'static str, Option<(&'static str, &'static str)>)> {
    Some(match name {
        "uuid" => ("UUID", Some(("uuid", "UUID"))),
        "text" | "varchar" | "bpchar" | "char" | "name" | "citext" | "xml" | "tsvector"
        | "tsquery" | "bit" | "varbit" | "money" => ("str", None),
        "int2" | "int4" | "int8" | "oid" => ("int", None),
        "numeric" => ("Decimal", Some(("decimal", "Decimal"))),
        "float4" | "float8" => ("float", None),
        "bool" => ("bool", None),
        "date" => ("date", Some(("datetime", "date"))),
        "time" | "timetz" => ("time", Some(("datetime", "time"))),
        "timestamp" | "timestamptz" => ("datetime", Some(("datetime", "datetime"))),
        "interval" => ("timedelta", Some(("datetime", "timedelta"))),
        "json" | "jsonb" => ("Any", Some(("typing", "Any"))),
        "bytea" => ("bytes", None),
        "inet" => ("IPv4Interface | IPv6Interface", None),
        "cidr" => ("IPv4Network | IPv6Network", None),
        "hstore" => ("dict[str, str | None]", None),
        _ => return None,
    })
}

/// A Python type for a SQLite declared type: what Python's `sqlite3` returns
/// (without `detect_types`) for a value stored under that type's affinity.
/// Dates, times and JSON are stored as text and come back as `str`;
/// `BOOLEAN` as `0`/`1`; a STRICT table's `ANY` as whatever was stored.
pub fn sqlite_affinity(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t == "ANY" {
        "object"
    } else if t.contains("INT") {
        "int"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "str"
    } else if t.contains("BLOB") {
        "bytes"
    } else if t.is_empty() {
        "Any"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "float"
    } else if t.contains("DATE") || t.contains("TIME") || t.contains("JSON") {
        "str"
    } else if t.contains("BOOL") {
        "int"
    } else {
        "int | float"
    }
}

/// Maps column types to annotations for one model.
pub struct TypeMapper<'a> {
    /// Which database.
    pub dialect: Dialect,
    /// The model (to know which enums are generated).
    pub schema: &'a DbSchema,
    /// Class names of the generated enums.
    pub names: &'a ClassNames,
    /// Overrides: database type name → Python type (`citext` → `str`).
    pub overrides: &'a BTreeMap<String, String>,
}

impl TypeMapper<'_> {
    /// The annotation for a column (without `| None`), recording imports.
    pub fn annotation(&self, t: &TypeRef, data_type: &str, imports: &mut Imports) -> String {
        if let Some(o) = self.overrides.get(data_type) {
            return self.override_type(o, imports);
        }
        match t {
            TypeRef::Base { name } => {
                if let Some(o) = self.overrides.get(name) {
                    return self.override_type(o, imports);
                }
                match self.dialect {
                    Dialect::Postgres => match postgres_base(name) {
                        Some((py, import)) => {
                            if let Some((m, n)) = import {
                                imports.add(m, n);
                            }
                            for ip in [
                                "IPv4Interface",
                                "IPv6Interface",
                                "IPv4Network",
                                "IPv6Network",
                            ] {
                                if py.contains(ip) {
                                    imports.add("ipaddress", ip);
                                }
                            }
                            py.to_string()
                        }
                        None => {
                            imports.add("typing", "Any");
                            "Any".to_string()
                        }
                    },
                    Dialect::Sqlite => {
                        let py = sqlite_affinity(name);
                        if py == "Any" {
                            imports.add("typing", "Any");
                        }
                        py.to_string()
                    }
                }
            }
            TypeRef::Enum { name } => {
                if self.schema.enums.contains_key(name) {
                    let class = self.names.enum_class(name).to_string();
                    imports.add(".enums", &class);
                    class
                } else {
                    // An enum outside the selected schemas: its values are strings.
                    "str".to_string()
                }
            }
            TypeRef::Domain { name, base } => match self.overrides.get(name) {
                Some(o) => self.override_type(o, imports),
                None => self.annotation(base, "", imports),
            },
            TypeRef::Array { element } => {
                format!("list[{}]", self.annotation(element, "", imports))
            }
            TypeRef::Other { name } => match self.overrides.get(name) {
                Some(o) => self.override_type(o, imports),
                None => {
                    imports.add("typing", "Any");
                    "Any".to_string()
                }
            },
        }
    }

    /// An override: `decimal.Decimal` imports `Decimal` from `decimal`; a bare name is used as is.
    fn override_type(&self, o: &str, imports: &mut Imports) -> String {
        match o.rsplit_once('.') {
            Some((module, name)) if !module.is_empty() => {
                imports.add(module, name);
                name.to_string()
            }
            _ => o.to_string(),
        }
    }
}

/// `T` or `T | None`.
pub fn nullable(annotation: &str, nullable: bool) -> String {
    if nullable {
        format!("{annotation} | None")
    } else {
        annotation.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_postgres_types_and_collects_imports() {
        let schema = DbSchema::default();
        let names = ClassNames::new(&[], &[], &BTreeMap::new(), &BTreeMap::new());
        let mut overrides = BTreeMap::new();
        overrides.insert("citext".to_string(), "mylib.types.CIText".to_string());
        let m = TypeMapper {
            dialect: Dialect::Postgres,
            schema: &schema,
            names: &names,
            overrides: &overrides,
        };
        let mut imports = Imports::default();
        let base = |n: &str| TypeRef::Base { name: n.into() };
        assert_eq!(m.annotation(&base("int8"), "bigint", &mut imports), "int");
        assert_eq!(
            m.annotation(&base("numeric"), "numeric(10,2)", &mut imports),
            "Decimal"
        );
        let arr = TypeRef::Array {
            element: Box::new(base("timestamptz")),
        };
        assert_eq!(
            m.annotation(&arr, "timestamp with time zone[]", &mut imports),
            "list[datetime]"
        );
        assert_eq!(
            m.annotation(&base("citext"), "citext", &mut imports),
            "CIText"
        );
        let dom = TypeRef::Domain {
            name: "public.email".into(),
            base: Box::new(base("text")),
        };
        assert_eq!(m.annotation(&dom, "email", &mut imports), "str");
        assert_eq!(
            m.annotation(&base("inet"), "inet", &mut imports),
            "IPv4Interface | IPv6Interface"
        );
        assert!(imports.0["decimal"].contains("Decimal"));
        assert!(imports.0["mylib.types"].contains("CIText"));
        assert!(imports.0["ipaddress"].contains("IPv6Interface"));
        assert_eq!(nullable("int", true), "int | None");
    }

    #[test]
    fn maps_sqlite_by_affinity() {
        assert_eq!(sqlite_affinity("INTEGER"), "int");
        assert_eq!(sqlite_affinity("VARCHAR(20)"), "str");
        assert_eq!(sqlite_affinity("DOUBLE PRECISION"), "float");
        assert_eq!(sqlite_affinity("BLOB"), "bytes");
        assert_eq!(sqlite_affinity("DECIMAL(10,2)"), "int | float");
        assert_eq!(sqlite_affinity("DATETIME"), "str");
        assert_eq!(sqlite_affinity("date"), "str");
        assert_eq!(sqlite_affinity("TIMESTAMP"), "str");
        assert_eq!(sqlite_affinity("JSON"), "str");
        assert_eq!(sqlite_affinity("BOOLEAN"), "int");
        assert_eq!(sqlite_affinity("ANY"), "object");
    }
}
