//! Python's own tools over generated modules: they compile, `mypy --strict`
//! accepts them, black would not change a byte.

use std::path::{Path, PathBuf};
use std::process::Command;

fn tool(program: &str, args: &[&str], cwd: &Path, install: &str) {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| {
            panic!("`{program}` is needed for this test ({e}); install it with `{install}` (bash .ci/run does)")
        });
    assert!(
        out.status.success(),
        "{program} {args:?} failed in {}:\n{}\n{}",
        cwd.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Python compiles every generated package, `mypy --strict` accepts them, and
/// black would not change a byte.
pub fn strict(packages: &[PathBuf]) {
    let Some(parent) = packages.first().and_then(|p| p.parent()) else {
        return;
    };
    let names: Vec<String> = packages
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut args = vec!["-m", "compileall", "-q"];
    args.extend(&names);
    tool("python3", &args, parent, "apt-get install python3");
    let mut args = vec!["-m", "mypy", "--strict", "--no-incremental", "--"];
    args.extend(&names);
    tool("python3", &args, parent, "pip install mypy");
    let mut args = vec!["-m", "black", "--check", "--diff", "--quiet", "--"];
    args.extend(&names);
    tool("python3", &args, parent, "pip install black");
}
