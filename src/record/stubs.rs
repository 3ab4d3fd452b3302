//! Reference stubs that replace embedded statuses in a carrier's raw JSON.

/// Replaces each embedded object (a sub-slice of `raw`) with a reference stub.
pub(super) fn stub_spans(raw: &str, spans: &[(&str, i64)]) -> String {
    let mut ordered: Vec<(usize, usize, i64)> = spans
        .iter()
        .filter_map(|(inner, id)| {
            let start = (inner.as_ptr() as usize).checked_sub(raw.as_ptr() as usize)?;
            (start + inner.len() <= raw.len()).then_some((start, start + inner.len(), *id))
        })
        .collect();
    ordered.sort_unstable();
    let mut out = String::with_capacity(raw.len());
    let mut at = 0;
    for (start, end, id) in ordered {
        if start < at {
            continue; // nested inside a span already replaced
        }
        out.push_str(&raw[at..start]);
        out.push_str(&stub(id));
        at = end;
    }
    out.push_str(&raw[at..]);
    out
}

/// The reference left where an embedded status was.
pub fn stub(id: i64) -> String {
    format!("{{\"id\":{id},\"id_str\":\"{id}\"}}")
}
