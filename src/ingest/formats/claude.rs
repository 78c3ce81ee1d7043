//! Parser for Claude Code session transcripts.

use super::{Format, FormatError, FormatParser, Record};
use crate::model::Origin;
use serde_json::Value;

/// Parser state for one file of this format.
#[derive(Debug, Default)]
pub struct ClaudeParser {}

impl FormatParser for ClaudeParser {
    fn format(&self) -> Format {
        Format::ClaudeCode
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
