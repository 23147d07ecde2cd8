#!/bin/sh
# Fuzz every target for RUNS executions (default 10 million) or SECONDS seconds, whichever comes
# first, niced, from the committed corpus plus the repository's own inputs as seeds; then merge
# what was found back into a minimised corpus. See README.md.
#   fuzz/run.sh [RUNS] [SECONDS]
set -eu
cd "$(dirname "$0")"
RUNS=${1:-10000000}
SECS=${2:-3600}
mkdir -p work seeds
sh ./seeds.sh
for t in ${TARGETS:-scenario_yaml hns_json adapter_lines packet node_dump}; do
    mkdir -p "work/$t" "corpus/$t" "artifacts/$t"
    RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run --sanitizer none -O "$t" "work/$t" "corpus/$t" "seeds/$t" -- \
        -runs="$RUNS" -max_total_time="$SECS" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" > "work/$t.log" 2>&1 &
done
wait
for t in ${TARGETS:-scenario_yaml hns_json adapter_lines packet node_dump}; do
    mkdir -p "work/$t.min"
    RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none -O "$t" "work/$t.min" "corpus/$t" "work/$t" -- \
        -merge=1 -max_len=4096 > "work/$t.merge.log" 2>&1
    rm -rf "corpus/$t" && mv "work/$t.min" "corpus/$t"
done
