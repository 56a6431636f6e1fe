//! The environment switches: any values for the toolkit's variables, any persisted consent
//! and code default. Nothing panics, values are trimmed, blank means unset, and `decide`
//! follows the documented precedence (checked against an independent statement of it).

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use telemetry_core::__private::internals::config::{
    FALSY, TRUTHY, decide, parse_do_not_track, parse_switch,
};
use telemetry_core::{EnvConfig, Switch};

const VARS: [&str; 8] = [
    "ENABLE_TELEMETRY",
    "DO_NOT_TRACK",
    "POSTHOG_API_KEY",
    "POSTHOG_HOST",
    "TELE_SALT",
    "APP_VERSION",
    "TELEMETRY_DEBUG",
    "TELEMETRY_STATE_DIR",
];

#[derive(Debug, Arbitrary)]
struct Input {
    values: [Option<String>; 8],
    consent: Option<bool>,
    code: Option<bool>,
}

fn non_blank(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fuzz_target!(|input: Input| {
    let lookup = |name: &str| {
        VARS.iter()
            .position(|v| *v == name)
            .and_then(|i| input.values[i].clone())
    };
    let env = EnvConfig::from_lookup(lookup);

    // Each switch, read by the documented rule.
    let enable = input.values[0].as_deref().map(|v| {
        let key = v.trim().to_ascii_lowercase();
        if TRUTHY.contains(&key.as_str()) {
            Switch::On
        } else if FALSY.contains(&key.as_str()) {
            Switch::Off
        } else {
            Switch::Invalid(v.to_owned())
        }
    });
    assert_eq!(env.enable, enable);
    if let Some(v) = input.values[0].as_deref() {
        assert_eq!(parse_switch(v), enable.clone().unwrap());
    }
    let dnt = input.values[1]
        .as_deref()
        .is_some_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"));
    assert_eq!(env.do_not_track, dnt);
    if let Some(v) = input.values[1].as_deref() {
        assert_eq!(parse_do_not_track(v), dnt);
    }
    assert_eq!(env.posthog_api_key, non_blank(&input.values[2]));
    assert_eq!(env.posthog_host, non_blank(&input.values[3]));
    assert_eq!(env.tele_salt, non_blank(&input.values[4]));
    assert_eq!(env.app_version, non_blank(&input.values[5]));
    assert_eq!(
        env.debug,
        input.values[6]
            .as_deref()
            .is_some_and(|v| parse_switch(v) == Switch::On)
    );
    assert_eq!(
        env.state_dir,
        non_blank(&input.values[7]).map(std::path::PathBuf::from)
    );

    // Precedence: DO_NOT_TRACK > ENABLE_TELEMETRY when set > consent > code default > off.
    let expected = if dnt {
        false
    } else if let Some(switch) = &enable {
        *switch == Switch::On
    } else {
        input.consent.or(input.code).unwrap_or(false)
    };
    let (on, reason) = decide(&env, input.consent, input.code);
    assert_eq!(
        on, expected,
        "{env:?} consent={:?} code={:?}",
        input.consent, input.code
    );
    // The reason renders for the admin page and the JSON status without panicking.
    let _ = reason.to_string();
    let _ = serde_json::to_string(&reason).expect("reason serialises");
});
