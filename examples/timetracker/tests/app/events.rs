//! Every product event: emitted exactly once, with exactly its properties, only when the action
//! succeeded; failed actions (validation errors, missing rows, refusals) emit nothing.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN, PASSWORD, TestApp, assert_single, assert_user, names, record};

/// The app declares exactly the events of its issue, no more.
#[test]
fn the_catalog_holds_exactly_the_app_events() {
    let catalog = timetracker::transparency::catalog();
    let mut app_events: Vec<&str> = catalog.app_events().map(|e| e.name).collect();
    app_events.sort_unstable();
    let mut expected = vec![
        "admin.settings_updated",
        "admin.telemetry_dashboard_viewed",
        "admin.user_created",
        "admin.user_deleted",
        "admin.user_updated",
        "admin.telemetry_toggled",
        "auth.login",
        "auth.login_failed",
        "auth.logout",
        "client.archived",
        "client.created",
        "client.deleted",
        "client.updated",
        "comment.created",
        "comment.deleted",
        "comment.updated",
        "export.csv",
        "project.archived",
        "project.created",
        "project.deleted",
        "project.updated",
        "report.viewed",
        "setup.completed",
        "task.created",
        "task.deleted",
        "task.status_changed",
        "task.updated",
        "timer.started",
        "timer.stopped",
    ];
    expected.sort_unstable();
    assert_eq!(app_events, expected);
    assert!(catalog.lint().is_empty(), "{:#?}", catalog.lint());
}

#[tokio::test]
async fn setup_completed_carries_the_choice_and_fails_silently_on_bad_input() {
    let mut app = TestApp::new();
    let (resp, events) = record(app.complete_setup("admin", "short", false)).await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(events.is_empty(), "{events:#?}");
    assert!(!app.state.setup_complete());

    let (resp, events) = record(app.complete_setup("admin", PASSWORD, false)).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_single(
        &events,
        "setup.completed",
        json!({ "telemetry_enabled": false }),
    );

    // A second submission is refused and sends nothing.
    let mut other = app.new_client();
    let (resp, events) = record(other.complete_setup("mallory", PASSWORD, true)).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.location(), Some("/login"));
    assert!(events.is_empty(), "{events:#?}");

    let mut app = TestApp::new();
    let (_, events) = record(app.complete_setup("admin", PASSWORD, true)).await;
    assert_single(
        &events,
        "setup.completed",
        json!({ "telemetry_enabled": true }),
    );
    assert!(app.telemetry.status().enabled);
}

#[tokio::test]
async fn login_is_tracked_without_the_username() {
    let app = TestApp::ready().await;
    let user = app.add_user("ursula", false).await;
    let mut client = app.new_client();
    let (resp, events) = record(client.login("ursula", PASSWORD)).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let event = assert_single(&events, "auth.login", json!({ "auth_method": "local" }));
    assert_user(&event, &user);

    // The HTML form logs in the same way.
    let mut browser = app.new_client();
    let (resp, events) = record(browser.form(
        "/login",
        &[
            ("username", "ursula"),
            ("password", PASSWORD),
            ("next", "/projects"),
        ],
    ))
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.location(), Some("/projects"));
    assert_single(&events, "auth.login", json!({ "auth_method": "local" }));
}

#[tokio::test]
async fn login_failures_send_only_the_reason() {
    let app = TestApp::ready().await;
    let disabled = app.add_user("dora", false).await;
    let mut admin = app.new_client();
    admin.login(ADMIN, PASSWORD).await;
    let resp = admin
        .api(
            Method::PATCH,
            &format!("/api/users/{}", disabled.id),
            Some(json!({ "active": false })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());

    for (username, password, reason) in [
        ("  ", PASSWORD, "empty_username"),
        ("nobody-by-this-name", PASSWORD, "user_not_found"),
        ("dora", PASSWORD, "account_disabled"),
        (ADMIN, "wrong password!", "wrong_password"),
    ] {
        let mut client = app.new_client();
        let (resp, events) = record(client.login(username, password)).await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{reason}");
        let event = assert_single(&events, "auth.login_failed", json!({ "reason": reason }));
        assert_eq!(
            event.distinct_id,
            telemetry_core::testing::anonymous_distinct_id()
        );
        let everything = format!("{events:?}");
        assert!(!everything.contains("nobody-by-this-name") && !everything.contains("dora"));
    }
}

#[tokio::test]
async fn logout_is_tracked_only_for_a_logged_in_user() {
    let mut app = TestApp::ready().await;
    let admin = app.admin().await;
    let (resp, events) = record(app.form("/logout", &[])).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    let event = assert_single(&events, "auth.logout", json!({}));
    assert_user(&event, &admin);

    let (resp, events) = record(app.api(Method::POST, "/api/logout", None)).await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    assert!(events.is_empty());
}

#[tokio::test]
async fn client_lifecycle_events() {
    let mut app = TestApp::ready().await;
    let admin = app.admin().await;

    let body = json!({ "name": "Acme", "email": "billing@acme.example" });
    let (resp, events) = record(app.post_json("/api/clients", body)).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
    let id = resp.id();
    let event = assert_single(&events, "client.created", json!({ "client_id": id }));
    assert_user(&event, &admin);
    assert!(!format!("{events:?}").contains("acme"));

    let (resp, events) = record(app.post_json("/api/clients", json!({ "name": " " }))).await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(events.is_empty());

    let (resp, events) = record(app.api(
        Method::PUT,
        &format!("/api/clients/{id}"),
        Some(json!({ "name": "Acme Corp" })),
    ))
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_single(&events, "client.updated", json!({ "client_id": id }));

    let (resp, events) = record(app.api(
        Method::PUT,
        "/api/clients/9999",
        Some(json!({ "name": "Ghost" })),
    ))
    .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(events.is_empty());

    // A client with a project cannot be deleted, only archived.
    let resp = app
        .post_json("/api/projects", json!({ "name": "P", "client_id": id }))
        .await;
    assert_eq!(resp.status, StatusCode::CREATED);
    let (resp, events) = record(app.api(Method::DELETE, &format!("/api/clients/{id}"), None)).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    assert!(events.is_empty());

    let archive = format!("/api/clients/{id}/archive");
    let (resp, events) = record(app.api(Method::POST, &archive, None)).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_single(&events, "client.archived", json!({ "client_id": id }));
    let (resp, events) = record(app.api(Method::POST, &archive, None)).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    assert!(events.is_empty());

    let resp = app
        .post_json("/api/clients", json!({ "name": "Solo" }))
        .await;
    let solo = resp.id();
    let (resp, events) =
        record(app.api(Method::DELETE, &format!("/api/clients/{solo}"), None)).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert_single(&events, "client.deleted", json!({ "client_id": solo }));
    let (resp, events) =
        record(app.api(Method::DELETE, &format!("/api/clients/{solo}"), None)).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(events.is_empty());
}

#[tokio::test]
async fn client_forms_emit_the_same_events() {
    let mut app = TestApp::ready().await;
    let (resp, events) =
        record(app.form("/clients", &[("name", "Globex"), ("default_rate", "")])).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(names(&events), vec!["client.created"]);
    let id = events[0].properties["client_id"].as_i64().unwrap();
    let (resp, events) = record(app.form(&format!("/clients/{id}/archive"), &[])).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_single(&events, "client.archived", json!({ "client_id": id }));
    let page = app.get("/clients").await;
    assert!(page.text().contains("Globex"));
}

#[tokio::test]
async fn project_created_describes_the_project_without_naming_it() {
    let mut app = TestApp::ready().await;
    let client = app
        .post_json("/api/clients", json!({ "name": "Initech" }))
        .await
        .id();

    let body = json!({ "name": "Secret Launch", "client_id": client, "billable": true, "hourly_rate": 90.0 });
    let (resp, events) = record(app.post_json("/api/projects", body)).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
    let id = resp.id();
    let event = assert_single(
        &events,
        "project.created",
        json!({ "project_id": id, "has_client": true, "billable": true }),
    );
    assert_user(&event, &app.admin().await);
    assert!(!format!("{events:?}").contains("Secret"));

    let (resp, events) =
        record(app.form("/projects", &[("name", "Internal"), ("client_id", "")])).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(names(&events), vec!["project.created"]);
    assert_eq!(events[0].properties["has_client"], json!(false));
    assert_eq!(events[0].properties["billable"], json!(false));

    for body in [
        json!({ "name": "" }),
        json!({ "name": "X", "client_id": 4242 }),
    ] {
        let (resp, events) = record(app.post_json("/api/projects", body)).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(events.is_empty());
    }
    app.api(
        Method::POST,
        &format!("/api/clients/{client}/archive"),
        None,
    )
    .await;
    let (resp, events) = record(app.post_json(
        "/api/projects",
        json!({ "name": "Late", "client_id": client }),
    ))
    .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(events.is_empty());
}

#[tokio::test]
async fn task_events() {
    let mut app = TestApp::ready().await;
    let project = app.project().await;

    let body = json!({ "project_id": project, "name": "Write copy", "priority": "high" });
    let (resp, events) = record(app.post_json("/api/tasks", body)).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
    let task = resp.id();
    let event = assert_single(
        &events,
        "task.created",
        json!({ "task_id": task, "project_id": project, "priority": "high" }),
    );
    assert_user(&event, &app.admin().await);

    let (resp, events) =
        record(app.post_json("/api/tasks", json!({ "project_id": 999, "name": "Orphan" }))).await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(events.is_empty());

    let path = format!("/api/tasks/{task}");
    let (resp, events) =
        record(app.api(Method::PATCH, &path, Some(json!({ "priority": "urgent" })))).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_single(
        &events,
        "task.updated",
        json!({ "task_id": task, "project_id": project }),
    );

    let (resp, events) = record(app.api(Method::PATCH, &path, Some(json!({})))).await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(events.is_empty());
    let (resp, events) = record(app.api(
        Method::PATCH,
        "/api/tasks/999",
        Some(json!({ "name": "x" })),
    ))
    .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(events.is_empty());

    let status = format!("/api/tasks/{task}/status");
    let (resp, events) = record(app.post_json(&status, json!({ "status": "in_progress" }))).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_single(
        &events,
        "task.status_changed",
        json!({ "task_id": task, "old_status": "todo", "new_status": "in_progress" }),
    );
    // The same status again changes nothing and sends nothing.
    let (resp, events) = record(app.post_json(&status, json!({ "status": "in_progress" }))).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(events.is_empty());
    let (resp, events) =
        record(app.form(&format!("/tasks/{task}/status"), &[("status", "done")])).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_single(
        &events,
        "task.status_changed",
        json!({ "task_id": task, "old_status": "in_progress", "new_status": "done" }),
    );
    let (resp, events) =
        record(app.post_json("/api/tasks/999/status", json!({ "status": "done" }))).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(events.is_empty());

    let (resp, events) = record(app.api(Method::DELETE, &path, None)).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert_single(
        &events,
        "task.deleted",
        json!({ "task_id": task, "project_id": project }),
    );
    let (resp, events) = record(app.api(Method::DELETE, &path, None)).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(events.is_empty());
}

#[tokio::test]
async fn comment_events() {
    let mut app = TestApp::ready().await;
    let project = app.project().await;
    let task = app.task(project).await;

    let (resp, events) = record(app.post_json(
        "/api/comments",
        json!({ "project_id": project, "body": "Kick-off on Monday" }),
    ))
    .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
    let on_project = resp.id();
    assert_single(
        &events,
        "comment.created",
        json!({ "comment_id": on_project, "target_type": "project" }),
    );
    assert!(!format!("{events:?}").contains("Kick-off"));

    let (resp, events) = record(app.form(
        "/comments",
        &[("task_id", &task.to_string()), ("body", "Done?")],
    ))
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(names(&events), vec!["comment.created"]);
    assert_eq!(events[0].properties["target_type"], json!("task"));

    for body in [
        json!({ "project_id": project, "body": "  " }),
        json!({ "project_id": 999, "body": "hello" }),
        json!({ "project_id": project, "task_id": task, "body": "both" }),
    ] {
        let (resp, events) = record(app.post_json("/api/comments", body)).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(events.is_empty());
    }

    let path = format!("/api/comments/{on_project}");
    let (resp, events) = record(app.api(
        Method::PATCH,
        &path,
        Some(json!({ "body": "Kick-off on Tuesday" })),
    ))
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_single(
        &events,
        "comment.updated",
        json!({ "comment_id": on_project }),
    );

    // Someone else's comment cannot be changed.
    let (mut other, _) = app.as_new_user("olga").await;
    let (resp, events) =
        record(other.api(Method::PATCH, &path, Some(json!({ "body": "mine now" })))).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(events.is_empty());
    let (resp, events) = record(other.api(Method::DELETE, &path, None)).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(events.is_empty());

    let (resp, events) = record(app.api(Method::DELETE, &path, None)).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert_single(
        &events,
        "comment.deleted",
        json!({ "comment_id": on_project }),
    );
    let (resp, events) = record(app.api(Method::DELETE, &path, None)).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(events.is_empty());
}

#[tokio::test]
async fn timer_events() {
    let mut app = TestApp::ready().await;
    let project = app.project().await;
    let task = app.task(project).await;
    let other_project = app.project().await;

    let (resp, events) =
        record(app.post_json("/api/timer/start", json!({ "project_id": project }))).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
    let first = resp.id();
    let event = assert_single(
        &events,
        "timer.started",
        json!({ "time_entry_id": first, "project_id": project, "task_id": null, "has_description": false }),
    );
    assert_user(&event, &app.admin().await);

    // Already running.
    let (resp, events) =
        record(app.post_json("/api/timer/start", json!({ "project_id": project }))).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    assert!(events.is_empty());

    let (resp, events) = record(app.api(Method::POST, "/api/timer/stop", None)).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let seconds = resp.json()["duration_seconds"].as_i64().unwrap();
    assert_single(
        &events,
        "timer.stopped",
        json!({ "time_entry_id": first, "project_id": project, "task_id": null, "duration_seconds": seconds }),
    );

    // Nothing running.
    let (resp, events) = record(app.api(Method::POST, "/api/timer/stop", None)).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    assert!(events.is_empty());

    // A task of another project, or an unknown project, is refused.
    for body in [
        json!({ "project_id": other_project, "task_id": task }),
        json!({ "project_id": 4242 }),
    ] {
        let (resp, events) = record(app.post_json("/api/timer/start", body)).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(events.is_empty());
    }

    // With a task and notes (the notes are never sent), through the HTML forms.
    let (resp, events) = record(app.form(
        "/timer/start",
        &[
            ("project_id", &project.to_string()),
            ("task_id", &task.to_string()),
            ("notes", "Call with the client about the invoice"),
        ],
    ))
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    let running = app.get("/api/timer").await.id();
    assert_ne!(running, first);
    assert_single(
        &events,
        "timer.started",
        json!({ "time_entry_id": running, "project_id": project, "task_id": task, "has_description": true }),
    );
    assert!(!format!("{events:?}").contains("invoice"));
    let (resp, events) = record(app.form("/timer/stop", &[])).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(names(&events), vec!["timer.stopped"]);
    assert_eq!(events[0].properties["task_id"], json!(task));
}

#[tokio::test]
async fn report_and_export_events() {
    let mut app = TestApp::ready().await;
    let project = app.project().await;
    app.post_json(
        "/api/timer/start",
        json!({ "project_id": project, "notes": "=HYPERLINK(\"x\")" }),
    )
    .await;
    app.api(Method::POST, "/api/timer/stop", None).await;
    let today = chrono::Utc::now().date_naive();

    let (resp, events) = record(app.get("/api/reports/summary")).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json()["entries"], json!(1));
    let event = assert_single(
        &events,
        "report.viewed",
        json!({ "report_type": "summary", "date_range": "last_thirty_days" }),
    );
    assert_user(&event, &app.admin().await);

    let (resp, events) = record(app.get("/reports")).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_single(
        &events,
        "report.viewed",
        json!({ "report_type": "summary", "date_range": "last_thirty_days" }),
    );

    let (resp, events) = record(app.get("/api/reports/summary?start=2025-02-30")).await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(events.is_empty());

    let path = format!("/reports/export.csv?start={today}&end={today}");
    let (resp, events) = record(app.get(&path)).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("text/csv; charset=utf-8"));
    let csv = resp.text();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("entry_id,start_time,end_time,duration_seconds"));
    assert!(lines[1].contains("Website"));
    assert!(lines[1].contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
    assert_single(
        &events,
        "export.csv",
        json!({ "export_type": "time_entries", "num_rows": 1, "date_range_days": 1 }),
    );

    let (resp, events) =
        record(app.get("/reports/export.csv?start=2025-02-01&end=2025-01-01")).await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(events.is_empty());

    let (resp, events) =
        record(app.get("/reports/export.csv?start=2025-01-01&end=2025-01-31")).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_single(
        &events,
        "export.csv",
        json!({ "export_type": "time_entries", "num_rows": 0, "date_range_days": 31 }),
    );
}
