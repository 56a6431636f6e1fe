use telemetry_core::PropertyValue;

#[derive(PropertyValue)]
struct Format {
    extension: &'static str,
}

fn main() {}
