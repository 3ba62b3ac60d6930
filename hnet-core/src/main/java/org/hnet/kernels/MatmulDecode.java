package org.hnet.kernels;

// The decode path of Matmul.linear (M <= Matmul.DECODE_ROWS): dot products that stream each row of
// w once. Dimension legend and determinism as in Matmul: y[M×N] = x[M×K]·w[N×K]ᵀ + bias[N].

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

final class MatmulDecode {
  private MatmulDecode() {}

  private static final jdk.incubator.vector.VectorSpecies<Float> S = MatmulGemm.S;
  private static final int VL = MatmulGemm.VL;

  // ---------------------------------------------------------------------------------------------
  // Decode path: y[m, n] = bias[n] + dot(x[m, :], w[n, :]). Per element: VL-lane fma accumulators
  // over the vector part of K, a fixed-order pairwise lane sum, then the scalar tail in order, then
  // the bias. Identical for every grouping of rows, hence for every thread split.

  /**
   * A decode product splits the rows of w over threads once each thread streams at least this many
   * bytes of w. Matrix-vector products are bound by memory bandwidth, not flops: a batch-1 product
   * of a 1100×256 weight is only 0.6 MFLOP (under {@link MatmulGemm#serialFlops}) but streams 1.1
   * MB, which takes far longer than the ~10 µs pool hand-off.
   */
  static long splitBytes = 128 << 10;

  static void decode(
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] w,
      int wOff,
      float[] bias,
      int biasOff,
      int M,
      int N,
      int K) {
    if (M == 0 || N == 0) return;
    // Work items are blocks of 4 rows of w (the last one possibly shorter), so that a range splits
    // into 4 runs of whole rows (decodeBlocks); the split does not change any output's operation
    // sequence anyway, so the threads work in chunks of 16 blocks (4 runs of 16 rows) and one that
    // finishes its part early takes chunks from the end of the other's (Parallel.forRangeStealing).
    int blocks = (N + 3) / 4;
    long flops = 2L * M * N * K;
    long serial = MatmulGemm.serialFlops;
    long blockBytes = 16L * Math.max(1, K);
    int grainFlops =
        flops < serial
            ? blocks
            : (int) Math.max(1, Math.min(blocks, serial / 256 / Math.max(1, K)));
    int grainBytes =
        (int) Math.max(1, Math.min(blocks, (splitBytes + blockBytes - 1) / blockBytes));
    int grain = Math.min(grainFlops, grainBytes);
    if (Parallel.serial(blocks, grain))
      decodeBlocks(y, yOff, x, xOff, w, wOff, bias, biasOff, M, N, K, 0, blocks);
    else
      Parallel.forRangeStealing(
          blocks,
          grain,
          16,
          (b0, b1) -> decodeBlocks(y, yOff, x, xOff, w, wOff, bias, biasOff, M, N, K, b0, b1));
  }

  /** Blocks [b0, b1) of 4 rows of w of {@link #decode}. */
  private static void decodeBlocks(
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] w,
      int wOff,
      float[] bias,
      int biasOff,
      int M,
      int N,
      int K,
      int b0,
      int b1) {
    float[] tmp = Lanes.local(); // this thread's lane buffer
    int n = 4 * b0, n1 = Math.min(N, 4 * b1);
    if (VL == 8) {
      // Lane sums by transposition (see sum8x8): 8 accumulators make one vector of 8 sums.
      if (M == 1) {
        for (; n + 8 <= n1; n += 8) dot1x8(tmp, y, yOff, x, xOff, w, wOff, bias, biasOff, n, K);
        for (; n + 4 <= n1; n += 4)
          dot4x1t(tmp, y, yOff, x, xOff, w, wOff, bias, biasOff, 0, 1, n, N, K);
      } else if (M == 8) {
        // Each row of w once against the 8 rows of x (in L1): the weights stream in one pass with
        // the arithmetic. Pairs of rows of x against 4 rows of w read those rows from memory in the
        // first of 4 passes and from L1 in the others, leaving memory idle meanwhile: batch-8
        // products streamed 8–9 GB/s.
        for (; n < n1; n++) dot8x1(tmp, y, yOff, x, xOff, w, wOff, bias, biasOff, n, N, K);
      } else {
        // Pairs of rows of x against 4 rows of w: 2 + 4 loads per 8 fmas; the 4 rows of w come from
        // memory for the first pair and from L1 for the others.
        for (; n + 4 <= n1; n += 4) {
          int m = 0;
          for (; m + 2 <= M; m += 2)
            dot4x1t(tmp, y, yOff, x, xOff, w, wOff, bias, biasOff, m, 2, n, N, K);
          if (m < M) dot4x1t(tmp, y, yOff, x, xOff, w, wOff, bias, biasOff, m, 1, n, N, K);
        }
      }
    } else {
      // Each pass reads one row from each of 4 runs of consecutive rows (rows i, i + q, i + 2q,
      // i + 3q of this part), as the compact formats do (MatmulCompact): 4 long streams rather than
      // 4 streams one row long that the prefetcher keeps starting over. Same process, two threads,
      // alternating with 4 adjacent rows per pass: 1024×1024 float32 weights from memory, batch 1
      // 28.3–29.3 -> 39.3–41.3 GB/s (one row at a time: 34.4–37.6), in cache 66–123 -> 109–133
      // (one row: 82–94); 1536×1536 from memory, batch 8 16.1 -> 18.2, batch 4 19.8 -> 23.5,
      // batch 2 25.6 -> 30.3 (docs/performance-log.md, 2026-12-07, sixth session). Rows past 4
      // whole runs go alone.
      int q = (n1 - n) / 4;
      for (int i = 0; i < q; i++) {
        int r = n + i, m = 0;
        // At 16 lanes, 4 rows of x per pass while there are 4 or more (16 accumulators: 8 loads per
        // 16 fmas; one Zen 4 core, in cache, 128 x 1,536, 4 rows of x 61-66 -> 99-105 GFLOP/s, 8
        // rows 71-79 -> 99-103); then 3 rows (12 accumulators: 7 loads per 12 fmas instead of 6
        // per 8), then pairs, then a single row. The 4 rows of w come from memory in the first
        // pass and from L1 in the others.
        if (VL == 16)
          for (; m + 4 <= M; m += 4)
            MatmulDecodeRows.dot4x4(tmp, y, yOff, x, xOff, w, wOff, bias, biasOff, m, r, q, N, K);
        for (; m + 3 <= M; m += 3)
          MatmulDecodeRows.dot3x4(tmp, y, yOff, x, xOff, w, wOff, bias, biasOff, m, r, q, N, K);
        for (; m + 2 <= M; m += 2)
          MatmulDecodeRows.dot2x4(tmp, y, yOff, x, xOff, w, wOff, bias, biasOff, m, r, q, N, K);
        if (m < M) dot1x4(tmp, y, yOff, x, xOff, w, wOff, bias, biasOff, m, r, q, N, K);
      }
      n += 4 * q;
    }
    for (; n < n1; n++) {
      for (int m = 0; m < M; m++) dot1x1(tmp, y, yOff, x, xOff, w, wOff, bias, biasOff, m, n, N, K);
    }
  }

  // Lane sums of 8 accumulators at once (VL == 8), in the order of finish: level h = 4, 2, 1 adds
  // lane i + h to lane i. At level h a pair (p, q) becomes p.blend(q, Hh) + q.blend(p, Hh)
  // rearranged by i ^ h: lanes with bit h clear hold p_i + p_{i+h}, the others q_{i−h} + q_i
  // (float addition commutes exactly). After the three levels lane i holds the sum of input
  // rev(i) (bit reversal: 0 4 2 6 1 5 3 7), so the kernels pass their accumulators in that order.
  // The code is written out in each kernel: a helper taking vectors would box them whenever C2
  // does not inline it, which depends on the profile (measured: 4× slower in some runs).
  private static final VectorMask<Float> H4 = VL == 8 ? VectorMask.fromLong(S, 0xF0) : null;
  private static final VectorMask<Float> H2 = VL == 8 ? VectorMask.fromLong(S, 0xCC) : null;
  private static final VectorMask<Float> H1 = VL == 8 ? VectorMask.fromLong(S, 0xAA) : null;
  private static final VectorShuffle<Float> X4 =
      VL == 8 ? VectorShuffle.fromValues(S, 4, 5, 6, 7, 0, 1, 2, 3) : null;
  private static final VectorShuffle<Float> X2 =
      VL == 8 ? VectorShuffle.fromValues(S, 2, 3, 0, 1, 6, 7, 4, 5) : null;
  private static final VectorShuffle<Float> X1 =
      VL == 8 ? VectorShuffle.fromValues(S, 1, 0, 3, 2, 5, 4, 7, 6) : null;

  /** y[n .. n+8) of row 0 (M = 1) against 8 rows of w; VL == 8. */
  private static void dot1x8(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] w,
      int wOff,
      float[] bias,
      int bo,
      int n,
      int K) {
    int w0 = wOff + n * K,
        w1 = w0 + K,
        w2 = w1 + K,
        w3 = w2 + K,
        w4 = w3 + K,
        w5 = w4 + K,
        w6 = w5 + K,
        w7 = w6 + K;
    int kb = S.loopBound(K), y0 = yOff + n;
    if (kb == K) {
      dots8(x, xOff, w, w0, w1, w2, w3, w4, w5, w6, w7, kb, y, y0);
      if (bias != null)
        FloatVector.fromArray(S, bias, bo + n)
            .add(FloatVector.fromArray(S, y, y0))
            .intoArray(y, y0);
    } else {
      dots8(x, xOff, w, w0, w1, w2, w3, w4, w5, w6, w7, kb, tmp, 0);
      for (int j = 0; j < 8; j++)
        y[y0 + j] = tail(tmp[j], x, xOff, w, w0 + j * K, kb, K, bias, bo, n + j);
    }
  }

  /**
   * y[m, n] for the 8 rows m of x (M = 8) against row n of w; VL == 8: {@link #dots8} with w's row
   * as the shared operand, so every element gets the fma chain and lane sum of {@link #dot1x8}.
   */
  private static void dot8x1(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] w,
      int wOff,
      float[] bias,
      int bo,
      int n,
      int N,
      int K) {
    int wr = wOff + n * K, kb = S.loopBound(K);
    dots8(
        w,
        wr,
        x,
        xOff,
        xOff + K,
        xOff + 2 * K,
        xOff + 3 * K,
        xOff + 4 * K,
        xOff + 5 * K,
        xOff + 6 * K,
        xOff + 7 * K,
        kb,
        tmp,
        0);
    for (int m = 0; m < 8; m++)
      y[yOff + m * N + n] = tail(tmp[m], x, xOff + m * K, w, wr, kb, K, bias, bo, n);
  }

  /**
   * Eight dot products at once (VL == 8): out[oo + j] = x[xo, xo+kb) · w[wj, wj+kb) for j < 8 (kb a
   * multiple of 8), as lane-wise fma chains then the transposition sum above. Used by the decode
   * products and the decode attention's scores. Vectors neither come in nor go out, so nothing is
   * boxed when C2 does not inline it.
   */
  static void dots8(
      float[] x,
      int xo,
      float[] w,
      int w0,
      int w1,
      int w2,
      int w3,
      int w4,
      int w5,
      int w6,
      int w7,
      int kb,
      float[] out,
      int oo) {
    FloatVector a0 = FloatVector.zero(S),
        a1 = a0,
        a2 = a0,
        a3 = a0,
        a4 = a0,
        a5 = a0,
        a6 = a0,
        a7 = a0;
    for (int k = 0; k < kb; k += VL) {
      FloatVector u = FloatVector.fromArray(S, x, xo + k);
      a0 = u.fma(FloatVector.fromArray(S, w, w0 + k), a0);
      a1 = u.fma(FloatVector.fromArray(S, w, w1 + k), a1);
      a2 = u.fma(FloatVector.fromArray(S, w, w2 + k), a2);
      a3 = u.fma(FloatVector.fromArray(S, w, w3 + k), a3);
      a4 = u.fma(FloatVector.fromArray(S, w, w4 + k), a4);
      a5 = u.fma(FloatVector.fromArray(S, w, w5 + k), a5);
      a6 = u.fma(FloatVector.fromArray(S, w, w6 + k), a6);
      a7 = u.fma(FloatVector.fromArray(S, w, w7 + k), a7);
    }
    // inputs in bit-reversed order a0 a4 a2 a6 a1 a5 a3 a7: level 4 pairs (a0,a4) (a2,a6) (a1,a5)
    // (a3,a7)
    FloatVector p0 = a0.blend(a4, H4).add(a4.blend(a0, H4).rearrange(X4));
    FloatVector p1 = a2.blend(a6, H4).add(a6.blend(a2, H4).rearrange(X4));
    FloatVector p2 = a1.blend(a5, H4).add(a5.blend(a1, H4).rearrange(X4));
    FloatVector p3 = a3.blend(a7, H4).add(a7.blend(a3, H4).rearrange(X4));
    FloatVector q0 = p0.blend(p1, H2).add(p1.blend(p0, H2).rearrange(X2));
    FloatVector q1 = p2.blend(p3, H2).add(p3.blend(p2, H2).rearrange(X2));
    q0.blend(q1, H1).add(q1.blend(q0, H1).rearrange(X1)).intoArray(out, oo);
  }

  /**
   * y[n .. n+4) of rows m and m + 1 (rows = 2) or of row m alone (rows = 1) against 4 rows of w; VL
   * == 8. The 8 sums (4 per row) are transposed into one vector as in dot1x8; with one row the
   * second row's accumulators are zero and its lanes are dropped.
   */
  private static void dot4x1t(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] w,
      int wOff,
      float[] bias,
      int bo,
      int m,
      int rows,
      int n,
      int N,
      int K) {
    int x0 = xOff + m * K, x1 = rows == 2 ? x0 + K : x0;
    int w0 = wOff + n * K, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
    FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    int kb = S.loopBound(K);
    if (rows == 2) {
      for (int k = 0; k < kb; k += VL) {
        FloatVector u0 = FloatVector.fromArray(S, x, x0 + k);
        FloatVector u1 = FloatVector.fromArray(S, x, x1 + k);
        FloatVector v = FloatVector.fromArray(S, w, w0 + k);
        a00 = u0.fma(v, a00);
        a10 = u1.fma(v, a10);
        v = FloatVector.fromArray(S, w, w1 + k);
        a01 = u0.fma(v, a01);
        a11 = u1.fma(v, a11);
        v = FloatVector.fromArray(S, w, w2 + k);
        a02 = u0.fma(v, a02);
        a12 = u1.fma(v, a12);
        v = FloatVector.fromArray(S, w, w3 + k);
        a03 = u0.fma(v, a03);
        a13 = u1.fma(v, a13);
      }
    } else {
      for (int k = 0; k < kb; k += VL) {
        FloatVector u0 = FloatVector.fromArray(S, x, x0 + k);
        a00 = u0.fma(FloatVector.fromArray(S, w, w0 + k), a00);
        a01 = u0.fma(FloatVector.fromArray(S, w, w1 + k), a01);
        a02 = u0.fma(FloatVector.fromArray(S, w, w2 + k), a02);
        a03 = u0.fma(FloatVector.fromArray(S, w, w3 + k), a03);
      }
    }
    // lane order a00 a01 a02 a03 a10 a11 a12 a13; bit-reversed inputs: a00 a10 a02 a12 a01 a11 a03
    // a13
    FloatVector p0 = a00.blend(a10, H4).add(a10.blend(a00, H4).rearrange(X4));
    FloatVector p1 = a02.blend(a12, H4).add(a12.blend(a02, H4).rearrange(X4));
    FloatVector p2 = a01.blend(a11, H4).add(a11.blend(a01, H4).rearrange(X4));
    FloatVector p3 = a03.blend(a13, H4).add(a13.blend(a03, H4).rearrange(X4));
    FloatVector q0 = p0.blend(p1, H2).add(p1.blend(p0, H2).rearrange(X2));
    FloatVector q1 = p2.blend(p3, H2).add(p3.blend(p2, H2).rearrange(X2));
    q0.blend(q1, H1).add(q1.blend(q0, H1).rearrange(X1)).intoArray(tmp, 0);
    for (int i = 0; i < rows; i++) {
      int yr = yOff + (m + i) * N + n, xr = x0 + i * K;
      y[yr] = tail(tmp[4 * i], x, xr, w, w0, kb, K, bias, bo, n);
      y[yr + 1] = tail(tmp[4 * i + 1], x, xr, w, w1, kb, K, bias, bo, n + 1);
      y[yr + 2] = tail(tmp[4 * i + 2], x, xr, w, w2, kb, K, bias, bo, n + 2);
      y[yr + 3] = tail(tmp[4 * i + 3], x, xr, w, w3, kb, K, bias, bo, n + 3);
    }
  }

  /**
   * Row m of x against rows n, n + rs, n + 2rs, n + 3rs of w. At 16 lanes the 4 lane sums are taken
   * at once, in {@link #laneSum}'s order (Lanes#H8), not each from a stored vector: in cache, one
   * Zen 4 core, 128 x 1,536, batch 1 39-40 -> 41-43 GFLOP/s, 3 rows of x 66-70 -> 78-89, 8 rows
   * 64-67 -> 74-80; 1stage_L's float32 batch-8 step 109.6-111.3 -> 103.0-103.1 ms
   * (docs/performance-log.md, eleventh session).
   */
  private static void dot1x4(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] w,
      int wOff,
      float[] bias,
      int bo,
      int m,
      int n,
      int rs,
      int N,
      int K) {
    int x0 = xOff + m * K;
    int w0 = wOff + n * K, w1 = w0 + rs * K, w2 = w1 + rs * K, w3 = w2 + rs * K;
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
    int kb = S.loopBound(K);
    for (int k = 0; k < kb; k += VL) {
      FloatVector u = FloatVector.fromArray(S, x, x0 + k);
      a0 = u.fma(FloatVector.fromArray(S, w, w0 + k), a0);
      a1 = u.fma(FloatVector.fromArray(S, w, w1 + k), a1);
      a2 = u.fma(FloatVector.fromArray(S, w, w2 + k), a2);
      a3 = u.fma(FloatVector.fromArray(S, w, w3 + k), a3);
    }
    int y0 = yOff + m * N + n;
    if (VL == 16) {
      FloatVector e80 = a0.blend(a2, Lanes.H8).add(a2.blend(a0, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e81 = a1.blend(a3, Lanes.H8).add(a3.blend(a1, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e4 = e80.blend(e81, Lanes.H4).add(e81.blend(e80, Lanes.H4).rearrange(Lanes.X4));
      FloatVector e2 = e4.add(e4.rearrange(Lanes.X2));
      FloatVector e1 = e2.add(e2.rearrange(Lanes.X1));
      e1.intoArray(tmp, 0);
      y[y0] =
          kb < K
              ? tail(tmp[3], x, x0, w, w0, kb, K, bias, bo, n)
              : bias == null ? tmp[3] : bias[bo + n] + tmp[3];
      y[y0 + rs] =
          kb < K
              ? tail(tmp[7], x, x0, w, w1, kb, K, bias, bo, n + rs)
              : bias == null ? tmp[7] : bias[bo + n + rs] + tmp[7];
      y[y0 + 2 * rs] =
          kb < K
              ? tail(tmp[11], x, x0, w, w2, kb, K, bias, bo, n + 2 * rs)
              : bias == null ? tmp[11] : bias[bo + n + 2 * rs] + tmp[11];
      y[y0 + 3 * rs] =
          kb < K
              ? tail(tmp[15], x, x0, w, w3, kb, K, bias, bo, n + 3 * rs)
              : bias == null ? tmp[15] : bias[bo + n + 3 * rs] + tmp[15];
      return;
    }
    a0.intoArray(tmp, 0);
    y[y0] = finish(tmp, x, x0, w, w0, kb, K, bias, bo, n);
    a1.intoArray(tmp, 0);
    y[y0 + rs] = finish(tmp, x, x0, w, w1, kb, K, bias, bo, n + rs);
    a2.intoArray(tmp, 0);
    y[y0 + 2 * rs] = finish(tmp, x, x0, w, w2, kb, K, bias, bo, n + 2 * rs);
    a3.intoArray(tmp, 0);
    y[y0 + 3 * rs] = finish(tmp, x, x0, w, w3, kb, K, bias, bo, n + 3 * rs);
  }

  private static void dot1x1(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] w,
      int wOff,
      float[] bias,
      int bo,
      int m,
      int n,
      int N,
      int K) {
    int x0 = xOff + m * K, w0 = wOff + n * K;
    FloatVector a = FloatVector.zero(S);
    int kb = S.loopBound(K);
    for (int k = 0; k < kb; k += VL) {
      a = FloatVector.fromArray(S, x, x0 + k).fma(FloatVector.fromArray(S, w, w0 + k), a);
    }
    a.intoArray(tmp, 0);
    y[yOff + m * N + n] = finish(tmp, x, x0, w, w0, kb, K, bias, bo, n);
  }

  /**
   * Lane sum in a fixed pairwise order (lane i += lane i + h for h = VL/2, VL/4, ..., 1), then the
   * scalar tail k in [kb, K) in order, then the bias. (Not reduceLanes: its float order differs
   * between the interpreter and C2, which would break run-to-run bit equality.) The caller stores
   * the accumulator in tmp: a vector argument is boxed (allocated) whenever C2 does not inline this
   * call, which depends on the profile.
   */
  static float finish(
      float[] tmp,
      float[] x,
      int xr,
      float[] w,
      int wr,
      int kb,
      int K,
      float[] bias,
      int bo,
      int n) {
    return tail(laneSum(tmp), x, xr, w, wr, kb, K, bias, bo, n);
  }

  /**
   * The sum of tmp[0 .. VL) in a fixed pairwise order (lane i += lane i + h for h = VL/2, ..., 1),
   * the partial sums in registers at 4, 8 and 16 lanes. The compact-weight kernels sum their lanes
   * with it too, in the same order as these.
   */
  static float laneSum(float[] tmp) {
    float s;
    // VL 4, 8, 16: the same pairwise order with the partial sums in registers, not in tmp
    if (VL == 8) {
      float u0 = tmp[0] + tmp[4], u1 = tmp[1] + tmp[5], u2 = tmp[2] + tmp[6], u3 = tmp[3] + tmp[7];
      s = (u0 + u2) + (u1 + u3);
    } else if (VL == 16) {
      float t0 = tmp[0] + tmp[8],
          t1 = tmp[1] + tmp[9],
          t2 = tmp[2] + tmp[10],
          t3 = tmp[3] + tmp[11];
      float t4 = tmp[4] + tmp[12],
          t5 = tmp[5] + tmp[13],
          t6 = tmp[6] + tmp[14],
          t7 = tmp[7] + tmp[15];
      float u0 = t0 + t4, u1 = t1 + t5, u2 = t2 + t6, u3 = t3 + t7;
      s = (u0 + u2) + (u1 + u3);
    } else if (VL == 4) {
      s = (tmp[0] + tmp[2]) + (tmp[1] + tmp[3]);
    } else {
      for (int h = VL / 2; h > 0; h >>= 1) {
        for (int i = 0; i < h; i++) tmp[i] += tmp[i + h];
      }
      s = tmp[0];
    }
    return s;
  }

  /** After the lane sum s: the scalar tail k in [kb, K) in order, then the bias. */
  static float tail(
      float s, float[] x, int xr, float[] w, int wr, int kb, int K, float[] bias, int bo, int n) {
    for (int k = kb; k < K; k++) s = Math.fma(x[xr + k], w[wr + k], s);
    return bias == null ? s : bias[bo + n] + s;
  }
}
