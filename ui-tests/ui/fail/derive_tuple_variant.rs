use telemetry_core::PropertyValue;

#[derive(PropertyValue)]
enum Format {
    Csv,
    Custom(String),
    Other { extension: String },
}

fn main() {}
