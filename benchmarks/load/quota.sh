#!/usr/bin/env bash
# The quota load harness (issue 5): Arbiter's ShouldRateLimit (Envoy's RateLimitService v3) with
# memquota against a bare grpc-java RateLimitService with the same transport, and with redisquota
# against a real redis-server, in one run on one machine. See benchmarks/README.md.
#
#   benchmarks/load/quota.sh                       # bare-rls, memquota, redisquota: ~3 minutes
#   TARGETS="bare-rls memquota" benchmarks/load/quota.sh
#
# h2load sends one body per process, so every target is loaded by PROCS h2load processes, each
# with its own request (user-K at 10.0.x.K: PROCS users, PROCS addresses, 2 x PROCS quota buckets),
# one connection and STREAMS concurrent streams each. Each target: warm-up until steady, max rate
# for DURATION s, then half of ITS OWN max rate for DURATION s (latency where it is not saturated).
#
# Environment (defaults in brackets):
#   DURATION [15]  WARMUP [10]  WARMUP_STEP [5]  WARMUP_MAX [60]   as in run.sh
#   PROCS [16]     h2load processes (= connections = distinct users);  STREAMS [8] per connection
#   TARGETS ["bare-rls memquota redisquota"]
#   HALF_RPS       total req/s of every target's second run instead of half its own max (diagnostics)
#   PACED_RPS [100] at most this many req/s per h2load process in the half-rate run (more processes
#                  instead): h2load's rate timer ticks at most every 10 ms, so a process above 100 req/s
#                  sends bursts. At most PACED_MAX_PROCS (64) processes: above 6,400 req/s each sends a
#                  few per tick. 0 = PROCS processes whatever the rate (the bursty method)
#   SERVER_CPUS [0] / CLIENT_CPUS [1] / REDIS_CPUS [$CLIENT_CPUS]   taskset lists ("" = no pinning)
#   REDIS_NICE [0]  nice value of redis-server: below 0 (root) lets it preempt the h2load processes
#                  it shares a CPU with, so the paced run's many client processes do not delay Redis
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
TARGETS="${TARGETS:-bare-rls memquota redisquota}"
SERVER_JAVA_OPTS="${SERVER_JAVA_OPTS:--Xms512m -Xmx512m}"
OUT="${OUT:-$root/benchmarks/target/load/quota-$(date -u +%Y%m%dT%H%M%SZ)}"
if command -v taskset >/dev/null && [[ "$(nproc)" -ge 2 ]]; then
  SERVER_CPUS="${SERVER_CPUS-0}"
  CLIENT_CPUS="${CLIENT_CPUS-1}"
else
  SERVER_CPUS=""
  CLIENT_CPUS=""
fi
REDIS_CPUS="${REDIS_CPUS-$CLIENT_CPUS}"

for tool in java h2load python3 curl; do
  command -v "$tool" >/dev/null || { echo "quota.sh: $tool is needed" >&2; exit 1; }
done
if [[ " $TARGETS " == *" redisquota "* ]]; then
  command -v redis-server >/dev/null || { echo "quota.sh: redis-server is needed for redisquota" >&2; exit 1; }
fi

"$root/benchmarks/build-if-needed.sh"
mkdir -p "$OUT/jars" "$OUT/bodies"
echo "results in $OUT" >&2

# Run copies of the jars, so that a rebuild during the run cannot change or truncate them.
for j in server/target/arbiter.jar benchmarks/target/benchmarks.jar; do
  cp "$root/$j" "$OUT/jars/"
  python3 -c 'import sys, zipfile; bad = zipfile.ZipFile(sys.argv[1]).testzip(); sys.exit(bad and "corrupt entry " + bad)' \
    "$OUT/jars/$(basename "$j")" || { echo "quota.sh: $j is incomplete (a build running?); try again" >&2; exit 1; }
done
BENCH_JAR="$OUT/jars/benchmarks.jar"
ARBITER_JAR="$OUT/jars/arbiter.jar"
ARBITER_EXTRA_FLAGS=""
if java -jar "$ARBITER_JAR" help 2>/dev/null | grep -q -- '--http-port'; then
  ARBITER_EXTRA_FLAGS="--http-port -1"
fi

pin() { local cpus="$1"; shift; if [[ -n "$cpus" ]]; then exec taskset -c "$cpus" "$@"; else exec "$@"; fi; }
run_pinned() { local cpus="$1"; shift; if [[ -n "$cpus" ]]; then taskset -c "$cpus" "$@"; else "$@"; fi; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

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
  echo "arbiter_jar=$(date -u -r "$root/server/target/arbiter.jar" +%Y-%m-%dT%H:%M:%SZ) sha256 $(sha256sum "$ARBITER_JAR" | cut -c1-12)"
  echo "server_cpus=${SERVER_CPUS:-none}"
  echo "client_cpus=${CLIENT_CPUS:-none}"
  echo "redis_cpus=${REDIS_CPUS:-none}"
  echo "redis_nice=${REDIS_NICE:-0}"
  echo "server_java_opts=$SERVER_JAVA_OPTS"
  # shellcheck disable=SC2086
  echo "server_gc=$( (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -XX:+PrintFlagsFinal -version) 2>/dev/null |
    awk '$2 ~ /^Use(Serial|Parallel|G1|Z|Shenandoah)GC$/ && $4 == "true" { print $2 }')"
  echo "procs=$PROCS"
  echo "streams=$STREAMS"
  echo "duration=$DURATION"
  echo "paced_rps=${PACED_RPS:-100}"
  echo "warmup=$WARMUP..$WARMUP_MAX (steps of $WARMUP_STEP)"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.env"

server_pid=""
redis_pid=""
cleanup() {
  for p in "$server_pid" "$redis_pid"; do
    if [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
cpu_stat() { # busy (user+nice+system) and steal ticks of CPU $1 (all CPUs when not a single number)
  local pattern='^cpu '
  if [[ "${1:-}" =~ ^[0-9]+$ ]]; then pattern="^cpu$1 "; fi
  awk -v p="$pattern" '$0 ~ p { print $2 + $3 + $4, $9 }' /proc/stat
}

counters() { # counters TARGET ADMIN_PORT
  if [[ "$1" == bare-rls ]]; then
    curl -sf "http://127.0.0.1:$2/count"
  else
    curl -sf "http://127.0.0.1:$2/metrics" |
      grep -E '^arbiter_(ratelimit_|quota_calls_total|quota_errors_total|redisquota_)' || true
  fi
}

# phase TARGET NAME ADMIN_PORT GRPC_PORT h2load-args...: NPROCS (default PROCS) h2load processes at
# once, process K sending body K % PROCS; server (and redis) CPU and counters around them; merged
# summary in TARGET.NAME.h2load.txt.
phase() {
  local target="$1" name="$2" admin="$3" port="$4"; shift 4
  local nprocs="${NPROCS:-$PROCS}"
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
        run_pinned "$CLIENT_CPUS" h2load -d "$OUT/bodies/rls-$((k % PROCS)).bin" -H 'content-type: application/grpc' \
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

warm_up() { # as run.sh: WARMUP_STEP runs until two in a row agree within 10%
  local target="$1" admin="$2" port="$3" elapsed=0 i=0 rate prev=""
  while :; do
    i=$((i + 1))
    phase "$target" "warmup$i" "$admin" "$port" -D "$WARMUP_STEP"
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

for target in $TARGETS; do
  grpc_port="$(free_port)"; admin_port="$(free_port)"
  echo "== $target (grpc :$grpc_port, admin :$admin_port)" >&2
  # shellcheck disable=SC2086
  case "$target" in
    bare-rls)
      (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -cp "$BENCH_JAR" io.arbiter.bench.BareAuthorizationServer \
        --port "$grpc_port" --admin-port "$admin_port" --ratelimit) > "$OUT/$target.server.log" 2>&1 &
      ready_url="http://127.0.0.1:$admin_port/count" ;;
    memquota|redisquota)
      if [[ "$target" == redisquota ]]; then
        redis_port="$(free_port)"
        (pin "$REDIS_CPUS" nice -n "${REDIS_NICE:-0}" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
          --protected-mode yes) > "$OUT/redis.log" 2>&1 &
        redis_pid=$!
        for _ in $(seq 1 50); do
          (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
          sleep 0.1
        done
        echo "  redis-server :$redis_port pid $redis_pid on CPU ${REDIS_CPUS:-any}" >&2
        java -cp "$BENCH_JAR" io.arbiter.bench.RateLimitBodyFiles --config redisquota \
          "redis://127.0.0.1:$redis_port" "$OUT/$target.yaml"
      else
        java -cp "$BENCH_JAR" io.arbiter.bench.RateLimitBodyFiles --config memquota "$OUT/$target.yaml"
      fi
      (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -jar "$ARBITER_JAR" serve --config "$OUT/$target.yaml" \
        --grpc-host 127.0.0.1 --grpc-port "$grpc_port" --admin-port "$admin_port" --watch-interval 1h \
        $ARBITER_EXTRA_FLAGS) > "$OUT/$target.server.log" 2>&1 &
      ready_url="http://127.0.0.1:$admin_port/readyz" ;;
    *) echo "unknown target '$target' (bare-rls, memquota, redisquota)" >&2; exit 2 ;;
  esac
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
  own_max="$(awk '/^finished in/ { print $4 }' "$OUT/$target.max.h2load.txt")"
  half_total="$(python3 -c "print(int(float('${HALF_RPS:-0}' or 0)) if '${HALF_RPS:-}' else int(float('$own_max') / 2))")"
  # h2load's --rps timer fires at most every 10 ms, sending what is due at once: above 100 req/s a
  # process sends bursts (up to -m at a time), and the latency measures the burst, not the server.
  # PACED_RPS (100) or less per process keeps one request per tick, evenly spaced; processes start
  # at different moments, so their ticks interleave. PACED_RPS=0 keeps PROCS processes (bursts).
  if [[ "${PACED_RPS:-100}" -gt 0 ]]; then
    half_procs="$(python3 -c "import math; print(min(${PACED_MAX_PROCS:-64}, max($PROCS, math.ceil($half_total / ${PACED_RPS:-100}))))")"
  else
    half_procs="$PROCS"
  fi
  per_proc="$(python3 -c "print(max(1, int($half_total / $half_procs)))")"
  { echo "half_rps_total=$((per_proc * half_procs))"; echo "half_procs=$half_procs"; echo "half_rps_per_proc=$per_proc"; } \
    > "$OUT/$target.half.target.env"
  NPROCS="$half_procs" phase "$target" half "$admin_port" "$grpc_port" -D "$DURATION" --rps "$per_proc"

  for p in "$server_pid" "$redis_pid"; do
    if [[ -n "$p" ]]; then kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  server_pid=""; redis_pid=""
done

# shellcheck disable=SC2086
python3 "$here/quota_report.py" "$OUT" $TARGETS | tee "$OUT/results.md"
