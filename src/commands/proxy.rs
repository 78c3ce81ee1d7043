//! `skilltrace proxy: the loopback LLM proxy writing to the store`.

use crate::cli::ProxyArgs;
use anyhow::Result;

pub fn run(_args: ProxyArgs) -> Result<i32> {
    anyhow::bail!("proxy: not implemented yet")
}
