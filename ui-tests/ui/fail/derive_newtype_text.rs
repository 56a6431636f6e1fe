use telemetry_core::{PropertyValue, track_event};

#[derive(PropertyValue)]
struct Label(String);

#[derive(PropertyValue)]
struct Tenant {
    name: &'static str,
}

/// A project was created. The derive failed above; its uses add no errors of their own.
#[track_event("project.created", props(label = label))]
fn created(label: Label) {}

fn main() {
    created(Label(String::new()));
    let _ = Tenant { name: "x" }.name;
}
