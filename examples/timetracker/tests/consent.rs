//! Consent toggled at runtime stops and starts delivery, through the real pipeline (a memory
//! sink stands in for PostHog). Its own test binary: the pipeline's worker is per process.

mod support;

use axum::http::StatusCode;
use serde_json::json;
use telemetry_core::sink::MemorySink;
use timetracker::Database;

use support::{ADMIN, PASSWORD, TestApp, telemetry_builder, temp_dir};

fn names(events: &[telemetry_core::sink::WireEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}

#[tokio::test]
async fn delivery_follows_the_admins_choice() {
    let dir = temp_dir("consent");
    let (sink, delivered) = MemorySink::new();
    let telemetry = telemetry_builder(&dir).sink(sink).install();
    let mut app = TestApp::with(Database::Memory, telemetry.clone());
    assert!(!telemetry.status().enabled);

    // Opting in on the setup page starts delivery; the setup event itself goes out.
    let resp = app.complete_setup(ADMIN, PASSWORD, true).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    let resp = app
        .post_json("/api/clients", json!({ "name": "Umbrella Corp" }))
        .await;
    assert_eq!(resp.status, StatusCode::CREATED);
    assert!(telemetry.flush());
    let sent = delivered.take();
    let sent_names = names(&sent);
    assert!(sent_names.contains(&"setup.completed"), "{sent_names:?}");
    assert!(sent_names.contains(&"client.created"), "{sent_names:?}");
    let setup = sent.iter().find(|e| e.event == "setup.completed").unwrap();
    assert_eq!(setup.properties["telemetry_enabled"], json!(true));
    let wire = serde_json::to_string(&sent).unwrap();
    assert!(!wire.contains("Umbrella"), "no names on the wire");
    assert!(!wire.contains(ADMIN) && !wire.contains(PASSWORD));
    let created = sent.iter().find(|e| e.event == "client.created").unwrap();
    assert_eq!(created.properties["$process_person_profile"], json!(false));
    assert_eq!(created.properties["$geoip_disable"], json!(true));
    assert_eq!(created.distinct_id.len(), 64);

    // Disabling takes effect at once: nothing more is delivered, not even the toggle itself.
    let resp = app
        .form("/admin/telemetry/toggle", &[("enabled", "false")])
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert!(!telemetry.status().enabled);
    app.post_json("/api/clients", json!({ "name": "Hooli" }))
        .await;
    app.get("/admin/telemetry").await;
    telemetry.flush();
    assert!(delivered.take().is_empty());

    // Enabling again resumes delivery at once.
    let resp = app
        .form("/admin/telemetry/toggle", &[("enabled", "true")])
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    app.post_json("/api/clients", json!({ "name": "Pied Piper" }))
        .await;
    assert!(telemetry.flush());
    let sent = delivered.take();
    let sent_names = names(&sent);
    assert!(
        sent_names.contains(&"admin.telemetry_toggled"),
        "{sent_names:?}"
    );
    assert!(sent_names.contains(&"client.created"), "{sent_names:?}");
    let toggled = sent
        .iter()
        .find(|e| e.event == "admin.telemetry_toggled")
        .unwrap();
    assert_eq!(toggled.properties["enabled"], json!(true));

    // The choice survives a restart of the app with the same install state.
    telemetry.shutdown();
    let (sink, _) = MemorySink::new();
    let restarted = telemetry_builder(&dir).sink(sink).install();
    assert!(restarted.status().enabled, "{}", restarted.status().reason);
    restarted.shutdown();
}
