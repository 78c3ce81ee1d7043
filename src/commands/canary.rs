//! `skilltrace canary init DIR`: writes decoy credentials and remembers their keyed hashes.

use crate::cli::CanaryCommand;
use anyhow::Result;

pub fn run(cmd: CanaryCommand) -> Result<i32> {
    match cmd {
        CanaryCommand::Init { .. } => anyhow::bail!("canary init: not implemented yet"),
    }
}
