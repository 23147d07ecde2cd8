#!/usr/bin/env bash
# Mutation testing of the packet path and the HNS state with cargo-mutants (docs/testing.md
# "Mutation testing"). Not run by CI (too slow); run it before calling a packet-path change done.
#
#   scripts/mutants.sh AREA [--fast [--targets 'TARGETS']] [--tree DIR]
#                           [--shard K/N | --sample K/N | --again OUT] [--list] [-- CARGO-MUTANTS-ARGS...]
#
# AREA picks the files and the package whose tests judge each mutant:
#   vfp      sim/src/vfp/*.rs          (hnsim-sim tests)
#   switch   sim/src/switch.rs         (hnsim-sim tests)
#   compile  sim/src/compile.rs, sim/src/compile/*.rs (hnsim-sim tests)
#   state    model/src/state/*.rs      (hnsim-model tests)
#   repr     model/src/repr/*.rs       (hnsim-model tests; its --fast set is state's)
#   core     the three files issue 18 started from: sim/src/vfp/acl.rs, sim/src/vfp/lb.rs,
#            model/src/state/ipam.rs (two passes, one per package: core-sim and core-state)
# --fast     only the unit tests and the test targets that exercise the area (listed below), so
#            a mutant costs one incremental build of the crate and those targets plus a few
#            seconds of tests; a mutant these miss may still be caught by the rest of the suite,
#            so --fast over-counts "missed" (judge survivors with --again, without --fast).
# --targets  with --fast: judge by these cargo test targets instead of the area's list, e.g.
#            '--lib --test vfp_rules --test vfp_edges' (a file's own tests, without the slow
#            scenario tests).
# --tree DIR run in a persistent copy of this checkout at DIR, mutated in place (cargo-mutants
#            --in-place): the checkout's files (git ls-files, edits included) are synced into DIR
#            first, and DIR/target (seeded once from ./target) stays warm from run to run. Without
#            it cargo-mutants copies the tree and rebuilds its baseline on every run. DIR is a
#            scratch copy: never edit it; an interrupted run can leave a mutant there, which the
#            next sync overwrites. The checkout itself is never modified.
# --shard    K/N: run the K-th of N consecutive slices (0-based, as cargo-mutants counts).
# --sample   K/N: run every N-th mutant starting at the K-th (round-robin sharding): a spread
#            sample of all files, for estimating the missed rate of an area (docs/testing.md).
# --again    OUT: run again only the mutants a previous run missed (OUT is its results folder,
#            e.g. mutants.out/state-sample0-of-10): to judge --fast survivors by the whole suite,
#            or to check that new tests kill them. Results go to OUT-again[-fast]/.
# --list     print the mutants and their count, run nothing.
#
# Results go to mutants.out/AREA[-shardK-of-N|-sampleK-of-N]/ (outcomes.json, caught.txt,
# missed.txt, ...). Runs niced, one job at a time (CARGO_MUTANTS_JOBS overrides); without --tree
# it reuses ./target for the dependencies (--copy-target) so only the workspace crates are rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

[ $# -ge 1 ] && [ "$1" != -h ] && [ "$1" != --help ] || usage
area=$1
shift
fast=0 shard="" sharding=slice tree="" again="" list=0 targets="" extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --fast) fast=1 ;;
    --shard) shard=${2:?--shard needs K/N}; sharding=slice; shift ;;
    --sample) shard=${2:?--sample needs K/N}; sharding=round-robin; shift ;;
    --tree) tree=${2:?--tree needs a directory}; shift ;;
    --targets) targets=${2:?--targets needs a list}; shift ;;
    --again) again=${2:?--again needs a results folder}; shift ;;
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

sim_fast=(--lib --test vfp_rules --test dataplane_lb --test dataplane_fastpath --test dataplane_compile
          --test reference_scenarios --test vfp_edges --test dataplane_nettypes --test reference_dual_stack
          --test dataplane_faults --test reach_props)
# Left out of the sim --fast set: reach_props' sweep of both ends of every class of the library
# (about 40 s a mutant; its two other library tests take 5 s). The whole-suite --again runs it.
sim_fast_skip=(both_ends_of_every_class_and_every_written_port_get_the_predicted_outcome)
state_fast=(--lib --test state_ipam --test state_lifecycle --test state_errors --test state_v1
            --test state_edges --test dump_read --test state_parse_once)

# Copies the checkout's files (tracked and untracked, not ignored) into $1, only those whose
# content differs, without keeping their times (so cargo rebuilds what changed, and a mutant an
# interrupted run left behind is replaced); removes files that left the checkout.
sync_tree() {
  local dir=$1 f
  local files; files=$(mktemp)
  # fuzz/ (14,000 corpus files) is not in the workspace.
  git ls-files -co --exclude-standard -- . ':!fuzz' | sort >"$files"
  mkdir -p "$dir"
  local changed; changed=$(mktemp)
  # Files whose content differs: compare checksums in one pass over each tree.
  (xargs -r -d '\n' sha1sum -- <"$files" 2>/dev/null || true) | sort >"$changed.src"
  (cd "$dir" && xargs -r -d '\n' sha1sum -- <"$files" 2>/dev/null || true) | sort >"$changed.dst"
  comm -23 "$changed.src" "$changed.dst" | cut -c43- >"$changed"
  while IFS= read -r f; do
    mkdir -p "$dir/$(dirname "$f")"
    cp "$f" "$dir/$f"
  done <"$changed"
  echo "synced $(wc -l <"$changed") changed files into $dir" >&2
  rm -f "$changed" "$changed.src" "$changed.dst"
  (cd "$dir" && find . \( -path ./target -o -path ./mutants.out \) -prune -o -type f -print) |
    sed 's|^\./||' | grep -vxF -f "$files" | (cd "$dir" && xargs -r -d '\n' rm -f --) || true
  rm -f "$files"
  if [ ! -d "$dir/target" ] && [ -d target ]; then
    echo "seeding $dir/target from ./target (once)" >&2
    cp -a target "$dir/target"
  fi
}

# One pass: package, test targets for --fast, file globs.
run_pass() {
  local name=$1 package=$2; shift 2
  local -n fast_tests=$1; shift
  local files=() f
  if [ -n "$again" ]; then
    [ -f "$again/mutants.out/missed.txt" ] || { echo "error: no $again/mutants.out/missed.txt" >&2; exit 2; }
    # Only the files with survivors: cargo-mutants 27.1 applies -F/-E to every mutant except
    # "delete field ... from struct expression" ones, which it runs whatever the regex says.
    mapfile -t globs < <(cut -d: -f1 "$again/mutants.out/missed.txt" | sort -u)
    set -- "${globs[@]}"
  fi
  for f in "$@"; do files+=(-f "$f"); done
  local args=(--workspace --package "$package" "${files[@]}")
  local out="mutants.out/$name"
  if [ -n "$shard" ]; then
    args+=(--shard "$shard" --sharding "$sharding")
    local kind=shard
    [ "$sharding" = round-robin ] && kind=sample
    out="$out-$kind${shard%/*}-of-${shard#*/}"
  fi
  if [ -n "$again" ]; then
    local missed="$again/mutants.out/missed.txt"
    [ -f "$missed" ] || { echo "error: no $missed" >&2; exit 2; }
    if [ ! -s "$missed" ]; then echo "nothing to run again: $missed is empty"; return; fi
    # One regex matching exactly those names (cargo-mutants -F).
    local re
    re=$(sed 's/[][\\.*+?(){}|^$]/\\&/g; s/^/^/; s/$/$/' "$missed" | paste -sd'|')
    args+=(-F "$re")
    out="${again%/}-again"
    [ "$fast" = 1 ] && out="$out-fast"
  fi
  if [ "$list" = 1 ]; then
    cargo mutants --list "${args[@]}" "${extra[@]}" | tee /dev/stderr | wc -l | sed 's/$/ mutants/'
    return
  fi
  if [ "$fast" = 1 ]; then
    # --cargo-arg, not --cargo-test-arg: the build step (cargo test --no-run) then builds only
    # these targets too, not every test binary and example of the package.
    local chosen=("${fast_tests[@]}")
    [ -z "$targets" ] || read -ra chosen <<<"$targets"
    for t in "${chosen[@]}"; do args+=(--cargo-arg="$t"); done
    if [ "$package" = hnsim-sim ] && [ -z "$targets" ]; then
      args+=(--cargo-test-arg=--)
      for t in "${sim_fast_skip[@]}"; do args+=(--cargo-test-arg=--skip --cargo-test-arg="$t"); done
    fi
    args+=(--timeout 120)
  else
    args+=(--timeout 300)
  fi
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  if [ -n "$tree" ]; then
    sync_tree "$tree"
    args+=(--in-place)
  else
    args+=(--copy-target=true --jobs "${CARGO_MUTANTS_JOBS:-1}")
  fi
  (
    [ -z "$tree" ] || cd "$tree"
    nice -n 10 cargo mutants "${args[@]}" --build-timeout 1200 --no-shuffle --output "$out" "${extra[@]}"
  ) || true
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
  compile) run_pass compile hnsim-sim sim_fast sim/src/compile.rs 'sim/src/compile/*.rs' ;;
  state) run_pass state hnsim-model state_fast 'model/src/state/*.rs' ;;
  repr) run_pass repr hnsim-model state_fast 'model/src/repr/*.rs' ;;
  core-sim) run_pass core-sim hnsim-sim sim_fast sim/src/vfp/acl.rs sim/src/vfp/lb.rs ;;
  core-state) run_pass core-state hnsim-model state_fast model/src/state/ipam.rs ;;
  core)
    run_pass core-sim hnsim-sim sim_fast sim/src/vfp/acl.rs sim/src/vfp/lb.rs
    run_pass core-state hnsim-model state_fast model/src/state/ipam.rs
    ;;
  *)
    echo "error: AREA must be vfp, switch, compile, state, repr, core, core-sim or core-state," \
      "found ${area@Q}" >&2
    exit 2
    ;;
esac
