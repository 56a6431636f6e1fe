//! The outage spool's counters on the admin page and on `/metrics`.

use crate::support::TestApp;

#[tokio::test]
async fn admin_page_and_metrics_show_the_spool() {
    let mut app = TestApp::ready().await;
    let page = app.get("/admin/telemetry").await.text();
    for id in [
        "telemetry-spooled",
        "telemetry-recovered",
        "telemetry-spool-dropped",
        "telemetry-spool-pending",
    ] {
        assert!(
            page.contains(&format!("id=\"{id}\"")),
            "{id} missing:\n{page}"
        );
    }
    let metrics = app.get("/metrics").await.text();
    let counters = app.telemetry.status().counters;
    for (family, value) in [
        ("tt_telemetry_events_spooled_total", counters.spooled),
        ("tt_telemetry_events_recovered_total", counters.recovered),
        ("tt_telemetry_spool_expired_total", counters.spool_expired),
        (
            "tt_telemetry_spool_overflowed_total",
            counters.spool_overflowed,
        ),
        ("tt_telemetry_spool_rejected_total", counters.spool_rejected),
        (
            "tt_telemetry_spool_pending",
            app.telemetry.status().spool_pending,
        ),
    ] {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&format!("{family} ")))
            .unwrap_or_else(|| panic!("{family} not exported:\n{metrics}"));
        assert_eq!(line, format!("{family} {value}"));
    }
}
