#!/usr/bin/env bash
# Mutation testing of the packet path and the HNS state with cargo-mutants (docs/testing.md
# "Mutation testing"). Not run by CI (too slow); run it before calling a packet-path change done.
#
#   scripts/mutants.sh AREA [--fast] [--shard K/N] [--list] [-- CARGO-MUTANTS-ARGS...]
#
# AREA picks the files and the package whose tests judge each mutant:
#   vfp      sim/src/vfp/*.rs          (hnsim-sim tests)
#   switch   sim/src/switch.rs         (hnsim-sim tests)
#   compile  sim/src/compile.rs        (hnsim-sim tests)
#   state    model/src/state/*.rs      (hnsim-model tests)
#   core     the three files issue 18 started from: sim/src/vfp/acl.rs, sim/src/vfp/lb.rs,
#            model/src/state/ipam.rs (two passes, one per package: core-sim and core-state)
# --fast     only the test targets that exercise the area (listed below), so a mutant costs one
#            incremental build of the crate plus a few seconds of tests; a mutant these miss may
#            still be caught by the rest of the suite, so --fast over-counts "missed".
# --shard    K/N: run the K-th of N slices (0-based, as cargo-mutants counts). Pick N so a shard
#            takes minutes: at about a minute per mutant on 2 cores, N = mutants / 20.
# --list     print the mutants and their count, run nothing.
#
# Results go to mutants.out/AREA[-shardK-of-N]/ (outcomes.json, caught.txt, missed.txt, …).
# Runs niced, one job at a time (CARGO_MUTANTS_JOBS overrides), reusing ./target for the
# dependencies (--copy-target) so only the workspace crates are rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

[ $# -ge 1 ] && [ "$1" != -h ] && [ "$1" != --help ] || usage
area=$1
shift
fast=0 shard="" list=0 extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --fast) fast=1 ;;
    --shard) shard=${2:?--shard needs K/N}; shift ;;
    --list) list=1 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v cargo-mutants >/dev/null 2>&1; then
  echo "error: cargo-mutants is not installed: cargo install --locked cargo-mutants" >&2
  exit 2
fi

sim_fast=(--test vfp_rules --test dataplane_lb --test dataplane_fastpath --test dataplane_compile
          --test reference_scenarios)
state_fast=(--test state_ipam --test state_lifecycle --test state_errors --test state_v1)

# One pass: package, test targets for --fast, file globs.
run_pass() {
  local name=$1 package=$2; shift 2
  local -n fast_tests=$1; shift
  local files=()
  for f in "$@"; do files+=(-f "$f"); done
  local args=(--workspace --package "$package" "${files[@]}")
  if [ "$list" = 1 ]; then
    cargo mutants --list "${args[@]}" "${extra[@]}" | tee /dev/stderr | wc -l | sed 's/$/ mutants/'
    return
  fi
  local out="mutants.out/$name"
  if [ -n "$shard" ]; then
    args+=(--shard "$shard")
    out="$out-shard${shard%/*}-of-${shard#*/}"
  fi
  if [ "$fast" = 1 ]; then
    for t in "${fast_tests[@]}"; do args+=(--cargo-test-arg="$t"); done
  fi
  mkdir -p "$out"
  nice -n 10 cargo mutants "${args[@]}" \
    --jobs "${CARGO_MUTANTS_JOBS:-1}" --copy-target=true --timeout 300 --build-timeout 1200 \
    --no-shuffle --output "$out" "${extra[@]}" || true
  summarise "$out/mutants.out"
}

# caught / missed / unviable / timeout per file, from cargo-mutants' lists.
summarise() {
  local dir=$1
  [ -d "$dir" ] || return 0
  echo "== $dir"
  for kind in caught missed unviable timeout; do
    [ -f "$dir/$kind.txt" ] || continue
    cut -d: -f1 "$dir/$kind.txt" | sort | uniq -c | sed "s/^/  $kind /"
  done
  if [ -s "$dir/missed.txt" ]; then
    echo "  missed mutants:"
    sed 's/^/    /' "$dir/missed.txt"
  fi
}

case $area in
  vfp) run_pass vfp hnsim-sim sim_fast 'sim/src/vfp/*.rs' ;;
  switch) run_pass switch hnsim-sim sim_fast sim/src/switch.rs ;;
  compile) run_pass compile hnsim-sim sim_fast sim/src/compile.rs ;;
  state) run_pass state hnsim-model state_fast 'model/src/state/*.rs' ;;
  core-sim) run_pass core-sim hnsim-sim sim_fast sim/src/vfp/acl.rs sim/src/vfp/lb.rs ;;
  core-state) run_pass core-state hnsim-model state_fast model/src/state/ipam.rs ;;
  core)
    run_pass core-sim hnsim-sim sim_fast sim/src/vfp/acl.rs sim/src/vfp/lb.rs
    run_pass core-state hnsim-model state_fast model/src/state/ipam.rs
    ;;
  *)
    echo "error: AREA must be vfp, switch, compile, state, core, core-sim or core-state," \
      "found ${area@Q}" >&2
    exit 2
    ;;
esac
