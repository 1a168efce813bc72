#!/usr/bin/env bash
# The quota load harness (issue 5): Arbiter's ShouldRateLimit (Envoy's RateLimitService v3) with
# memquota against a bare grpc-java RateLimitService with the same transport, and with redisquota
# against a real redis-server, in one run on one machine. See benchmarks/README.md.
#
#   benchmarks/load/quota.sh                       # both parts, all three targets: ~5 minutes
#   PARTS=sequential TARGETS="bare-rls memquota" benchmarks/load/quota.sh
#   PARTS=interleaved benchmarks/load/quota.sh     # memquota vs bare-rls only, ~2 minutes
#   PARTS=latency ARBITER_FLAGS="--inline-calls true" benchmarks/load/quota.sh   # the p99, ~5 minutes
#
# Part "sequential": each target in turn (TARGETS): warm-up until steady, max rate for DURATION s
# with h2load, then half of ITS OWN max rate for DURATION s with RlsLoadDriver (latency where it is
# not saturated). h2load sends one body per process, so the max-rate runs use PROCS h2load processes,
# each with its own request (user-K at 10.0.x.K: PROCS users, PROCS addresses, 2 x PROCS quota
# buckets), one connection and STREAMS concurrent streams each. The half-rate run is RlsLoadDriver:
# one JVM, open loop, evenly spaced requests over DRIVER_CONNECTIONS connections, the same PROCS
# users, latency from each request's scheduled send time, HALF_WARMUP s unmeasured first.
#
# Part "interleaved": the max-rate comparison for a shared machine: the IL_TARGETS servers all up
# at once, then ROUNDS_WARMUP unmeasured and ROUNDS measured rounds of ROUND_SECONDS s of h2load per
# target in rotation; each round's rate is divided by bare-rls's in the same round (median, range).
#
# Part "latency": the latency comparison at one fixed rate (issue 5's p99 target). The LAT_TARGETS
# servers all up at once, each warmed up at max rate as in part sequential, then LAT_ROUNDS rounds:
# first the machine's own wake-up lateness (jitter.c, built with gcc when present: a thread on the
# server's CPU and one on the driver's that sleep and wake every 500 µs, LAT_JITTER_SECONDS s, nothing
# else running), then RlsLoadDriver at LAT_RPS against each target in rotation (HALF_WARMUP s
# unmeasured, DURATION s measured). The report pools the rounds: each target's share of calls over
# 2 ms (p99 <= 2 ms means a share of at most 1%) beside the bare server's and the machine's.
#
# Environment (defaults in brackets):
#   PARTS ["sequential interleaved"]
#   DURATION [15]  WARMUP [10]  WARMUP_STEP [5]  WARMUP_MAX [60]   as in run.sh
#   PROCS [16]     h2load processes (= connections = distinct users);  STREAMS [8] per connection
#   TARGETS ["bare-rls memquota redisquota"]   part sequential
#   HALF_RPS       total req/s of every target's half-rate run instead of half its own max (diagnostics)
#   HALF_WARMUP [10]  seconds of the driver's own unmeasured warm-up at the half rate (its JIT)
#   DRIVER_CONNECTIONS [$PROCS]  DRIVER_CPUS [$CLIENT_CPUS]
#   DRIVER_NICE [10]  nice value of the driver: above redis-server's, so on the CPU they share Redis
#                  runs first and the driver (whose lateness it reports as send_lag) waits
#   DRIVER_JAVA_OPTS ["-Xms256m -Xmx256m -XX:+UseSerialGC"]
#   DRIVER_SPIN_US [0]  µs before each due call the driver stops sleeping and spins (RlsLoadDriver
#                  --spin-us): less send lag, a whole core busy; only with a CPU of its own (REDIS_CPUS=0)
#   ARBITER_JAR_FROM  run this arbiter.jar instead of server/target/arbiter.jar (before/after comparisons)
#   IL_TARGETS ["bare-rls memquota"]  ROUNDS [6]  ROUNDS_WARMUP [4]  ROUND_SECONDS [5]   part interleaved
#   LAT_TARGETS ["bare-rls redisquota"]  LAT_RPS [${HALF_RPS:-2000}]  LAT_ROUNDS [3]
#   LAT_JITTER_SECONDS [10] (0: no machine phase)                                     part latency
#   SERVER_CPUS [0] / CLIENT_CPUS [1] / REDIS_CPUS [$CLIENT_CPUS]   taskset lists ("" = no pinning)
#   REDIS_NICE [0]  nice value of redis-server (below 0 needs root: Redis preempts the clients)
#   ARBITER_FLAGS [""]  extra flags for `arbiter serve` (e.g. "--inline-calls true")
#   BARE_FLAGS ["--inline-calls" when ARBITER_FLAGS has "--inline-calls true", else ""]  flags of
#                  bare-rls (BareAuthorizationServer): the baseline runs its calls the same way
#   SERVER_JAVA_OPTS ["-Xms512m -Xmx512m"]  OUT [benchmarks/target/load/quota-<time>]  BUILD [auto]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-10}"
WARMUP_STEP="${WARMUP_STEP:-5}"
WARMUP_MAX="${WARMUP_MAX:-60}"
PROCS="${PROCS:-16}"
STREAMS="${STREAMS:-8}"
PARTS="${PARTS:-sequential interleaved}"
TARGETS="${TARGETS:-bare-rls memquota redisquota}"
IL_TARGETS="${IL_TARGETS:-bare-rls memquota}"
LAT_TARGETS="${LAT_TARGETS:-bare-rls redisquota}"
LAT_RPS="${LAT_RPS:-${HALF_RPS:-2000}}"
LAT_ROUNDS="${LAT_ROUNDS:-3}"
LAT_JITTER_SECONDS="${LAT_JITTER_SECONDS:-10}"
HALF_WARMUP="${HALF_WARMUP:-10}"
DRIVER_CONNECTIONS="${DRIVER_CONNECTIONS:-$PROCS}"
DRIVER_NICE="${DRIVER_NICE:-10}"
DRIVER_JAVA_OPTS="${DRIVER_JAVA_OPTS:--Xms256m -Xmx256m -XX:+UseSerialGC}"
DRIVER_SPIN_US="${DRIVER_SPIN_US:-0}"
SERVER_JAVA_OPTS="${SERVER_JAVA_OPTS:--Xms512m -Xmx512m}"
OUT="${OUT:-$root/benchmarks/target/load/quota-$(date -u +%Y%m%dT%H%M%SZ)}"
# shellcheck source=lib.sh
source "$here/lib.sh"
default_pinning
REDIS_CPUS="${REDIS_CPUS-$CLIENT_CPUS}"
DRIVER_CPUS="${DRIVER_CPUS-$CLIENT_CPUS}"

for tool in java h2load python3 curl; do
  command -v "$tool" >/dev/null || { echo "quota.sh: $tool is needed" >&2; exit 1; }
done
if [[ " $TARGETS $IL_TARGETS $LAT_TARGETS " == *" redisquota "* ]]; then
  command -v redis-server >/dev/null || { echo "quota.sh: redis-server is needed for redisquota" >&2; exit 1; }
fi

"$root/benchmarks/build-if-needed.sh"
mkdir -p "$OUT/bodies"
echo "results in $OUT" >&2
copy_jars quota.sh
ARBITER_EXTRA_FLAGS=""
if java -jar "$ARBITER_JAR" help 2>/dev/null | grep -q -- '--http-port'; then
  ARBITER_EXTRA_FLAGS="--http-port -1"
fi
ARBITER_EXTRA_FLAGS="$ARBITER_EXTRA_FLAGS ${ARBITER_FLAGS:-}"
if [[ -z "${BARE_FLAGS+set}" ]]; then
  if [[ "${ARBITER_FLAGS:-}" =~ --inline-calls[[:space:]=]+true ]]; then BARE_FLAGS="--inline-calls"; else BARE_FLAGS=""; fi
fi

java -cp "$BENCH_JAR" io.arbiter.bench.RateLimitBodyFiles "$OUT/bodies" "$PROCS" >&2

{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "git=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "git_dirty_files=$(git -C "$root" status --porcelain 2>/dev/null | wc -l)"
  echo "nproc=$(nproc)"
  echo "cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
  echo "java=$(java -version 2>&1 | head -1)"
  echo "h2load=$(h2load --version 2>&1 | head -1)"
  echo "redis=$(redis-server --version 2>/dev/null | head -1 || echo none)"
  echo "arbiter_jar=${ARBITER_JAR_FROM:-$root/server/target/arbiter.jar} $(date -u -r "${ARBITER_JAR_FROM:-$root/server/target/arbiter.jar}" +%Y-%m-%dT%H:%M:%SZ) sha256 $(sha256sum "$ARBITER_JAR" | cut -c1-12)"
  echo "server_cpus=${SERVER_CPUS:-none}"
  echo "client_cpus=${CLIENT_CPUS:-none}"
  echo "redis_cpus=${REDIS_CPUS:-none}"
  echo "redis_nice=${REDIS_NICE:-0}"
  echo "server_java_opts=$SERVER_JAVA_OPTS"
  echo "arbiter_flags=${ARBITER_FLAGS:-}"
  echo "bare_flags=$BARE_FLAGS"
  # shellcheck disable=SC2086
  echo "server_gc=$( (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -XX:+PrintFlagsFinal -version) 2>/dev/null |
    awk '$2 ~ /^Use(Serial|Parallel|G1|Z|Shenandoah)GC$/ && $4 == "true" { print $2 }')"
  echo "procs=$PROCS"
  echo "streams=$STREAMS"
  echo "duration=$DURATION"
  echo "parts=$PARTS"
  echo "half_warmup=$HALF_WARMUP"
  echo "driver_connections=$DRIVER_CONNECTIONS"
  echo "driver_cpus=${DRIVER_CPUS:-none}"
  echo "driver_nice=$DRIVER_NICE"
  echo "driver_java_opts=$DRIVER_JAVA_OPTS"
  echo "driver_spin_us=$DRIVER_SPIN_US"
  echo "il_targets=$IL_TARGETS"
  echo "rounds=${ROUNDS:-6} rounds_warmup=${ROUNDS_WARMUP:-4} round_seconds=${ROUND_SECONDS:-5}"
  echo "lat_targets=$LAT_TARGETS"
  echo "lat_rps=$LAT_RPS"
  echo "lat_rounds=$LAT_ROUNDS"
  echo "lat_jitter_seconds=$LAT_JITTER_SECONDS"
  echo "kdamond=$(pgrep -x kdamond.0 >/dev/null && echo running || echo none)"
  echo "warmup=$WARMUP..$WARMUP_MAX (steps of $WARMUP_STEP)"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.env"

server_pid=""
redis_pid=""
declare -A pids=() redis_pids=() grpcs=() admins=()
cleanup() {
  local p
  for p in "$server_pid" "$redis_pid" "${pids[@]}" "${redis_pids[@]}"; do
    if [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT

cpu_stat() { # busy (user+nice+system) and steal ticks of CPU $1 (all CPUs when not a single number)
  local pattern='^cpu '
  if [[ "${1:-}" =~ ^[0-9]+$ ]]; then pattern="^cpu$1 "; fi
  awk -v p="$pattern" '$0 ~ p { print $2 + $3 + $4, $9 }' /proc/stat
}

# kind_of NAME: the kind of server a target name runs (NAME without its il- or lat- prefix).
kind_of() { local k="${1#il-}"; echo "${k#lat-}"; }

counters() { # counters TARGET ADMIN_PORT (TARGET may carry the il- or lat- prefix)
  if [[ "$(kind_of "$1")" == bare-rls ]]; then
    curl -sf "http://127.0.0.1:$2/count"
  else
    curl -sf "http://127.0.0.1:$2/metrics" |
      grep -E '^arbiter_(ratelimit_|quota_calls_total|quota_errors_total|redisquota_)' || true
  fi
}

# phase TARGET NAME ADMIN_PORT GRPC_PORT h2load-args...: PROCS h2load processes at once, process K
# sending body K; server (and redis) CPU and counters around them; merged summary in
# TARGET.NAME.h2load.txt.
phase() {
  local target="$1" name="$2" admin="$3" port="$4"; shift 4
  local nprocs="$PROCS"
  local base="$OUT/$target.$name"
  counters "$target" "$admin" > "$base.counters.before"
  local t0 c0 t1 c1 s0 s1 r0=0 r1=0 k0 k1
  s0="$(cpu_stat "$SERVER_CPUS")"; k0="$(cpu_stat "$CLIENT_CPUS")"
  c0="$(cpu_ticks "$server_pid")"; [[ -n "$redis_pid" ]] && r0="$(cpu_ticks "$redis_pid")"
  t0="$(date +%s.%N)"
  local TIMEFORMAT="%U %S"
  rm -f "$base".log*.tsv "$base".h2load.*.txt
  { time (
      for k in $(seq 0 $((nprocs - 1))); do
        run_pinned "$CLIENT_CPUS" h2load -d "$OUT/bodies/rls-$k.bin" -H 'content-type: application/grpc' \
          -H 'te: trailers' -c 1 -m "$STREAMS" "$@" --log-file="$base.log.$k.tsv" \
          "http://127.0.0.1:$port/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit" \
          > "$base.h2load.$k.txt" 2>&1 &
      done
      wait ) ; } 2> "$base.client.time"
  t1="$(date +%s.%N)"; c1="$(cpu_ticks "$server_pid")"; [[ -n "$redis_pid" ]] && r1="$(cpu_ticks "$redis_pid")"
  s1="$(cpu_stat "$SERVER_CPUS")"; k1="$(cpu_stat "$CLIENT_CPUS")"
  sleep 0.5
  counters "$target" "$admin" > "$base.counters.after"
  cat "$base".log.*.tsv > "$base.log.tsv"; rm -f "$base".log.*.tsv
  python3 "$here/quota_report.py" --merge "$base" "$nprocs"
  {
    echo "cpu_ticks=$((c1 - c0))"
    echo "redis_cpu_ticks=$((r1 - r0))"
    echo "clk_tck=$(getconf CLK_TCK)"
    echo "wall_seconds=$(python3 -c "print(round($t1 - $t0, 3))")"
    echo "server_cpu_busy_ticks=$(( ${s1% *} - ${s0% *} ))"
    echo "server_cpu_steal_ticks=$(( ${s1#* } - ${s0#* } ))"
    if [[ "${SERVER_CPUS:-}" =~ ^[0-9]+$ ]]; then echo "server_cpu_scope=cpu$SERVER_CPUS"; else echo "server_cpu_scope=all"; fi
    echo "client_cpu_busy_ticks=$(( ${k1% *} - ${k0% *} ))"
    echo "client_cpu_seconds=$(awk '{ print $1 + $2 }' "$base.client.time")"
    echo "h2load_args=-c 1 -m $STREAMS $* (x $nprocs processes)"
    echo "h2load_procs=$nprocs"
    echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$base.phase.env"
  grep -E '^(finished|requests|status codes)' "$base.h2load.txt" | sed "s/^/  $target $name: /" >&2
}

# driver_phase TARGET NAME ADMIN_PORT GRPC_PORT RATE: RlsLoadDriver at RATE req/s, HALF_WARMUP s
# unmeasured then DURATION s measured. The driver reads the server's, Redis's and the client CPU's
# ticks (and the server's metrics, TARGET.NAME.window.*) at the edges of its measured window; the
# counters around the whole run (TARGET.NAME.counters.*) must match its totals exactly.
driver_phase() {
  local target="$1" name="$2" admin="$3" port="$4" rate="$5"
  local base="$OUT/$target.$name" metrics_url status=0
  if [[ "$(kind_of "$target")" == bare-rls ]]; then metrics_url="http://127.0.0.1:$admin/count"
  else metrics_url="http://127.0.0.1:$admin/metrics"; fi
  counters "$target" "$admin" > "$base.counters.before"
  # shellcheck disable=SC2086
  run_pinned "$DRIVER_CPUS" nice -n "$DRIVER_NICE" java $DRIVER_JAVA_OPTS -cp "$BENCH_JAR" io.arbiter.bench.RlsLoadDriver \
    --target "127.0.0.1:$port" --rate "$rate" --connections "$DRIVER_CONNECTIONS" --users "$PROCS" \
    --warmup "$HALF_WARMUP" --duration "$DURATION" --metrics "$metrics_url" \
    --server-pid "$server_pid" --server-cpu "${SERVER_CPUS:-}" --redis-pid "${redis_pid:-}" \
    --client-cpu "${DRIVER_CPUS:-}" --spin-us "$DRIVER_SPIN_US" --out "$base" > "$base.driver.txt" 2>&1 || status=$?
  sleep 0.5
  counters "$target" "$admin" > "$base.counters.after"
  [[ -f "$base.driver.env" ]] || { echo "  $target $name: the driver wrote no summary:" >&2; tail -5 "$base.driver.txt" >&2; }
  {
    grep -E '^(cpu_ticks|redis_cpu_ticks|wall_seconds|server_cpu_busy_ticks|server_cpu_steal_ticks|client_cpu_busy_ticks|client_cpu_seconds)=' \
      "$base.driver.env" 2>/dev/null || true
    [[ -n "${redis_pid:-}" ]] || echo "redis_cpu_ticks=0"
    echo "clk_tck=$(getconf CLK_TCK)"
    if [[ "${SERVER_CPUS:-}" =~ ^[0-9]+$ ]]; then echo "server_cpu_scope=cpu$SERVER_CPUS"; else echo "server_cpu_scope=all"; fi
    echo "client=RlsLoadDriver (exit $status)"
    echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$base.phase.env"
  grep -E '^(sent_per_s|answered|errors|unanswered|skipped|latency_p50_ms|latency_p99_ms|send_lag_p99_ms)=' \
    "$base.driver.env" 2>/dev/null | tr '\n' ' ' | sed "s/^/  $target $name: /" >&2; echo >&2
}

# start_target NAME: starts NAME's server (bare-rls, memquota, redisquota; an il- or lat- prefix
# names the interleaved or latency part's copy) and, for redisquota, its redis-server; waits until
# ready. Sets server_pid, redis_pid, grpc_port, admin_port and records them under NAME.
start_target() {
  local name="$1" kind ready_url
  kind="$(kind_of "$1")"
  grpc_port="$(free_port)"; admin_port="$(free_port)"; redis_pid=""
  echo "== $name (grpc :$grpc_port, admin :$admin_port)" >&2
  # shellcheck disable=SC2086
  case "$kind" in
    bare-rls)
      (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -cp "$BENCH_JAR" io.arbiter.bench.BareAuthorizationServer \
        --port "$grpc_port" --admin-port "$admin_port" --ratelimit $BARE_FLAGS) > "$OUT/$name.server.log" 2>&1 &
      ready_url="http://127.0.0.1:$admin_port/count" ;;
    memquota|redisquota)
      if [[ "$kind" == redisquota ]]; then
        local redis_port
        redis_port="$(free_port)"
        (pin "$REDIS_CPUS" nice -n "${REDIS_NICE:-0}" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
          --protected-mode yes) > "$OUT/$name.redis.log" 2>&1 &
        redis_pid=$!
        for _ in $(seq 1 50); do
          (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
          sleep 0.1
        done
        echo "  redis-server :$redis_port pid $redis_pid on CPU ${REDIS_CPUS:-any}" >&2
        java -cp "$BENCH_JAR" io.arbiter.bench.RateLimitBodyFiles --config redisquota \
          "redis://127.0.0.1:$redis_port" "$OUT/$name.yaml"
      else
        java -cp "$BENCH_JAR" io.arbiter.bench.RateLimitBodyFiles --config memquota "$OUT/$name.yaml"
      fi
      (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -jar "$ARBITER_JAR" serve --config "$OUT/$name.yaml" \
        --grpc-host 127.0.0.1 --grpc-port "$grpc_port" --admin-port "$admin_port" --watch-interval 1h \
        $ARBITER_EXTRA_FLAGS) > "$OUT/$name.server.log" 2>&1 &
      ready_url="http://127.0.0.1:$admin_port/readyz" ;;
    *) echo "unknown target '$kind' (bare-rls, memquota, redisquota)" >&2; exit 2 ;;
  esac
  server_pid=$!
  pids[$name]="$server_pid"; redis_pids[$name]="$redis_pid"; grpcs[$name]="$grpc_port"; admins[$name]="$admin_port"
  for _ in $(seq 1 120); do
    curl -sf "$ready_url" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "$name died:" >&2; tail -20 "$OUT/$name.server.log" >&2; exit 1; }
    sleep 0.5
  done
  curl -sf "$ready_url" >/dev/null || { echo "$name not ready after 60s" >&2; exit 1; }
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" > "$OUT/$name.start.env"
}

# use_target NAME: makes NAME's server (and redis) the current one.
use_target() {
  server_pid="${pids[$1]}"; redis_pid="${redis_pids[$1]}"; grpc_port="${grpcs[$1]}"; admin_port="${admins[$1]}"
}

stop_target() { # stop_target NAME
  local p
  for p in "${pids[$1]}" "${redis_pids[$1]}"; do
    if [[ -n "$p" ]]; then kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  unset "pids[$1]" "redis_pids[$1]"
  server_pid=""; redis_pid=""
}

# machine_phase NAME: the machine's own wake-up lateness on the server's and the driver's CPUs at
# once (jitter.c), nothing else running; OUT/machine.NAME.cpuN.tsv.
machine_phase() {
  local name="$1" cpu pids_j=()
  [[ -x "$OUT/jitter" && "$LAT_JITTER_SECONDS" != 0 ]] || return 0
  for cpu in $(printf '%s\n' "${SERVER_CPUS:-0}" "${DRIVER_CPUS:-0}" | sort -u); do
    [[ "$cpu" =~ ^[0-9]+$ ]] || continue
    "$OUT/jitter" --cpu "$cpu" --seconds "$LAT_JITTER_SECONDS" --watch-pid "$(pgrep -x kdamond.0 | head -1 || true)" \
      > "$OUT/machine.$name.cpu$cpu.tsv" &
    pids_j+=($!)
  done
  wait "${pids_j[@]}"
  grep -h '^# late_us\|^# over' "$OUT"/machine."$name".cpu*.tsv | tr '\n' ' ' | sed "s/^/  machine $name: /" >&2; echo >&2
}

lat_round() { # lat_round ROUND: the machine, then every latency target in rotation
  local r="$1" n k t list=()
  read -r -a list <<< "$LAT_TARGETS"
  n="${#list[@]}"
  machine_phase "r$r"
  for k in $(seq 0 $((n - 1))); do
    t="${list[$(( (k + r - 1) % n ))]}"
    use_target "lat-$t"
    driver_phase "lat-$t" "r$r" "$admin_port" "$grpc_port" "$LAT_RPS"
  done
}

il_phase() { # il_phase TARGET NAME: one interleaved round of TARGET at max rate
  use_target "il-$1"
  phase "il-$1" "$2" "$admin_port" "$grpc_port" -D "${ROUND_SECONDS:-5}"
}

report_args=()
for part in $PARTS; do
  case "$part" in
    sequential)
      for target in $TARGETS; do
        start_target "$target"
        warm_up "$target" "$admin_port" "$grpc_port"
        phase "$target" max "$admin_port" "$grpc_port" -D "$DURATION"
        own_max="$(awk '/^finished in/ { print $4 }' "$OUT/$target.max.h2load.txt")"
        half_total="$(python3 -c "print(int(float('${HALF_RPS:-0}' or 0)) if '${HALF_RPS:-}' else int(float('$own_max') / 2))")"
        echo "half_rps_total=$half_total" > "$OUT/$target.half.target.env"
        driver_phase "$target" half "$admin_port" "$grpc_port" "$half_total"
        stop_target "$target"
      done
      report_args+=(--sequential $TARGETS)
      ;;
    interleaved)
      [[ " $IL_TARGETS " == *" bare-rls "* ]] || { echo "IL_TARGETS needs bare-rls (the baseline of each round)" >&2; exit 2; }
      for target in $IL_TARGETS; do start_target "il-$target"; done
      echo "== interleaved: ${ROUNDS_WARMUP:-4} warm-up + ${ROUNDS:-6} measured rounds of ${ROUND_SECONDS:-5} s per target" >&2
      rotate_rounds "$IL_TARGETS" il_phase
      for target in $IL_TARGETS; do stop_target "il-$target"; done
      report_args+=(--interleaved)
      for target in $IL_TARGETS; do report_args+=("il-$target"); done
      ;;
    latency)
      if command -v gcc >/dev/null; then
        gcc -O2 -o "$OUT/jitter" "$here/jitter.c"
      else
        echo "== latency: no gcc, so no machine phase (jitter.c)" >&2
      fi
      for target in $LAT_TARGETS; do
        start_target "lat-$target"
        warm_up "lat-$target" "$admin_port" "$grpc_port"
      done
      echo "== latency: $LAT_ROUNDS rounds at $LAT_RPS req/s, targets in rotation" >&2
      for r in $(seq 1 "$LAT_ROUNDS"); do lat_round "$r"; done
      for target in $LAT_TARGETS; do stop_target "lat-$target"; done
      report_args+=(--latency)
      for target in $LAT_TARGETS; do report_args+=("lat-$target"); done
      ;;
    *) echo "unknown part '$part' (sequential, interleaved, latency)" >&2; exit 2 ;;
  esac
done
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.env"

python3 "$here/quota_report.py" "$OUT" "${report_args[@]}" | tee "$OUT/results.md"
