//! `skilltrace tui: the terminal workbench`.

use crate::cli::TuiArgs;
use anyhow::Result;

pub fn run(_args: TuiArgs) -> Result<i32> {
    anyhow::bail!("tui: not implemented yet")
}
