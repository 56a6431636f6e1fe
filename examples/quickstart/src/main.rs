fn main() -> std::process::ExitCode {
    quickstart::main()
}
