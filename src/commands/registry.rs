//! `skilltrace registry verify|list|build`: skill registry tools.

use crate::cli::RegistryCommand;
use anyhow::Result;

pub fn run(cmd: RegistryCommand) -> Result<i32> {
    match cmd {
        RegistryCommand::Verify { .. } | RegistryCommand::List | RegistryCommand::Build { .. } => {
            anyhow::bail!("registry: not implemented yet")
        }
    }
}
