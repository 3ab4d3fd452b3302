//! Reference stubs that replace embedded statuses in a carrier's raw JSON.

/// Replaces each embedded object (a sub-slice of `raw`) with a reference stub.
pub(super) fn stub_spans(raw: &str, spans: &[(&str, i64)]) -> String {
    let mut ordered: Vec<(usize, usize, i64)> = spans
        .iter()
        .filter_map(|(inner, id)| {
            let start = (inner.as_ptr() as usize).checked_sub(raw.as_ptr() as usize)?;
            let end = start.checked_add(inner.len())?;
            (end <= raw.len()).then_some((start, end, *id))
        })
        .collect();
    ordered.sort_unstable();
    let mut out = String::with_capacity(raw.len());
    let mut at = 0;
    for (start, end, id) in ordered {
        // Skipped: a span nested inside one already replaced, or (never from the parser, whose
        // spans are sub-slices of `raw`) one that does not sit on character boundaries.
        let Some(before) = raw.get(at..start).filter(|_| raw.is_char_boundary(end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(&stub(id));
        at = end;
    }
    out.push_str(raw.get(at..).unwrap_or_default());
    out
}

/// The reference left where an embedded status was.
pub fn stub(id: i64) -> String {
    format!("{{\"id\":{id},\"id_str\":\"{id}\"}}")
}
