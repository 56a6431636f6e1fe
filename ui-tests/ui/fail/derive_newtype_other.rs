use telemetry_core::PropertyValue;

// Not text by its spelling, but not a number or bool either: the compiler says so.
#[derive(PropertyValue)]
struct Tags(Vec<u8>);

fn main() {}
