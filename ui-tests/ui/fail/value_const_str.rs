// A `const`/`static` `&str` is rejected too: the macro accepts text only when it sees the
// literal itself, because a path of type `&'static str` may as well be leaked runtime text.
use telemetry_core::track_event;

const KIND: &str = "internal";

/// A project was created.
#[track_event("project.created", props(kind = KIND))]
fn created() {}

fn main() {
    created();
}
