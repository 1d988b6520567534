//! Risky statements, found in PostgreSQL's own parse tree (libpg_query).
//!
//! Each rule looks at one statement. A table created earlier in the same
//! file is new and empty when the rest of the file runs (a migration runs
//! as a whole), so the rules about locking or scanning existing rows —
//! indexes, NOT NULL, type changes, constraints — leave it alone; drops and
//! renames are reported wherever they are.

use std::collections::HashSet;

use pg_query::protobuf::{
    AlterTableType, ConstrType, Constraint, DropStmt, IndexStmt, ObjectType, RangeVar, RenameStmt,
    TransactionStmtKind,
};
use pg_query::NodeEnum;

use crate::Code;

/// A finding inside one statement: its code, what to say, and the byte
/// offset of the clause at fault (`None`: the statement's start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Which rule.
    pub code: Code,
    /// One line for people, naming the fix.
    pub message: String,
    /// Byte offset of the clause (a column definition, a constraint, a
    /// type), when the parser records one.
    pub at: Option<usize>,
}

/// What the statements so far of the file being linted did: the tables
/// they created (`schema.name`), and whether an explicit transaction
/// (`BEGIN`) is open.
#[derive(Debug, Default)]
pub struct Created {
    tables: HashSet<String>,
    in_transaction: bool,
}

impl Created {
    fn has(&self, r: &RangeVar) -> bool {
        self.tables.contains(&qualified(r))
    }
}

fn concurrently_in_transaction(what: &str, hits: &mut Vec<Hit>) {
    hits.push(Hit {
        code: Code::ConcurrentlyInTransaction,
        message: format!(
            "{what} CONCURRENTLY inside BEGIN … COMMIT: PostgreSQL refuses it (\"cannot run inside a transaction block\"), so the migration fails; run it outside the transaction, in a migration of its own"
        ),
        at: None,
    });
}

fn qualified(r: &RangeVar) -> String {
    let schema = if r.schemaname.is_empty() {
        "public"
    } else {
        &r.schemaname
    };
    format!("{schema}.{}", r.relname)
}

fn shown(r: Option<&RangeVar>) -> String {
    match r {
        Some(r) if r.schemaname.is_empty() => r.relname.clone(),
        Some(r) => format!("{}.{}", r.schemaname, r.relname),
        None => "?".into(),
    }
}

fn at(location: i32) -> Option<usize> {
    usize::try_from(location).ok()
}

/// The findings of one statement; records the tables it creates in
/// `created`. `cmd_starts`: where each command of an ALTER TABLE begins
/// (the parser records no position for them; see
/// [`crate::position::command_starts`]), empty when unknown.
pub fn check(stmt: &NodeEnum, created: &mut Created, cmd_starts: &[usize]) -> Vec<Hit> {
    let mut hits = Vec::new();
    match stmt {
        NodeEnum::CreateStmt(c) => {
            if let Some(r) = &c.relation {
                created.tables.insert(qualified(r));
            }
        }
        NodeEnum::TransactionStmt(t) => match TransactionStmtKind::try_from(t.kind) {
            Ok(TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart) => {
                created.in_transaction = true
            }
            Ok(
                TransactionStmtKind::TransStmtCommit
                | TransactionStmtKind::TransStmtRollback
                | TransactionStmtKind::TransStmtPrepare,
            ) => created.in_transaction = false,
            _ => {}
        },
        NodeEnum::DropStmt(d) => {
            if d.concurrent && created.in_transaction {
                concurrently_in_transaction("DROP INDEX", &mut hits);
            }
            drop_stmt(d, &mut hits)
        }
        NodeEnum::IndexStmt(i) => {
            if i.concurrent && created.in_transaction {
                concurrently_in_transaction("CREATE INDEX", &mut hits);
            }
            index_stmt(i, created, &mut hits)
        }
        NodeEnum::RenameStmt(r) => rename_stmt(r, &mut hits),
        NodeEnum::AlterTableStmt(a) => {
            let table = shown(a.relation.as_ref());
            let is_new = a.relation.as_ref().is_some_and(|r| created.has(r));
            for (i, cmd) in a.cmds.iter().enumerate() {
                let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else {
                    continue;
                };
                // The command's own start (`add column …`, `drop column …`),
                // else what the parser located inside it, else the statement.
                let cmd_at = cmd_starts.get(i).copied();
                let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
                match AlterTableType::try_from(cmd.subtype) {
                    Ok(AlterTableType::AtDropColumn) => hits.push(Hit {
                        code: Code::DropColumn,
                        message: format!(
                            "dropping column {} of {table} deletes its data and breaks clients still reading it: stop using it in a release first, then drop it in a later migration",
                            cmd.name
                        ),
                        at: cmd_at,
                    }),
                    Ok(AlterTableType::AtAddColumn) if !is_new => {
                        if let Some(NodeEnum::ColumnDef(col)) = def {
                            let kinds: Vec<ConstrType> = col
                                .constraints
                                .iter()
                                .filter_map(|c| match c.node.as_ref() {
                                    Some(NodeEnum::Constraint(c)) => ConstrType::try_from(c.contype).ok(),
                                    _ => None,
                                })
                                .collect();
                            let not_null = col.is_not_null
                                || kinds.contains(&ConstrType::ConstrNotnull)
                                || kinds.contains(&ConstrType::ConstrPrimary);
                            let filled = col.raw_default.is_some()
                                || kinds.iter().any(|k| {
                                    matches!(
                                        k,
                                        ConstrType::ConstrDefault
                                            | ConstrType::ConstrIdentity
                                            | ConstrType::ConstrGenerated
                                    )
                                });
                            if not_null && !filled {
                                hits.push(Hit {
                                    code: Code::AddRequiredColumn,
                                    message: format!(
                                        "adding NOT NULL column {} to existing table {table} without a DEFAULT fails as soon as the table has rows: add the column nullable (or with a DEFAULT), backfill, then SET NOT NULL",
                                        col.colname
                                    ),
                                    at: cmd_at.or(at(col.location)),
                                });
                            }
                        }
                    }
                    Ok(AlterTableType::AtAlterColumnType) if !is_new => {
                        let type_at = match def {
                            Some(NodeEnum::ColumnDef(col)) => col.type_name.as_ref().and_then(|t| at(t.location)),
                            _ => None,
                        };
                        hits.push(Hit {
                            code: Code::ChangeColumnType,
                            message: format!(
                                "changing the type of {table}.{} rewrites the table under an ACCESS EXCLUSIVE lock and can break clients: add a column of the new type, backfill it, move readers, then drop the old column",
                                cmd.name
                            ),
                            at: cmd_at.or(type_at),
                        });
                    }
                    Ok(AlterTableType::AtSetNotNull) if !is_new => hits.push(Hit {
                        code: Code::SetNotNull,
                        message: format!(
                            "SET NOT NULL on {table}.{} scans the whole table under an ACCESS EXCLUSIVE lock: add CHECK ({} IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later migration, then SET NOT NULL",
                            cmd.name, cmd.name
                        ),
                        at: cmd_at,
                    }),
                    Ok(AlterTableType::AtAddConstraint) if !is_new => {
                        if let Some(NodeEnum::Constraint(c)) = def {
                            constraint(c, &table, cmd_at, &mut hits);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    hits
}

fn constraint(c: &Constraint, table: &str, cmd_at: Option<usize>, hits: &mut Vec<Hit>) {
    let kind = match ConstrType::try_from(c.contype) {
        Ok(ConstrType::ConstrCheck) => "CHECK",
        Ok(ConstrType::ConstrForeign) => "FOREIGN KEY",
        _ => return,
    };
    if c.skip_validation {
        return;
    }
    let name = if c.conname.is_empty() {
        String::new()
    } else {
        format!(" {}", c.conname)
    };
    hits.push(Hit {
        code: Code::ConstraintWithoutNotValid,
        message: format!(
            "adding {kind} constraint{name} to existing table {table} checks every row while blocking writes: add it NOT VALID, then VALIDATE CONSTRAINT in a later migration"
        ),
        at: cmd_at.or(at(c.location)),
    });
}

fn drop_stmt(d: &DropStmt, hits: &mut Vec<Hit>) {
    let names = || {
        d.objects
            .iter()
            .map(|o| match o.node.as_ref() {
                Some(NodeEnum::List(l)) => l
                    .items
                    .iter()
                    .filter_map(|i| match i.node.as_ref() {
                        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join("."),
                _ => "?".into(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match ObjectType::try_from(d.remove_type) {
        Ok(ObjectType::ObjectTable) => hits.push(Hit {
            code: Code::DropTable,
            message: format!(
                "DROP TABLE {} deletes the table and its data and breaks clients still using it: stop using it in a release first, then drop it in a later migration (with a backup)",
                names()
            ),
            at: None,
        }),
        Ok(ObjectType::ObjectIndex) if !d.concurrent => hits.push(Hit {
            code: Code::NonConcurrentDropIndex,
            message: format!(
                "DROP INDEX {} takes an ACCESS EXCLUSIVE lock on its table: use DROP INDEX CONCURRENTLY (outside a transaction)",
                names()
            ),
            at: None,
        }),
        _ => {}
    }
}

fn index_stmt(i: &IndexStmt, created: &Created, hits: &mut Vec<Hit>) {
    let Some(r) = &i.relation else { return };
    if i.concurrent || created.has(r) {
        return;
    }
    let name = if i.idxname.is_empty() {
        String::new()
    } else {
        format!(" {}", i.idxname)
    };
    hits.push(Hit {
        code: Code::NonConcurrentIndex,
        message: format!(
            "CREATE INDEX{name} on existing table {} blocks writes to it until the index is built: use CREATE INDEX CONCURRENTLY (outside a transaction)",
            shown(Some(r))
        ),
        at: None,
    });
}

fn rename_stmt(r: &RenameStmt, hits: &mut Vec<Hit>) {
    let table = shown(r.relation.as_ref());
    match ObjectType::try_from(r.rename_type) {
        Ok(ObjectType::ObjectTable) => hits.push(Hit {
            code: Code::RenameTable,
            message: format!(
                "renaming table {table} to {} breaks clients still using the old name: create the new name (or a view), move clients, then drop the old one in a later migration",
                r.newname
            ),
            at: None,
        }),
        Ok(ObjectType::ObjectColumn) => hits.push(Hit {
            code: Code::RenameColumn,
            message: format!(
                "renaming column {table}.{} to {} breaks clients still using the old name: add the new column, write both, move readers, then drop the old one in a later migration",
                r.subname, r.newname
            ),
            at: None,
        }),
        _ => {}
    }
}
