//! The `${{ }}` expressions of `action.yml`, the example workflows and what
//! `driftsync workflow generate` writes, evaluated with GitHub's own
//! expression engine (the npm package `@actions/expressions`, installed by
//! `.ci/install/40-actions-lint.sh`) for the contexts a run meets: a manual
//! dispatch with verify true or false, a schedule (no inputs), github.com,
//! GHE.com and GitHub Enterprise Server, artifact names auto/custom/empty,
//! matrix legs and comment modes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

const ENGINE: &str = "/opt/driftsync-ci/node_modules/@actions/expressions/dist/index.js";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Evaluates each `(expression, context)`; returns per case
/// `{"string": coerceString(), "truthy": …, "json": …}` or `{"error": …}`.
const EVAL: &str = r#"
import { Lexer, Parser, Evaluator, data } from "ENGINE";
import { truthy } from "ENGINE/../result.js";
const status = { always: true, success: true, failure: false, cancelled: false };
const funcs = Object.entries(status).map(([name, v]) => ({
  name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(v),
}));
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map(({ expr, context }) => {
  try {
    const ctx = JSON.parse(JSON.stringify(context), data.reviver);
    const tokens = new Lexer(expr).lex().tokens;
    const ast = new Parser(tokens, Object.keys(context), funcs).parse();
    const impl = new Map(funcs.map((f) => [f.name, f]));
    const r = new Evaluator(ast, ctx, impl).evaluate();
    return { string: r.coerceString(), truthy: truthy(r),
             json: JSON.parse(JSON.stringify(r, data.replacer) ?? "null") };
  } catch (e) {
    return { error: String(e && e.message || e) };
  }
});
process.stdout.write(JSON.stringify(out));
"#;

fn evaluate(cases: &[(String, Value)]) -> Vec<Value> {
    assert!(
        Path::new(ENGINE).exists(),
        "GitHub's expression engine is not installed at {ENGINE}. Install it with \
         `bash .ci/install/40-actions-lint.sh` (npm install --prefix /opt/driftsync-ci @actions/expressions)"
    );
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("eval.mjs");
    let dist = Path::new(ENGINE).parent().unwrap().display().to_string();
    let code = EVAL
        .replace("ENGINE/../", &format!("{dist}/"))
        .replace("ENGINE", ENGINE);
    std::fs::write(&script, code).unwrap();
    let mut child = Command::new("node")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("node is not installed ({e}): bash .ci/install/40-actions-lint.sh")
        });
    let input: Vec<Value> = cases
        .iter()
        .map(|(e, c)| json!({"expr": e, "context": c}))
        .collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn eval_one(expr: &str, context: &Value) -> Value {
    let r = evaluate(&[(expr.to_string(), context.clone())]).remove(0);
    assert!(r.get("error").is_none(), "{expr}: {r}");
    r
}

fn string(expr: &str, context: &Value) -> String {
    eval_one(expr, context)["string"]
        .as_str()
        .unwrap()
        .to_string()
}

fn truthy(expr: &str, context: &Value) -> bool {
    eval_one(expr, context)["truthy"].as_bool().unwrap()
}

/// Every expression of a file: `(line, key, expression)`. `${{ … }}` values,
/// and `if:` values without braces (GitHub evaluates those too).
fn expressions(text: &str) -> Vec<(usize, String, String)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start().trim_start_matches("- ");
        if t.starts_with('#') {
            continue;
        }
        let key = t.split(':').next().unwrap_or("").trim().to_string();
        let mut rest = line;
        let mut any = false;
        while let Some(start) = rest.find("${{") {
            let after = &rest[start + 3..];
            let end = after.find("}}").expect("unclosed ${{");
            found.push((i + 1, key.clone(), after[..end].trim().to_string()));
            rest = &after[end + 2..];
            any = true;
        }
        if !any && key == "if" {
            let v = t["if:".len()..].trim();
            found.push((i + 1, key, v.to_string()));
        }
    }
    found
}

/// The expression of `key:` on the first line after `after` (a text the
/// line or an earlier line holds).
fn expr_of(text: &str, key: &str, after: &str) -> String {
    let start = text
        .find(after)
        .unwrap_or_else(|| panic!("{after} not found"));
    let base = text[..start].lines().count();
    expressions(&text[start..])
        .into_iter()
        .find(|(_, k, _)| k == key)
        .map(|(_, _, e)| e)
        .unwrap_or_else(|| panic!("no {key}: after {after} (line {base})"))
}

fn read(p: &str) -> String {
    std::fs::read_to_string(root().join(p)).unwrap()
}

fn workflow_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("action.yml")];
    for dir in [".github/workflows", "examples/workflows"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// The generated workflow for the demo configuration.
fn generated() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(["workflow", "generate", "-o", "-"])
        .current_dir(root().join("examples/demo"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn all_contexts() -> Value {
    json!({
        "github": {"server_url": "https://github.com", "event_name": "push", "ref": "refs/heads/main",
                    "token": "t", "event": {"pull_request": {"number": 7}}},
        "inputs": {}, "steps": {}, "matrix": null, "secrets": {},
        "needs": {"plan": {"outputs": {"matrix": "{\"include\":[]}"}}, "check": {"result": "success"}},
        "env": {}, "runner": {}, "job": {}, "strategy": {}, "vars": {}
    })
}

#[test]
fn expressions_every_expression_parses_and_evaluates_with_githubs_engine() {
    let mut cases = Vec::new();
    let mut wheres = Vec::new();
    let mut files: Vec<(String, String)> = workflow_files()
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.push(("workflow generate".into(), generated()));
    for (name, text) in &files {
        // A composite action's steps see fewer contexts than a workflow's
        // (no secrets, needs or vars: the runner's action_yaml.json).
        let mut contexts = all_contexts();
        if name.ends_with("action.yml") {
            let c = contexts.as_object_mut().unwrap();
            for gone in ["secrets", "needs", "vars"] {
                c.remove(gone);
            }
        }
        for (line, _, e) in expressions(text) {
            wheres.push(format!("{name}:{line}: {e}"));
            cases.push((e, contexts.clone()));
        }
    }
    assert!(
        cases.len() > 40,
        "expected many expressions, found {}",
        cases.len()
    );
    for (r, w) in evaluate(&cases).iter().zip(&wheres) {
        assert!(r.get("error").is_none(), "{w}: {r}");
    }
}

fn dispatch(inputs: Value) -> Value {
    let mut c = all_contexts();
    c["github"]["event_name"] = json!("workflow_dispatch");
    c["inputs"] = inputs;
    c
}

fn schedule() -> Value {
    let mut c = all_contexts();
    c["github"]["event_name"] = json!("schedule");
    // A schedule run has no inputs: every inputs.<name> is null.
    c["inputs"] = json!({});
    c
}

#[test]
fn expressions_manual_verify_false_is_honoured_and_a_schedule_verifies() {
    let gen = generated();
    for (name, text) in [
        (
            "examples/workflows/commit.yml",
            read("examples/workflows/commit.yml"),
        ),
        (
            "examples/workflows/pull-request.yml",
            read("examples/workflows/pull-request.yml"),
        ),
        ("workflow generate", gen),
    ] {
        let verify = expr_of(&text, "verify", "with:");
        let both = json!({"verify": false, "dry-run": false, "direction": "all", "target": ""});
        assert_eq!(
            string(&verify, &dispatch(both.clone())),
            "false",
            "{name}: {verify}"
        );
        let mut on = both.clone();
        on["verify"] = json!(true);
        assert_eq!(string(&verify, &dispatch(on)), "true", "{name}");
        assert_eq!(string(&verify, &schedule()), "true", "{name}");
        // What the expression replaced: `||` makes false true.
        assert_eq!(string("inputs.verify || 'true'", &dispatch(both)), "true");
    }
    for (name, text) in [
        (
            "examples/workflows/commit.yml",
            read("examples/workflows/commit.yml"),
        ),
        ("workflow generate", generated()),
    ] {
        let dry = expr_of(&text, "dry-run", "with:");
        let direction = expr_of(&text, "direction", "with:");
        let i = json!({"verify": true, "dry-run": true, "direction": "pull", "target": ""});
        assert_eq!(string(&dry, &dispatch(i.clone())), "true", "{name}");
        assert_eq!(string(&direction, &dispatch(i.clone())), "pull", "{name}");
        let mut all = i;
        all["dry-run"] = json!(false);
        all["direction"] = json!("all");
        assert_eq!(string(&dry, &dispatch(all.clone())), "false", "{name}");
        assert_eq!(string(&direction, &dispatch(all)), "", "{name}");
        assert_eq!(string(&dry, &schedule()), "false", "{name}");
        assert_eq!(string(&direction, &schedule()), "", "{name}");
    }
}

fn action_run(server: &str, artifact: &str, binary_name: Option<&str>, report: &str) -> Value {
    let mut c = all_contexts();
    c["github"]["server_url"] = json!(server);
    c["inputs"] = json!({"artifact-name": artifact, "comment": "true"});
    let mut outputs = json!({"report-path": report});
    if let Some(n) = binary_name {
        outputs["artifact-name"] = json!(n);
    }
    c["steps"] = json!({"run": {"outputs": outputs}});
    c
}

#[test]
fn expressions_upload_step_follows_the_server_and_the_artifact_name() {
    let action = read("action.yml");
    let v4_if = expr_of(&action, "if", "- name: Upload the report\n");
    let v4_name = expr_of(&action, "name", "# v4.6.2");
    let v3_if = expr_of(
        &action,
        "if",
        "- name: Upload the report (GitHub Enterprise Server)",
    );
    let v3_name = expr_of(&action, "name", "# v3.2.1-node20");
    assert!(action.contains(&format!("if: ${{{{ {v4_if} }}}}\n      uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2")));
    assert!(action.contains(&format!("if: ${{{{ {v3_if} }}}}\n      uses: actions/upload-artifact@c24449f33cd45d4826c6702db7e49f7cdb9b551d # v3.2.1-node20")));
    let out_name = expr_of(
        &action,
        "value",
        "  artifact-name:\n    description: Name of the report artifact this step uploaded",
    );

    for (server, v4) in [
        ("https://github.com", true),
        ("https://octo.ghe.com", true),
        ("https://github.example.com", false),
        ("https://ghes.internal:8443", false),
    ] {
        let c = action_run(server, "auto", Some("driftsync-report-a-pull"), "/r");
        assert_eq!(truthy(&v4_if, &c), v4, "{server}");
        assert_eq!(truthy(&v3_if, &c), !v4, "{server}");
    }
    // Names: auto takes the binary's (per matrix leg), else the default.
    for (input, from_binary, want) in [
        (
            "auto",
            Some("driftsync-report-a-pull"),
            "driftsync-report-a-pull",
        ),
        ("auto", None, "driftsync-report"),
        ("mine", Some("driftsync-report-a-pull"), "mine"),
    ] {
        let c = action_run("https://github.com", input, from_binary, "/r");
        assert_eq!(string(&v4_name, &c), want);
        assert_eq!(string(&v3_name, &c), want);
        assert_eq!(string(&out_name, &c), want);
    }
    // "" skips the upload; so does a step that wrote no report.
    for (input, report) in [("", "/r"), ("auto", "")] {
        for server in ["https://github.com", "https://github.example.com"] {
            let c = action_run(server, input, Some("x"), report);
            assert!(
                !truthy(&v4_if, &c) && !truthy(&v3_if, &c),
                "{input:?} {report:?} {server}"
            );
            assert_eq!(string(&out_name, &c), "");
        }
    }
}

#[test]
fn expressions_matrix_and_comment_reach_the_binary() {
    let action = read("action.yml");
    let matrix = expr_of(&action, "DRIFTSYNC_MATRIX", "- name: Run driftsync");
    let comment = expr_of(&action, "INPUT_COMMENT", "- name: Run driftsync");
    let c = all_contexts();
    assert_eq!(string(&matrix, &c), "null", "outside a matrix");
    let mut leg = all_contexts();
    leg["matrix"] = json!({"target": "a", "direction": "pull", "type": "command"});
    let text = string(&matrix, &leg);
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, leg["matrix"]);
    for mode in ["true", "false", "merged"] {
        let mut c = all_contexts();
        c["inputs"] = json!({"comment": mode});
        assert_eq!(string(&comment, &c), mode);
    }
}

#[test]
fn expressions_scale_out_merge_runs_after_failed_legs_but_not_skipped_ones() {
    let text = read("examples/workflows/scale-out.yml");
    let merge_if = expr_of(&text, "if", "  merge:");
    let strategy = expr_of(&text, "matrix", "    strategy:");
    for (result, runs) in [("success", true), ("failure", true), ("skipped", false)] {
        let mut c = all_contexts();
        c["needs"] = json!({"check": {"result": result}});
        assert_eq!(truthy(&merge_if, &c), runs, "{result}");
    }
    let mut c = all_contexts();
    let plan = r#"{"include":[{"target":"a","direction":"pull","type":"command"}]}"#;
    c["needs"] = json!({"plan": {"outputs": {"matrix": plan}}});
    let r = eval_one(&strategy, &c);
    assert_eq!(r["json"]["include"][0]["target"], "a", "{r}");
    // Each leg uploads under the binary's per-leg name, which the merge
    // job's pattern picks up.
    assert!(text.contains("pattern: driftsync-report-*\n"));
    assert!(
        !text.contains("merge-multiple: true"),
        "per-leg folders must not be merged into one"
    );
}
