use telemetry_core::track;

fn main() {
    let label: &'static str = String::from("Secret project").leak();
    track!("project.created", description = "A project was created.", props(label = label));
}
