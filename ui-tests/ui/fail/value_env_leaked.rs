// An environment variable leaked once at start has the type of a literal, not its origin.
use telemetry_core::track_event;

struct Config {
    deployment: &'static str,
}

fn config() -> Config {
    Config {
        deployment: std::env::var("DEPLOYMENT").unwrap_or_default().leak(),
    }
}

/// A project was created.
#[track_event("project.created", props(deployment = config.deployment))]
fn created(config: &Config) {}

fn main() {
    created(&config());
}
