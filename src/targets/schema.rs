//! `type: schema` targets for `driftsync run` and `driftsync check`.
//!
//! `check` (and a dry run) reports the findings and marks the target drifted
//! when one is at or above `fail_on`; `run` regenerates the modules (the
//! runner commits them when `outputs` covers the directory).

use driftsync_config::{Target, TargetKind};
use driftsync_core::redact::RedactedUrl;
use driftsync_core::report::{FindingCode, TargetReport, TargetStatus};
use driftsync_runner::{new_report, ExecError, RunContext, TargetExecutor};

use driftsync_schema::comparison::{drifted_files, failing, Sides};
use driftsync_schema::version::rfc3339_utc;
use driftsync_schema::workflow::{apply_update, plan_update};
use driftsync_schema::{dialect_of, Options, SchemaFilter};

/// The generator's style for a target's `style:`.
pub fn style(s: driftsync_config::SchemaStyle) -> driftsync_schema::generate::Style {
    match s {
        driftsync_config::SchemaStyle::TypedDict => driftsync_schema::generate::Style::TypedDict,
        driftsync_config::SchemaStyle::Pydantic => driftsync_schema::generate::Style::Pydantic,
    }
}

/// Runs `type: schema` targets.
pub struct SchemaExecutor;

impl TargetExecutor for SchemaExecutor {
    fn execute(&self, target: &Target, ctx: &RunContext<'_>) -> Result<TargetReport, ExecError> {
        let TargetKind::Schema(s) = &target.kind else {
            return Err(ExecError::Environment(format!(
                "`{}` is not a schema target",
                target.name
            )));
        };
        let url = RedactedUrl::new(s.database.as_str());
        let dialect = dialect_of(url.expose())
            .ok_or_else(|| ExecError::Environment(format!("unsupported database URL {url}")))?;
        let filter = SchemaFilter {
            include: s.schemas.clone(),
            exclude: s.exclude_schemas.clone(),
        };
        let env = |e: driftsync_schema::SchemaError| {
            ExecError::Environment(ctx.masker.mask(&e.to_string()))
        };
        let dir = ctx.repo_root.join(s.local.as_str());
        let options = Options {
            class_names: s.class_names.clone(),
            type_overrides: s.type_overrides.clone(),
            variants: driftsync_schema::generate::Variants {
                insert: s.variants.insert,
                update: s.variants.update,
            },
            style: style(s.style),
            ..Options::default()
        };
        // `run` regenerates: a generated module that no longer reads is rewritten.
        let c = Sides {
            url,
            dialect,
            filter: &filter,
            dir: &dir,
            shown: s.local.as_str(),
            options,
        }
        .compare(!(ctx.check || ctx.dry_run))
        .map_err(env)?;
        let mut found = c.findings.clone();
        // `docs:` — committed Markdown pages; stale ones are drift whatever `fail_on`.
        let pages = s.docs.as_ref().map(|d| {
            let named = Options {
                previous_class_names: c.repo.class_names.clone(),
                ..c.options.clone()
            };
            let names = driftsync_schema::generate::class_names(&c.db, &named);
            (d, driftsync_schema::docs::render(&c.db, &names))
        });
        if ctx.check || ctx.dry_run {
            if let Some((d, pages)) = &pages {
                let root = ctx.repo_root.join(d.as_str());
                for (rel, why) in driftsync_schema::docs::stale_pages(&root, pages) {
                    found.push(driftsync_schema::docs::stale_finding(d.as_str(), &rel, why));
                }
            }
        }
        let mut failing = failing(&found, s.fail_on);
        failing.extend(
            found
                .iter()
                .filter(|f| f.severity < s.fail_on && f.code == FindingCode::DocsStale),
        );
        let mut report = new_report(target);
        report.findings = found.clone();
        if ctx.check || ctx.dry_run {
            if failing.is_empty() {
                report.message = format!(
                    "{} matches the database ({} finding(s) below {})",
                    s.local,
                    found.len(),
                    s.fail_on.as_str()
                );
            } else {
                report.status = TargetStatus::Drift;
                report.drifted = drifted_files(&failing);
                let stale = failing
                    .iter()
                    .filter(|f| f.code == FindingCode::DocsStale)
                    .count();
                report.message = if stale == failing.len() {
                    format!("{stale} schema docs page(s) stale; run `driftsync run`")
                } else {
                    format!(
                        "schema drift: {} finding(s) at or above {}; run `driftsync schema update`",
                        failing.len() - stale,
                        s.fail_on.as_str()
                    ) + &if stale > 0 {
                        format!(" ({stale} schema docs page(s) stale too)")
                    } else {
                        String::new()
                    }
                };
            }
            return Ok(report);
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let plan = plan_update(
            &dir,
            &c.db,
            &c.repo,
            &c.options,
            c.dialect,
            &rfc3339_utc(now),
            false,
        )
        .map_err(|e| ExecError::Failed(e.to_string()))?;
        apply_update(&dir, &plan).map_err(|e| ExecError::Failed(e.to_string()))?;
        let mut docs_written = 0;
        if let Some((d, pages)) = &pages {
            let root = ctx.repo_root.join(d.as_str());
            let (w, r) = driftsync_schema::docs::write_pages(&root, pages, true)
                .map_err(|e| ExecError::Failed(format!("{d}: {e}")))?;
            docs_written = w.len() + r.len();
        }
        let mut message = if plan.changed.is_empty() {
            format!("{} is up to date", s.local)
        } else {
            format!(
                "regenerated {} file(s) in {} ({} difference(s) resolved)",
                plan.changed.len(),
                s.local,
                plan.resolved.len()
            )
        };
        if docs_written > 0 {
            message.push_str(&format!("; {docs_written} docs page(s) updated"));
        }
        for note in &c.repairs {
            message.push_str(&format!("; repaired {}", ctx.masker.mask(note)));
        }
        report.message = message;
        Ok(report)
    }
}
