//! STUB
/// STUB
pub struct Telemetry;
/// STUB
pub struct TelemetryBuilder;
