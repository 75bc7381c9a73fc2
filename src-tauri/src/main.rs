//! Parley app entry point.
fn main() {
    parley_app::run();
}
