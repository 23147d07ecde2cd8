#!/bin/sh
# Writes the "Scale figures" table of benches/README.md from one criterion run, with the date
# and the machine (issue 13: figures that cannot drift). Reduced sample size; niced so a shared
# machine stays usable. Usage: benches/figures.sh [extra criterion args]
set -eu
cd "$(dirname "$0")/.."
# The one-change recompile among 100,000 endpoints lives in the dataplane bench.
nice -n 10 cargo bench --bench dataplane -- --sample-size 10 --warm-up-time 1 --measurement-time 3 \
    'recompile/one_lb_of_10000_100k_endpoints' "$@"
HNSIM_FIGURES="$PWD/benches/README.md" nice -n 10 cargo bench --bench scale -- \
    --sample-size 10 --warm-up-time 1 --measurement-time 3 "$@"
