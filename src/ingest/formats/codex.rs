//! Parser for OpenAI Codex CLI rollouts.

use super::{Format, FormatError, FormatParser, Record};
use crate::model::Origin;
use serde_json::Value;

/// Parser state for one file of this format.
#[derive(Debug, Default)]
pub struct CodexParser {}

impl FormatParser for CodexParser {
    fn format(&self) -> Format {
        Format::Codex
    }

    fn value(
        &mut self,
        _v: &Value,
        _origin: &Origin,
        _out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        Err(FormatError::NotATrace)
    }
}
