//! Sources of trace data on disk: format parsers, the file reader, the tailer and the pipeline.

pub mod formats;
pub mod pipeline;
pub mod reader;
pub mod tail;
