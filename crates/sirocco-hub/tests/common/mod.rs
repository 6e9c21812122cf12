#![allow(unused_imports)]
#[path = "../../../../tests/fakehub/harness.rs"]
mod harness;
pub use harness::*;
