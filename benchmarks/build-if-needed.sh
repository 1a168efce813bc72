#!/usr/bin/env bash
# Builds server/target/arbiter.jar and benchmarks/target/benchmarks.jar when needed, from the
# current sources of every module they contain (-am), so engine changes are always measured.
#   BUILD=auto    (default) build when a jar is missing or any pom.xml or src/main file is newer
#   BUILD=always  always build;  BUILD=never  use the jars as they are (fail if missing)
#   MVN           the Maven command (default: ./mvnw);  MVN_ARGS  extra arguments (e.g. -o)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jars=(server/target/arbiter.jar benchmarks/target/benchmarks.jar)
mode="${BUILD:-auto}"
need=""
for j in "${jars[@]}"; do
  [[ -f "$j" ]] || need="missing $j"
done
if [[ "$mode" == never ]]; then
  [[ -z "$need" ]] || { echo "build-if-needed: $need and BUILD=never" >&2; exit 1; }
  exit 0
fi
if [[ -z "$need" && "$mode" == auto ]]; then
  oldest="${jars[0]}"
  [[ "${jars[1]}" -ot "$oldest" ]] && oldest="${jars[1]}"
  newer="$(find pom.xml */pom.xml */src/main -type f -newer "$oldest" 2>/dev/null | head -1 || true)"
  [[ -n "$newer" ]] && need="$newer is newer than $oldest"
fi
if [[ -n "$need" || "$mode" == always ]]; then
  echo "building (${need:-BUILD=always}): ${MVN:-./mvnw} -B -q ${MVN_ARGS:-} -pl benchmarks -am package -DskipTests" >&2
  # shellcheck disable=SC2086
  ${MVN:-./mvnw} -B -q ${MVN_ARGS:-} -pl benchmarks -am package -DskipTests >&2
  touch "${jars[@]}"
fi
