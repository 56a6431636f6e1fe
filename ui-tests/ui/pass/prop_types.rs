// Every kind of property value, typed and inferred, and the shorthand.
#![deny(warnings)]

use std::time::Duration;

use telemetry_core::{Hashed, PropertyValue, track_event};

#[derive(Clone, Copy, PropertyValue)]
enum ExportFormat {
    Csv,
    #[property(rename = "xlsx")]
    Excel,
}

struct Entry {
    project_id: u64,
    owner: String,
}

/// Everything at once.
#[track_event(
    "report.exported",
    props(
        format = format,
        maybe_rows = rows,
        took = took,
        owner = Hashed(&entry.owner),
        project_id = entry.project_id,
        kind = "monthly",
        ratio: f32 = 0.5,
        typed_rows: Option<u32> = rows,
        small = entry.project_id as u8,
        is_big = entry.project_id > 1000,
        has_rows = rows.is_some(),
        optional_format = Some(format),
        nothing = None::<bool>,
        rows,
    )
)]
fn export(entry: &Entry, format: ExportFormat, rows: Option<u32>, took: Duration) {}

fn main() {
    let entry = Entry {
        project_id: 7,
        owner: "u-1".into(),
    };
    export(&entry, ExportFormat::Excel, Some(3), Duration::from_secs(1));
    export(&entry, ExportFormat::Csv, None, Duration::ZERO);
}
