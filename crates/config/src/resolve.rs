//! Raw → validated: every semantic check, each error placed at its key or value.

use std::path::Path;
use std::time::Duration;

use driftsync_core::redact::Secret;
use driftsync_core::RelPath;

use crate::cron::Cron;
use crate::error::{closest, Diagnostic};
use crate::glob::GlobList;
use crate::interp::interpolate;
use crate::kinds::{self, COMMON_FIELDS};
use crate::locate::Positions;
use crate::model::*;
use crate::raw::*;

/// Default timeout of checks, gates and verification commands.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(300);

/// Validation context: positions, environment and the errors found so far.
/// Type modules (`kinds/*.rs`) use its helpers so every error has a place.
pub struct Ctx<'a> {
    file: &'a Path,
    /// The repository root paths are relative to.
    pub root: &'a Path,
    pos: &'a Positions,
    env: &'a dyn Fn(&str) -> Option<String>,
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) reads: Vec<(String, String)>,
    pub(crate) unset: Vec<crate::model::UnsetVar>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        file: &'a Path,
        root: &'a Path,
        pos: &'a Positions,
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> Ctx<'a> {
        Ctx {
            file,
            root,
            pos,
            env,
            errors: Vec::new(),
            reads: Vec::new(),
            unset: Vec::new(),
        }
    }

    fn push(&mut self, p: crate::locate::Pos, message: String, help: Option<String>) {
        self.errors.push(Diagnostic {
            file: self.file.to_path_buf(),
            line: p.line,
            column: p.column,
            message,
            help,
        });
    }

    /// Report a bad value at `path`.
    pub fn error_value(
        &mut self,
        path: &[&str],
        message: impl Into<String>,
        help: impl Into<Option<String>>,
    ) {
        let p = self.pos.value(path);
        self.push(p, message.into(), help.into());
    }

    /// Report a problem with the key at `path` (misplaced or missing key).
    pub fn error_key(
        &mut self,
        path: &[&str],
        message: impl Into<String>,
        help: impl Into<Option<String>>,
    ) {
        let p = self.pos.key(path);
        self.push(p, message.into(), help.into());
    }

    /// Interpolate `${VAR}` in the string at `path`.
    pub fn interpolate(&mut self, path: &[&str], text: &str) -> Option<String> {
        match interpolate(text, self.env) {
            Ok((s, reads)) => {
                self.reads.extend(reads);
                Some(s)
            }
            // Only what runs needs it: recorded, the text kept as written.
            Err(e @ crate::interp::InterpError::Unset(_)) => {
                let (message, help) = e.explain();
                let p = self.pos.value(path);
                let target = (path.first() == Some(&"targets"))
                    .then(|| path.get(1).map(|t| t.to_string()))
                    .flatten();
                self.unset.push(crate::model::UnsetVar {
                    target,
                    diagnostic: Diagnostic {
                        file: self.file.to_path_buf(),
                        line: p.line,
                        column: p.column,
                        message,
                        help: Some(help),
                    },
                });
                Some(text.to_string())
            }
            Err(e) => {
                let (m, h) = e.explain();
                self.error_value(path, m, Some(h));
                None
            }
        }
    }

    /// Whether the value at `path` holds a `${VAR}` that is not set (it
    /// cannot be checked until the variable is).
    pub fn is_unset(&self, path: &[&str]) -> bool {
        let p = self.pos.value(path);
        self.unset
            .iter()
            .any(|u| (u.diagnostic.line, u.diagnostic.column) == (p.line, p.column))
    }

    /// Interpolate every string inside a JSON value.
    pub fn interpolate_json(&mut self, path: &[&str], v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::String(s) => {
                serde_json::Value::String(self.interpolate(path, s).unwrap_or_default())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| {
                        let i = i.to_string();
                        let mut p = path.to_vec();
                        p.push(&i);
                        self.interpolate_json(&p, x)
                    })
                    .collect(),
            ),
            serde_json::Value::Object(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, x)| {
                        let mut p = path.to_vec();
                        p.push(k);
                        (k.clone(), self.interpolate_json(&p, x))
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Parse a duration at `path`.
    pub fn duration(&mut self, path: &[&str], text: Option<&str>) -> Option<Duration> {
        match crate::duration::parse_duration(text?) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error_value(
                    path,
                    format!("bad duration: {e}"),
                    Some("write a number with a unit, e.g. `90s`, `20m`, `1h30m`".into()),
                );
                None
            }
        }
    }

    /// Compile globs at `path` (an absent list is empty).
    pub fn globs(&mut self, path: &[&str], list: Option<&Vec<String>>) -> GlobList {
        let Some(list) = list else {
            return GlobList::default();
        };
        for (i, p) in list.iter().enumerate() {
            if let Err(e) = crate::glob::compile(p) {
                let i = i.to_string();
                let mut at = path.to_vec();
                at.push(&i);
                self.error_value(
                    &at,
                    e,
                    Some(
                        "write a glob like `docs/**/*.md`; escape `[` `{` `*` with a backslash"
                            .into(),
                    ),
                );
            }
        }
        GlobList::new(list.clone()).unwrap_or_default()
    }

    /// A repository-relative path at `path`.
    pub fn rel_path(&mut self, path: &[&str], text: &str) -> Option<RelPath> {
        let t = text.strip_prefix("./").unwrap_or(text);
        match RelPath::new(t) {
            Ok(p) => Some(p),
            Err(e) => {
                self.error_value(
                    path,
                    format!("`{text}` is not a repository path: {e}"),
                    Some(
                        "write a path relative to the repository root, e.g. `scripts/sync.sh`"
                            .into(),
                    ),
                );
                None
            }
        }
    }
}

/// Validate a raw configuration.
pub(crate) fn resolve(
    raw: RawConfig,
    ctx: &mut Ctx<'_>,
) -> Option<(String, Defaults, Vec<Target>, Safety)> {
    let version = raw.version.clone().unwrap_or_else(|| "1.0".into());
    if version != "1.0" && version != "1" {
        ctx.error_value(
            &["version"],
            format!("unsupported version `{version}`"),
            Some("write `version: \"1.0\"`".into()),
        );
    }
    let defaults = resolve_defaults(&raw.defaults, ctx);
    let mut targets = Vec::new();
    for (name, t) in &raw.targets {
        let Some(first) = resolve_target(name, t, &defaults, ctx) else {
            continue;
        };
        match kinds::sync::split_template_paths(name, t) {
            // Checked whole above (errors point at the target as written):
            // now one target per folder, each with its own base.
            Some(parts) if ctx.errors.is_empty() => {
                for (part, raw_part) in parts {
                    if raw.targets.contains_key(&part) {
                        ctx.error_key(
                            &["targets", name, "template_paths"],
                            format!("a template path makes target `{part}`, and the file has one of that name"),
                            Some(format!("rename the target `{part}`")),
                        );
                        continue;
                    }
                    if let Some(mut p) = resolve_target(name, &raw_part, &defaults, ctx) {
                        p.name = part;
                        p.group = Some(name.clone());
                        targets.push(p);
                    }
                }
            }
            Some(_) => {}
            None => targets.push(first),
        }
    }
    let safety = resolve_safety(&raw.safety, ctx);
    ctx.errors
        .is_empty()
        .then_some((version, defaults, targets, safety))
}

fn direction(ctx: &mut Ctx<'_>, path: &[&str], s: &str) -> Option<Direction> {
    let d = Direction::parse(s);
    if d.is_none() {
        let hint = match closest(s, Direction::ALL.iter().map(|d| d.as_str())) {
            Some(c) => format!("did you mean `{c}`? write one of: pull, push, bidirectional"),
            None => "write one of: pull, push, bidirectional".into(),
        };
        ctx.error_value(path, format!("unknown direction `{s}`"), Some(hint));
    }
    d
}

fn resolve_defaults(raw: &RawDefaults, ctx: &mut Ctx<'_>) -> Defaults {
    let on_conflict = match raw.on_conflict.as_deref() {
        None => crate::SyncSpec::default().on_conflict,
        Some(s) => Policy::parse(s).unwrap_or_else(|| {
            ctx.error_value(
                &["defaults", "on_conflict"],
                format!("unknown conflict policy `{s}`"),
                Some(Policy::hint(s)),
            );
            Policy::Newer
        }),
    };
    Defaults {
        direction: raw
            .direction
            .as_deref()
            .and_then(|s| direction(ctx, &["defaults", "direction"], s))
            .unwrap_or(Direction::Bidirectional),
        dry_run: raw.dry_run.unwrap_or(false),
        fail_on_diff: raw.fail_on_diff.unwrap_or(false),
        git_commit: raw.git_commit.unwrap_or(true),
        git_push: raw.git_push,
        on_conflict,
        timeout: ctx.duration(&["defaults", "timeout"], raw.timeout.as_deref()),
        idempotent: raw.idempotent.unwrap_or(true),
        pull_request: resolve_pull_request(raw.pull_request.as_ref(), ctx),
    }
}

fn resolve_pull_request(
    raw: Option<&crate::raw::RawPullRequest>,
    ctx: &mut Ctx<'_>,
) -> crate::model::PullRequestSettings {
    let Some(raw) = raw else {
        return Default::default();
    };
    let at = |k: &'static str| ["defaults", "pull_request", k];
    for (key, value) in [("branch", &raw.branch), ("base", &raw.base)] {
        if let Some(b) = value {
            if !crate::model::valid_branch_name(b) {
                ctx.error_value(
                    &at(key),
                    format!("`{b}` is not a valid branch name"),
                    Some(
                        "use letters, digits, `-`, `_`, `.` and `/`, e.g. driftsync/nightly".into(),
                    ),
                );
            }
        }
    }
    if let Some(m) = &raw.auto_merge {
        if !crate::model::AUTO_MERGE_METHODS.contains(&m.as_str()) {
            ctx.error_value(
                &at("auto_merge"),
                format!("unknown merge method `{m}`"),
                Some("write one of: merge, squash, rebase".into()),
            );
        }
    }
    let list = |v: &Option<Vec<String>>| -> Vec<String> {
        v.iter()
            .flatten()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    crate::model::PullRequestSettings {
        branch: raw.branch.clone(),
        base: raw.base.clone(),
        labels: list(&raw.labels),
        reviewers: list(&raw.reviewers),
        draft: raw.draft.unwrap_or(false),
        auto_merge: raw.auto_merge.clone(),
    }
}

pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.')
}

fn resolve_target(
    name: &str,
    raw: &RawTarget,
    defaults: &Defaults,
    ctx: &mut Ctx<'_>,
) -> Option<Target> {
    let base = ["targets", name];
    let at = |k: &'static str| -> [&str; 3] { ["targets", name, k] };
    if !valid_name(name) {
        ctx.error_key(
            &base,
            format!("target name `{name}` is not usable as a file name"),
            Some("use letters, digits, `_`, `-` and `.` (not first), e.g. `oca_repos`".into()),
        );
    }
    let type_names: Vec<&str> = kinds::KINDS.iter().map(|k| k.name).collect();
    // A target with a script to run is a command target without saying so
    // (as in the sync runner's own sync.yaml).
    let implied = (raw.entrypoint.is_some() || raw.run.is_some()).then_some("command");
    let Some(kind_name) = raw.kind.as_deref().or(implied) else {
        ctx.error_key(
            &base,
            format!("target `{name}` has no `type`"),
            Some(format!(
                "add `type: {}` (types: {}); a target with `entrypoint` or `run` is a command target",
                type_names[0],
                type_names.join(", ")
            )),
        );
        return None;
    };
    let Some(spec) = kinds::KINDS.iter().find(|k| k.name == kind_name) else {
        let hint = match closest(kind_name, type_names.iter().copied()) {
            Some(c) => format!("did you mean `{c}`? types: {}", type_names.join(", ")),
            None => format!("write one of: {}", type_names.join(", ")),
        };
        ctx.error_value(
            &at("type"),
            format!("unknown target type `{kind_name}`"),
            Some(hint),
        );
        return None;
    };
    // Fields that belong to another type.
    for (key, _) in ctx.pos.keys(&base) {
        if COMMON_FIELDS.contains(&key.as_str()) || spec.fields.contains(&key.as_str()) {
            continue;
        }
        let owner = kinds::KINDS
            .iter()
            .find(|k| k.fields.contains(&key.as_str()));
        let owner = owner.map_or(String::new(), |o| {
            format!(" (it belongs to type `{}`)", o.name)
        });
        let mut valid: Vec<&str> = COMMON_FIELDS.to_vec();
        valid.extend(spec.fields);
        let help = match closest(&key, valid.iter().copied()).filter(|_| owner.is_empty()) {
            Some(c) => format!("did you mean `{c}`?"),
            None => format!(
                "remove it; a `{kind_name}` target takes: {}",
                valid.join(", ")
            ),
        };
        ctx.error_key(
            &["targets", name, &key],
            format!("`{key}` is not valid for a target of type `{kind_name}`{owner}"),
            Some(help),
        );
    }
    let dir = raw
        .direction
        .as_deref()
        .and_then(|s| direction(ctx, &at("direction"), s))
        .unwrap_or(defaults.direction);
    let schedule = raw.schedule.as_deref().and_then(|s| match Cron::parse(s) {
        Ok(c) => Some(c),
        Err(e) => {
            ctx.error_value(&at("schedule"), format!("bad cron expression `{s}`: {e}"), Some("write five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\"".into()));
            None
        }
    });
    let timeout = ctx
        .duration(&at("timeout"), raw.timeout.as_deref())
        .or(defaults.timeout);
    let outputs = ctx.globs(&at("outputs"), raw.outputs.as_ref());
    let inputs = ctx.globs(&at("inputs"), raw.inputs.as_ref());
    let verification = raw.verification.as_ref().map(|v| {
        let vp = ["targets", name, "verification", "timeout"];
        Verification {
            command: v.command.clone(),
            expected_min: v.expected_min,
            expected_exit_code: v.expected_exit_code.or(if v.expected_min.is_none() {
                Some(0)
            } else {
                None
            }),
            timeout: ctx
                .duration(&vp, v.timeout.as_deref())
                .unwrap_or(DEFAULT_CHECK_TIMEOUT),
        }
    });
    let kind = (spec.resolve)(name, raw, ctx)?;
    Some(Target {
        name: name.to_string(),
        kind,
        direction: dir,
        description: raw.description.clone(),
        schedule,
        timeout,
        outputs,
        inputs,
        verification,
        git_commit: raw.git_commit.unwrap_or(defaults.git_commit),
        fail_on_diff: raw.fail_on_diff.unwrap_or(defaults.fail_on_diff),
        idempotent: raw.idempotent.unwrap_or(defaults.idempotent),
        group: None,
        pos: ctx.pos.key(&base),
    })
}

const BUILTINS: [&str; 3] = ["git_clean", "secrets", "validate"];

fn resolve_checks(list: Option<&Vec<RawCheck>>, section: &str, ctx: &mut Ctx<'_>) -> Vec<Check> {
    let mut out = Vec::new();
    for (i, c) in list.into_iter().flatten().enumerate() {
        let i = i.to_string();
        let at = |k: &'static str| -> [&str; 4] { ["safety", section, &i, k] };
        let base = ["safety", section, &i];
        let timeout = ctx
            .duration(&at("timeout"), c.timeout.as_deref())
            .unwrap_or(DEFAULT_CHECK_TIMEOUT);
        let kind = match (&c.builtin, &c.command) {
            (Some(_), Some(_)) => {
                ctx.error_key(
                    &at("command"),
                    format!("check `{}` has both `builtin` and `command`", c.name),
                    Some("keep one: a check is either a built-in or a command".into()),
                );
                continue;
            }
            (None, None) => {
                ctx.error_key(
                    &base,
                    format!("check `{}` has neither `builtin` nor `command`", c.name),
                    Some(
                        "add `builtin: git_clean|secrets|validate` or `command: <shell line>`"
                            .into(),
                    ),
                );
                continue;
            }
            (None, Some(cmd)) => CheckKind::Command {
                command: cmd.clone(),
                expected_exit_code: c.expected_exit_code.unwrap_or(0),
                timeout,
            },
            (Some(b), None) => {
                if c.expected_exit_code.is_some() {
                    ctx.error_key(
                        &at("expected_exit_code"),
                        "`expected_exit_code` applies to command checks only",
                        Some("remove it, or use `command:` instead of `builtin:`".into()),
                    );
                }
                match b.as_str() {
                    "git_clean" => CheckKind::GitClean,
                    "secrets" => CheckKind::Secrets,
                    "validate" => {
                        if c.paths.is_none() {
                            ctx.error_key(
                                &base,
                                format!("check `{}` (validate) needs `paths`", c.name),
                                Some("add `paths: [\"docs/**\"]`".into()),
                            );
                        }
                        CheckKind::Validate {
                            paths: ctx.globs(&at("paths"), c.paths.as_ref()),
                        }
                    }
                    other => {
                        let hint = match closest(other, BUILTINS) {
                            Some(s) => {
                                format!("did you mean `{s}`? built-ins: {}", BUILTINS.join(", "))
                            }
                            None => format!("write one of: {}", BUILTINS.join(", ")),
                        };
                        ctx.error_value(
                            &at("builtin"),
                            format!("unknown built-in check `{other}`"),
                            Some(hint),
                        );
                        continue;
                    }
                }
            }
        };
        if c.paths.is_some() && !matches!(kind, CheckKind::Validate { .. }) {
            ctx.error_key(
                &at("paths"),
                "`paths` applies to the `validate` built-in only",
                Some("remove it".into()),
            );
        }
        out.push(Check {
            name: c.name.clone(),
            kind,
            skip_on_pull: c.skip_on_pull.unwrap_or(false),
            skip_on_push: c.skip_on_push.unwrap_or(false),
        });
    }
    out
}

fn resolve_safety(raw: &RawSafety, ctx: &mut Ctx<'_>) -> Safety {
    let mut secret_patterns = Vec::new();
    for (i, p) in raw.secret_patterns.iter().flatten().enumerate() {
        match regex::RegexBuilder::new(p).case_insensitive(true).build() {
            Ok(r) => secret_patterns.push(r),
            Err(e) => {
                let first = e.to_string().lines().last().unwrap_or_default().to_string();
                ctx.error_value(&["safety", "secret_patterns", &i.to_string()], format!("`{p}` is not a valid regular expression: {first}"), Some("write a regular expression, e.g. `SUPABASE_.*KEY`; escape `(`, `[`, `.` with a backslash".into()));
            }
        }
    }
    let secrets_allowlist = raw
        .secrets_allowlist
        .as_deref()
        .and_then(|s| ctx.rel_path(&["safety", "secrets_allowlist"], s));
    let pre_sync_checks = resolve_checks(raw.pre_sync_checks.as_ref(), "pre_sync_checks", ctx);
    let post_sync_checks = resolve_checks(raw.post_sync_checks.as_ref(), "post_sync_checks", ctx);
    let mut drift_gates = Vec::new();
    for (i, g) in raw.drift_gates.iter().flatten().enumerate() {
        let i = i.to_string();
        if g.min_value.is_none() && g.max_value.is_none() && g.max_drift_score.is_none() {
            ctx.error_key(
                &["safety", "drift_gates", &i],
                format!("drift gate `{}` has no bound", g.name),
                Some("add `min_value`, `max_value` or `max_drift_score`".into()),
            );
        }
        drift_gates.push(DriftGate {
            name: g.name.clone(),
            command: g.command.clone(),
            min_value: g.min_value,
            max_value: g.max_value,
            max_drift_score: g.max_drift_score,
            timeout: ctx
                .duration(
                    &["safety", "drift_gates", &i, "timeout"],
                    g.timeout.as_deref(),
                )
                .unwrap_or(DEFAULT_CHECK_TIMEOUT),
        });
    }
    Safety {
        secret_patterns,
        secrets_allowlist,
        pre_sync_checks,
        post_sync_checks,
        drift_gates,
    }
}

pub(crate) fn env_reads(reads: Vec<(String, String)>) -> Vec<EnvRead> {
    let mut out: Vec<EnvRead> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (name, value) in reads {
        if seen.insert(name.clone()) {
            out.push(EnvRead {
                name,
                value: Secret::new(value),
            });
        }
    }
    out
}
