//! `cargo run -p timetracker [-- --port 8080] [--data-dir DIR]`: serves the app on 127.0.0.1.
//!
//! `--telemetry-catalog=md|json` prints the transparency document and exits.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use timetracker::{AppState, Config, Database, logging, telemetry_setup};

const USAGE: &str = "\
Usage: timetracker [--port PORT] [--data-dir DIR]
       timetracker --telemetry-catalog=md|json

Serves the TimeTracker web app on http://127.0.0.1:PORT/.

Options:
  --port PORT          port to listen on (default: $PORT, else 8080; 0 picks a free one)
  --data-dir DIR       where the database and telemetry state live
                       (default: $TIMETRACKER_DATA_DIR, else the platform data dir)
  --telemetry-catalog=md|json
                       print every telemetry event this app can send, then exit
  -h, --help           show this help

Environment: ENABLE_TELEMETRY, DO_NOT_TRACK, POSTHOG_API_KEY, POSTHOG_HOST, TELEMETRY_DEBUG,
TELEMETRY_STATE_DIR, APP_VERSION (telemetry); TIMETRACKER_LOG (log level, default info);
TIMETRACKER_BEHIND_TLS=1 (served over HTTPS by a proxy: cookies get Secure);
TIMETRACKER_TRUST_PROXY=1 (the login rate limit uses X-Forwarded-For).";

/// The default port.
const DEFAULT_PORT: u16 = 8080;

#[derive(Debug, Default)]
struct Args {
    port: Option<u16>,
    data_dir: Option<PathBuf>,
    help: bool,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--port" | "-p" => {
                let v = value("--port")?;
                parsed.port = Some(v.parse().map_err(|_| format!("invalid port `{v}`"))?);
            }
            "--data-dir" => parsed.data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "-h" | "--help" => parsed.help = true,
            // Served by `exit_if_requested_with` before we get here.
            "--telemetry-catalog" => {}
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(parsed)
}

fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TIMETRACKER_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "timetracker")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("data"))
}

fn port_from_env() -> Result<Option<u16>, String> {
    match std::env::var("PORT") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("PORT=`{v}` is not a port number")),
        _ => Ok(None),
    }
}

fn main() -> ExitCode {
    telemetry_core::catalog::exit_if_requested_with(telemetry_core::app_info!());
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("timetracker: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let port = match args.port.map_or_else(port_from_env, |p| Ok(Some(p))) {
        Ok(port) => port.unwrap_or(DEFAULT_PORT),
        Err(message) => {
            eprintln!("timetracker: {message}");
            return ExitCode::from(2);
        }
    };
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    logging::init();

    let telemetry = telemetry_setup::install(&data_dir);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("timetracker: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(serve(data_dir, port, telemetry.clone()));
    drop(runtime);
    // Bounded flush (2 s by default) of whatever telemetry is still queued.
    telemetry.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!(error = %message, "timetracker stopped");
            eprintln!("timetracker: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(
    data_dir: PathBuf,
    port: u16,
    telemetry: telemetry_setup::Telemetry,
) -> Result<(), String> {
    let db_path = data_dir.join("timetracker.sqlite3");
    let config = Config::new(Database::File(db_path.clone()), telemetry).with_deployment_from_env();
    let state = AppState::new(config)
        .map_err(|e| format!("cannot open the database {}: {e:?}", db_path.display()))?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let url = format!("http://{addr}/");
    tracing::info!(url = %url, data_dir = %data_dir.display(), "timetracker started");
    eprintln!(
        "TimeTracker is running at {url} (data in {}; Ctrl-C to stop)",
        data_dir.display()
    );
    // The peer address feeds the per-client login rate limit.
    let service = timetracker::app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    tracing::info!("timetracker stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_port_and_data_dir() {
        let a = args(&["--port", "0", "--data-dir=/tmp/x"]).unwrap();
        assert_eq!(a.port, Some(0));
        assert_eq!(a.data_dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(args(&["--port=9000"]).unwrap().port, Some(9000));
        assert!(args(&["--port", "x"]).is_err());
        assert!(args(&["--bogus"]).is_err());
        assert!(args(&["--telemetry-catalog=md"]).is_ok());
    }
}
