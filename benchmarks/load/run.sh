#!/usr/bin/env bash
# The load harness: Arbiter's ext_authz Check throughput, latency and CPU against a bare gRPC
# Authorization server with the same transport, in one run on one machine. See benchmarks/README.md.
#
#   benchmarks/load/run.sh                   # everything, about 5 minutes
#   DURATION=30 benchmarks/load/run.sh       # longer measurements
#   TARGETS="bare arbiter-1000" benchmarks/load/run.sh
#
# Environment (defaults in brackets):
#   DURATION [15]   seconds of each measured h2load run (max rate, then half of bare's max rate)
#   WARMUP [10]     at least this many seconds of unmeasured load before measuring each target,
#                   in WARMUP_STEP [5] s runs, until two runs in a row agree within 10% in req/s
#                   (the JIT is done), at most WARMUP_MAX [60] s
#   CLIENTS [4]     h2load connections (-c);  STREAMS [32] concurrent streams per connection (-m)
#   TARGETS ["bare arbiter-10 arbiter-1000"]  arbiter-N serves a generated config of N rules;
#                   "bare" must come first for the half-rate runs (or set HALF_RPS)
#   HALF_RPS        total req/s of the half-rate runs (default: half of bare's measured max)
#   SERVER_CPUS [0] / CLIENT_CPUS [1]   taskset CPU lists for the server and h2load ("" = no pinning)
#   SERVER_JAVA_OPTS ["-Xms512m -Xmx512m"]  JVM flags, the same for the bare server and Arbiter
#   OUT [benchmarks/target/load/<timestamp>]  where raw outputs and results.md go
#   BUILD [auto]    see benchmarks/build-if-needed.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=lib.sh
source "$here/lib.sh"

DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-10}"
WARMUP_STEP="${WARMUP_STEP:-5}"
WARMUP_MAX="${WARMUP_MAX:-60}"
CLIENTS="${CLIENTS:-4}"
STREAMS="${STREAMS:-32}"
TARGETS="${TARGETS:-bare arbiter-10 arbiter-1000}"
SERVER_JAVA_OPTS="${SERVER_JAVA_OPTS:--Xms512m -Xmx512m}"
OUT="${OUT:-$root/benchmarks/target/load/$(date -u +%Y%m%dT%H%M%SZ)}"
default_pinning

for tool in java h2load python3 curl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed" >&2; exit 1; }
done

"$root/benchmarks/build-if-needed.sh"
mkdir -p "$OUT/jars"
echo "results in $OUT" >&2

copy_jars run.sh
# Only the gRPC Check port is measured: turn the HTTP-mode check port off where there is one.
ARBITER_EXTRA_FLAGS=""
if java -jar "$ARBITER_JAR" help 2>/dev/null | grep -q -- '--http-port'; then
  ARBITER_EXTRA_FLAGS="--http-port -1"
fi

# The request body and the configs (the same generator as the JMH rule sets).
java -cp "$BENCH_JAR" io.arbiter.bench.GrpcBodyFile "$OUT/check.bin" >&2
for t in $TARGETS; do
  if [[ "$t" == arbiter-* ]]; then
    java -cp "$BENCH_JAR" io.arbiter.bench.RuleSets "${t#arbiter-}" "$OUT/rules-${t#arbiter-}.yaml" >&2
    # Evaluation is measured: h2load repeats one request, which the decision cache would answer.
    printf 'settings:\n  cache: {enabled: false}\n' >> "$OUT/rules-${t#arbiter-}.yaml"
  fi
done

# The machine and the build, for the write-up.
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "git=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "git_dirty_files=$(git -C "$root" status --porcelain 2>/dev/null | wc -l)"
  echo "nproc=$(nproc)"
  echo "cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
  echo "java=$(java -version 2>&1 | head -1)"
  echo "h2load=$(h2load --version 2>&1 | head -1)"
  echo "arbiter_jar=$(date -u -r "$root/server/target/arbiter.jar" +%Y-%m-%dT%H:%M:%SZ) sha256 $(sha256sum "$ARBITER_JAR" | cut -c1-12)"
  echo "server_cpus=${SERVER_CPUS:-none}"
  echo "client_cpus=${CLIENT_CPUS:-none}"
  echo "server_java_opts=$SERVER_JAVA_OPTS"
  # The GC the server JVMs get: pinned to one CPU, JVM ergonomics pick Serial unless told otherwise.
  # shellcheck disable=SC2086
  echo "server_gc=$( (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -XX:+PrintFlagsFinal -version) 2>/dev/null |
    awk '$2 ~ /^Use(Serial|Parallel|G1|Z|Shenandoah)GC$/ && $4 == "true" { print $2 }')"
  echo "clients=$CLIENTS"
  echo "streams=$STREAMS"
  echo "duration=$DURATION"
  echo "warmup=$WARMUP..$WARMUP_MAX (steps of $WARMUP_STEP)"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.env"

server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

cpu_stat() { # busy (user, nice, system: not irq time) and steal ticks of the server's CPU (all CPUs when not pinned), from /proc/stat
  local cpus="${SERVER_CPUS:-}"
  local pattern='^cpu '
  if [[ -n "$cpus" && "$cpus" =~ ^[0-9]+$ ]]; then pattern="^cpu$cpus "; fi
  awk -v p="$pattern" '$0 ~ p { print $2 + $3 + $4, $9 }' /proc/stat # user+nice+system, steal
}

counters() { # counters TARGET ADMIN_PORT: the server's own answer counters, Prometheus text
  if [[ "$1" == bare ]]; then
    curl -sf "http://127.0.0.1:$2/count"
  else
    curl -sf "http://127.0.0.1:$2/metrics" | grep -E '^arbiter_(checks_total|check_failures_total|check_errors_total|check_rejected_total|extauthz_)' || true
  fi
}

# phase TARGET NAME ADMIN_PORT GRPC_PORT h2load-args...: one h2load run with server CPU time and
# counters before and after, raw outputs under $OUT/TARGET.NAME.*
phase() {
  local target="$1" name="$2" admin="$3" port="$4"; shift 4
  local base="$OUT/$target.$name"
  counters "$target" "$admin" > "$base.counters.before"
  local t0 c0 t1 c1
  local s0 s1
  s0="$(cpu_stat)"; c0="$(cpu_ticks "$server_pid")"; t0="$(date +%s.%N)"
  local TIMEFORMAT="%U %S" # bash's time: h2load's own user and system CPU seconds
  rm -f "$base.log.tsv" # h2load appends
  { time (run_pinned "$CLIENT_CPUS" h2load -d "$OUT/check.bin" -H 'content-type: application/grpc' \
      -H 'te: trailers' -c "$CLIENTS" -m "$STREAMS" "$@" --log-file="$base.log.tsv" \
      "http://127.0.0.1:$port/envoy.service.auth.v3.Authorization/Check" > "$base.h2load.txt" 2>&1) ; } \
    2> "$base.client.time"
  t1="$(date +%s.%N)"; c1="$(cpu_ticks "$server_pid")"; s1="$(cpu_stat)"
  sleep 0.5 # let the answers in flight when h2load stopped be counted
  counters "$target" "$admin" > "$base.counters.after"
  {
    echo "cpu_ticks=$((c1 - c0))"
    echo "clk_tck=$(getconf CLK_TCK)"
    echo "wall_seconds=$(python3 -c "print(round($t1 - $t0, 3))")"
    # Interference: CPU time others used on the server's CPU, and time the hypervisor stole from it.
    echo "server_cpu_busy_ticks=$(( ${s1% *} - ${s0% *} ))"
    echo "server_cpu_steal_ticks=$(( ${s1#* } - ${s0#* } ))"
    if [[ "${SERVER_CPUS:-}" =~ ^[0-9]+$ ]]; then echo "server_cpu_scope=cpu$SERVER_CPUS"; else echo "server_cpu_scope=all"; fi
    echo "client_cpu_seconds=$(awk '{ print $1 + $2 }' "$base.client.time")"
    echo "h2load_args=$*"
    echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$base.phase.env"
  grep -E '^(finished|requests|status codes)' "$base.h2load.txt" | sed "s/^/  $target $name: /" >&2
}

bare_max=""
for target in $TARGETS; do
  grpc_port="$(free_port)"; admin_port="$(free_port)"
  echo "== $target (grpc :$grpc_port, admin :$admin_port)" >&2
  # shellcheck disable=SC2086
  if [[ "$target" == bare ]]; then
    (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -cp "$BENCH_JAR" io.arbiter.bench.BareAuthorizationServer \
      --port "$grpc_port" --admin-port "$admin_port") > "$OUT/$target.server.log" 2>&1 &
    ready_url="http://127.0.0.1:$admin_port/count"
  elif [[ "$target" == arbiter-* ]]; then
    (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -jar "$ARBITER_JAR" serve --config "$OUT/rules-${target#arbiter-}.yaml" \
      --grpc-host 127.0.0.1 --grpc-port "$grpc_port" --admin-port "$admin_port" --watch-interval 1h \
      $ARBITER_EXTRA_FLAGS) > "$OUT/$target.server.log" 2>&1 &
    ready_url="http://127.0.0.1:$admin_port/readyz"
  else
    echo "unknown target '$target' (bare or arbiter-N)" >&2; exit 2
  fi
  server_pid=$!
  for _ in $(seq 1 120); do
    curl -sf "$ready_url" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "$target died:" >&2; tail -20 "$OUT/$target.server.log" >&2; exit 1; }
    sleep 0.5
  done
  curl -sf "$ready_url" >/dev/null || { echo "$target not ready after 60s" >&2; exit 1; }
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" > "$OUT/$target.start.env"

  warm_up "$target" "$admin_port" "$grpc_port"
  phase "$target" max "$admin_port" "$grpc_port" -D "$DURATION"
  if [[ "$target" == bare ]]; then
    bare_max="$(awk '/^finished in/ { print $4 }' "$OUT/bare.max.h2load.txt")"
  fi
  half_total="${HALF_RPS:-}"
  if [[ -z "$half_total" && -n "$bare_max" ]]; then
    half_total="$(python3 -c "print(int(float('$bare_max') / 2))")"
  fi
  if [[ -n "$half_total" ]]; then
    per_client=$(( half_total / CLIENTS ))
    (( per_client >= 1 )) || per_client=1
    echo "half_rps_total=$((per_client * CLIENTS))" > "$OUT/$target.half.target.env"
    phase "$target" half "$admin_port" "$grpc_port" -D "$DURATION" --rps "$per_client"
  else
    echo "  $target: no half-rate run (no bare max rate measured yet and no HALF_RPS)" >&2
  fi

  kill -TERM "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
done

python3 "$here/report.py" "$OUT" $TARGETS | tee "$OUT/results.md"
