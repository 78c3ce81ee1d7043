//! `skilltrace replay: a stored run in its original timing, or re-detected`.

use crate::cli::ReplayArgs;
use anyhow::Result;

pub fn run(_args: ReplayArgs) -> Result<i32> {
    anyhow::bail!("replay: not implemented yet")
}
