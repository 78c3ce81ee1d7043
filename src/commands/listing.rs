//! `skilltrace runs` and `skilltrace findings`: the store as text or JSON.

use crate::cli::{FindingsArgs, RunsArgs};
use anyhow::Result;

pub fn runs(_args: RunsArgs) -> Result<i32> {
    anyhow::bail!("runs: not implemented yet")
}

pub fn findings(_args: FindingsArgs) -> Result<i32> {
    anyhow::bail!("findings: not implemented yet")
}
