#!/usr/bin/env python3
"""The matrix-product anchor of issue 5, measured on this machine: numpy (OpenBLAS) sgemm GFLOP/s
on the shapes MatmulBench uses, so that Java and numpy figures can be taken in one run.

Optional tool (the build never runs it): needs python3 with numpy. Threads: OPENBLAS_NUM_THREADS.

    OPENBLAS_NUM_THREADS=2 python3 scripts/numpy-matmul.py
    python3 scripts/numpy-matmul.py 1024x1024x1024 4096x384x2048

Shapes are MxKxN: x[M×K] · w[N×K]ᵀ, as nn.Linear computes them; 2·M·N·K flops per product.
Prints the median of 7 timed products after 3 warm-ups, one line per shape.
"""
import sys
import time

import numpy as np

SHAPES = ["1024x1024x1024", "4096x256x1096", "4096x384x2048", "4096x1024x384"]


def main(argv):
    rng = np.random.default_rng(42)
    for shape in argv or SHAPES:
        m, k, n = (int(v) for v in shape.split("x"))
        x = rng.uniform(-1, 1, (m, k)).astype(np.float32)
        w = rng.uniform(-1, 1, (n, k)).astype(np.float32)
        for _ in range(3):
            x @ w.T
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            x @ w.T
            times.append(time.perf_counter() - t0)
        times.sort()
        print("numpy %-16s %7.1f GFLOP/s" % (shape, 2.0 * m * n * k / times[len(times) // 2] / 1e9))


if __name__ == "__main__":
    main(sys.argv[1:])
