# Shared pieces of the load scripts (sourced by run.sh, cache.sh, quota.sh, ingest.sh, overload.sh and
# threadcpu.sh; not run on its own).
# The caller sets `set -euo pipefail`, $root (the repository) and $OUT (the results directory).

# pin CPUS CMD...: exec CMD on the taskset CPU list CPUS (no pinning when empty); for ( subshells ).
pin() { local cpus="$1"; shift; if [[ -n "$cpus" ]]; then exec taskset -c "$cpus" "$@"; else exec "$@"; fi; }
# run_pinned CPUS CMD...: the same, as a child.
run_pinned() { local cpus="$1"; shift; if [[ -n "$cpus" ]]; then taskset -c "$cpus" "$@"; else "$@"; fi; }
# default_pinning: the server on CPU 0 and the clients on CPU 1 (SERVER_CPUS, CLIENT_CPUS: taskset
# lists; set to "" for none) when taskset exists and there are two CPUs or more; else no pinning.
default_pinning() {
  if command -v taskset >/dev/null && [[ "$(nproc)" -ge 2 ]]; then
    SERVER_CPUS="${SERVER_CPUS-0}"
    CLIENT_CPUS="${CLIENT_CPUS-1}"
  else
    SERVER_CPUS=""
    CLIENT_CPUS=""
  fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# copy_jars SCRIPT: run copies of the jars (a rebuild during the run cannot change or truncate them),
# checked whole; sets BENCH_JAR and ARBITER_JAR. ARBITER_JAR_FROM, if set, is the arbiter.jar to
# copy instead of server/target/arbiter.jar (another build's, for before/after comparisons).
copy_jars() {
  local j src
  mkdir -p "$OUT/jars"
  for j in server/target/arbiter.jar benchmarks/target/benchmarks.jar; do
    src="$root/$j"
    [[ "$j" == server/target/arbiter.jar && -n "${ARBITER_JAR_FROM:-}" ]] && src="$ARBITER_JAR_FROM"
    cp "$src" "$OUT/jars/$(basename "$j")"
    python3 -c 'import sys, zipfile; bad = zipfile.ZipFile(sys.argv[1]).testzip(); sys.exit(bad and "corrupt entry " + bad)' \
      "$OUT/jars/$(basename "$j")" || { echo "$1: $j is incomplete (a build running?); try again" >&2; exit 1; }
  done
  BENCH_JAR="$OUT/jars/benchmarks.jar"
  ARBITER_JAR="$OUT/jars/arbiter.jar"
}

# cpu_ticks PID: utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# rotate_rounds "TARGETS" FUNC: the interleaved method. ROUNDS_WARMUP [4] unmeasured rounds (phase
# names warmup1..) then ROUNDS [6] measured ones (r1..), each calling FUNC TARGET NAME for every
# target in turn, so that every target is measured in every round and a drift in the machine's
# other load hits them alike; the reports divide each round's figure by the baseline's of the
# same round.
rotate_rounds() {
  local targets="$1" fn="$2" r t name
  local warm="${ROUNDS_WARMUP:-4}" measured="${ROUNDS:-6}"
  for r in $(seq 1 $((warm + measured))); do
    if (( r <= warm )); then name="warmup$r"; else name="r$((r - warm))"; fi
    for t in $targets; do
      "$fn" "$t" "$name"
    done
  done
}

# warm_up TARGET [PHASE_ARGS...]: unmeasured load, `phase TARGET warmupN PHASE_ARGS... -D
# WARMUP_STEP` (the caller's phase function), until two runs in a row differ by at most 10% in
# req/s and at least WARMUP seconds passed, or WARMUP_MAX; notes the time in OUT/TARGET.start.env.
warm_up() {
  local target="$1" elapsed=0 i=0 rate prev=""
  shift
  while :; do
    i=$((i + 1))
    phase "$target" "warmup$i" "$@" -D "$WARMUP_STEP"
    elapsed=$((elapsed + WARMUP_STEP))
    rate="$(awk '/^finished in/ { print $4 }' "$OUT/$target.warmup$i.h2load.txt")"
    if (( elapsed >= WARMUP )) && [[ -n "$prev" && -n "$rate" ]] &&
        python3 -c "import sys; sys.exit(0 if abs($rate - $prev) <= 0.1 * $prev else 1)"; then
      echo "  $target: steady after ${elapsed}s of warm-up" >&2
      echo "warmup_seconds=$elapsed" >> "$OUT/$target.start.env"
      return
    fi
    if (( elapsed >= WARMUP_MAX )); then
      echo "  $target: NOT steady after ${elapsed}s of warm-up (WARMUP_MAX); measuring anyway" >&2
      echo "warmup_seconds=$elapsed (not steady)" >> "$OUT/$target.start.env"
      return
    fi
    prev="$rate"
  done
}
