//! Facts of the user-facing contract (`shared/CONTRACT.md`), written out by hand so that tests
//! compare the code against them rather than against the code's own tables.

/// "Identity and privacy": the properties every event carries besides its declared ones, which
/// the catalog lists as automatic properties.
pub const AUTOMATIC_PROPERTIES: [&str; 10] = [
    "$process_person_profile",
    "$geoip_disable",
    "$lib",
    "$lib_version",
    "app_version",
    "platform",
    "arch",
    "environment",
    "deployment_method",
    "install_fingerprint",
];
