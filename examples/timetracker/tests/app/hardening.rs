//! What a real deployment needs: safe redirects, no sessions for anonymous visitors, login rate
//! limits, uniform password checks, bounded metric labels, Secure cookies behind TLS, and the
//! browser hardening headers.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use timetracker::auth::{ANONYMOUS_CSRF_COOKIE, PasswordCost, SESSION_COOKIE};
use timetracker::{Config, Database};

use crate::support::{
    ADMIN, PASSWORD, TestApp, assert_single, encode, record, telemetry_builder, temp_dir,
};

#[tokio::test]
async fn next_redirects_stay_on_this_origin() {
    let app = TestApp::ready().await;
    app.add_user("nina", false).await;
    let evil = [
        "//evil.example",
        "/\t/evil.example",
        "/\\evil",
        "/\\/evil.example",
        "https://evil.example/",
        "http:evil.example",
        " /projects",
    ];
    for next in evil.iter().chain(&["/projects?tab=1"]) {
        let expected = if *next == "/projects?tab=1" {
            *next
        } else {
            "/"
        };
        // The login form's redirect after a successful login.
        let mut client = app.new_client();
        let resp = client
            .form(
                "/login",
                &[("username", "nina"), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(resp.location(), Some(expected), "{next:?}");
        // The login page of someone already logged in redirects at once.
        let resp = client.get(&format!("/login?next={}", encode(next))).await;
        assert_eq!(resp.location(), Some(expected), "{next:?}");
        // And the hidden field of the login form never carries the foreign target.
        let page = app
            .new_client()
            .get(&format!("/login?next={}", encode(next)))
            .await;
        assert!(
            page.text().contains(&format!(
                r#"name="next" value="{}""#,
                expected.replace('&', "&amp;")
            )),
            "{next:?}"
        );
    }
}

#[tokio::test]
async fn anonymous_visitors_get_no_server_side_session() {
    let mut app = TestApp::new();
    for path in [
        "/setup",
        "/login",
        "/",
        "/health",
        "/metrics",
        "/telemetry/events",
        "/nope",
    ] {
        app.get(path).await;
    }
    assert_eq!(app.state.sessions.len(), 0, "before setup");
    // The setup form still works: its token is the double-submit cookie's.
    assert!(app.cookie(ANONYMOUS_CSRF_COOKIE).is_some());
    let resp = app.complete_setup(ADMIN, PASSWORD, false).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    assert_eq!(app.state.sessions.len(), 1, "the admin's session");

    let mut visitor = app.new_client();
    for path in [
        "/login",
        "/",
        "/projects",
        "/api/session",
        "/api/projects",
        "/admin/telemetry",
    ] {
        visitor.get(path).await;
    }
    assert_eq!(
        app.state.sessions.len(),
        1,
        "anonymous GETs created sessions"
    );

    // A token only counts together with the cookie it came from.
    let token = visitor.csrf().await;
    let mut stranger = app.new_client();
    let resp = stranger
        .form_without_csrf(
            "/login",
            &[
                ("csrf_token", &token),
                ("username", ADMIN),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let resp = visitor.login(ADMIN, PASSWORD).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(app.state.sessions.len(), 2);
    assert!(visitor.cookie(SESSION_COOKIE).is_some());
}

/// Logs in through the JSON API as if from `peer`.
async fn login_from(
    client: &mut TestApp,
    peer: &str,
    username: &str,
    password: &str,
) -> crate::support::Resp {
    let csrf = client.csrf().await;
    let addr: SocketAddr = format!("{peer}:40000").parse().unwrap();
    let mut req = Request::post("/api/login")
        .header("content-type", "application/json")
        .header(timetracker::auth::CSRF_HEADER, csrf)
        .body(Body::from(
            json!({ "username": username, "password": password }).to_string(),
        ))
        .unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    client.send(req).await
}

#[tokio::test]
async fn logins_are_rate_limited_per_account_with_backoff() {
    let app = TestApp::ready().await;
    app.add_user("rita", false).await;
    let mut client = app.new_client();
    for _ in 0..5 {
        let resp = login_from(&mut client, "192.0.2.1", "rita", "wrong password").await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    }
    // The sixth failure locks the account for 1 s; the refusal says so.
    let resp = login_from(&mut client, "192.0.2.1", "rita", "wrong password").await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    let checks = app.state.password_checks();
    let (resp, events) = record(login_from(&mut client, "192.0.2.1", "rita", PASSWORD)).await;
    assert_eq!(
        resp.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        resp.text()
    );
    assert_eq!(resp.header("retry-after"), Some("1"));
    assert_eq!(resp.json()["error"], json!("too_many_attempts"));
    assert_single(
        &events,
        "auth.login_failed",
        json!({ "reason": "rate_limited" }),
    );
    assert_eq!(
        app.state.password_checks(),
        checks,
        "refused before hashing"
    );
    // From any other address too, and in any spelling of the username.
    let mut other = app.new_client();
    let resp = login_from(&mut other, "198.51.100.7", "RITA", PASSWORD).await;
    assert_eq!(resp.status, StatusCode::TOO_MANY_REQUESTS);
    // Other accounts are unaffected.
    let resp = login_from(&mut other, "192.0.2.1", ADMIN, PASSWORD).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    // The HTML form gets the same answer, as a page.
    let resp = client
        .form("/login", &[("username", "rita"), ("password", PASSWORD)])
        .await;
    assert_eq!(resp.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.text().contains("too many failed logins"));
}

#[tokio::test]
async fn logins_are_rate_limited_per_client() {
    let app = TestApp::ready().await;
    app.add_user("sven", false).await;
    let mut client = app.new_client();
    // 21 failures spread over many usernames: no account reaches its limit, the client does.
    for n in 0..21 {
        let resp = login_from(&mut client, "192.0.2.66", &format!("guess{n}"), "x").await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let resp = login_from(&mut client, "192.0.2.66", "sven", PASSWORD).await;
    assert_eq!(resp.status, StatusCode::TOO_MANY_REQUESTS);
    let mut elsewhere = app.new_client();
    let resp = login_from(&mut elsewhere, "192.0.2.67", "sven", PASSWORD).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let dir = temp_dir("proxy");
    let mut config = Config::new(Database::Memory, telemetry_builder(&dir).install());
    config.password_cost = PasswordCost::Minimal;
    config.trust_proxy = true;
    let mut app = TestApp::from_config(config);
    app.complete_setup(ADMIN, PASSWORD, false).await;
    let mut client = app.new_client();
    let attempt = |forwarded: &'static str, n: usize| {
        let body = json!({ "username": format!("guess{n}"), "password": "x" }).to_string();
        Request::post("/api/login")
            .header("content-type", "application/json")
            .header("x-forwarded-for", format!("10.9.9.9, {forwarded}"))
            .body(Body::from(body))
            .unwrap()
    };
    for n in 0..21 {
        let csrf = client.csrf().await;
        let mut req = attempt("203.0.113.5", n);
        req.headers_mut()
            .insert(timetracker::auth::CSRF_HEADER, csrf.parse().unwrap());
        assert_eq!(client.send(req).await.status, StatusCode::UNAUTHORIZED);
    }
    let csrf = client.csrf().await;
    let mut req = attempt("203.0.113.5", 99);
    req.headers_mut()
        .insert(timetracker::auth::CSRF_HEADER, csrf.parse().unwrap());
    assert_eq!(client.send(req).await.status, StatusCode::TOO_MANY_REQUESTS);
    let mut req = attempt("203.0.113.6", 99);
    req.headers_mut()
        .insert(timetracker::auth::CSRF_HEADER, csrf.parse().unwrap());
    assert_eq!(client.send(req).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_login_refusal_after_the_lookup_runs_one_argon2_check() {
    let app = TestApp::ready().await;
    let disabled = app.add_user("dana", false).await;
    let mut admin = app.new_client();
    admin.login(ADMIN, PASSWORD).await;
    let resp = admin
        .api(
            Method::PATCH,
            &format!("/api/users/{}", disabled.id),
            Some(json!({ "active": false })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK);

    for (username, password, reason) in [
        ("dana", PASSWORD, "account_disabled"),
        ("dana", "wrong password", "account_disabled"),
        ("no-such-user", PASSWORD, "user_not_found"),
        (ADMIN, "wrong password", "wrong_password"),
    ] {
        let before = app.state.password_checks();
        let mut client = app.new_client();
        let (resp, events) = record(client.login(username, password)).await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            resp.json()["message"],
            json!("invalid username or password")
        );
        assert_single(&events, "auth.login_failed", json!({ "reason": reason }));
        assert_eq!(
            app.state.password_checks(),
            before + 1,
            "{reason} ({username}, {password}) must cost one Argon2 check"
        );
    }
    let before = app.state.password_checks();
    assert_eq!(
        app.new_client().login(ADMIN, PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(app.state.password_checks(), before + 1);
}

#[tokio::test]
async fn unknown_http_methods_are_one_metric_label() {
    let mut app = TestApp::ready().await;
    for method in ["BREW", "PROPFIND", "X-SCAN-1", "X-SCAN-2"] {
        let req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri("/health")
            .body(Body::empty())
            .unwrap();
        app.send(req).await;
    }
    let text = app.get("/metrics").await.text();
    for method in ["BREW", "PROPFIND", "X-SCAN"] {
        assert!(!text.contains(method), "{method} in\n{text}");
    }
    let other = text
        .lines()
        .find(|l| l.starts_with(r#"tt_requests_total{method="other",endpoint="/health""#))
        .unwrap_or_else(|| panic!("no method=\"other\" in\n{text}"));
    assert!(other.ends_with(" 4"), "{other}");
    assert!(text.contains(r#"tt_requests_total{method="GET",endpoint="/setup""#));
}

#[tokio::test]
async fn cookies_are_secure_when_behind_tls() {
    let set_cookies = |resp: &crate::support::Resp| -> Vec<String> {
        resp.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    let mut plain = TestApp::new();
    let cookies = set_cookies(&plain.get("/setup").await);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert!(!cookies[0].contains("Secure"), "{cookies:?}");

    let dir = temp_dir("tls");
    let mut config = Config::new(Database::Memory, telemetry_builder(&dir).install());
    config.password_cost = PasswordCost::Minimal;
    config.secure_cookies = true;
    let mut tls = TestApp::from_config(config);
    let cookies = set_cookies(&tls.get("/setup").await);
    assert!(cookies[0].starts_with(&format!("{ANONYMOUS_CSRF_COOKIE}=")));
    assert!(
        cookies[0].ends_with("; HttpOnly; SameSite=Lax; Secure"),
        "{cookies:?}"
    );
    let resp = tls.complete_setup(ADMIN, PASSWORD, false).await;
    let cookies = set_cookies(&resp);
    let session = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .expect("a session cookie");
    assert!(
        session.contains("; HttpOnly") && session.contains("; Secure"),
        "{session}"
    );
    let resp = tls.form("/logout", &[]).await;
    let cleared = set_cookies(&resp);
    assert!(
        cleared.iter().all(|c| c.contains("; Secure")),
        "{cleared:?}"
    );
}

#[tokio::test]
async fn every_response_carries_the_hardening_headers() {
    let mut app = TestApp::ready().await;
    let mut anonymous = app.new_client();
    let responses = [
        app.get("/").await,
        app.get("/api/projects").await,
        app.get("/metrics").await,
        app.get("/static/style.css").await,
        app.get("/no-such-page").await,
        app.form_without_csrf("/clients", &[("name", "x")]).await,
        anonymous.get("/projects").await,
        anonymous.get("/login").await,
    ];
    for resp in &responses {
        assert_eq!(
            resp.header("content-security-policy"),
            Some(timetracker::security_headers::CONTENT_SECURITY_POLICY),
            "{:?}",
            resp.status
        );
        assert!(
            resp.header("content-security-policy")
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(resp.header("x-frame-options"), Some("DENY"));
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    }
    // The pages need nothing the policy forbids: no inline styles or scripts.
    let page = app.get("/projects").await.text();
    assert!(
        !page.contains("<script") && !page.contains("style="),
        "{page}"
    );
}
