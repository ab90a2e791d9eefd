//! `kubectl dssc-doctor --watch`: follows the install as it comes up.

use crate::catalogue::Catalogue;
use crate::cli::{Global, ValuesArgs};

pub async fn run(_g: &Global, _v: &ValuesArgs, _cat: &Catalogue) -> anyhow::Result<i32> {
    crate::model::error::input_err("--watch is not available yet")
}
