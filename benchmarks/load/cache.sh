#!/usr/bin/env bash
# The decision cache load benchmarks of issue 6, in one run on one machine. See benchmarks/README.md.
#
#   benchmarks/load/cache.sh                       # both parts, about 9 minutes
#   PARTS=throughput benchmarks/load/cache.sh      # cached Check throughput vs bare (h2load), ~5 min
#   PARTS=keys benchmarks/load/cache.sh            # hit ratio and throughput vs distinct keys, ~4 min
#   PARTS=interleaved benchmarks/load/cache.sh     # the throughput targets, all servers up at once,
#                                                  # 5 s runs in rotation (for a shared machine), ~5 min
#   PARTS=profile benchmarks/load/cache.sh         # where cache-N's CPU goes under h2load (JFR), ~1.5 min
#
# Part "throughput": h2load, every request the same (so the cache hits), against the bare gRPC
# server and Arbiter with RuleSets.yaml(N) with the cache on (cache-N, the default config) and off
# (off-N), N in RULES. Part "keys": CacheKeysDriver (a Java gRPC client; h2load cannot vary the
# body) cycling K distinct bearer tokens, K in KEYS, against the bare server and Arbiter (cache on,
# RuleSets.yaml(KEYS_RULES)); a fresh server per K; live heap after a full GC at the end. Part
# "profile" (not in the default PARTS): cache-N for each N in RULES under h2load, a JFR recording of
# DURATION s at max rate after the warm-up, aggregated by cache_profile.py.
#
# Part "interleaved" (not in the default PARTS): the throughput part's servers all started at once
# (each pinned to SERVER_CPUS), then ROUNDS_WARMUP [4] unmeasured and ROUNDS [6] measured rounds in
# which each target gets ROUND_SECONDS [5] s of h2load in turn; the report takes each round's ratio
# to the bare run of the same round, so a slow drift in other tenants' load cancels out.
#
# Environment (defaults in brackets):
#   PARTS ["throughput keys"]
#   RULES ["10 1000"]       rule counts of part throughput;  RULESET_SUFFIX [""] e.g. "+headers"
#                           (CacheConfigs: three more rules reading user-agent, x-user, x-forwarded-for)
#   DURATION [15]           seconds of each measured run
#   WARMUP [10] WARMUP_STEP [5] WARMUP_MAX [60]   h2load warm-up until two runs agree within 10%
#   CLIENTS [4] STREAMS [32]                      h2load -c / -m, and the driver's connections/streams
#   KEYS ["10 1000 100000 1000000"]  KEYS_ORDER [cycle] (or random)  KEYS_RULES [10]
#   KEYS_WARMUP [20]        seconds of driver load before each measured window (fills the cache)
#   KEYS_PROFILE [""]       1: Arbiter's keys-K servers record JFR (settings=profile, whole run) and a GC
#                           log; the profile (cache_profile.py) goes into results.md
#   SERVER_CPUS [0] / CLIENT_CPUS [1]   taskset CPU lists ("" = no pinning)
#   ARBITER_FLAGS [""]  extra flags for `arbiter serve` (e.g. "--inline-calls true")
#   SERVER_JAVA_OPTS ["-Xms512m -Xmx512m"]  the same for the bare server and Arbiter
#   OUT [benchmarks/target/load/cache-<time>]   BUILD [auto] (see build-if-needed.sh)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

PARTS="${PARTS:-throughput keys}"
RULES="${RULES:-10 1000}"
RULESET_SUFFIX="${RULESET_SUFFIX:-}"
DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-10}"
WARMUP_STEP="${WARMUP_STEP:-5}"
WARMUP_MAX="${WARMUP_MAX:-60}"
CLIENTS="${CLIENTS:-4}"
STREAMS="${STREAMS:-32}"
KEYS="${KEYS:-10 1000 100000 1000000}"
KEYS_ORDER="${KEYS_ORDER:-cycle}"
KEYS_RULES="${KEYS_RULES:-10}"
KEYS_WARMUP="${KEYS_WARMUP:-20}"
SERVER_JAVA_OPTS="${SERVER_JAVA_OPTS:--Xms512m -Xmx512m}"
OUT="${OUT:-$root/benchmarks/target/load/cache-$(date -u +%Y%m%dT%H%M%SZ)}"
# shellcheck source=lib.sh
source "$here/lib.sh"
default_pinning


for tool in java h2load python3 curl jcmd jstat; do
  command -v "$tool" >/dev/null || { echo "cache.sh: $tool is needed" >&2; exit 1; }
done

"$root/benchmarks/build-if-needed.sh"
echo "results in $OUT" >&2
copy_jars cache.sh

java -cp "$BENCH_JAR" io.arbiter.bench.GrpcBodyFile "$OUT/check.bin" >&2

{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "git=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "git_dirty_files=$(git -C "$root" status --porcelain 2>/dev/null | wc -l)"
  echo "nproc=$(nproc)"
  echo "cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
  echo "java=$(java -version 2>&1 | head -1)"
  echo "h2load=$(h2load --version 2>&1 | head -1)"
  echo "server_cpus=${SERVER_CPUS:-none}"
  echo "client_cpus=${CLIENT_CPUS:-none}"
  echo "server_java_opts=$SERVER_JAVA_OPTS"
  # shellcheck disable=SC2086
  echo "server_gc=$( (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -XX:+PrintFlagsFinal -version) 2>/dev/null |
    awk '$2 ~ /^Use(Serial|Parallel|G1|Z|Shenandoah)GC$/ && $4 == "true" { print $2 }')"
  echo "clients=$CLIENTS"
  echo "streams=$STREAMS"
  echo "duration=$DURATION"
  echo "warmup=$WARMUP..$WARMUP_MAX (steps of $WARMUP_STEP)"
  echo "rules=$RULES"
  echo "ruleset_suffix=$RULESET_SUFFIX"
  echo "keys=$KEYS"
  echo "keys_order=$KEYS_ORDER"
  echo "keys_rules=$KEYS_RULES"
  echo "keys_warmup=$KEYS_WARMUP"
  echo "rounds=${ROUNDS:-6} rounds_warmup=${ROUNDS_WARMUP:-4} round_seconds=${ROUND_SECONDS:-5}"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.env"

server_pid=""
declare -A pids=() grpcs=() metricses=()
cleanup() {
  local p
  for p in "$server_pid" "${pids[@]}"; do
    if [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT

# start_server NAME CONFIG|"" : starts the bare server (no config) or Arbiter, waits until ready;
# sets server_pid, grpc_port, admin_port, metrics_url
start_server() {
  local name="$1" config="$2" ready_url extra="${3:-}"
  grpc_port="$(free_port)"; admin_port="$(free_port)"
  echo "== $name (grpc :$grpc_port, admin :$admin_port)" >&2
  # shellcheck disable=SC2086
  if [[ -z "$config" ]]; then
    (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -cp "$BENCH_JAR" io.arbiter.bench.BareAuthorizationServer \
      --port "$grpc_port" --admin-port "$admin_port") > "$OUT/$name.server.log" 2>&1 &
    ready_url="http://127.0.0.1:$admin_port/count"
    metrics_url="http://127.0.0.1:$admin_port/count"
  else
    (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS $extra -jar "$ARBITER_JAR" serve --config "$config" \
      --grpc-host 127.0.0.1 --grpc-port "$grpc_port" --admin-port "$admin_port" --watch-interval 1h \
      --http-port -1 ${ARBITER_FLAGS:-}) > "$OUT/$name.server.log" 2>&1 &
    ready_url="http://127.0.0.1:$admin_port/readyz"
    metrics_url="http://127.0.0.1:$admin_port/metrics"
  fi
  server_pid=$!
  pids[$name]=$server_pid; grpcs[$name]=$grpc_port; metricses[$name]=$metrics_url
  for _ in $(seq 1 120); do
    curl -sf "$ready_url" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "$name died:" >&2; tail -20 "$OUT/$name.server.log" >&2; exit 1; }
    sleep 0.5
  done
  curl -sf "$ready_url" >/dev/null || { echo "$name not ready after 60s" >&2; exit 1; }
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" > "$OUT/$name.start.env"
}

il_phase() { # il_phase TARGET NAME: one interleaved round of TARGET
  server_pid="${pids[il-$1]}"; grpc_port="${grpcs[il-$1]}"; metrics_url="${metricses[il-$1]}"
  phase "il-$1" "$2" -D "${ROUND_SECONDS:-5}"
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# live_heap NAME: a full GC in the server, then its heap occupancy (jstat: survivors + eden + old, KB)
live_heap() {
  jcmd "$server_pid" GC.run > /dev/null 2>&1 || true
  jstat -gc "$server_pid" > "$OUT/$1.jstat.txt" 2>&1 || true
  jcmd "$server_pid" GC.heap_info > "$OUT/$1.heap_info.txt" 2>&1 || true
}

cpu_stat() {
  local cpus="${SERVER_CPUS:-}" pattern='^cpu '
  if [[ -n "$cpus" && "$cpus" =~ ^[0-9]+$ ]]; then pattern="^cpu$cpus "; fi
  awk -v p="$pattern" '$0 ~ p { print $2 + $3 + $4, $9 }' /proc/stat
}
counters() { # the server's answer and cache counters, Prometheus text
  if [[ "$1" == bare* || "$1" == il-bare || "$1" == keys-bare ]]; then
    curl -sf "$metrics_url"
  else
    curl -sf "$metrics_url" | grep -E '^arbiter_(checks_total|check_failures_total|check_errors_total|check_rejected_total|extauthz_|check_cache_)' || true
  fi
}

# phase TARGET NAME h2load-args...: as run.sh's phase (same files, read by report.py)
phase() {
  local target="$1" name="$2"; shift 2
  local base="$OUT/$target.$name" t0 c0 t1 c1 s0 s1
  counters "$target" > "$base.counters.before"
  s0="$(cpu_stat)"; c0="$(cpu_ticks "$server_pid")"; t0="$(date +%s.%N)"
  local TIMEFORMAT="%U %S"
  rm -f "$base.log.tsv"
  { time (run_pinned "$CLIENT_CPUS" h2load -d "$OUT/check.bin" -H 'content-type: application/grpc' \
      -H 'te: trailers' -c "$CLIENTS" -m "$STREAMS" "$@" --log-file="$base.log.tsv" \
      "http://127.0.0.1:$grpc_port/envoy.service.auth.v3.Authorization/Check" > "$base.h2load.txt" 2>&1) ; } \
    2> "$base.client.time"
  t1="$(date +%s.%N)"; c1="$(cpu_ticks "$server_pid")"; s1="$(cpu_stat)"
  sleep 0.5
  counters "$target" > "$base.counters.after"
  {
    echo "cpu_ticks=$((c1 - c0))"
    echo "clk_tck=$(getconf CLK_TCK)"
    echo "wall_seconds=$(python3 -c "print(round($t1 - $t0, 3))")"
    echo "server_cpu_busy_ticks=$(( ${s1% *} - ${s0% *} ))"
    echo "server_cpu_steal_ticks=$(( ${s1#* } - ${s0#* } ))"
    if [[ "${SERVER_CPUS:-}" =~ ^[0-9]+$ ]]; then echo "server_cpu_scope=cpu$SERVER_CPUS"; else echo "server_cpu_scope=all"; fi
    echo "client_cpu_seconds=$(awk '{ print $1 + $2 }' "$base.client.time")"
    echo "h2load_args=$*"
    echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$base.phase.env"
  grep -E '^(finished|requests|status codes)' "$base.h2load.txt" | sed "s/^/  $target $name: /" >&2
}

throughput_targets="bare"
for n in $RULES; do throughput_targets="$throughput_targets cache-$n off-$n"; done
keys_targets=""

for part in $PARTS; do
  case "$part" in
    throughput)
      for target in $throughput_targets; do
        config=""
        if [[ "$target" != bare ]]; then
          n="${target#*-}"
          spec="$n$RULESET_SUFFIX"; [[ "$target" == off-* ]] && spec="$spec/off"
          config="$OUT/$target.yaml"
          java -cp "$BENCH_JAR" io.arbiter.bench.CacheConfigs "$spec" "$config" >&2
        fi
        start_server "$target" "$config"
        warm_up "$target"
        phase "$target" max -D "$DURATION"
        [[ "$target" == bare ]] || live_heap "$target"
        stop_server
      done
      ;;
    keys)
      keys_targets="keys-bare"
      for k in $KEYS; do keys_targets="$keys_targets keys-$k"; done
      largest="${KEYS##* }"
      for target in $keys_targets; do
        config=""
        k="$largest"
        if [[ "$target" != keys-bare ]]; then
          k="${target#keys-}"
          config="$OUT/keys.yaml"
          java -cp "$BENCH_JAR" io.arbiter.bench.CacheConfigs "$KEYS_RULES$RULESET_SUFFIX" "$config" >&2
        fi
        extra=""
        if [[ -n "${KEYS_PROFILE:-}" && -n "$config" ]]; then
          extra="-XX:StartFlightRecording=settings=profile,dumponexit=true,filename=$OUT/$target.jfr -Xlog:gc:file=$OUT/$target.gc.log"
          profile_targets="${profile_targets:-} $target"
        fi
        start_server "$target" "$config" "$extra"
        murl="$metrics_url"
        echo "  $target: $KEYS_WARMUP s warm-up, $DURATION s measured, $k keys ($KEYS_ORDER)" >&2
        # shellcheck disable=SC2086
        run_pinned "$CLIENT_CPUS" java -Xms1g -Xmx1g -cp "$BENCH_JAR" io.arbiter.bench.CacheKeysDriver \
          --target "127.0.0.1:$grpc_port" --keys "$k" --order "$KEYS_ORDER" \
          --connections "$CLIENTS" --streams "$STREAMS" --warmup "$KEYS_WARMUP" --duration "$DURATION" \
          --metrics "$murl" --server-pid "$server_pid" --server-cpu "${SERVER_CPUS:-}" \
          --out "$OUT/$target" > "$OUT/$target.driver.txt" 2>&1 || echo "  $target: the driver reports problems" >&2
        grep -E '^(rps|allowed|not_allowed|errors)=' "$OUT/$target.driver.txt" | tr '\n' ' ' | sed "s/^/  $target: /" >&2; echo >&2
        echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/$target.driver.env"
        echo "clk_tck=$(getconf CLK_TCK)" >> "$OUT/$target.driver.env"
        [[ "$target" == keys-bare ]] || live_heap "$target"
        stop_server
      done
      ;;
    interleaved)
      for target in $throughput_targets; do
        config=""
        if [[ "$target" != bare ]]; then
          n="${target#*-}"
          spec="$n$RULESET_SUFFIX"; [[ "$target" == off-* ]] && spec="$spec/off"
          config="$OUT/il-$target.yaml"
          java -cp "$BENCH_JAR" io.arbiter.bench.CacheConfigs "$spec" "$config" >&2
        fi
        start_server "il-$target" "$config"
      done
      rotate_rounds "$throughput_targets" il_phase
      for target in $throughput_targets; do
        server_pid="${pids[il-$target]}"
        [[ "$target" == bare ]] || live_heap "il-$target"
        stop_server
      done
      server_pid=""
      ;;
    profile)
      for n in $RULES; do
        target="profile-$n"
        config="$OUT/$target.yaml"
        java -cp "$BENCH_JAR" io.arbiter.bench.CacheConfigs "$n$RULESET_SUFFIX" "$config" >&2
        start_server "$target" "$config"
        warm_up "$target"
        jcmd "$server_pid" JFR.start name=cache settings=profile > /dev/null
        phase "$target" max -D "$DURATION"
        jcmd "$server_pid" JFR.dump name=cache filename="$OUT/$target.jfr" > /dev/null
        jcmd "$server_pid" JFR.stop name=cache > /dev/null
        stop_server
        python3 "$here/cache_profile.py" "$OUT/$target.jfr" > "$OUT/$target.profile.md"
        profile_targets="${profile_targets:-} $target"
      done
      ;;
    *) echo "unknown part '$part' (throughput, keys, profile)" >&2; exit 2 ;;
  esac
done
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.env"

args=()
[[ " $PARTS " == *" throughput "* ]] && args+=(--throughput $throughput_targets)
[[ " $PARTS " == *" keys "* ]] && args+=(--keys $keys_targets)
if [[ " $PARTS " == *" interleaved "* ]]; then
  args+=(--interleaved)
  for t in $throughput_targets; do args+=("il-$t"); done
fi
status=0
: > "$OUT/results.md"
if (( ${#args[@]} )); then
  python3 "$here/cache_report.py" "$OUT" "${args[@]}" | tee "$OUT/results.md" || status=$?
fi
for target in ${profile_targets:-}; do
  [[ -f "$OUT/$target.profile.md" ]] || python3 "$here/cache_profile.py" "$OUT/$target.jfr" > "$OUT/$target.profile.md" || true
  { echo; echo "### Profile of $target (JFR execution samples)"; echo; cat "$OUT/$target.profile.md"; } |
    tee -a "$OUT/results.md"
done
exit "$status"
