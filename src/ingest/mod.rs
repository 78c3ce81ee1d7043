//! Sources of trace data on disk: format parsers, the file reader, the tailer and the pipeline.

pub mod file;
pub mod formats;
pub mod import;
pub mod pipeline;
pub mod reader;
pub mod tail;
