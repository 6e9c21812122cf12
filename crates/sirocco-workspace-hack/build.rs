// Empty: its presence makes Cargo resolve this crate's [build-dependencies], which carry the
// host-side features (see Cargo.toml).
fn main() {}
