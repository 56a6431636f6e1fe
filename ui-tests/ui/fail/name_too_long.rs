use telemetry_core::track_event;

/// A very specific thing happened.
#[track_event("project.member_invitation_reminder_email_sent_after_the_second_week")]
fn remind() {}

fn main() {
    remind();
}
