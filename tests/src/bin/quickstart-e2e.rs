//! The quickstart example, linked into the test package so end-to-end tests can run it as a
//! child process (`CARGO_BIN_EXE_quickstart-e2e`).
fn main() -> std::process::ExitCode {
    quickstart::main()
}
