//! Live stream sources: the HTTP clients that read a configured `[[stream]]` and feed the pipeline.

pub mod ndjson;
pub mod secrets;
