#!/usr/bin/env bash
# The library build of telemetry-core (issue 10.7): how many crates a library crate pulls in when
# it depends on `telemetry-core = { ..., default-features = false }` (the macros, the catalog and
# its documents, `testing`, the JSONL/stderr/custom sinks; no PostHog delivery, so no HTTP
# client and no TLS). The count includes telemetry-core, its macros and its naming crate, and
# proc-macro crates, as `cargo tree` lists them.
#
# Fails when the count exceeds CAP, so a new dependency of the library build is a deliberate
# change of this number (and of the README's "Libraries and binaries" section).
#
# Usage: scripts/library_crates.sh [-v]      (-v also prints the crates)
set -euo pipefail
cd "$(dirname "$0")/.."

# Measured when the `posthog` feature was split off. What keeps it above the issue's 25:
# serde/serde_json with derive (11 crates with syn, quote, proc-macro2), sha2 (8 with its
# RustCrypto parts), tracing (4) and syn 2 next to serde_derive's syn 3 (see the README).
CAP=39

crates=$(cargo tree --locked -e normal -p telemetry-core --no-default-features --prefix none \
    | sed 's/ (\*)//' | sort -u)
count=$(printf '%s\n' "$crates" | wc -l)

if [ "${1:-}" = "-v" ] || [ "$count" -gt "$CAP" ]; then
    printf '%s\n' "$crates"
fi
echo "telemetry-core --no-default-features: $count crates (cap $CAP)"
if [ "$count" -gt "$CAP" ]; then
    echo "error: the library build grew above $CAP crates; keep new dependencies behind a feature" >&2
    exit 1
fi
