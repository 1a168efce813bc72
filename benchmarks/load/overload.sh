#!/usr/bin/env bash
# The overload test of issue 6: Arbiter offered several times the checks it can decide. h2load
# offers the load open-loop (--rps); a LatencyProbe on its own connection measures what a single
# request sees: how many are admitted (decided by policy) or shed (answered by the failure policy),
# and the p99 latency of the admitted ones. The same load runs twice, with load shedding at its
# default (settings.overload.maxQueueTime 200ms) and with it off (maxQueueTime 0), so the run shows
# what shedding buys. Capacity is measured first, closed-loop, in the same run. See
# benchmarks/README.md.
#
#   benchmarks/load/overload.sh                    # about 3 minutes
#   FACTOR=3 DURATION=30 RULES=1000 benchmarks/load/overload.sh
#
# Environment (defaults in brackets):
#   RULES [1000]      the generated rule set (RuleSets), with the decision cache off
#   HEAVY [0]         instead, N rules that each scan every request header with a CEL
#                     comprehension (no fast path): a slow evaluation, so that FACTOR x capacity is
#                     within what one h2load core can offer and the backlog reaches Arbiter's queue
#   FACTOR [3]        offered load, in multiples of the measured capacity
#   DURATION [20]     seconds of each overloaded run;  WARMUP [20] seconds of closed-loop warm-up
#   OFFER_CLIENTS [20] h2load connections offering the load, OFFER_STREAMS [500] streams each
#   PROBE_RATE [200]  probe checks a second;  PROBE_DEADLINE_MS [5000] its client deadline
#   SERVER_CPUS [0] / CLIENT_CPUS [1]; SERVER_JAVA_OPTS ["-Xms512m -Xmx512m"]; OUT; BUILD (as run.sh)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=lib.sh
source "$here/lib.sh"

RULES="${RULES:-1000}"
HEAVY="${HEAVY:-0}"
FACTOR="${FACTOR:-3}"
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-20}"
OFFER_CLIENTS="${OFFER_CLIENTS:-20}"
OFFER_STREAMS="${OFFER_STREAMS:-500}"
PROBE_RATE="${PROBE_RATE:-200}"
PROBE_DEADLINE_MS="${PROBE_DEADLINE_MS:-5000}"
SERVER_JAVA_OPTS="${SERVER_JAVA_OPTS:--Xms512m -Xmx512m}"
OUT="${OUT:-$root/benchmarks/target/load/overload-$(date -u +%Y%m%dT%H%M%SZ)}"
default_pinning
for tool in java h2load python3 curl; do
  command -v "$tool" >/dev/null || { echo "overload.sh: $tool is needed" >&2; exit 1; }
done

"$root/benchmarks/build-if-needed.sh"
mkdir -p "$OUT/jars"
echo "results in $OUT" >&2
copy_jars overload.sh

java -cp "$BENCH_JAR" io.arbiter.bench.GrpcBodyFile "$OUT/check.bin" >&2
if (( HEAVY > 0 )); then
  {
    echo "rules:"
    for i in $(seq 1 "$HEAVY"); do
      echo "  - name: scan-$i"
      echo "    match: \"request.headers.exists(k, k.startsWith('x-scan-$i') && request.headers[k].size() > $i)\""
      echo "    deny: \"true\""
    done
  } > "$OUT/rules.yaml"
  RULES="heavy-$HEAVY"
else
  java -cp "$BENCH_JAR" io.arbiter.bench.RuleSets "$RULES" "$OUT/rules.yaml" >&2
fi
printf 'settings:\n  cache: {enabled: false}\n' > "$OUT/shed.yaml"
printf 'settings:\n  cache: {enabled: false}\n  overload: {maxQueueTime: 0s}\n' > "$OUT/noshed.yaml"

{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "git=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "nproc=$(nproc)"
  echo "cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
  echo "java=$(java -version 2>&1 | head -1)"
  echo "h2load=$(h2load --version 2>&1 | head -1)"
  echo "rules=$RULES factor=$FACTOR duration=$DURATION offer=${OFFER_CLIENTS}x${OFFER_STREAMS} probe_rate=$PROBE_RATE"
  echo "server_cpus=${SERVER_CPUS:-none} client_cpus=${CLIENT_CPUS:-none}"
  echo "server_java_opts=$SERVER_JAVA_OPTS"
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

h2() { # h2 PORT ARGS...: h2load against the Check method
  local port="$1"; shift
  run_pinned "$CLIENT_CPUS" h2load -d "$OUT/check.bin" -H 'content-type: application/grpc' -H 'te: trailers' "$@" \
    "http://127.0.0.1:$port/envoy.service.auth.v3.Authorization/Check"
}

start() { # start NAME CONFIG-DIR
  grpc_port="$(free_port)"; admin_port="$(free_port)"
  # shellcheck disable=SC2086
  (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -jar "$ARBITER_JAR" serve --config "$2" \
    --grpc-host 127.0.0.1 --grpc-port "$grpc_port" --admin-port "$admin_port" --http-port -1 \
    --watch-interval 1h) > "$OUT/$1.server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$admin_port/readyz" >/dev/null 2>&1 && return
    kill -0 "$server_pid" 2>/dev/null || { echo "$1 died" >&2; tail -20 "$OUT/$1.server.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "$1 not ready" >&2; exit 1
}

stop() {
  kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

watch_server() { # watch_server NAME SECONDS: /healthz and heap after GC, once a second
  local name="$1" seconds="$2"
  set +e +o pipefail # a sample that fails is recorded as such, it does not end the watch
  for _ in $(seq 1 "$seconds"); do
    local health heap
    health="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$admin_port/healthz" || echo 000)"
    heap="$(jcmd "$server_pid" GC.heap_info 2>/dev/null |
      awk '/total/ && /used/ { for (i = 1; i <= NF; i++) if ($i == "used") { v = $(i+1); sub(/K.*/, "", v); s += v } } END { print s "K" }')"
    echo "$(date +%s) healthz=$health heap_used=$heap"
    sleep 1
  done > "$OUT/$name.watch.txt"
}

counters() {
  curl -sf "http://127.0.0.1:$admin_port/metrics" | grep -E '^arbiter_(checks_total|checks_shed_total|check_failures_total)' || true
}

# Each configuration: its own server, warmed up closed-loop; capacity; then the overloaded run.
for mode in shed noshed; do
  cfg="$OUT/$mode"
  mkdir -p "$cfg"
  cp "$OUT/rules.yaml" "$cfg/rules.yaml"
  cp "$OUT/$mode.yaml" "$cfg/settings.yaml"
  echo "== $mode" >&2
  start "$mode" "$cfg"
  h2 "$grpc_port" -c 4 -m 32 -D "$WARMUP" > "$OUT/$mode.warmup.h2load.txt" 2>&1
  h2 "$grpc_port" -c 4 -m 32 -D 10 > "$OUT/$mode.capacity.h2load.txt" 2>&1
  capacity="$(awk '/^finished in/ { print int($4) }' "$OUT/$mode.capacity.h2load.txt")"
  # Unloaded latency of one request, for reference.
  run_pinned "$CLIENT_CPUS" java -cp "$BENCH_JAR" io.arbiter.bench.LatencyProbe 127.0.0.1 "$grpc_port" \
    "$PROBE_RATE" 5 "$PROBE_DEADLINE_MS" > "$OUT/$mode.idle.probe.txt" 2>&1
  offered=$(( capacity * FACTOR ))
  per_client=$(( offered / OFFER_CLIENTS ))
  echo "capacity=$capacity offered=$((per_client * OFFER_CLIENTS))" > "$OUT/$mode.load.env"
  echo "  $mode: capacity $capacity req/s, offering $((per_client * OFFER_CLIENTS)) req/s" >&2
  counters > "$OUT/$mode.counters.before"
  watch_server "$mode" "$((DURATION + 2))" &
  watcher=$!
  h2 "$grpc_port" -c "$OFFER_CLIENTS" -m "$OFFER_STREAMS" --rps "$per_client" -D "$DURATION" \
    > "$OUT/$mode.offer.h2load.txt" 2>&1 &
  offer=$!
  sleep 2 # let the queue build before probing
  run_pinned "$CLIENT_CPUS" java -cp "$BENCH_JAR" io.arbiter.bench.LatencyProbe 127.0.0.1 "$grpc_port" \
    "$PROBE_RATE" "$((DURATION - 4))" "$PROBE_DEADLINE_MS" > "$OUT/$mode.probe.txt" 2>&1
  wait "$offer" || true
  wait "$watcher" || true
  sleep 1
  counters > "$OUT/$mode.counters.after"
  kill -0 "$server_pid" 2>/dev/null && echo "alive=yes" >> "$OUT/$mode.load.env" || echo "alive=no" >> "$OUT/$mode.load.env"
  stop
done
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.env"

python3 "$here/overload_report.py" "$OUT" | tee "$OUT/results.md"
