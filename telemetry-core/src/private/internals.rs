//! Internals that the toolkit's own test packages reach (`telemetry-core/tests`, the workspace
//! `tests` package, the fuzz targets) and that the doc examples of internal items use (rustdoc
//! runs those too, as tests from outside the crate).
//!
//! **Not part of the API** and hidden from the docs: every item here may change or vanish in any
//! release. A user has a public path for what it needs (see the crate docs' "Public API").

/// The install state file and its store.
pub mod state {
    pub use crate::state::{
        Consent, InstallState, PersistedConsent, STATE_FILE_NAME, Salt, StateStore, effective_salt,
    };
}

/// When lifecycle pings are due.
pub mod lifecycle {
    pub use crate::lifecycle::dedup::ping_uuid;
    pub use crate::lifecycle::schedule::{
        DEFAULT_HEALTH_INTERVAL, Ping, PingKind, due_pings, health_due, mark_sent, next_health_in,
    };
}

/// What the install's environment is detected as.
pub mod environment {
    pub use crate::environment::{EnvironmentInfo, RUST_VERSION};
}

/// Salted hashing.
pub mod fingerprint {
    pub use crate::fingerprint::{distinct_id, salted_sha256};
}

/// The outage spool's file format.
pub mod spool {
    pub use crate::spool::{FORMAT, Header, Spool, delete_all, parse};
}

/// The event as sent.
pub mod wire {
    pub use crate::wire::{AUTOMATIC_PROPERTIES, InstallContext, LIB_VERSION};
}

/// Reading the environment switches.
pub mod config {
    pub use crate::config::{
        FALSY, TRUTHY, cleartext_host_warning, decide, parse_do_not_track, parse_switch,
        sanitize_version,
    };
}
