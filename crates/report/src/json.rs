//! `--format json`: the stable machine-readable document, straight from the [`Report`]'s
//! `Serialize` (its keys are documented on the module [`super`]).

use super::Report;

/// Pretty-printed, so that a diff between two reports reads line by line.
pub(super) fn render(report: &Report) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(mut json) => {
            json.push('\n');
            json
        }
        // The model has only string keys and finite numbers; should that ever change, say so
        // in the document rather than print half of one.
        Err(e) => format!("{}\n", serde_json::json!({ "error": e.to_string() })),
    }
}
