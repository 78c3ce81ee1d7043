//! Parser for OTLP/JSON traces (GenAI semantic conventions and OpenInference).

use super::{Format, FormatError, FormatParser, Record};
use crate::model::Origin;
use serde_json::Value;

/// Parser state for one file of this format.
#[derive(Debug, Default)]
pub struct OtlpParser {}

impl FormatParser for OtlpParser {
    fn format(&self) -> Format {
        Format::Otlp
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
