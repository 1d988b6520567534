//! Loads a state file (a sync's base) and prints how long that took, the
//! number of paths and the file's size: `bench/sync_scale.sh` reports it.
//!
//! cargo run --release -p driftsync-engine --example state_load -- FILE [RUNS]

use std::time::Instant;

use driftsync_engine::State;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: state_load FILE [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args
        .next()
        .map_or(3, |r| r.parse().expect("RUNS is a number"));
    let bytes = std::fs::metadata(&path).expect("state file").len();
    let mut best = f64::MAX;
    let mut paths = 0;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let state = State::load(path.as_ref())
            .expect("readable state")
            .expect("a state file");
        best = best.min(start.elapsed().as_secs_f64());
        paths = state.base.left.len().max(state.base.right.len());
    }
    println!(
        "{paths} paths, {bytes} bytes ({} bytes/path), load {best:.3} s (best of {runs})",
        bytes / paths.max(1) as u64
    );
}
