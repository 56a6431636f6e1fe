//! Setup redirect rules, admin authorization, CSRF, sessions.

use axum::http::{Method, StatusCode};
use serde_json::json;
use timetracker::Database;

use crate::support::{ADMIN, PASSWORD, TestApp, csrf_in, telemetry_builder, temp_dir};

#[tokio::test]
async fn before_setup_every_page_goes_to_setup() {
    let mut app = TestApp::new();
    for path in [
        "/",
        "/projects",
        "/clients",
        "/reports",
        "/admin/telemetry",
        "/no-such-page",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(resp.location(), Some("/setup"), "{path}");
    }
    let resp = app.get("/api/projects").await;
    assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.json()["error"], json!("setup_required"));
    // A form post elsewhere is redirected too, before anything else happens.
    let resp = app.form_without_csrf("/clients", &[("name", "x")]).await;
    assert_eq!(resp.location(), Some("/setup"));

    for path in [
        "/setup",
        "/login",
        "/health",
        "/metrics",
        "/static/style.css",
        "/telemetry/events",
        "/telemetry/events.md",
        "/telemetry/events.json",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn the_setup_page_asks_for_consent_with_an_unchecked_box() {
    let mut app = TestApp::new();
    let page = app.get("/setup").await.text();
    assert!(page.contains(r#"id="setup-form""#));
    assert!(page.contains(r#"id="setup-username""#));
    assert!(page.contains(r#"id="setup-password""#));
    let checkbox = page
        .split('<')
        .find(|tag| tag.contains(r#"id="telemetry-enabled""#))
        .expect("the telemetry checkbox");
    assert!(checkbox.contains(r#"type="checkbox""#));
    assert!(!checkbox.contains("checked"), "{checkbox}");
    assert!(page.contains("Enable anonymous telemetry"));
    assert!(page.contains(r#"href="/telemetry/events""#));
    assert!(page.contains("Never collected"));
    assert!(csrf_in(&page).is_some());

    // Without the CSRF token the form is refused.
    let resp = app
        .form_without_csrf("/setup", &[("username", ADMIN), ("password", PASSWORD)])
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(!app.state.setup_complete());
}

#[tokio::test]
async fn setup_stores_consent_creates_the_admin_and_logs_in() {
    let mut app = TestApp::new();
    assert!(!app.telemetry.status().enabled);
    let resp = app.complete_setup(ADMIN, PASSWORD, true).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.location(), Some("/"));
    assert!(app.telemetry.status().enabled);
    let resp = app.get("/").await;
    assert_eq!(resp.status, StatusCode::OK);
    let session = app.get("/api/session").await.json();
    assert_eq!(session["user"]["username"], json!(ADMIN));
    assert_eq!(session["user"]["is_admin"], json!(true));
    // The setup page is done with.
    let resp = app.get("/setup").await;
    assert_eq!(resp.location(), Some("/"));
}

#[tokio::test]
async fn settings_changes_never_send_the_admin_back_to_setup() {
    let dir = temp_dir("persist");
    let db = Database::File(dir.join("tt.sqlite3"));
    let telemetry = telemetry_builder(&dir).install();
    let mut app = TestApp::with(db.clone(), telemetry.clone());
    app.complete_setup(ADMIN, PASSWORD, false).await;
    for enabled in ["true", "false", "true"] {
        let resp = app
            .form("/admin/telemetry/toggle", &[("enabled", enabled)])
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER);
        let resp = app.get("/").await;
        assert_eq!(resp.status, StatusCode::OK, "after toggling to {enabled}");
    }
    // A restart on the same database still knows setup is done.
    let mut restarted = TestApp::with(db, telemetry);
    assert!(restarted.state.setup_complete());
    let resp = restarted.get("/").await;
    assert_eq!(resp.location(), Some("/login?next=/"));
    let resp = restarted.login(ADMIN, PASSWORD).await;
    assert_eq!(resp.status, StatusCode::OK);
}

#[tokio::test]
async fn the_admin_page_is_for_admins_only() {
    let mut app = TestApp::ready().await;

    let mut anonymous = app.new_client();
    let resp = anonymous.get("/admin/telemetry").await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.location(), Some("/login?next=/admin/telemetry"));
    let resp = anonymous.get("/api/admin/telemetry").await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    let resp = anonymous
        .form("/admin/telemetry/toggle", &[("enabled", "true")])
        .await;
    assert_eq!(resp.location(), Some("/login?next=/admin/telemetry/toggle"));

    let (mut user, _) = app.as_new_user("uma").await;
    assert_eq!(
        user.get("/admin/telemetry").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        user.get("/api/admin/telemetry").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(user.get("/admin/users").await.status, StatusCode::FORBIDDEN);
    // Ordinary pages work for them.
    assert_eq!(user.get("/projects").await.status, StatusCode::OK);

    let resp = app.get("/admin/telemetry").await;
    assert_eq!(resp.status, StatusCode::OK);
    let page = resp.text();
    for id in [
        "telemetry-status",
        "telemetry-state",
        "telemetry-reason",
        "telemetry-toggle",
        "telemetry-fingerprint",
        "telemetry-posthog",
        "telemetry-sink",
        "telemetry-state-file",
        "telemetry-last-health",
        "telemetry-captured",
        "telemetry-sent",
        "telemetry-dropped",
        "telemetry-failed",
        "catalog",
        "catalog-markdown",
    ] {
        assert!(page.contains(&format!(r#"id="{id}""#)), "missing #{id}");
    }
    assert!(page.contains(r#"id="telemetry-state">disabled<"#));
    assert!(page.contains("Enable telemetry"));
    // The whole catalog is rendered, the toolkit's lifecycle events included.
    for event in [
        "timer.stopped",
        "auth.login_failed",
        "telemetry.install",
        "empty_username",
    ] {
        assert!(page.contains(event), "{event}");
    }
    let status = app.get("/api/admin/telemetry").await.json();
    assert_eq!(status["enabled"], json!(false));
    assert_eq!(status["sink"], json!("jsonl"));
    assert!(page.contains(status["fingerprint_short"].as_str().unwrap()));
}

#[tokio::test]
async fn the_toggle_needs_the_sessions_csrf_token_and_takes_effect_at_once() {
    let mut app = TestApp::ready().await;
    let resp = app
        .form_without_csrf("/admin/telemetry/toggle", &[("enabled", "true")])
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let resp = app
        .form_without_csrf(
            "/admin/telemetry/toggle",
            &[("csrf_token", "0000"), ("enabled", "true")],
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    // Another session's token is no good either.
    let mut other = app.new_client();
    let foreign = other.csrf().await;
    let resp = app
        .form_without_csrf(
            "/admin/telemetry/toggle",
            &[("csrf_token", &foreign), ("enabled", "true")],
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(!app.telemetry.status().enabled);

    let resp = app
        .form("/admin/telemetry/toggle", &[("enabled", "true")])
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert!(app.telemetry.status().enabled);
    let page = app.get("/admin/telemetry").await.text();
    assert!(page.contains(r#"id="telemetry-state">enabled<"#));
    assert!(page.contains("Disable telemetry"));

    let resp = app
        .form("/admin/telemetry/toggle", &[("enabled", "false")])
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert!(!app.telemetry.status().enabled);

    // The JSON API wants the header.
    let resp = app
        .send(
            axum::http::Request::post("/api/admin/telemetry")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(r#"{"enabled":true}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert_eq!(resp.json()["error"], json!("csrf_token_invalid"));
    assert!(!app.telemetry.status().enabled);
}

#[tokio::test]
async fn sessions_rotate_on_login_and_end_on_logout_and_deactivation() {
    let app = TestApp::ready().await;
    let user = app.add_user("sam", false).await;
    let mut client = app.new_client();
    let before = client.csrf().await;
    client.login("sam", PASSWORD).await;
    let after = client.csrf().await;
    assert_ne!(before, after, "a login gets a fresh session and token");
    assert_eq!(client.get("/").await.status, StatusCode::OK);

    let mut admin = app.new_client();
    admin.login(ADMIN, PASSWORD).await;
    let resp = admin
        .api(
            Method::PATCH,
            &format!("/api/users/{}", user.id),
            Some(json!({ "active": false })),
        )
        .await;
    assert_eq!(resp.json()["active"], json!(false));
    assert_eq!(client.get("/").await.location(), Some("/login?next=/"));

    let resp = admin.api(Method::POST, "/api/logout", None).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert_eq!(
        admin.get("/api/projects").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn pages_render_for_a_logged_in_user() {
    let mut app = TestApp::ready().await;
    let project = app.project().await;
    app.task(project).await;
    for path in [
        "/".to_owned(),
        "/projects".to_owned(),
        format!("/projects/{project}"),
        "/clients".to_owned(),
        "/reports".to_owned(),
        "/admin/users".to_owned(),
    ] {
        let resp = app.get(&path).await;
        assert_eq!(resp.status, StatusCode::OK, "{path}: {}", resp.text());
        assert!(resp.text().contains(r#"id="logout""#), "{path}");
    }
    assert_eq!(
        app.get(&format!("/projects/{}", project + 100))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let resp = app.get("/login").await;
    assert_eq!(resp.location(), Some("/"));
}
