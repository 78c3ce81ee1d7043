//! `skilltrace scan: the CI gate over a temporary store`.

use crate::cli::ScanArgs;
use anyhow::Result;

pub fn run(_args: ScanArgs) -> Result<i32> {
    anyhow::bail!("scan: not implemented yet")
}
