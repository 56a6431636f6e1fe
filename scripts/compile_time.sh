#!/usr/bin/env bash
# Compile-time cost of the instrumentation (issue 6, target 5).
#
# Generates one workspace with three crates of N handlers each (default 200; half sync, half
# async), identical but for the attribute on every handler:
#   plain       no attribute
#   instrument  #[tracing::instrument]
#   track       #[track_event("gen.handler_<i>", on = "success", props(id = id, flag = flag))]
# All three depend on both telemetry-core and tracing, so the dependency graph is the same.
# Dependencies are built once; then each crate is cleaned and `cargo check`ed, RUNS times in
# rotating order, and the median wall time is reported with
#   ratio = (track - plain) / (instrument - plain)      target: <= 1.5
#
# Usage: scripts/compile_time.sh [N] [RUNS]      (prints a Markdown table)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-200}
RUNS=${2:-5}
WORK=${COMPILE_TIME_DIR:-/tmp/telemetry-compile-time}
mkdir -p "$WORK"
export CARGO_TARGET_DIR="$WORK/target"

gen_crate() {
    local name=$1 attr_kind=$2
    mkdir -p "$WORK/$name/src"
    cat > "$WORK/$name/Cargo.toml" <<TOML
[package]
name = "$name"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
telemetry-core = { path = "$ROOT/telemetry-core" }
tracing = "0.1"
TOML
    {
        echo "//! Generated: $N handlers ($attr_kind)."
        echo "#![allow(clippy::all, unused_imports)]"
        echo "use telemetry_core::track_event;"
        for ((i = 0; i < N; i++)); do
            local asyncness=""
            if ((i % 2 == 1)); then asyncness="async "; fi
            echo ""
            echo "/// Handler $i finished its work."
            case $attr_kind in
                plain) ;;
                instrument) echo "#[tracing::instrument]" ;;
                track) echo "#[track_event(\"gen.handler_$i\", on = \"success\", props(id = id, flag = flag))]" ;;
            esac
            echo "pub ${asyncness}fn handler_$i(id: u64, flag: bool) -> Result<u64, String> {"
            echo "    if flag { Ok(id.wrapping_mul($((i + 1)))) } else { Err(format!(\"handler $i: {id}\")) }"
            echo "}"
        done
    } > "$WORK/$name/src/lib.rs"
}

cat > "$WORK/Cargo.toml" <<TOML
[workspace]
resolver = "3"
members = ["plain", "instrument", "track"]
TOML
# The same dependency versions as the project.
cp "$ROOT/Cargo.lock" "$WORK/Cargo.lock"
for v in plain instrument track; do gen_crate "$v" "$v"; done

cd "$WORK"
echo "building dependencies once..." >&2
cargo check --quiet -p plain -p instrument -p track >&2

declare -A times
variants=(plain instrument track)
for ((r = 0; r < RUNS; r++)); do
    for ((k = 0; k < 3; k++)); do
        v=${variants[$(((r + k) % 3))]}
        cargo clean --quiet -p "$v" >&2
        start=$(date +%s.%N)
        cargo check --quiet -p "$v" >&2
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        times[$v]="${times[$v]:-} $t"
        echo "run $r $v ${t}s" >&2
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
p=$(echo "${times[plain]}" | median)
i=$(echo "${times[instrument]}" | median)
t=$(echo "${times[track]}" | median)
echo "| crate ($N handlers, cargo check, median of $RUNS) | wall time | added over plain |"
echo "|---|---|---|"
printf "| no attribute | %.2f s | - |\n" "$p"
printf "| #[tracing::instrument] | %.2f s | %+.2f s |\n" "$i" "$(echo "$i - $p" | bc -l)"
printf "| #[track_event] | %.2f s | %+.2f s |\n" "$t" "$(echo "$t - $p" | bc -l)"
ratio=$(echo "($t - $p) / ($i - $p)" | bc -l)
printf "\nratio (track_event added) / (instrument added) = %.2f (target <= 1.5)\n" "$ratio"
printf "raw: plain:%s | instrument:%s | track:%s\n" "${times[plain]}" "${times[instrument]}" "${times[track]}"
