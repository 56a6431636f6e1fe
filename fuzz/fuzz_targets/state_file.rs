//! The install-state loader: whatever bytes `install.json` holds, the parser never panics,
//! what it accepts survives a write/read round trip, and `StateStore::open` always ends with
//! a usable identity (a corrupt file is replaced, never fatal).

#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use telemetry_core::__private::internals::state::{InstallState, STATE_FILE_NAME, StateStore};

/// One directory per fuzzing process, on tmpfs when there is one (the store fsyncs).
static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("telemetry-fuzz-state-{}", std::process::id()));
    // Warnings about corrupt files are expected by the thousand: send them to a subscriber
    // that drops them instead of stderr.
    let _ = tracing::subscriber::set_global_default(Quiet);
    dir
});

struct Quiet;

impl tracing::Subscriber for Quiet {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fuzz_target!(|data: &[u8]| {
    // The parser.
    if let Ok(state) = serde_json::from_slice::<InstallState>(data) {
        let text = serde_json::to_string(&state).expect("a parsed state serialises");
        let again: InstallState = serde_json::from_str(&text).expect("re-read what we wrote");
        assert_eq!(again, state, "round trip changed the state");
    }

    // The loader, through the public entry point, on a real file.
    let dir = &*DIR;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("fuzz dir");
    std::fs::write(dir.join(STATE_FILE_NAME), data).expect("write input");
    let store = StateStore::open(dir);
    let state = store.state();
    assert!(
        store.is_persistent(),
        "a writable directory stays persistent"
    );
    assert!(!state.install_id.trim().is_empty());
    assert!(!state.salt.as_bytes().is_empty());
    assert_eq!(state.distinct_id().len(), 64);
    // What the loader kept or wrote is read back as the same identity.
    let reopened = StateStore::open(dir);
    assert_eq!(reopened.state().distinct_id(), state.distinct_id());
    assert_eq!(reopened.state().consent, state.consent);
});
