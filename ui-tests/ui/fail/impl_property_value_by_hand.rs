// PropertyValue is sealed: an impl could claim `Hashed` in the catalog and send anything.
use telemetry_core::{PropValue, PropertyValue, ValueKind};

struct Tenant(String);

impl PropertyValue for Tenant {
    const KIND: ValueKind = ValueKind::Hashed;
    fn to_prop_value(&self) -> PropValue {
        PropValue::Null
    }
}

fn main() {}
