//! `skilltrace doctor: checks store, permissions, registries, config and proxy port`.

use crate::cli::DoctorArgs;
use anyhow::Result;

pub fn run(_args: DoctorArgs) -> Result<i32> {
    anyhow::bail!("doctor: not implemented yet")
}
