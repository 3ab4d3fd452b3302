//! The exposition's names, labels and format.

use super::*;

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn the_exposition_has_every_family_and_escapes_labels() {
    let m = Metrics::default();
    let stream: Arc<str> = Arc::from("fil\"ter");
    m.committed(
        [
            (&stream, Kind::Tweet),
            (&stream, Kind::Tweet),
            (&stream, Kind::Delete),
        ]
        .into_iter(),
        [&stream].into_iter(),
        Some(1_700_000_000_000),
    );
    m.batch_latency.observe(Duration::from_millis(30));
    m.batches.inc();
    let state = m.stream("fil\"ter");
    state.note_disconnect(4);
    state.read(10, 1000);
    state.connections.inc();
    state.set_connected(true);
    let text = m.render();
    let l = lines(&text);
    for line in [
        "streamvault_events_total{stream=\"fil\\\"ter\",kind=\"tweet\"} 2",
        "streamvault_events_total{stream=\"fil\\\"ter\",kind=\"delete\"} 1",
        "streamvault_rejects_total{stream=\"fil\\\"ter\"} 1",
        "streamvault_batches_total 1",
        "streamvault_batch_commit_seconds_bucket{le=\"0.05\"} 1",
        "streamvault_batch_commit_seconds_bucket{le=\"0.025\"} 0",
        "streamvault_batch_commit_seconds_bucket{le=\"+Inf\"} 1",
        "streamvault_batch_commit_seconds_count 1",
        "streamvault_disconnects_total{stream=\"fil\\\"ter\",code=\"4\",name=\"Stall\"} 1",
        "streamvault_last_event_timestamp_seconds 1700000000.0",
        "streamvault_messages_total{stream=\"fil\\\"ter\"} 10",
        "streamvault_bytes_total{stream=\"fil\\\"ter\"} 1000",
        "streamvault_connections_total{stream=\"fil\\\"ter\"} 1",
        "streamvault_connected{stream=\"fil\\\"ter\"} 1",
        "streamvault_stalls_total{stream=\"fil\\\"ter\"} 0",
        "streamvault_backoff_seconds{stream=\"fil\\\"ter\"} 0.0",
        "streamvault_compliance_actions_total 0",
        "streamvault_channel_depth 0",
        "streamvault_internal_errors_total 0",
        "# TYPE streamvault_events counter",
        "# HELP streamvault_events Events committed to the archive, by stream and kind.",
        "# TYPE streamvault_internal_errors counter",
        "# TYPE streamvault_batch_commit_seconds histogram",
        "# TYPE streamvault_connected gauge",
    ] {
        assert!(l.contains(&line), "{line} missing from\n{text}");
    }
    assert_eq!(l.last(), Some(&"# EOF"), "{text}");
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(
            line.rsplit(' ').next().unwrap().parse::<f64>().is_ok(),
            "{line}"
        );
    }
}

#[test]
fn the_spool_counters_are_exported() {
    let m = Metrics::default();
    m.spool.bytes.set(4096);
    m.spool.spooled_records.inc_by(30);
    m.spool.drained_records.inc_by(12);
    m.spool.full_total.inc_by(2);
    m.spool.corrupt_frames.inc();
    let text = m.render();
    for line in [
        "# TYPE streamvault_spool_bytes gauge",
        "streamvault_spool_bytes 4096",
        "# TYPE streamvault_spool_records_spooled counter",
        "streamvault_spool_records_spooled_total 30",
        "streamvault_spool_records_drained_total 12",
        "streamvault_spool_full_total 2",
        "streamvault_spool_corrupt_frames_total 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }
}

#[test]
fn the_newest_event_time_only_moves_forward() {
    let m = Metrics::default();
    let none = std::iter::empty();
    m.committed(none.clone(), std::iter::empty(), Some(2_000));
    m.committed(none.clone(), std::iter::empty(), Some(1_000));
    m.committed(none, std::iter::empty(), None);
    assert!(
        m.render()
            .lines()
            .any(|l| l == "streamvault_last_event_timestamp_seconds 2.0")
    );
}

#[test]
fn the_writer_counts_each_stream_and_kind_on_its_own_series() {
    let m = Metrics::default();
    let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
    for _ in 0..3 {
        m.committed(
            [(&a, Kind::Tweet), (&b, Kind::Tweet), (&a, Kind::Limit)].into_iter(),
            [&b, &b].into_iter(),
            None,
        );
    }
    assert_eq!(m.events_committed("a", Kind::Tweet), 3);
    assert_eq!(m.events_committed("a", Kind::Limit), 3);
    assert_eq!(m.events_committed("b", Kind::Tweet), 3);
    assert_eq!(m.events_committed("b", Kind::Limit), 0);
    assert!(
        m.render()
            .lines()
            .any(|l| l == "streamvault_rejects_total{stream=\"b\"} 6")
    );
}

#[test]
fn v2_disconnects_are_counted_by_type_with_no_code_and_bounded_names() {
    let m = Metrics::default();
    let state = m.stream("sample");
    state.note_v2_disconnect("SlowReader");
    state.note_v2_disconnect("SlowReader");
    state.note_v2_disconnect("a type no spec lists");
    state.note_v2_disconnect("another one");
    state.note_disconnect(7);
    assert_eq!(state.disconnects.get(), 5);
    assert_eq!(state.disconnect_codes(), vec![(7, 1)]);
    let text = m.render();
    let l = lines(&text);
    for line in [
        "streamvault_disconnects_total{stream=\"sample\",code=\"\",name=\"SlowReader\"} 2",
        "streamvault_disconnects_total{stream=\"sample\",code=\"\",name=\"other\"} 2",
        "streamvault_disconnects_total{stream=\"sample\",code=\"7\",name=\"Admin logout\"} 1",
    ] {
        assert!(l.contains(&line), "{line} missing from\n{text}");
    }
}
