// One mistake, one error: after the derive fails, its stub impl keeps every use of the enum
// (here in props) from adding "not a property value" errors.
use telemetry_core::{PropertyValue, track_event};

#[derive(Clone, Copy, PropertyValue)]
enum Format {
    Csv,
    Custom(u8),
}

/// An export ran.
#[track_event("report.exported", props(format = format))]
fn export(format: Format) {}

fn main() {
    export(Format::Csv);
}
