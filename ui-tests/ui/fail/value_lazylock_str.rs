// Text read from configuration at run time is not a property value, even as a `&'static str`.
use std::sync::LazyLock;

use telemetry_core::track_event;

static TENANT: LazyLock<String> = LazyLock::new(|| std::env::var("TENANT").unwrap_or_default());

/// A project was created.
#[track_event("project.created", props(tenant_kind = TENANT.as_str()))]
fn created() {}

fn main() {
    created();
}
