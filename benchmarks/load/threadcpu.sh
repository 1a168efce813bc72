#!/usr/bin/env bash
# Where Arbiter's CPU goes per ShouldRateLimit call at a moderate, steady rate, by thread: the
# method behind BENCHMARKS.md's "a call costs five times more CPU when calls arrive one by one"
# and the --inline-calls figures. See benchmarks/README.md.
#
#   benchmarks/load/threadcpu.sh                                   # memquota, pool, 3,000 calls/s
#   TARGET=redisquota benchmarks/load/threadcpu.sh                 # a redis-server of its own
#   ARBITER_FLAGS="--inline-calls true" benchmarks/load/threadcpu.sh
#
# Arbiter (pinned to SERVER_CPUS) gets RlsLoadDriver (open loop, CLIENT_CPUS, nice 10) at RATE
# calls/s for WARMUP s (the JIT settles: at 3,000/s it compiles for about 40 s), then again for
# DURATION s, measured: every thread's utime+stime from /proc/PID/task/*/stat before and after,
# summed by thread name (digits dropped), divided by the calls answered.
#
# Environment (defaults in brackets): TARGET [memquota] (or redisquota)  RATE [3000]
#   WARMUP [45]  DURATION [10]  ARBITER_FLAGS [""]  SERVER_CPUS [0]  CLIENT_CPUS [1]
#   REDIS_CPUS [$CLIENT_CPUS]  OUT [benchmarks/target/load/threadcpu-<time>]  BUILD [auto]
#   ARBITER_JAR_FROM  another build's arbiter.jar to run instead of server/target/arbiter.jar
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=lib.sh
source "$here/lib.sh"

TARGET="${TARGET:-memquota}"
RATE="${RATE:-3000}"
WARMUP="${WARMUP:-45}"
DURATION="${DURATION:-10}"
ARBITER_FLAGS="${ARBITER_FLAGS:-}"
SERVER_CPUS="${SERVER_CPUS-0}"
CLIENT_CPUS="${CLIENT_CPUS-1}"
REDIS_CPUS="${REDIS_CPUS-$CLIENT_CPUS}"
OUT="${OUT:-$root/benchmarks/target/load/threadcpu-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
"$root/benchmarks/build-if-needed.sh"
copy_jars threadcpu.sh

server_pid="" redis_pid=""
cleanup() { # under set -e a failing wait (a killed process's status) would end this early
  set +e
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  if [[ -n "$redis_pid" ]]; then kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; fi
  return 0
}
trap cleanup EXIT

case "$TARGET" in
  memquota) java -cp "$BENCH_JAR" io.arbiter.bench.RateLimitBodyFiles --config memquota "$OUT/config.yaml" ;;
  redisquota)
    redis_port="$(free_port)"
    (pin "$REDIS_CPUS" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no) \
      > "$OUT/redis.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break; sleep 0.1; done
    java -cp "$BENCH_JAR" io.arbiter.bench.RateLimitBodyFiles --config redisquota \
      "redis://127.0.0.1:$redis_port" "$OUT/config.yaml" ;;
  *) echo "TARGET must be memquota or redisquota" >&2; exit 2 ;;
esac

grpc_port="$(free_port)" admin_port="$(free_port)"
# shellcheck disable=SC2086
(pin "$SERVER_CPUS" java -Xms512m -Xmx512m -jar "$ARBITER_JAR" serve --config "$OUT/config.yaml" \
  --grpc-host 127.0.0.1 --grpc-port "$grpc_port" --admin-port "$admin_port" --watch-interval 1h \
  --http-port -1 $ARBITER_FLAGS) > "$OUT/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$admin_port/readyz" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$admin_port/readyz" >/dev/null || { echo "arbiter did not become ready" >&2; tail -5 "$OUT/server.log" >&2; exit 1; }

driver() { # driver SECONDS NAME
  run_pinned "$CLIENT_CPUS" nice -n 10 java -Xms256m -Xmx256m -XX:+UseSerialGC -cp "$BENCH_JAR" \
    io.arbiter.bench.RlsLoadDriver --target "127.0.0.1:$grpc_port" --rate "$RATE" --connections 16 \
    --users 16 --warmup 0 --duration "$1" --out "$OUT/$2" > "$OUT/$2.driver.txt" 2>&1
}
threads() { # CPU ticks per thread name (digits dropped: pool threads add up)
  for t in /proc/"$server_pid"/task/*; do
    echo "$(tr -d '0-9 ' < "$t/comm") $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$t/stat")"
  done | awk '{ a[$1] += $2 } END { for (k in a) print k, a[k] }' | sort
}

echo "$TARGET at $RATE calls/s, flags '${ARBITER_FLAGS}': ${WARMUP}s warm-up, then ${DURATION}s measured" >&2
driver "$WARMUP" warmup || true   # a cold server may stall the first seconds: warm-up only
threads > "$OUT/threads.before"
status=0
driver "$DURATION" measured || status=$?
threads > "$OUT/threads.after"
answered="$(awk -F= '/^answered=/ { print $2 }' "$OUT/measured.driver.env")"
ok="$(awk -F= '/^ok=/ { print $2 }' "$OUT/measured.driver.env")"
tck="$(getconf CLK_TCK)"
{
  echo "## Server CPU per call by thread: $TARGET, $RATE calls/s, flags '${ARBITER_FLAGS}'"
  echo
  echo "$(date -u +%FT%TZ), git $(git -C "$root" rev-parse --short HEAD)${ARBITER_JAR_FROM:+ (arbiter.jar: $ARBITER_JAR_FROM)}; $answered calls answered ($ok OK) in ${DURATION}s after ${WARMUP}s of warm-up; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  if [[ "$status" != 0 ]]; then
    echo "**NOT CLEAN**: the driver skipped calls, saw errors or left calls unanswered in the measured window (see measured.driver.env): compare nothing."
    echo
  fi
  echo "| thread | CPU s | µs per call |"
  echo "| --- | ---: | ---: |"
  join "$OUT/threads.before" "$OUT/threads.after" | awk -v n="$answered" -v tck="$tck" '
    { d = ($3 - $2) / tck; total += d; if ($1 !~ /Compiler/) work += d
      if (d > 0) printf "| %s | %.2f | %.1f |\n", $1, d, d / n * 1e6 }
    END { printf "| **all but the JIT compilers** | %.2f | **%.1f** |\n", work, work / n * 1e6
          printf "| all | %.2f | %.1f |\n", total, total / n * 1e6 }' | sort -t'|' -k4 -nr
} | tee "$OUT/results.md"
