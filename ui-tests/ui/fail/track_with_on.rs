use telemetry_core::track;

fn export() {
    track!(
        "invoice.exported",
        on = "call",
        description = "An invoice was exported."
    );
}

fn main() {
    export();
}
