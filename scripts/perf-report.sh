#!/usr/bin/env bash
# Every figure of the README's performance section, in one run (the machine is shared: only
# figures from the same run are compared). About 14 minutes on 2 cores.
#
#   scripts/perf-report.sh [REPEATS]        (default 5)
#
# Needs the build (./hnet builds it on first use) and, for the numpy anchor, python3 with numpy
# (skipped with a note when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS="${1:-5}"
CFG=configs/bench
. scripts/jdk25.sh
hnet_find_jdk25
JAVA="$JAVA_HOME/bin/java"
./hnet --version >/dev/null # builds if needed
mvn -B -q -ntp package -DskipTests -pl hnet-bench -am # the JMH jar, current with the sources

echo "== $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores," \
  "$(grep -qw avx512f /proc/cpuinfo && echo AVX-512 || echo 'no AVX-512')"
echo "== hnet bench small-1stage, 2 threads (with the kernel profile of each measurement)"
./hnet bench --config "$CFG/small-1stage.json" --repeats "$REPEATS" --threads 2 --profile
echo "== hnet bench small-1stage, 1 thread"
./hnet bench --config "$CFG/small-1stage.json" --repeats "$REPEATS" --threads 1 --profile
echo "== hnet bench small-2stage, 2 threads"
./hnet bench --config "$CFG/small-2stage.json" --repeats "$REPEATS" --threads 2
echo "== matrix products: numpy (OpenBLAS) then hnet (JMH), 2 threads"
if python3 -c 'import numpy' 2>/dev/null; then
  OPENBLAS_NUM_THREADS=2 python3 scripts/numpy-matmul.py
else
  echo "numpy not installed: no OpenBLAS anchor in this run"
fi
"$JAVA" --add-modules=jdk.incubator.vector -jar hnet-bench/target/benchmarks.jar 'MatmulBench.linear$' \
  -p shape=1024x1024x1024,4096x256x1096,4096x384x2048,4096x1024x384 -p threads=2 \
  -f 1 -wi 2 -i 5 -w 1 -r 1 2>/dev/null | grep -E '^(Benchmark|MatmulBench)' \
  | awk 'NR==1{print; next} {split($2,s,"x"); printf "%s  %.1f GFLOP/s\n", $0, 2*s[1]*s[2]*s[3]/($6*1e3)}'
echo "== every kernel: JMH on 1 and 2 threads (org.hnet.bench.KernelReport --quick)"
"$JAVA" --add-modules=jdk.incubator.vector -cp hnet-bench/target/benchmarks.jar org.hnet.bench.KernelReport --quick \
  2>/dev/null | grep '^|'
