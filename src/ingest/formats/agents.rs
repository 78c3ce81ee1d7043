//! Parser for OpenAI Agents SDK trace exports.

use super::{Format, FormatError, FormatParser, Record};
use crate::model::Origin;
use serde_json::Value;

/// Parser state for one file of this format.
#[derive(Debug, Default)]
pub struct AgentsParser {}

impl FormatParser for AgentsParser {
    fn format(&self) -> Format {
        Format::OpenaiAgents
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
