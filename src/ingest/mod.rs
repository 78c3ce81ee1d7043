//! Sources of trace data: format parsers, the file reader, the tailer, the
//! OTLP/HTTP receiver and the pipeline.

pub mod budget;
pub mod budget_days;
pub mod compressed;
pub mod discover;
pub mod document;
pub mod file;
pub mod formats;
pub mod ids;
pub mod import;
mod lines;
pub mod otlp_census;
pub mod otlp_http;
pub mod otlp_logs_proto;
pub mod otlp_proto;
pub mod parallel;
pub mod phases;
pub mod pipeline;
pub mod queue;
pub mod reader;
pub mod scan;
pub mod store_thread;
pub mod tail;
pub mod units;
pub mod upstream_deletes;
pub mod writer;
