//! Every event carries the install's context, user events under a hashed user id included: at
//! the loopback capture server, a user event's `install_fingerprint` is the lifecycle events'
//! `distinct_id`, and its context values are the ones `telemetry.install` sends.

use std::time::Duration;

use serde_json::Value;
use telemetry_core::__private::internals::environment::EnvironmentInfo;
use telemetry_core::{EnvConfig, Switch};
use telemetry_core::{Telemetry, track_event};
use telemetry_tests::capture_server::{CaptureServer, Mode};
use telemetry_tests::child::temp_dir;

/// A user signed in.
#[track_event("context.signed_in", distinct_id = user_id, props(remember = remember))]
fn signed_in(user_id: u64, remember: bool) -> bool {
    remember
}

const CONTEXT: [&str; 5] = [
    "app_version",
    "platform",
    "arch",
    "environment",
    "deployment_method",
];

#[test]
fn a_user_event_under_a_hashed_id_carries_the_install_fingerprint_and_context() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = temp_dir("event-context");
    let telemetry = Telemetry::builder()
        .app("context-app", "3.1.4")
        .env(EnvConfig {
            enable: Some(Switch::On),
            ..EnvConfig::default()
        })
        .posthog("phc_context", Some(server.url()))
        .state_dir(&dir)
        .install();
    signed_in(42, true);
    signed_in(43, false);
    assert!(telemetry.flush());
    telemetry.shutdown();

    let events = server.wait_for_events(4, Duration::from_secs(10));
    let find =
        |name: &str| -> Vec<&Value> { events.iter().filter(|e| e["event"] == name).collect() };
    let install = find("telemetry.install");
    let users = find("context.signed_in");
    assert_eq!((install.len(), users.len()), (1, 2), "{events:?}");
    let install = install[0];
    let fingerprint = install["distinct_id"].as_str().unwrap();
    assert_eq!(install["properties"]["install_fingerprint"], fingerprint);

    let env = EnvironmentInfo::current();
    let catalog: Value = serde_json::from_str(&telemetry_core::catalog().to_json()).unwrap();
    let documented = catalog["automatic_properties"].as_array().unwrap();
    for user in &users {
        let props = &user["properties"];
        let distinct_id = user["distinct_id"].as_str().unwrap();
        assert_eq!(distinct_id.len(), 64);
        assert_ne!(distinct_id, fingerprint, "sent under the hashed user id");
        assert_eq!(props["install_fingerprint"], fingerprint);
        for name in CONTEXT {
            assert_eq!(props[name], install["properties"][name], "{name}");
        }
        assert_eq!(props["app_version"], "3.1.4");
        assert_eq!(props["platform"], std::env::consts::OS);
        assert_eq!(props["arch"], std::env::consts::ARCH);
        assert_eq!(props["environment"], env.environment.as_str());
        assert_eq!(props["deployment_method"], env.deployment_method.as_str());
        assert_eq!(props["$lib"], "telemetry-core");
        assert_eq!(
            props["$lib_version"],
            telemetry_core::__private::internals::wire::LIB_VERSION
        );
        assert_eq!(props["$process_person_profile"], false);
        assert_eq!(props["$geoip_disable"], true);
        assert!(props.get("$ip").is_none());
        // Only the declared property and the automatic ones the catalog documents.
        let mut names: Vec<&str> = props
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        let mut expected: Vec<&str> = documented
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .chain(["remember"])
            .collect();
        expected.sort_unstable();
        assert_eq!(names, expected);
    }
    // Two users, two hashed ids: the install fingerprint is what ties them to the install.
    assert_ne!(users[0]["distinct_id"], users[1]["distinct_id"]);
}
