//! Records the version of the compiler building this crate, for the `rust_version` lifecycle
//! property: `TELEMETRY_RUSTC_VERSION` (for example `1.95.0`, or `1.96.0-nightly`), or
//! `unknown` when `$RUSTC --version` cannot be run or read.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    // Cargo also reruns this script when the toolchain changes: the compiler version is part of
    // every unit's fingerprint.
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| parse_version(&text))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=TELEMETRY_RUSTC_VERSION={version}");
}

/// `rustc 1.95.0 (59807616e 2026-04-14)` -> `1.95.0`.
fn parse_version(text: &str) -> Option<String> {
    let mut words = text.split_whitespace();
    if words.next()? != "rustc" {
        return None;
    }
    let version = words.next()?;
    let plausible = version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    plausible.then(|| version.to_owned())
}
