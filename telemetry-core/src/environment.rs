//! Where the application runs: the install's context on every event (`platform`, `arch`,
//! `environment`, `deployment_method`, see [`crate::wire::InstallContext`]) and the lifecycle
//! events' own `rust_version` and `ci`.
//!
//! Detected once per process ([`EnvironmentInfo::current`]). Detection is a pure function of an
//! environment lookup and two file probes ([`EnvironmentInfo::detect_with`]), so every rule can
//! be tested without touching the real environment.
//!
//! ```
//! use telemetry_core::__private::internals::environment::EnvironmentInfo;
//!
//! let info = EnvironmentInfo::current();
//! assert_eq!(info.platform, std::env::consts::OS);
//! assert_eq!(info.arch, std::env::consts::ARCH);
//! ```

use std::path::Path;
use std::sync::OnceLock;

use serde::Serialize;

/// The version of the Rust compiler that built this crate (for example `"1.95.0"`), or
/// `"unknown"`. In an ordinary build it is the compiler that built the whole application.
///
/// ```
/// let v = telemetry_core::__private::internals::environment::RUST_VERSION;
/// assert!(v == "unknown" || v.starts_with(|c: char| c.is_ascii_digit()));
/// ```
pub const RUST_VERSION: &str = match option_env!("TELEMETRY_RUSTC_VERSION") {
    Some(version) => version,
    None => "unknown",
};

/// Variables naming the deployment environment, first non-blank wins.
pub const ENVIRONMENT_VARS: [&str; 3] = ["APP_ENV", "RUST_ENV", "ENVIRONMENT"];

/// Variables whose presence (non-empty) means the process runs under CI. `CI` itself must also
/// not be a false value (`false`, `0`, `no`, `off`).
pub const CI_VARS: [&str; 11] = [
    "CI",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BUILDKITE",
    "CIRCLECI",
    "TRAVIS",
    "JENKINS_URL",
    "TEAMCITY_VERSION",
    "TF_BUILD",
    "BITBUCKET_BUILD_NUMBER",
    "DRONE",
];

/// Files whose existence means the process runs in a container (Docker, Podman).
pub const CONTAINER_MARKER_FILES: [&str; 2] = ["/.dockerenv", "/run/.containerenv"];

/// Words in `/proc/1/cgroup` that mean the process runs in a container.
const CGROUP_MARKERS: [&str; 5] = ["docker", "kubepods", "containerd", "lxc", "libpod"];

/// The longest `environment` value sent as given; longer or unusual values are sent as `"other"`.
const MAX_ENVIRONMENT_LEN: usize = 32;

/// The lifecycle properties: where and how the application runs.
///
/// ```
/// use telemetry_core::__private::internals::environment::EnvironmentInfo;
///
/// let env = |name: &str| match name {
///     "APP_ENV" => Some("Staging".to_owned()),
///     "GITHUB_ACTIONS" => Some("true".to_owned()),
///     _ => None,
/// };
/// let info = EnvironmentInfo::detect_with(env, |_| false, |_| None);
/// assert_eq!(info.environment, "staging");
/// assert_eq!(info.deployment_method, "native");
/// assert!(info.ci);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnvironmentInfo {
    /// Operating system family: `std::env::consts::OS` (`"linux"`, `"macos"`, `"windows"`, ...).
    pub platform: String,
    /// CPU architecture: `std::env::consts::ARCH` (`"x86_64"`, `"aarch64"`, ...).
    pub arch: String,
    /// The compiler that built the application ([`RUST_VERSION`]).
    pub rust_version: String,
    /// `APP_ENV`, `RUST_ENV` or `ENVIRONMENT` (first non-blank), lowercased; `"production"`
    /// when none is set. A value longer than 32 characters or with characters other than
    /// `a-z 0-9 . _ -` is sent as `"other"`, so a free-form value cannot leak anything.
    pub environment: String,
    /// `"container"` or `"native"`.
    pub deployment_method: String,
    /// Whether a CI system runs the process.
    pub ci: bool,
}

impl EnvironmentInfo {
    /// The environment of this process, detected on first use and cached.
    ///
    /// ```
    /// let a = telemetry_core::__private::internals::environment::EnvironmentInfo::current();
    /// let b = telemetry_core::__private::internals::environment::EnvironmentInfo::current();
    /// assert!(std::ptr::eq(a, b));
    /// ```
    pub fn current() -> &'static EnvironmentInfo {
        static CURRENT: OnceLock<EnvironmentInfo> = OnceLock::new();
        CURRENT.get_or_init(EnvironmentInfo::detect)
    }

    /// Detects the environment of this process now (uncached).
    ///
    /// ```
    /// let info = telemetry_core::__private::internals::environment::EnvironmentInfo::detect();
    /// assert_eq!(info.arch, std::env::consts::ARCH);
    /// ```
    pub fn detect() -> EnvironmentInfo {
        EnvironmentInfo::detect_with(
            |name| std::env::var(name).ok(),
            |path| path.exists(),
            |path| std::fs::read_to_string(path).ok(),
        )
    }

    /// Detection over injected probes: `env` looks up a variable, `exists` tells whether a file
    /// exists, `read` returns a file's contents (used for `/proc/1/cgroup`).
    ///
    /// ```
    /// use std::path::Path;
    /// use telemetry_core::__private::internals::environment::EnvironmentInfo;
    ///
    /// let info = EnvironmentInfo::detect_with(
    ///     |_| None,
    ///     |path| path == Path::new("/.dockerenv"),
    ///     |_| None,
    /// );
    /// assert_eq!(info.deployment_method, "container");
    /// assert_eq!(info.environment, "production");
    /// assert!(!info.ci);
    /// ```
    pub fn detect_with(
        env: impl Fn(&str) -> Option<String>,
        exists: impl Fn(&Path) -> bool,
        read: impl Fn(&Path) -> Option<String>,
    ) -> EnvironmentInfo {
        EnvironmentInfo {
            platform: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            rust_version: RUST_VERSION.to_owned(),
            environment: detect_environment(&env),
            deployment_method: if in_container(&env, &exists, &read) {
                "container"
            } else {
                "native"
            }
            .to_owned(),
            ci: detect_ci(&env),
        }
    }
}

fn non_blank(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn detect_environment(env: &impl Fn(&str) -> Option<String>) -> String {
    let Some(raw) = ENVIRONMENT_VARS
        .iter()
        .find_map(|name| non_blank(env(name)))
    else {
        return "production".to_owned();
    };
    let value = raw.trim().to_lowercase();
    let plain = value.len() <= MAX_ENVIRONMENT_LEN
        && value.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if plain { value } else { "other".to_owned() }
}

fn detect_ci(env: &impl Fn(&str) -> Option<String>) -> bool {
    CI_VARS.iter().any(|&name| match non_blank(env(name)) {
        None => false,
        Some(value) if name == "CI" => !matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "false" | "0" | "no" | "off"
        ),
        Some(_) => true,
    })
}

fn in_container(
    env: &impl Fn(&str) -> Option<String>,
    exists: &impl Fn(&Path) -> bool,
    read: &impl Fn(&Path) -> Option<String>,
) -> bool {
    CONTAINER_MARKER_FILES.iter().any(|f| exists(Path::new(f)))
        || non_blank(env("KUBERNETES_SERVICE_HOST")).is_some()
        || non_blank(env("container")).is_some()
        || read(Path::new("/proc/1/cgroup"))
            .is_some_and(|cgroup| CGROUP_MARKERS.iter().any(|marker| cgroup.contains(marker)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with_env(vars: &[(&str, &str)]) -> EnvironmentInfo {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvironmentInfo::detect_with(|name| map.get(name).cloned(), |_| false, |_| None)
    }

    #[test]
    fn platform_and_arch_come_from_std() {
        let info = with_env(&[]);
        assert_eq!(info.platform, std::env::consts::OS);
        assert_eq!(info.arch, std::env::consts::ARCH);
    }

    #[test]
    fn rust_version_comes_from_the_build() {
        // The build script ran the same rustc that compiles this test.
        assert_ne!(RUST_VERSION, "unknown");
        assert!(
            RUST_VERSION.split('.').count() >= 3,
            "{RUST_VERSION} should look like 1.95.0"
        );
        assert_eq!(with_env(&[]).rust_version, RUST_VERSION);
    }

    #[test]
    fn environment_precedence_and_normalisation() {
        assert_eq!(with_env(&[]).environment, "production");
        assert_eq!(with_env(&[("APP_ENV", "Staging")]).environment, "staging");
        assert_eq!(
            with_env(&[("APP_ENV", " "), ("RUST_ENV", "dev")]).environment,
            "dev"
        );
        assert_eq!(
            with_env(&[("RUST_ENV", "test"), ("ENVIRONMENT", "prod")]).environment,
            "test"
        );
        assert_eq!(with_env(&[("ENVIRONMENT", " QA ")]).environment, "qa");
        assert_eq!(
            with_env(&[("APP_ENV", "eu-west.prod_2")]).environment,
            "eu-west.prod_2"
        );
        // Free-form or long values are not sent as given.
        assert_eq!(
            with_env(&[("APP_ENV", "customer acme")]).environment,
            "other"
        );
        assert_eq!(
            with_env(&[("APP_ENV", &"x".repeat(33))]).environment,
            "other"
        );
        assert_eq!(with_env(&[("APP_ENV", "prød")]).environment, "other");
    }

    #[test]
    fn ci_detection() {
        assert!(!with_env(&[]).ci);
        for var in CI_VARS {
            assert!(with_env(&[(var, "1")]).ci, "{var}");
            assert!(!with_env(&[(var, "")]).ci, "{var} empty");
        }
        assert!(with_env(&[("CI", "true")]).ci);
        assert!(with_env(&[("CI", "woodpecker")]).ci);
        for off in ["false", "0", "no", "OFF"] {
            assert!(!with_env(&[("CI", off)]).ci, "CI={off}");
        }
        assert!(with_env(&[("CI", "false"), ("GITLAB_CI", "true")]).ci);
    }

    #[test]
    fn container_detection() {
        let detect = |env: &[(&str, &str)], files: &[&str], cgroup: Option<&str>| {
            let env: HashMap<String, String> = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            EnvironmentInfo::detect_with(
                |name| env.get(name).cloned(),
                |path| files.iter().any(|f| Path::new(f) == path),
                |path| {
                    (path == Path::new("/proc/1/cgroup"))
                        .then(|| cgroup.map(str::to_owned))
                        .flatten()
                },
            )
            .deployment_method
        };
        assert_eq!(detect(&[], &[], None), "native");
        assert_eq!(detect(&[], &[], Some("0::/init.scope\n")), "native");
        assert_eq!(detect(&[], &["/.dockerenv"], None), "container");
        assert_eq!(detect(&[], &["/run/.containerenv"], None), "container");
        assert_eq!(
            detect(&[("KUBERNETES_SERVICE_HOST", "10.0.0.1")], &[], None),
            "container"
        );
        assert_eq!(detect(&[("container", "podman")], &[], None), "container");
        assert_eq!(detect(&[("container", "")], &[], None), "native");
        for cgroup in [
            "12:pids:/docker/0123abcd\n",
            "0::/kubepods/besteffort/pod1\n",
            "1:name=systemd:/system.slice/containerd.service\n",
            "2:cpu:/lxc/box\n",
            "0::/machine.slice/libpod-abc.scope\n",
        ] {
            assert_eq!(detect(&[], &[], Some(cgroup)), "container", "{cgroup}");
        }
    }

    #[test]
    fn current_is_detected_once() {
        assert!(std::ptr::eq(
            EnvironmentInfo::current(),
            EnvironmentInfo::current()
        ));
    }
}
