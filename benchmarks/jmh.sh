#!/usr/bin/env bash
# Runs the JMH suite (or the benchmarks its arguments select) with the GC profiler, and prints a
# markdown table of time and allocation per operation. See benchmarks/README.md.
#
#   benchmarks/jmh.sh                                  # the whole suite, about 4 minutes
#   benchmarks/jmh.sh EngineBenchmark -p rules=1000    # any JMH arguments
#   JMH_CPUS=1 benchmarks/jmh.sh                       # pin the benchmark JVMs (taskset CPU list)
#   OUT=/tmp/jmh BUILD=never benchmarks/jmh.sh         # see build-if-needed.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
"$here/build-if-needed.sh"
OUT="${OUT:-$root/benchmarks/target/jmh/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
cp benchmarks/target/benchmarks.jar "$OUT/benchmarks.jar"
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "git=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "git_dirty_files=$(git status --porcelain 2>/dev/null | wc -l)"
  echo "nproc=$(nproc)"
  echo "cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
  echo "java=$(java -version 2>&1 | head -1)"
  echo "jmh_cpus=${JMH_CPUS:-none}"
  echo "args=$*"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.env"
cmd=(java -jar "$OUT/benchmarks.jar" -prof gc -rf json -rff "$OUT/results.json" "$@")
[[ -n "${JMH_CPUS:-}" ]] && cmd=(taskset -c "$JMH_CPUS" "${cmd[@]}")
echo "${cmd[*]}" >&2
"${cmd[@]}" | tee "$OUT/jmh.txt" >&2
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.env"
python3 "$here/jmh_report.py" "$OUT" | tee "$OUT/results.md"
