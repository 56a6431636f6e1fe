//! What the catalog tests share: declarations written by hand, registered as `#[track_event]`
//! registers them.

/// The `Site` of a declaration in the calling test file: its module, the given function, the
/// calling file (or the given one) and a fixed line. Fixed lines keep the committed golden
/// documents stable when a test file is edited.
macro_rules! site {
    ($function:expr, $line:expr) => {
        site!($function, file!(), $line)
    };
    ($function:expr, $file:expr, $line:expr) => {
        telemetry_core::Site {
            module_path: module_path!(),
            function: $function,
            file: $file,
            line: $line,
        }
    };
}

/// Registers hand-written declarations in this test binary's catalog, as the macros do.
macro_rules! register {
    ($($def:path),+ $(,)?) => {
        $(telemetry_core::__private::submit!(telemetry_core::__private::Registration(&$def));)+
    };
}

pub(crate) use {register, site};

/// A declaration of an event without a hashed subject (set `has_distinct_id` with struct update
/// syntax for one with).
pub const fn declaration(
    name: &'static str,
    description: &'static str,
    trigger: telemetry_core::Trigger,
    props: &'static [telemetry_core::PropDef],
    site: telemetry_core::Site,
) -> telemetry_core::EventDef {
    telemetry_core::EventDef {
        name,
        description,
        trigger,
        props,
        has_distinct_id: false,
        site,
    }
}
