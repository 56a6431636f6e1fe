//! Reading the environment switches and deciding whether telemetry is on.
//!
//! Precedence, highest first: `DO_NOT_TRACK` > `ENABLE_TELEMETRY` when set > the persisted
//! consent > the default given in code > off. Bad values never fail: they fall back to off with
//! one warning naming the value.

use std::fmt;
use std::path::PathBuf;

use crate::state::PersistedConsent;

/// `ENABLE_TELEMETRY` values that turn telemetry on (any case).
pub const TRUTHY: &[&str] = &["true", "1", "yes", "on"];
/// `ENABLE_TELEMETRY` values that turn telemetry off (any case; empty counts too).
pub const FALSY: &[&str] = &["false", "0", "no", "off", ""];

/// How an `ENABLE_TELEMETRY` value was read.
///
/// ```
/// use telemetry_core::{EnvConfig, Switch};
/// let env = EnvConfig::from_lookup(|k| (k == "ENABLE_TELEMETRY").then(|| "maybe".to_owned()));
/// assert_eq!(env.enable, Some(Switch::Invalid("maybe".into()))); // off, with a warning
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switch {
    /// A truthy value.
    On,
    /// A falsy value (or empty).
    Off,
    /// Anything else: treated as off, with a warning naming the value.
    Invalid(String),
}

/// Parses an `ENABLE_TELEMETRY` value.
///
/// ```
/// use telemetry_core::Switch;
/// use telemetry_core::__private::internals::config::parse_switch;
/// assert_eq!(parse_switch(" YES "), Switch::On);
/// assert_eq!(parse_switch(""), Switch::Off);
/// assert_eq!(parse_switch("maybe"), Switch::Invalid("maybe".into()));
/// ```
pub fn parse_switch(value: &str) -> Switch {
    let v = value.trim().to_ascii_lowercase();
    if TRUTHY.contains(&v.as_str()) {
        Switch::On
    } else if FALSY.contains(&v.as_str()) {
        Switch::Off
    } else {
        Switch::Invalid(value.to_owned())
    }
}

/// Whether a `DO_NOT_TRACK` value asks for no tracking: anything but empty, `0` or `false`
/// (any case, surrounding blanks ignored). A user who wrote `yes`, `on` or `please` meant it.
///
/// ```
/// use telemetry_core::__private::internals::config::parse_do_not_track;
/// assert!(parse_do_not_track("TRUE") && parse_do_not_track("yes") && parse_do_not_track("1"));
/// assert!(!parse_do_not_track("0") && !parse_do_not_track(" False ") && !parse_do_not_track(""));
/// ```
pub fn parse_do_not_track(value: &str) -> bool {
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false"
    )
}

/// The longest version string sent; longer ones are replaced by [`INVALID_VERSION`].
pub const MAX_VERSION_LEN: usize = 64;
/// What is sent instead of a version that is not a plain version token.
pub const INVALID_VERSION: &str = "invalid";

/// A version as it may be sent: a semver-like token of ASCII letters, digits and `.+-`, at
/// most `MAX_VERSION_LEN` characters (surrounding blanks trimmed). Anything else is
/// `Err(INVALID_VERSION)`: versions come from the environment and the state file, and must not
/// become a channel for free text.
///
/// ```
/// use telemetry_core::__private::internals::config::sanitize_version;
/// assert_eq!(sanitize_version(" 1.4.0-rc.1+build.7 "), Ok("1.4.0-rc.1+build.7".to_owned()));
/// assert_eq!(sanitize_version("1.0 (alice@example.com)"), Err("invalid"));
/// ```
pub fn sanitize_version(version: &str) -> Result<String, &'static str> {
    let v = version.trim();
    let token = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-');
    if v.is_empty() || v.len() > MAX_VERSION_LEN || !v.chars().all(token) {
        Err(INVALID_VERSION)
    } else {
        Ok(v.to_owned())
    }
}

/// The warning for a PostHog host that would carry the project key in clear: a plain
/// `http://` URL whose host is not loopback (`localhost`, `127.0.0.0/8`, `[::1]`). `None` for
/// `https://` and for loopback.
///
/// ```
/// use telemetry_core::__private::internals::config::cleartext_host_warning;
/// assert!(cleartext_host_warning("http://posthog.internal:8000").is_some());
/// assert!(cleartext_host_warning("https://eu.i.posthog.com").is_none());
/// assert!(cleartext_host_warning("http://127.0.0.1:8000").is_none());
/// ```
pub fn cleartext_host_warning(host: &str) -> Option<String> {
    let trimmed = host.trim();
    let lower = trimmed.to_ascii_lowercase();
    let rest = lower.strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let hostname = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let loopback = hostname == "localhost"
        || hostname.ends_with(".localhost")
        || hostname
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| {
        format!(
            "POSTHOG_HOST {trimmed:?} is plain http:// and not loopback: the project key and \
             every event travel in clear; use https://"
        )
    })
}

/// The toolkit's environment variables, read once.
///
/// `Debug` never prints the API key, `TELE_SALT` or `TELEMETRY_INSTALL_ID`, only whether they
/// are set.
///
/// ```
/// use telemetry_core::{EnvConfig, Switch, Telemetry};
/// let dir = tempfile::tempdir().unwrap();
/// let telemetry = Telemetry::builder()
///     .app("doc-app", "1.0.0")
///     .state_dir(dir.path())
///     .env(EnvConfig { do_not_track: true, enable: Some(Switch::On), ..EnvConfig::default() })
///     .install();
/// assert!(!telemetry.is_enabled()); // DO_NOT_TRACK wins
/// # telemetry.shutdown();
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvConfig {
    /// `ENABLE_TELEMETRY`, if set.
    pub enable: Option<Switch>,
    /// `DO_NOT_TRACK` asks for no tracking.
    pub do_not_track: bool,
    /// `POSTHOG_API_KEY`, if set and not blank.
    pub posthog_api_key: Option<String>,
    /// `POSTHOG_HOST`, if set and not blank.
    pub posthog_host: Option<String>,
    /// `TELE_SALT`, if set and not blank.
    pub tele_salt: Option<String>,
    /// `TELEMETRY_INSTALL_ID`, if set and not blank: pins the install id (with `TELE_SALT`,
    /// the whole identity) for a fleet of replicas.
    pub install_id: Option<String>,
    /// `APP_VERSION`, if set and not blank.
    pub app_version: Option<String>,
    /// `TELEMETRY_DEBUG=1`: dry run to stderr.
    pub debug: bool,
    /// `TELEMETRY_STATE_DIR`, if set and not blank.
    pub state_dir: Option<PathBuf>,
    /// `TELEMETRY_REMOTE_FLAG`, if set and not blank: the PostHog feature flag that can switch
    /// telemetry off remotely (the remote kill switch, feature `posthog`).
    pub remote_flag: Option<String>,
}

impl EnvConfig {
    /// Reads the process environment.
    ///
    /// ```
    /// let env = telemetry_core::EnvConfig::from_env();
    /// println!("{env:?}"); // never shows the key, the salt or the install id
    /// ```
    pub fn from_env() -> EnvConfig {
        EnvConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads from any lookup (for tests).
    ///
    /// ```
    /// use telemetry_core::{EnvConfig, Switch};
    /// let env = EnvConfig::from_lookup(|k| match k {
    ///     "ENABLE_TELEMETRY" => Some("on".into()),
    ///     "POSTHOG_API_KEY" => Some("   ".into()),
    ///     _ => None,
    /// });
    /// assert_eq!(env.enable, Some(Switch::On));
    /// assert_eq!(env.posthog_api_key, None); // blank means unset
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> EnvConfig {
        let non_blank = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        EnvConfig {
            enable: lookup("ENABLE_TELEMETRY").map(|v| parse_switch(&v)),
            do_not_track: lookup("DO_NOT_TRACK").is_some_and(|v| parse_do_not_track(&v)),
            posthog_api_key: non_blank("POSTHOG_API_KEY"),
            posthog_host: non_blank("POSTHOG_HOST"),
            tele_salt: non_blank("TELE_SALT"),
            install_id: non_blank("TELEMETRY_INSTALL_ID"),
            app_version: non_blank("APP_VERSION"),
            debug: lookup("TELEMETRY_DEBUG").is_some_and(|v| parse_switch(&v) == Switch::On),
            state_dir: non_blank("TELEMETRY_STATE_DIR").map(PathBuf::from),
            remote_flag: non_blank("TELEMETRY_REMOTE_FLAG"),
        }
    }
}

impl fmt::Debug for EnvConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |v: &Option<String>| {
            if v.is_some() {
                "Some(<redacted>)"
            } else {
                "None"
            }
        };
        f.debug_struct("EnvConfig")
            .field("enable", &self.enable)
            .field("do_not_track", &self.do_not_track)
            .field(
                "posthog_api_key",
                &format_args!("{}", secret(&self.posthog_api_key)),
            )
            .field("posthog_host", &self.posthog_host)
            .field("tele_salt", &format_args!("{}", secret(&self.tele_salt)))
            .field("install_id", &format_args!("{}", secret(&self.install_id)))
            .field("app_version", &self.app_version)
            .field("debug", &self.debug)
            .field("state_dir", &self.state_dir)
            .field("remote_flag", &self.remote_flag)
            .finish()
    }
}

impl EnvConfig {
    /// Whether the environment decides on/off by itself (`DO_NOT_TRACK` or `ENABLE_TELEMETRY`
    /// set), so a persisted consent cannot change it.
    ///
    /// ```
    /// use telemetry_core::EnvConfig;
    /// assert!(!EnvConfig::default().pins_switch());
    /// assert!(EnvConfig { do_not_track: true, ..EnvConfig::default() }.pins_switch());
    /// ```
    pub fn pins_switch(&self) -> bool {
        self.do_not_track || self.enable.is_some()
    }
}

/// Which switch decided whether telemetry is on.
///
/// ```
/// use telemetry_core::{EnvConfig, Reason, Telemetry};
/// let dir = tempfile::tempdir().unwrap();
/// let telemetry = Telemetry::builder()
///     .state_dir(dir.path())
///     .env(EnvConfig::default())
///     .enabled_by_default(false)
///     .install();
/// assert_eq!(telemetry.status().reason_code, Reason::Code(false));
/// assert_eq!(Reason::Code(false).to_string(), "disabled by the application's default");
/// # telemetry.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "source", content = "detail", rename_all = "snake_case")]
pub enum Reason {
    /// `DO_NOT_TRACK` is set.
    DoNotTrack,
    /// `ENABLE_TELEMETRY` is set to a truthy value.
    EnvEnabled,
    /// `ENABLE_TELEMETRY` is set to a falsy value.
    EnvDisabled,
    /// `ENABLE_TELEMETRY` has a value that is neither: off.
    EnvInvalid(String),
    /// The persisted consent (an opt-in or opt-out decision).
    Consent(bool),
    /// The default given in code.
    Code(bool),
    /// The state file was corrupt and its consent unreadable: off until someone decides.
    ConsentLost,
    /// Nothing decided: off.
    Default,
    /// Local consent is on, but the PostHog feature flag named here (`TELEMETRY_REMOTE_FLAG`)
    /// is off for this install: nothing is sent.
    Remote(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::DoNotTrack => f.write_str("DO_NOT_TRACK is set"),
            Reason::EnvEnabled => f.write_str("ENABLE_TELEMETRY turns it on"),
            Reason::EnvDisabled => f.write_str("ENABLE_TELEMETRY turns it off"),
            Reason::EnvInvalid(v) => write!(f, "ENABLE_TELEMETRY has an invalid value {v:?}"),
            Reason::Consent(true) => f.write_str("opted in"),
            Reason::Consent(false) => f.write_str("opted out"),
            Reason::Code(true) => f.write_str("enabled by the application's default"),
            Reason::Code(false) => f.write_str("disabled by the application's default"),
            Reason::Default => f.write_str("off by default: nobody opted in"),
            Reason::Remote(flag) => write!(
                f,
                "disabled remotely: PostHog feature flag {flag:?} is off for this install"
            ),
            Reason::ConsentLost => f.write_str(
                "off: the install state was corrupt and its consent unreadable; \
                 off until consent is given again",
            ),
        }
    }
}

/// Decides whether telemetry is on, and why.
///
/// ```
/// use telemetry_core::{EnvConfig, Reason, Switch};
/// use telemetry_core::__private::internals::config::decide;
/// let mut env = EnvConfig::default();
/// assert_eq!(decide(&env, None, None), (false, Reason::Default));
/// assert_eq!(decide(&env, Some(true), None), (true, Reason::Consent(true)));
/// env.enable = Some(Switch::Off);
/// assert_eq!(decide(&env, Some(true), None), (false, Reason::EnvDisabled));
/// env.enable = Some(Switch::On);
/// env.do_not_track = true;
/// assert_eq!(decide(&env, None, None), (false, Reason::DoNotTrack));
/// ```
pub fn decide(env: &EnvConfig, consent: Option<bool>, code: Option<bool>) -> (bool, Reason) {
    let persisted = consent.map_or(PersistedConsent::Undecided, PersistedConsent::Decided);
    decide_persisted(env, persisted, code)
}

/// [`decide`] over the persisted consent as the state file has it: a consent lost with a
/// corrupt file is off (reason [`Reason::ConsentLost`]) even when the code's default is on.
pub fn decide_persisted(
    env: &EnvConfig,
    consent: PersistedConsent,
    code: Option<bool>,
) -> (bool, Reason) {
    if env.do_not_track {
        return (false, Reason::DoNotTrack);
    }
    match &env.enable {
        Some(Switch::On) => return (true, Reason::EnvEnabled),
        Some(Switch::Off) => return (false, Reason::EnvDisabled),
        Some(Switch::Invalid(v)) => return (false, Reason::EnvInvalid(v.clone())),
        None => {}
    }
    match consent {
        PersistedConsent::Decided(c) => return (c, Reason::Consent(c)),
        PersistedConsent::Lost => return (false, Reason::ConsentLost),
        PersistedConsent::Undecided => {}
    }
    if let Some(c) = code {
        return (c, Reason::Code(c));
    }
    (false, Reason::Default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_and_rejected_spelling() {
        for v in [
            "true", "TRUE", "True", "1", "yes", "YES", "on", "On", " on ",
        ] {
            assert_eq!(parse_switch(v), Switch::On, "{v:?}");
        }
        for v in ["false", "FALSE", "0", "no", "No", "off", "OFF", "", "  "] {
            assert_eq!(parse_switch(v), Switch::Off, "{v:?}");
        }
        for v in ["2", "enable", "y", "t", "nope", "truee", "-1"] {
            assert_eq!(parse_switch(v), Switch::Invalid(v.into()), "{v:?}");
        }
    }

    #[test]
    fn invalid_value_is_off_and_beats_consent() {
        let env = EnvConfig {
            enable: Some(Switch::Invalid("maybe".into())),
            ..EnvConfig::default()
        };
        assert_eq!(
            decide(&env, Some(true), Some(true)),
            (false, Reason::EnvInvalid("maybe".into()))
        );
    }

    #[test]
    fn a_lost_consent_is_off_even_when_the_code_says_on() {
        assert_eq!(
            decide_persisted(&EnvConfig::default(), PersistedConsent::Lost, Some(true)),
            (false, Reason::ConsentLost)
        );
    }

    #[test]
    fn consent_beats_code_default() {
        let env = EnvConfig::default();
        assert_eq!(
            decide(&env, Some(false), Some(true)),
            (false, Reason::Consent(false))
        );
    }

    #[test]
    fn do_not_track_is_on_for_anything_but_empty_zero_or_false() {
        for (value, off) in [
            ("1", true),
            ("true", true),
            ("TRUE", true),
            ("yes", true),
            ("on", true),
            ("anything", true),
            (" 2 ", true),
            ("", false),
            ("   ", false),
            ("0", false),
            ("false", false),
            (" False ", false),
        ] {
            assert_eq!(parse_do_not_track(value), off, "DO_NOT_TRACK={value:?}");
            let env = EnvConfig::from_lookup(|k| (k == "DO_NOT_TRACK").then(|| value.to_owned()));
            let on_anyway = EnvConfig {
                enable: Some(Switch::On),
                ..env
            };
            assert_eq!(
                decide(&on_anyway, Some(true), Some(true)).0,
                !off,
                "DO_NOT_TRACK={value:?} with ENABLE_TELEMETRY=1"
            );
        }
    }

    #[test]
    fn debug_never_prints_the_key_the_salt_or_the_install_id() {
        let env = EnvConfig::from_lookup(|k| match k {
            "POSTHOG_API_KEY" => Some("phc_SECRETKEY".into()),
            "TELE_SALT" => Some("SALTYSECRET".into()),
            "TELEMETRY_INSTALL_ID" => Some("FLEETID".into()),
            "POSTHOG_HOST" => Some("https://eu.i.posthog.com".into()),
            _ => None,
        });
        let debug = format!("{env:?} {env:#?}");
        for secret in ["SECRETKEY", "SALTYSECRET", "FLEETID"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(
            debug.contains("eu.i.posthog.com"),
            "the rest is shown: {debug}"
        );
        assert!(debug.contains("Some(<redacted>)"));
    }

    #[test]
    fn versions_are_plain_tokens_of_at_most_64_characters() {
        for ok in [
            "1.0.0",
            "0.3.1-alpha.2+sha.5114f85",
            "2024.05",
            "v2",
            " 1.2.3 ",
        ] {
            assert_eq!(sanitize_version(ok).as_deref(), Ok(ok.trim()), "{ok:?}");
        }
        let long_ok = "1".repeat(64);
        assert_eq!(sanitize_version(&long_ok), Ok(long_ok.clone()));
        for bad in [
            "",
            "1.0 beta",
            "1.0\n2",
            "alice@example.com",
            "1.0/../../etc",
            "1.0_rc",
            "1.0.0\u{e9}",
            &"1".repeat(65),
        ] {
            assert_eq!(sanitize_version(bad), Err(INVALID_VERSION), "{bad:?}");
        }
    }

    #[test]
    fn cleartext_warning_only_for_plain_http_off_loopback() {
        for (host, warns) in [
            ("http://posthog.example.com", true),
            ("HTTP://10.0.0.5:8000/", true),
            ("http://user@posthog.internal", true),
            ("http://[2001:db8::1]:8000", true),
            ("http://127.0.0.1:8000", false),
            ("http://127.8.9.10", false),
            ("http://localhost:8000/ingest", false),
            ("http://app.localhost", false),
            ("http://[::1]:8000", false),
            ("https://us.i.posthog.com", false),
            ("https://10.0.0.5", false),
        ] {
            let warning = cleartext_host_warning(host);
            assert_eq!(warning.is_some(), warns, "{host}: {warning:?}");
            if let Some(text) = warning {
                assert!(
                    text.contains("in clear") && text.contains(host.trim()),
                    "{text}"
                );
            }
        }
    }
}
