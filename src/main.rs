//! driftsync: keep a repository in step with the other places its truth lives.

fn main() {
    println!("driftsync {}", env!("CARGO_PKG_VERSION"));
}
