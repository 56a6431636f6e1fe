//! The events of changing and administering things: project edits, archives and deletions,
//! user administration, settings, report ranges and the telemetry switch. Each is emitted
//! exactly once on success, with exactly its properties, and never on a refusal.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, assert_single, assert_user, names, record};

#[tokio::test]
async fn project_update_archive_and_delete_events() {
    let mut app = TestApp::ready().await;
    let admin = app.admin().await;
    let client = app
        .post_json("/api/clients", json!({ "name": "Initech" }))
        .await
        .id();
    let project = app.project().await;
    let path = format!("/api/projects/{project}");

    let body = json!({ "name": "Secret Relaunch", "client_id": client, "billable": true });
    let (resp, events) = record(app.api(Method::PUT, &path, Some(body))).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json()["name"], json!("Secret Relaunch"));
    let event = assert_single(
        &events,
        "project.updated",
        json!({ "project_id": project, "has_client": true, "billable": true }),
    );
    assert_user(&event, &admin);
    assert!(!format!("{events:?}").contains("Secret"));

    // Refusals: an empty name, an unknown client, an unknown project.
    for (path, body, status) in [
        (
            &path,
            json!({ "name": " " }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &path,
            json!({ "name": "X", "client_id": 4242 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &"/api/projects/9999".to_owned(),
            json!({ "name": "X" }),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (resp, events) = record(app.api(Method::PUT, path, Some(body))).await;
        assert_eq!(resp.status, status, "{}", resp.text());
        assert!(events.is_empty(), "{events:#?}");
    }

    // The HTML edit form sends the same event.
    let (resp, events) = record(app.form(
        &format!("/projects/{project}/edit"),
        &[("name", "Website"), ("client_id", ""), ("hourly_rate", "")],
    ))
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    assert_single(
        &events,
        "project.updated",
        json!({ "project_id": project, "has_client": false, "billable": false }),
    );

    // A project with tracked time cannot be deleted, only archived.
    app.post_json("/api/timer/start", json!({ "project_id": project }))
        .await;
    app.api(Method::POST, "/api/timer/stop", None).await;
    let (resp, events) = record(app.api(Method::DELETE, &path, None)).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    assert!(events.is_empty());

    let archive = format!("/api/projects/{project}/archive");
    let (resp, events) = record(app.api(Method::POST, &archive, None)).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json()["archived"], json!(true));
    assert_single(
        &events,
        "project.archived",
        json!({ "project_id": project }),
    );
    let (resp, events) = record(app.api(Method::POST, &archive, None)).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    assert!(events.is_empty());
    // An archived project takes no new time, and the start page no longer offers it.
    let resp = app
        .post_json("/api/timer/start", json!({ "project_id": project }))
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!app.get("/").await.text().contains("Create a "));

    // A project without tracked time is deleted with its tasks and comments.
    let doomed = app.project().await;
    let task = app.task(doomed).await;
    app.post_json("/api/comments", json!({ "task_id": task, "body": "hi" }))
        .await;
    let (resp, events) = record(app.form(&format!("/projects/{doomed}/delete"), &[])).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    assert_eq!(resp.location(), Some("/projects"));
    assert_single(&events, "project.deleted", json!({ "project_id": doomed }));
    assert_eq!(
        app.get(&format!("/api/tasks/{task}")).await.status,
        StatusCode::NOT_FOUND
    );
    let (resp, events) =
        record(app.api(Method::DELETE, &format!("/api/projects/{doomed}"), None)).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(events.is_empty());
}

#[tokio::test]
async fn user_administration_events_never_identify_the_account() {
    let mut app = TestApp::ready().await;
    let admin = app.admin().await;

    let body = json!({ "username": "walter", "password": "long enough pw" });
    let (resp, events) = record(app.post_json("/api/users", body)).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
    let walter = resp.id();
    let event = assert_single(&events, "admin.user_created", json!({ "is_admin": false }));
    assert_user(&event, &admin);
    assert!(!format!("{events:?}").contains("walter"));

    for body in [
        json!({ "username": "walter", "password": "long enough pw" }),
        json!({ "username": "x", "password": "short" }),
    ] {
        let (resp, events) = record(app.post_json("/api/users", body)).await;
        assert!(resp.status.is_client_error(), "{}", resp.text());
        assert!(events.is_empty());
    }
    let (resp, events) = record(app.form(
        "/admin/users",
        &[
            ("username", "xena"),
            ("password", "long enough pw"),
            ("is_admin", "true"),
        ],
    ))
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_single(&events, "admin.user_created", json!({ "is_admin": true }));

    let path = format!("/api/users/{walter}");
    for (patch, change) in [
        (json!({ "active": false }), "deactivated"),
        (json!({ "active": true }), "activated"),
        (json!({ "is_admin": true }), "promoted_to_admin"),
        (json!({ "is_admin": false }), "demoted_from_admin"),
    ] {
        let (resp, events) = record(app.api(Method::PATCH, &path, Some(patch))).await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
        let event = assert_single(&events, "admin.user_updated", json!({ "change": change }));
        assert_user(&event, &admin);
    }
    // Nothing to change, both fields at once, unknown user, or the admin's own account.
    for (path, patch, status) in [
        (path.clone(), json!({ "active": true }), StatusCode::OK),
        (
            path.clone(),
            json!({ "active": true, "is_admin": true }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (path.clone(), json!({}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            "/api/users/9999".to_owned(),
            json!({ "active": false }),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/api/users/{}", admin.id),
            json!({ "is_admin": false }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (resp, events) = record(app.api(Method::PATCH, &path, Some(patch))).await;
        assert_eq!(resp.status, status, "{path}: {}", resp.text());
        assert!(events.is_empty(), "{events:#?}");
    }
    let (resp, events) = record(app.form(
        &format!("/admin/users/{walter}/admin"),
        &[("is_admin", "true")],
    ))
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_single(
        &events,
        "admin.user_updated",
        json!({ "change": "promoted_to_admin" }),
    );

    // An account with tracked work cannot be deleted; a fresh one can.
    let (mut ulla_client, ulla) = app.as_new_user("ulla").await;
    let project = ulla_client.project().await;
    ulla_client.task(project).await;
    let (resp, events) =
        record(app.api(Method::DELETE, &format!("/api/users/{}", ulla.id), None)).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    assert!(events.is_empty());
    let (resp, events) =
        record(app.api(Method::DELETE, &format!("/api/users/{}", admin.id), None)).await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(events.is_empty());

    let (resp, events) = record(app.api(Method::DELETE, &path, None)).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    let event = assert_single(&events, "admin.user_deleted", json!({}));
    assert_user(&event, &admin);
    let (resp, events) = record(app.api(Method::DELETE, &path, None)).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(events.is_empty());

    // Non-admins get nothing and send nothing.
    let (resp, events) = record(ulla_client.post_json(
        "/api/users",
        json!({ "username": "yves", "password": "long enough pw" }),
    ))
    .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(events.is_empty());
}

#[tokio::test]
async fn settings_updated_is_sent_only_when_a_setting_changed() {
    let mut app = TestApp::ready().await;
    let admin = app.admin().await;
    let current = app.get("/api/admin/settings").await.json();
    assert_eq!(
        current,
        json!({ "currency": "eur", "week_start": "monday", "rounding": "none" })
    );
    let page = app.get("/admin/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(r#"id="settings-form""#));

    let (resp, events) = record(app.form(
        "/admin/settings",
        &[
            ("currency", "chf"),
            ("week_start", "sunday"),
            ("rounding", "fifteen_minutes"),
        ],
    ))
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    let event = assert_single(
        &events,
        "admin.settings_updated",
        json!({ "currency": "chf", "week_start": "sunday", "rounding": "fifteen_minutes" }),
    );
    assert_user(&event, &admin);
    // Stored in SQLite: a fresh read sees them.
    let stored = app
        .state
        .db
        .call(|conn| timetracker::settings::load(conn))
        .await
        .unwrap();
    assert_eq!(stored.currency, timetracker::models::Currency::Chf);

    // The same values again change nothing and send nothing; bad values are refused.
    let same = json!({ "currency": "chf", "week_start": "sunday", "rounding": "fifteen_minutes" });
    let (resp, events) = record(app.api(Method::PUT, "/api/admin/settings", Some(same))).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(events.is_empty());
    let (resp, events) = record(app.form(
        "/admin/settings",
        &[
            ("currency", "doubloons"),
            ("week_start", "sunday"),
            ("rounding", "none"),
        ],
    ))
    .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(events.is_empty());
    let (mut user, _) = app.as_new_user("vera").await;
    let (resp, events) = record(user.api(
        Method::PUT,
        "/api/admin/settings",
        Some(json!({ "currency": "usd", "week_start": "monday", "rounding": "none" })),
    ))
    .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(events.is_empty());

    // The report uses them: rounded up to 15 minutes, amounts in CHF.
    let project = app
        .post_json(
            "/api/projects",
            json!({ "name": "Billable", "billable": true, "hourly_rate": 100.0 }),
        )
        .await
        .id();
    app.post_json("/api/timer/start", json!({ "project_id": project }))
        .await;
    app.api(Method::POST, "/api/timer/stop", None).await;
    // Make it a 61-second entry (a real timer here runs for less than a second).
    app.state
        .db
        .call(|conn| Ok(conn.execute("UPDATE time_entries SET duration_seconds = 61", [])?))
        .await
        .unwrap();
    let summary = app.get("/api/reports/summary?range=today").await.json();
    assert_eq!(summary["currency"], json!("chf"));
    assert_eq!(summary["projects"][0]["seconds"], json!(900));
    assert_eq!(summary["projects"][0]["amount"], json!(25.0));
    assert!(
        app.get("/reports?range=today")
            .await
            .text()
            .contains("25.00 CHF")
    );
}

#[tokio::test]
async fn report_viewed_carries_the_kind_of_range_never_the_dates() {
    let mut app = TestApp::ready().await;
    let today = chrono::Utc::now().date_naive();
    for range in [
        "today",
        "yesterday",
        "this_week",
        "last_week",
        "this_month",
        "last_month",
        "last_thirty_days",
    ] {
        let (resp, events) = record(app.get(&format!("/api/reports/summary?range={range}"))).await;
        assert_eq!(resp.status, StatusCode::OK, "{range}: {}", resp.text());
        assert_eq!(resp.json()["range_kind"], json!(range));
        assert_single(
            &events,
            "report.viewed",
            json!({ "report_type": "summary", "date_range": range }),
        );
    }
    let start = today - chrono::Days::new(10);
    let path = format!("/reports?range=custom&start={start}&end={today}");
    let (resp, events) = record(app.get(&path)).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_single(
        &events,
        "report.viewed",
        json!({ "report_type": "summary", "date_range": "custom" }),
    );
    assert!(!format!("{events:?}").contains(&start.to_string()));
    let (resp, events) =
        record(app.get("/api/reports/summary?start=2025-01-01&end=2025-01-02")).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(names(&events), vec!["report.viewed"]);
    assert_eq!(events[0].properties["date_range"], json!("custom"));

    for bad in [
        "range=forever",
        "range=custom&start=2025-02-01&end=2025-01-01",
    ] {
        let (resp, events) = record(app.get(&format!("/api/reports/summary?{bad}"))).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(events.is_empty());
    }
}

#[tokio::test]
async fn admin_telemetry_events() {
    let mut app = TestApp::ready().await;
    let admin = app.admin().await;

    let (resp, events) = record(app.get("/admin/telemetry")).await;
    assert_eq!(resp.status, StatusCode::OK);
    let event = assert_single(&events, "admin.telemetry_dashboard_viewed", json!({}));
    assert_user(&event, &admin);

    let (resp, events) = record(app.form("/admin/telemetry/toggle", &[("enabled", "true")])).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.location(), Some("/admin/telemetry"));
    let event = assert_single(
        &events,
        "admin.telemetry_toggled",
        json!({ "enabled": true }),
    );
    assert_user(&event, &admin);
    assert!(app.telemetry.status().enabled);

    let (resp, events) =
        record(app.post_json("/api/admin/telemetry", json!({ "enabled": false }))).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.json()["enabled"], json!(false));
    assert_single(
        &events,
        "admin.telemetry_toggled",
        json!({ "enabled": false }),
    );

    // Refusals send nothing: a bad value, a missing CSRF token, a non-admin.
    let (resp, events) = record(app.form("/admin/telemetry/toggle", &[("enabled", "maybe")])).await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(events.is_empty());
    let (resp, events) =
        record(app.form_without_csrf("/admin/telemetry/toggle", &[("enabled", "true")])).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(events.is_empty());
    let (mut user, _) = app.as_new_user("norbert").await;
    let (resp, events) = record(user.get("/admin/telemetry")).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(events.is_empty());
    let (resp, events) = record(user.form("/admin/telemetry/toggle", &[("enabled", "true")])).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(events.is_empty());
    assert!(!app.telemetry.status().enabled);
}

#[tokio::test]
async fn flushing_is_for_admins_and_sends_nothing_itself() {
    let mut app = TestApp::ready().await;
    let (resp, events) = record(app.form("/admin/telemetry/flush", &[])).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.location(), Some("/admin/telemetry?flushed=1"));
    assert!(events.is_empty());
    let page = app.get("/admin/telemetry?flushed=1").await.text();
    assert!(page.contains(r#"id="telemetry-flushed""#));
    let resp = app
        .api(Method::POST, "/api/admin/telemetry/flush", None)
        .await;
    assert_eq!(resp.json(), json!({ "flushed": true }));
    let (mut user, _) = app.as_new_user("fritz").await;
    let resp = user
        .api(Method::POST, "/api/admin/telemetry/flush", None)
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
}
