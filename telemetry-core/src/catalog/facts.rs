//! Facts about a property that both documents state, computed once so that the Markdown and the
//! JSON say the same thing: the kind of value, in a word and in plain words, whether it may be
//! null, and where a value the toolkit sets comes from.

use crate::definition::{Classification, PropDef};
use crate::environment::{CI_VARS, CONTAINER_MARKER_FILES, ENVIRONMENT_VARS};
use crate::property::ValueKind;

/// The JSON `kind` of a property. The same as [`ValueKind::as_str`], except that a text value
/// the toolkit sets (a version, the OS name) is `"text"`: it is not one of a list written in the
/// application's code, and the Markdown document calls it text.
pub(crate) fn kind_name(p: &PropDef) -> &'static str {
    if is_free_text(p) {
        "text"
    } else {
        p.kind.as_str()
    }
}

fn is_free_text(p: &PropDef) -> bool {
    p.kind == ValueKind::Enum
        && p.variants.is_empty()
        && p.classification == Classification::Technical
}

/// The kind of value as a reader understands it, from the JSON `kind` and `variants`: the one
/// wording of both the transparency document and the changelog.
pub(crate) fn kind_words(kind: &str, variants: &[impl AsRef<str>]) -> String {
    match kind {
        "boolean" => "yes/no".to_owned(),
        "integer" => "whole number".to_owned(),
        "float" => "number".to_owned(),
        "duration" => "duration in seconds".to_owned(),
        "enum" if !variants.is_empty() => format!("one of {}", code_list(variants)),
        "enum" => "text fixed in the source code".to_owned(),
        "text" => "text".to_owned(),
        "hashed" => "salted SHA-256 hash (the value itself is never sent)".to_owned(),
        "unspecified" => "not specified".to_owned(),
        other => other.to_owned(),
    }
}

/// `` `a`, `b` ``.
pub(crate) fn code_list(values: &[impl AsRef<str>]) -> String {
    values
        .iter()
        .map(|v| format!("`{}`", v.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The wording both documents use for a property that may be sent as null.
pub(crate) const MAY_BE_NULL: &str = "may be null";

/// Whether the property may be sent as `null`: its Rust type is an `Option` (`None` is sent as
/// null). Judged from the type the macro recorded; a property whose type the macro could not
/// name is not marked.
pub(crate) fn may_be_null(p: &PropDef) -> bool {
    let ty = p.rust_type.trim();
    let ty = ty.trim_start_matches('&').trim_start();
    let ty = ty.strip_prefix("'static").unwrap_or(ty).trim_start();
    let ty = ty.strip_prefix("mut ").unwrap_or(ty).trim_start();
    let path = ty.split('<').next().unwrap_or("").trim();
    let last = path.rsplit("::").next().unwrap_or("").trim();
    last == "Option" && ty.contains('<')
}

/// Where the value of `p` comes from when the toolkit sets it (a technical property, such as
/// those of the lifecycle events); `None` for a property the application declares.
pub(crate) fn property_source(p: &PropDef) -> Option<String> {
    if p.classification == Classification::Technical {
        source(p.name)
    } else {
        None
    }
}

/// Where the value of a property the toolkit sets comes from, in plain words; `None` for a
/// property the application declares (its value comes from the application's code).
pub(crate) fn source(name: &str) -> Option<String> {
    let text = match name {
        "app_version" => "The version the application gives when it starts telemetry \
                          (`Telemetry::builder().app(name, version)`); the `APP_VERSION` \
                          environment variable overrides it."
            .to_owned(),
        "$lib" => "Always \"telemetry-core\".".to_owned(),
        "$lib_version" => "The version of telemetry-core built into the application.".to_owned(),
        "$process_person_profile" => "Always false.".to_owned(),
        "$geoip_disable" => "Always true.".to_owned(),
        "install_fingerprint" => "The SHA-256 of this installation's random id and secret salt, \
                                  both kept in its state file (`TELEMETRY_INSTALL_ID` and \
                                  `TELE_SALT` override them)."
            .to_owned(),
        "platform" => "The operating system the application was built for \
                       (`std::env::consts::OS`)."
            .to_owned(),
        "arch" => "The CPU architecture the application was built for \
                   (`std::env::consts::ARCH`)."
            .to_owned(),
        "rust_version" => "The version of the Rust compiler, recorded when telemetry-core was \
                           built."
            .to_owned(),
        "environment" => format!(
            "The first of the environment variables {} that is set and not blank, lowercased; \
             \"production\" when none is. A value longer than 32 characters, or with characters \
             other than a-z, 0-9, `.`, `_` and `-`, is sent as \"other\".",
            code_list(&ENVIRONMENT_VARS)
        ),
        "deployment_method" => format!(
            "\"container\" when one of the files {} exists, the environment variable \
             `KUBERNETES_SERVICE_HOST` or `container` is set, or `/proc/1/cgroup` names a \
             container runtime; else \"native\".",
            code_list(&CONTAINER_MARKER_FILES)
        ),
        "ci" => format!(
            "True when one of the environment variables {} is set and not blank (`CI` also not \
             `false`, `0`, `no` or `off`).",
            code_list(&CI_VARS)
        ),
        "old_version" => "The application version recorded in this installation's state file \
                          at its previous start."
            .to_owned(),
        "new_version" => "The application version now running (as `app_version`).".to_owned(),
        _ => return None,
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop(rust_type: &'static str) -> PropDef {
        PropDef::new("p", rust_type, ValueKind::Integer, &[])
    }

    #[test]
    fn option_types_may_be_null() {
        for ty in [
            "Option<u64>",
            "std::option::Option<u64>",
            "core::option::Option<&'static str>",
            "&Option<u32>",
            "Option < u8 >",
        ] {
            assert!(may_be_null(&prop(ty)), "{ty}");
        }
        for ty in [
            "u64",
            "",
            "Optional<u8>",
            "MyOption<u8>",
            "Option",
            "Vec<Option<u8>>",
        ] {
            assert!(!may_be_null(&prop(ty)), "{ty}");
        }
    }

    #[test]
    fn toolkit_text_is_text_and_literal_text_is_enum() {
        let mut version = PropDef::new("v", "", ValueKind::Enum, &[]);
        version.classification = Classification::Technical;
        assert_eq!(kind_name(&version), "text");
        assert_eq!(kind_words(kind_name(&version), version.variants), "text");
        let literal = PropDef::new("method", "&'static str", ValueKind::Enum, &[]);
        assert_eq!(kind_name(&literal), "enum");
        assert_eq!(
            kind_words(kind_name(&literal), literal.variants),
            "text fixed in the source code"
        );
        let listed = PropDef::new("format", "Format", ValueKind::Enum, &["csv", "pdf"]);
        assert_eq!(
            kind_words(kind_name(&listed), listed.variants),
            "one of `csv`, `pdf`"
        );
    }

    #[test]
    fn sources_name_every_variable_that_is_read() {
        let environment = source("environment").unwrap();
        for var in ["APP_ENV", "RUST_ENV", "ENVIRONMENT"] {
            assert!(environment.contains(&format!("`{var}`")), "{environment}");
        }
        let ci = source("ci").unwrap();
        for var in CI_VARS {
            assert!(ci.contains(&format!("`{var}`")), "{var}: {ci}");
        }
        assert!(source("app_version").unwrap().contains("`APP_VERSION`"));
        assert!(source("task_id").is_none());
    }
}
