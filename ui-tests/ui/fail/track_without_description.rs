use telemetry_core::track;

fn export(rows: u32) {
    track!("invoice.exported", props(rows = rows));
}

fn main() {
    export(1);
}
