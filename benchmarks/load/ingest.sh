#!/usr/bin/env bash
# The ingest benchmark (issue 4): Envoy access-log entries (StreamAccessLogs) ingested per
# CPU-second by Arbiter with 5 user-defined metrics and a log rule (load/ingest.yaml), against a
# bare sink that parses and discards the same stream, in one run; then the overload test: Arbiter
# with a fixed heap at twice the sustainable rate for 10 minutes. See benchmarks/README.md.
#
#   benchmarks/load/ingest.sh                        # everything: ~6 min, then 10 min of overload
#   OVERLOAD_SECONDS=60 benchmarks/load/ingest.sh    # a smoke run
#   OVERLOAD_SECONDS=0 benchmarks/load/ingest.sh     # no overload test
#   ROUNDS=6 OVERLOAD_SECONDS=0 benchmarks/load/ingest.sh   # interleaved rounds (below), ~6 min
#
# Per target (arbiter first, then bare), with the server pinned to SERVER_CPUS and the driver
# (io.arbiter.bench.AlsLoadDriver) to CLIENT_CPUS:
#   warm-up  max-mode runs of WARMUP_STEP s until two in a row agree within 10% in entries ingested
#            per second, the JIT is quiet (compiled under JIT_QUIET of the last step's wall time)
#            and WARMUP s passed (at most WARMUP_MAX s)
#   max      DURATION s as fast as HTTP/2 flow control lets the driver send
#   rate     DURATION s at a fixed offer: SUSTAIN_FRACTION of Arbiter's max-phase ingest rate (or
#            RATE), the same offer for both targets
# then the overload test on a fresh Arbiter: OVERLOAD_FACTOR x the sustainable rate for
# OVERLOAD_SECONDS, sampled every SAMPLE s. Sustainable: what the server's one core ingests at the
# cost Arbiter's rate phase measured (its entries per CPU-second; times the CPUs in SERVER_CPUS),
# or SUSTAINABLE_RATE. (Not the max phase's ingest rate: there the full queue makes GC the bottleneck.)
#
# Environment (defaults in brackets):
#   DURATION [20]  WARMUP [20]  WARMUP_STEP [5]  WARMUP_MAX [90]  JIT_QUIET [0.05] (see warm_up_until_quiet)
#   STREAMS [8]    driver streams (Envoy workers), one connection each
#   BATCH_BYTES [16384]  entries per message: until their bytes reach this (Envoy's buffer_size_bytes)
#   SUSTAIN_FRACTION [0.8]  RATE  (entries/s of the rate phase; default the fraction above)
#   OVERLOAD_SECONDS [600]  OVERLOAD_FACTOR [2]  SUSTAINABLE_RATE  SAMPLE [10]
#   SERVER_CPUS [0] / CLIENT_CPUS [1]   taskset CPU lists ("" = no pinning)
#   SERVER_JAVA_OPTS ["-Xms512m -Xmx512m"]  the same for both servers and the overload test
#   ARBITER_FLAGS [""]  extra flags for `arbiter serve` (e.g. "--accesslog-queue 100000")
#   TARGETS ["arbiter bare"]  "" runs only the overload test (then set SUSTAINABLE_RATE)
#   ROUNDS [0]  when > 0, interleaved instead of one target after the other: both servers up at
#            once (each pinned to SERVER_CPUS, idle while the other is driven), each warmed up, the
#            offer set (RATE, or SUSTAIN_FRACTION of Arbiter's max phase), then ROUNDS_WARMUP [2]
#            unmeasured and ROUNDS measured rounds in which each target gets ROUND_SECONDS [10] s
#            at that offer in turn; the verdict is the median of each round's ratio to the bare
#            run of the same round, so a slow drift in the machine cancels out
#   OUT [benchmarks/target/load/ingest-<time>]   BUILD [auto] (see benchmarks/build-if-needed.sh)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=lib.sh
source "$here/lib.sh"

DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-20}"
WARMUP_STEP="${WARMUP_STEP:-5}"
WARMUP_MAX="${WARMUP_MAX:-90}"
STREAMS="${STREAMS:-8}"
BATCH_BYTES="${BATCH_BYTES:-16384}"
SUSTAIN_FRACTION="${SUSTAIN_FRACTION:-0.8}"
RATE="${RATE:-}"
OVERLOAD_SECONDS="${OVERLOAD_SECONDS:-600}"
OVERLOAD_FACTOR="${OVERLOAD_FACTOR:-2}"
SUSTAINABLE_RATE="${SUSTAINABLE_RATE:-}"
SAMPLE="${SAMPLE:-10}"
SERVER_JAVA_OPTS="${SERVER_JAVA_OPTS:--Xms512m -Xmx512m}"
ARBITER_FLAGS="${ARBITER_FLAGS:-}"
TARGETS="${TARGETS-arbiter bare}"
ROUNDS="${ROUNDS:-0}"
ROUNDS_WARMUP="${ROUNDS_WARMUP:-2}"
ROUND_SECONDS="${ROUND_SECONDS:-10}"
OUT="${OUT:-$root/benchmarks/target/load/ingest-$(date -u +%Y%m%dT%H%M%SZ)}"
default_pinning

for tool in java jstat python3 curl; do
  command -v "$tool" >/dev/null || { echo "ingest.sh: $tool is needed" >&2; exit 1; }
done

"$root/benchmarks/build-if-needed.sh"
mkdir -p "$OUT/jars"
echo "results in $OUT" >&2
copy_jars ingest.sh
cp "$here/ingest.yaml" "$OUT/ingest.yaml"


{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "git=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "git_dirty_files=$(git -C "$root" status --porcelain 2>/dev/null | wc -l)"
  echo "nproc=$(nproc)"
  echo "cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
  echo "java=$(java -version 2>&1 | head -1)"
  echo "arbiter_jar_sha256=$(sha256sum "$ARBITER_JAR" | cut -c1-12)"
  echo "server_cpus=${SERVER_CPUS:-none}"
  echo "client_cpus=${CLIENT_CPUS:-none}"
  echo "server_java_opts=$SERVER_JAVA_OPTS"
  # shellcheck disable=SC2086
  echo "server_gc=$( (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -XX:+PrintFlagsFinal -version) 2>/dev/null |
    awk '$2 ~ /^Use(Serial|Parallel|G1|Z|Shenandoah)GC$/ && $4 == "true" { print $2 }')"
  echo "arbiter_flags=$ARBITER_FLAGS"
  echo "streams=$STREAMS"
  echo "batch_bytes=$BATCH_BYTES"
  echo "duration=$DURATION"
  echo "warmup=$WARMUP..$WARMUP_MAX (steps of $WARMUP_STEP)"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.env"

server_pid=""
all_pids=() # every server started, for cleanup (the interleaved rounds keep two up)
cleanup() {
  local pid
  for pid in "${all_pids[@]}" "$server_pid"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT

cpu_stat() { # busy (user+nice+system) and steal ticks of the server's CPU (all CPUs when not pinned)
  local pattern='^cpu '
  if [[ -n "${SERVER_CPUS:-}" && "$SERVER_CPUS" =~ ^[0-9]+$ ]]; then pattern="^cpu$SERVER_CPUS "; fi
  awk -v p="$pattern" '$0 ~ p { print $2 + $3 + $4, $9 }' /proc/stat
}
gc_seconds() { jstat -gcutil "$1" 2>/dev/null | awk 'NR == 2 { print $NF }'; } # GCT: total GC seconds
jit_seconds() { jstat -compiler "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'; } # total JIT compile seconds

counters() { # counters TARGET ADMIN_PORT: the server's own counters, Prometheus text
  if [[ "$1" == bare ]]; then
    curl -sf "http://127.0.0.1:$2/count"
  else
    curl -sf "http://127.0.0.1:$2/metrics" | grep -v '^#' || true
  fi
}
metric() { # metric FILE NAME: the value of one exact series (0 if absent)
  awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' "$1"
}

# drain ADMIN_PORT: wait until Arbiter's queue is empty, the reports counter stopped moving and the
# log handler has written (or dropped) a line for every report (it flushes every second)
drain() {
  local admin="$1" prev="" now depth logged
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$admin/metrics" > "$OUT/.drain" || true
    depth="$(metric "$OUT/.drain" arbiter_accesslog_queue_depth)"
    now="$(metric "$OUT/.drain" arbiter_reports_total)"
    logged="$(( $(metric "$OUT/.drain" 'arbiter_log_entries_total{handler="access-log"}') + $(metric "$OUT/.drain" 'arbiter_log_dropped_total{handler="access-log"}') ))"
    if [[ "$depth" == 0 && "$now" == "$prev" && "$logged" == "$now" ]]; then return 0; fi
    prev="$now"
    sleep 0.25
  done
  echo "  queue did not drain within 60 s" >&2
}

# phase TARGET NAME ADMIN_PORT GRPC_PORT driver-args...: one driver run, server CPU and counters
# around it (for Arbiter, until its queue drained), raw outputs under $OUT/TARGET.NAME.*
phase() {
  local target="$1" name="$2" admin="$3" port="$4"; shift 4
  local base="$OUT/$target.$name" t0 c0 s0 g0 t1 c1 s1 g1 t_sent
  counters "$target" "$admin" > "$base.counters.before"
  g0="$(gc_seconds "$server_pid")"; s0="$(cpu_stat)"; c0="$(cpu_ticks "$server_pid")"; t0="$(date +%s.%N)"
  local TIMEFORMAT="%U %S"
  { time (run_pinned "$CLIENT_CPUS" java -XX:+UseSerialGC -cp "$BENCH_JAR" io.arbiter.bench.AlsLoadDriver \
      --target "127.0.0.1:$port" --streams "$STREAMS" --batch-bytes "$BATCH_BYTES" "$@" \
      --out "$base.driver.env" > /dev/null 2> "$base.driver.err") ; } 2> "$base.client.time" ||
    echo "  $target $name: the driver failed: $(tail -3 "$base.driver.err")" >&2
  t_sent="$(date +%s.%N)"
  if [[ "$target" != bare ]]; then drain "$admin"; fi
  t1="$(date +%s.%N)"; c1="$(cpu_ticks "$server_pid")"; s1="$(cpu_stat)"; g1="$(gc_seconds "$server_pid")"
  counters "$target" "$admin" > "$base.counters.after"
  {
    echo "cpu_ticks=$((c1 - c0))"
    echo "clk_tck=$(getconf CLK_TCK)"
    echo "wall_seconds=$(python3 -c "print(round($t1 - $t0, 3))")"
    echo "drain_seconds=$(python3 -c "print(round($t1 - $t_sent, 3))")"
    echo "gc_seconds=$(python3 -c "print(round(${g1:-0} - ${g0:-0}, 3))")"
    echo "server_cpu_busy_ticks=$(( ${s1% *} - ${s0% *} ))"
    echo "server_cpu_steal_ticks=$(( ${s1#* } - ${s0#* } ))"
    echo "client_cpu_seconds=$(awk '{ print $1 + $2 }' "$base.client.time")"
    echo "driver_args=$*"
    echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$base.phase.env"
  python3 "$here/ingest_report.py" --line "$OUT" "$target" "$name" >&2 || true
}

ingest_rate() { # ingest_rate TARGET NAME: entries ingested per wall second of the phase
  python3 "$here/ingest_report.py" --rate "$OUT" "$1" "$2"
}

# Steady: two warm-up steps in a row agree within 10% in entries ingested per second, AND the JIT
# compiled for less than JIT_QUIET (5%) of the last step's wall time. (Ingest is far more code
# than the bare sink's parse: after the rates agreed, C2 could still take 3 us per entry, a quarter
# of the figure being measured.)
warm_up_until_quiet() {
  local target="$1" admin="$2" port="$3" elapsed=0 i=0 rate prev="" j0 j1
  while :; do
    i=$((i + 1))
    j0="$(jit_seconds "$server_pid")"
    phase "$target" "warmup$i" "$admin" "$port" --duration "$WARMUP_STEP"
    j1="$(jit_seconds "$server_pid")"
    elapsed=$((elapsed + WARMUP_STEP))
    rate="$(ingest_rate "$target" "warmup$i")"
    if (( elapsed >= WARMUP )) && [[ -n "$prev" && -n "$rate" ]] &&
        python3 -c "import sys; sys.exit(0 if abs($rate - $prev) <= 0.1 * $prev else 1)" &&
        python3 -c "import sys; sys.exit(0 if float('${j1:-0}' or 0) - float('${j0:-0}' or 0) <= ${JIT_QUIET:-0.05} * $WARMUP_STEP else 1)"; then
      echo "warmup_seconds=$elapsed" >> "$OUT/$target.start.env"; return
    fi
    if (( elapsed >= WARMUP_MAX )); then
      echo "  $target: NOT steady after ${elapsed}s of warm-up; measuring anyway" >&2
      echo "warmup_seconds=$elapsed (not steady)" >> "$OUT/$target.start.env"; return
    fi
    prev="$rate"
  done
}

start_server() { # start_server TARGET GRPC_PORT ADMIN_PORT LOGNAME: sets server_pid, waits until ready
  local target="$1" grpc_port="$2" admin_port="$3" log="$4" ready_url
  # shellcheck disable=SC2086
  if [[ "$target" == bare ]]; then
    (pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -Xlog:gc:file="$OUT/$log.gc.log" -cp "$BENCH_JAR" \
      io.arbiter.bench.BareAccessLogSink --port "$grpc_port" --admin-port "$admin_port") > "$OUT/$log.server.log" 2>&1 &
    ready_url="http://127.0.0.1:$admin_port/count"
  else
    mkdir -p "$OUT/$log.config"
    cp "$OUT/ingest.yaml" "$OUT/$log.config/ingest.yaml"
    (cd "$OUT/$log.config" && pin "$SERVER_CPUS" java $SERVER_JAVA_OPTS -Xlog:gc:file="$OUT/$log.gc.log" \
      -jar "$ARBITER_JAR" serve --config "$OUT/$log.config/ingest.yaml" --grpc-host 127.0.0.1 \
      --grpc-port "$grpc_port" --admin-port "$admin_port" --watch-interval 1h --http-port -1 $ARBITER_FLAGS) \
      > "$OUT/$log.server.log" 2>&1 &
    ready_url="http://127.0.0.1:$admin_port/readyz"
  fi
  server_pid=$!
  all_pids+=("$server_pid")
  for _ in $(seq 1 120); do
    curl -sf "$ready_url" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "$target died:" >&2; tail -20 "$OUT/$log.server.log" >&2; exit 1; }
    sleep 0.5
  done
  curl -sf "$ready_url" >/dev/null || { echo "$target not ready after 60s" >&2; exit 1; }
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" > "$OUT/$log.start.env"
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

if (( ROUNDS > 0 )); then
  declare -A pid_of grpc_of admin_of
  for target in $TARGETS; do
    grpc_of[$target]="$(free_port)"; admin_of[$target]="$(free_port)"
    echo "== $target (grpc :${grpc_of[$target]}, admin :${admin_of[$target]}), interleaved" >&2
    start_server "$target" "${grpc_of[$target]}" "${admin_of[$target]}" "$target"
    pid_of[$target]="$server_pid"
  done
  for target in $TARGETS; do
    server_pid="${pid_of[$target]}"
    warm_up_until_quiet "$target" "${admin_of[$target]}" "${grpc_of[$target]}"
  done
  if [[ -z "$RATE" ]]; then
    server_pid="${pid_of[arbiter]}"
    phase arbiter max "${admin_of[arbiter]}" "${grpc_of[arbiter]}" --duration "$DURATION"
    RATE="$(python3 -c "print(int($(ingest_rate arbiter max) * $SUSTAIN_FRACTION))")"
  fi
  echo "rate=$RATE" > "$OUT/rate.env"
  printf "rounds=%s\nrounds_warmup=%s\nround_seconds=%s\n" "$ROUNDS" "$ROUNDS_WARMUP" "$ROUND_SECONDS" >> "$OUT/rate.env"
  for ((round = 1 - ROUNDS_WARMUP; round <= ROUNDS; round++)); do
    name="r$round"; (( round < 1 )) && name="rw$((round + ROUNDS_WARMUP))"
    for target in $TARGETS; do
      server_pid="${pid_of[$target]}"
      phase "$target" "$name" "${admin_of[$target]}" "${grpc_of[$target]}" --duration "$ROUND_SECONDS" --rate "$RATE"
    done
  done
  python3 "$here/ingest_report.py" --interleaved "$OUT" | tee "$OUT/results.md" || true
  for target in $TARGETS; do server_pid="${pid_of[$target]}"; stop_server; done
  TARGETS="" # done: no sequential runs
fi

for target in $TARGETS; do
  grpc_port="$(free_port)"; admin_port="$(free_port)"
  echo "== $target (grpc :$grpc_port, admin :$admin_port)" >&2
  start_server "$target" "$grpc_port" "$admin_port" "$target"
  warm_up_until_quiet "$target" "$admin_port" "$grpc_port"
  phase "$target" max "$admin_port" "$grpc_port" --duration "$DURATION"
  if [[ -z "$RATE" ]]; then
    if [[ -f "$OUT/arbiter.max.phase.env" ]]; then
      RATE="$(python3 -c "print(int($(ingest_rate arbiter max) * $SUSTAIN_FRACTION))")"
    else
      RATE="$(python3 -c "print(int($(ingest_rate "$target" max) * $SUSTAIN_FRACTION))")"
    fi
  fi
  echo "rate=$RATE" > "$OUT/rate.env"
  phase "$target" rate "$admin_port" "$grpc_port" --duration "$DURATION" --rate "$RATE"
  stop_server
done

if [[ -n "$TARGETS" ]]; then
  python3 "$here/ingest_report.py" "$OUT" | tee "$OUT/results.md" || true
fi

if (( OVERLOAD_SECONDS > 0 )); then
  sustainable="${SUSTAINABLE_RATE:-}"
  if [[ -z "$sustainable" ]]; then
    cores=1
    if [[ -n "$SERVER_CPUS" ]]; then cores="$(run_pinned "$SERVER_CPUS" nproc)"; else cores="$(nproc)"; fi
    sustainable="$(python3 "$here/ingest_report.py" --per-cpu "$OUT" arbiter rate)"
    [[ -n "$sustainable" ]] || { echo "no arbiter rate phase: set SUSTAINABLE_RATE" >&2; exit 1; }
    sustainable="$((sustainable * cores))"
  fi
  offer="$(python3 -c "print(int($sustainable * $OVERLOAD_FACTOR))")"
  grpc_port="$(free_port)"; admin_port="$(free_port)"
  echo "== overload: ${OVERLOAD_FACTOR}x $sustainable = $offer entries/s for ${OVERLOAD_SECONDS}s (grpc :$grpc_port, admin :$admin_port)" >&2
  start_server arbiter "$grpc_port" "$admin_port" overload
  { echo "sustainable_rate=$sustainable"; echo "offered_rate=$offer"; echo "seconds=$OVERLOAD_SECONDS"
    echo "factor=$OVERLOAD_FACTOR"; } > "$OUT/overload.env"
  samples="$OUT/overload.samples.tsv"
  printf 't\thealthz\tcpu_ticks\treports\tdispatched\tentries\tdropped_queue_full\tqueue_depth\tlog_written\tlog_dropped\theap_used_kb\told_used_kb\tgc_seconds\tloadavg\n' > "$samples"
  c_start="$(cpu_ticks "$server_pid")"
  run_pinned "$CLIENT_CPUS" java -XX:+UseSerialGC -cp "$BENCH_JAR" io.arbiter.bench.AlsLoadDriver \
    --target "127.0.0.1:$grpc_port" --streams "$STREAMS" --batch-bytes "$BATCH_BYTES" \
    --duration "$OVERLOAD_SECONDS" --rate "$offer" --progress "$SAMPLE" --out "$OUT/overload.driver.env" \
    > /dev/null 2> "$OUT/overload.driver.err" &
  driver_pid=$!
  t0="$(date +%s)"
  while kill -0 "$driver_pid" 2>/dev/null; do
    sleep "$SAMPLE"
    code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$admin_port/healthz" || true)"
    curl -sf -m 5 "http://127.0.0.1:$admin_port/metrics" > "$OUT/.sample" || true
    # jstat -gc: S0U S1U EU OU are columns 3 4 6 8 (KB); GCT is the last
    heap="$(jstat -gc "$server_pid" 2>/dev/null | awk 'NR == 2 { printf "%d\t%d\t%s", $3 + $4 + $6 + $8, $8, $NF }')"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(( $(date +%s) - t0 ))" "$code" \
      "$(( $(cpu_ticks "$server_pid" 2>/dev/null || echo 0) - c_start ))" \
      "$(metric "$OUT/.sample" arbiter_reports_total)" "$(metric "$OUT/.sample" arbiter_accesslog_dispatched_total)" \
      "$(( $(metric "$OUT/.sample" 'arbiter_accesslog_entries_total{protocol="http"}') + $(metric "$OUT/.sample" 'arbiter_accesslog_entries_total{protocol="grpc"}') ))" \
      "$(metric "$OUT/.sample" 'arbiter_accesslog_dropped_total{reason="queue_full"}')" \
      "$(metric "$OUT/.sample" arbiter_accesslog_queue_depth)" \
      "$(metric "$OUT/.sample" 'arbiter_log_entries_total{handler="access-log"}')" \
      "$(metric "$OUT/.sample" 'arbiter_log_dropped_total{handler="access-log"}')" \
      "${heap:-0	0	0}" "$(cut -d' ' -f1 /proc/loadavg)" >> "$samples"
    kill -0 "$server_pid" 2>/dev/null || { echo "  Arbiter died during the overload test" >&2; break; }
  done
  wait "$driver_pid" || echo "  the overload driver failed: $(tail -3 "$OUT/overload.driver.err")" >&2
  drain "$admin_port"
  counters arbiter "$admin_port" > "$OUT/overload.counters.after" || true
  code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$admin_port/healthz" || true)"
  echo "healthz_after=$code" >> "$OUT/overload.env"
  echo "alive_after=$(kill -0 "$server_pid" 2>/dev/null && echo yes || echo no)" >> "$OUT/overload.env"
  echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/overload.env"
  stop_server || true
  python3 "$here/ingest_report.py" --overload "$OUT" | tee "$OUT/overload.md"
fi
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.env"
