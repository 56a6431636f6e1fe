// Network identity, fuller names and location are personal data too.
use telemetry_core::track_event;

/// A request was served.
#[track_event(
    "request.served",
    props(
        client_ip = 1u8,
        remote_addr = 2u8,
        hostname = 3u8,
        fullname = 4u8,
        surname = 5u8,
        nickname = 6u8,
        lat = 7.0,
        lng = 8.0,
        city = 9u8,
        api_key = 10u8,
    )
)]
fn served() {}

fn main() {
    served();
}
