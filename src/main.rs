//! The `streamvault` binary: everything lives in the library; see `streamvault::cli`.

fn main() -> std::process::ExitCode {
    streamvault::cli::main()
}
