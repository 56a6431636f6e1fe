//! Reading the environment switches and deciding whether telemetry is on.
//!
//! Precedence, highest first: `DO_NOT_TRACK` > `ENABLE_TELEMETRY` when set > the persisted
//! consent > the default given in code > off. Bad values never fail: they fall back to off with
//! one warning naming the value.

use std::fmt;
use std::path::PathBuf;

/// `ENABLE_TELEMETRY` values that turn telemetry on (any case).
pub const TRUTHY: &[&str] = &["true", "1", "yes", "on"];
/// `ENABLE_TELEMETRY` values that turn telemetry off (any case; empty counts too).
pub const FALSY: &[&str] = &["false", "0", "no", "off", ""];

/// How an `ENABLE_TELEMETRY` value was read.
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
/// use telemetry_core::config::{parse_switch, Switch};
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

/// Whether a `DO_NOT_TRACK` value asks for no tracking (`1` or `true`, any case).
///
/// ```
/// assert!(telemetry_core::config::parse_do_not_track("TRUE"));
/// assert!(!telemetry_core::config::parse_do_not_track("0"));
/// ```
pub fn parse_do_not_track(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "1" | "true")
}

/// The toolkit's environment variables, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// `APP_VERSION`, if set and not blank.
    pub app_version: Option<String>,
    /// `TELEMETRY_DEBUG=1`: dry run to stderr.
    pub debug: bool,
    /// `TELEMETRY_STATE_DIR`, if set and not blank.
    pub state_dir: Option<PathBuf>,
}

impl EnvConfig {
    /// Reads the process environment.
    pub fn from_env() -> EnvConfig {
        EnvConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads from any lookup (for tests).
    ///
    /// ```
    /// use telemetry_core::config::{EnvConfig, Switch};
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
            app_version: non_blank("APP_VERSION"),
            debug: lookup("TELEMETRY_DEBUG").is_some_and(|v| parse_switch(&v) == Switch::On),
            state_dir: non_blank("TELEMETRY_STATE_DIR").map(PathBuf::from),
        }
    }
}

/// Which switch decided whether telemetry is on.
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
    /// Nothing decided: off.
    Default,
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
        }
    }
}

/// Decides whether telemetry is on, and why.
///
/// ```
/// use telemetry_core::config::{decide, EnvConfig, Reason, Switch};
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
    if env.do_not_track {
        return (false, Reason::DoNotTrack);
    }
    match &env.enable {
        Some(Switch::On) => return (true, Reason::EnvEnabled),
        Some(Switch::Off) => return (false, Reason::EnvDisabled),
        Some(Switch::Invalid(v)) => return (false, Reason::EnvInvalid(v.clone())),
        None => {}
    }
    if let Some(c) = consent {
        return (c, Reason::Consent(c));
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
    fn do_not_track_values() {
        assert!(parse_do_not_track("1"));
        assert!(parse_do_not_track("true"));
        assert!(!parse_do_not_track(""));
        assert!(!parse_do_not_track("false"));
    }

    #[test]
    fn consent_beats_code_default() {
        let env = EnvConfig::default();
        assert_eq!(
            decide(&env, Some(false), Some(true)),
            (false, Reason::Consent(false))
        );
    }
}
