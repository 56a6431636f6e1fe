// `track!` in expression and statement position, in loops, closures and async blocks.
#![deny(warnings)]

use telemetry_core::{Hashed, PropertyValue, track};

#[derive(Clone, Copy, PropertyValue)]
enum Format {
    Csv,
    Pdf,
}

fn export(formats: &[Format], user: &str) -> usize {
    let mut done = 0;
    for format in formats {
        track!(
            "invoice.exported",
            description = "An invoice was exported.",
            props(format: Format = *format, first = done == 0),
            distinct_id = user,
        );
        done += 1;
    }
    let each = |n: u32| {
        track!(
            "invoice.counted",
            description = "An invoice was counted.",
            props(n = n)
        )
    };
    each(1);
    let () = track!(
        "invoice.finished",
        description = "Exporting finished.",
        props(user = Hashed(user))
    );
    done
}

async fn later() {
    track!(
        "invoice.scheduled",
        description = "An export was scheduled."
    );
}

fn main() {
    assert_eq!(export(&[Format::Csv, Format::Pdf], "u-1"), 2);
    let _ = later();
}
