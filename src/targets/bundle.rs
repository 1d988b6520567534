//! `type: bundle` targets: the bundles of a folder against a database.

use driftsync_bundle::{Bump, BundleError, BundleStore, ImportOutcome, SyncState, Workspace};
use driftsync_replica_db::DbUrl;

use crate::commands::bundle::created_by;
use crate::exit::Exit;

/// Runs `type: bundle` targets for `driftsync run` and `driftsync check`.
///
/// `check` (and `--dry-run`) report every bundle that is not in sync as drift.
/// `run` brings them together by direction: `pull` exports bundles that are
/// newer in (or only in) the database, `push` imports local changes as a new
/// patch version, `bidirectional` does both; a diverged bundle is a conflict
/// left for a person (exit 1).
pub struct BundleExecutor;

impl driftsync_runner::TargetExecutor for BundleExecutor {
    fn execute(
        &self,
        target: &driftsync_config::Target,
        ctx: &driftsync_runner::RunContext<'_>,
    ) -> Result<driftsync_core::report::TargetReport, driftsync_runner::ExecError> {
        use driftsync_config::{Direction, TargetKind};
        use driftsync_core::report::{ActionOutcome, ActionRecord, ConflictRecord, TargetStatus};
        use driftsync_runner::ExecError;

        let TargetKind::Bundle(cfg) = &target.kind else {
            return Err(ExecError::Environment(format!(
                "`{}` is not a bundle target",
                target.name
            )));
        };
        let env = |e: BundleError| match Exit::of_bundle(&e) {
            Exit::Drift => ExecError::Failed(e.to_string()),
            _ => ExecError::Environment(e.to_string()),
        };
        let url = DbUrl::parse(cfg.database.expose(), ctx.repo_root)
            .map_err(|e| ExecError::Environment(e.to_string()))?;
        // A dry run or a check creates no database file and no table.
        let store = if ctx.check || ctx.dry_run {
            BundleStore::open_read_only(&url)
        } else {
            BundleStore::open(&url)
        }
        .map_err(env)?;
        let mut ws = Workspace {
            root: ctx.repo_root.join(cfg.local.as_str()),
            state_path: ctx.repo_root.join(".driftsync/state/bundles.json"),
            store,
        };
        let lines = ws.status().map_err(env)?;
        let mut report = driftsync_runner::new_report(target);
        let pull = matches!(target.direction, Direction::Pull | Direction::Bidirectional);
        let push = matches!(target.direction, Direction::Push | Direction::Bidirectional);
        for l in lines.iter().filter(|l| l.state != SyncState::InSync) {
            report
                .drifted
                .push(format!("{}: {}", l.name, l.state.as_str()));
            if ctx.check || ctx.dry_run {
                continue;
            }
            let (kind, result) = match l.state {
                SyncState::NewerInDatabase | SyncState::OnlyDatabase if pull => (
                    "export",
                    ws.export(&l.name, None, false)
                        .map(|o| format!("exported {}", o.version)),
                ),
                // A bundle new to the database is stored under its own
                // version; a changed one as the next patch version, written
                // into its bundle.yaml (committed with the run).
                SyncState::ModifiedLocally | SyncState::OnlyLocal if push => {
                    let bump = (l.state == SyncState::ModifiedLocally).then_some(Bump::Patch);
                    let result = ws.import(&l.name, bump, &created_by());
                    if bump.is_some() && matches!(result, Ok(ImportOutcome::Stored(_))) {
                        report.outputs_created.push(format!(
                            "{}/{}/{}",
                            cfg.local.as_str().trim_end_matches('/'),
                            l.name,
                            driftsync_bundle::manifest::MANIFEST_FILE
                        ));
                    }
                    (
                        "import",
                        result.map(|o| match o {
                            ImportOutcome::Stored(i) => format!("stored {}", i.version),
                            ImportOutcome::Unchanged(v) => format!("unchanged since {v}"),
                        }),
                    )
                }
                SyncState::Diverged => {
                    report.conflicts.push(ConflictRecord {
                        path: l.name.clone(),
                        reason:
                            "changed in the folder and in the database since the recorded version"
                                .into(),
                        resolution: driftsync_core::report::Resolution::ForAPerson(
                            "left for a person: import under a new version, or export --force"
                                .into(),
                        ),
                    });
                    continue;
                }
                _ => continue,
            };
            let (outcome, detail) = match result {
                Ok(d) => (ActionOutcome::Applied, d),
                Err(e) if e.is_environment() => return Err(env(e)),
                Err(e) => (ActionOutcome::Failed, ctx.masker.mask(&e.to_string())),
            };
            report.actions.push(ActionRecord {
                path: l.name.clone(),
                kind: kind.into(),
                direction: if kind == "export" { "pull" } else { "push" }.into(),
                reason: l.state.as_str().into(),
                outcome,
                detail: Some(detail),
            });
        }
        let failed = report
            .actions
            .iter()
            .any(|a| a.outcome == ActionOutcome::Failed);
        let left = if ctx.check || ctx.dry_run {
            report.drifted.len()
        } else {
            report.conflicts.len()
        };
        if failed {
            report.status = TargetStatus::Failed;
        } else if left > 0 {
            report.status = TargetStatus::Drift;
        }
        report.message = format!(
            "{} bundle(s), {} not in sync, {} action(s), {} conflict(s)",
            lines.len(),
            report.drifted.len(),
            report.actions.len(),
            report.conflicts.len()
        );
        Ok(report)
    }
}
