#!/usr/bin/env bash
# Runs `./hnet spark-score` as the README gives it, in local mode, on two small text files with the
# golden 2-stage model: proves the launcher builds hnet-spark with Spark beside it and the job runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/in"
printf 'Call me Ishmael. Some years ago, never mind how long precisely.' > "$work/in/a.txt"
printf 'It was the best of times, it was the worst of times.' > "$work/in/b.txt"
out="$("$root/hnet" spark-score --model "$root/hnet-core/src/test/resources/golden/2stage" \
  --input "$work/in" --output "$work/out.parquet" --master 'local[2]' 2>"$work/err")" \
  || { cat "$work/err" >&2; exit 1; }
echo "$out"
case "$out" in
  *"scored 2 documents"*) echo "spark-check: ok" ;;
  *) echo "spark-check: unexpected output" >&2; exit 1 ;;
esac
