// `PropValue::Str` holds a `StaticText`, which cannot be built from runtime text.
use telemetry_core::PropValue;
use telemetry_core::StaticText;

fn main() {
    let leaked: &'static str = String::from("Secret project").leak();
    let _ = PropValue::Str(StaticText(leaked));
}
