//! `skilltrace export: SARIF or native JSONL`.

use crate::cli::ExportArgs;
use anyhow::Result;

pub fn run(_args: ExportArgs) -> Result<i32> {
    anyhow::bail!("export: not implemented yet")
}
