//! `skilltrace import` and `skilltrace tail`: files into the store, once or following.

use crate::cli::{ImportArgs, TailArgs};
use anyhow::Result;

pub fn import(_args: ImportArgs) -> Result<i32> {
    anyhow::bail!("import: not implemented yet")
}

pub fn tail(_args: TailArgs) -> Result<i32> {
    anyhow::bail!("tail: not implemented yet")
}
