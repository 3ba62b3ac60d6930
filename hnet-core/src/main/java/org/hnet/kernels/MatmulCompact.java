package org.hnet.kernels;

// Products with a CompactWeight (bf16 or int8 groups): y[M×N] = x[M×K]·w[N×K]ᵀ + bias[N], legend
// as in Matmul.
//
// Decode path (M <= Matmul.DECODE_ROWS): each row of w is streamed once and converted to float32
// in registers: bf16, two weights per int, by a shift and by a mask; int8, bytes widened to
// float32 against x permuted to the weights' superblocks, each superblock's sum scaled once by a
// vector of its groups' scales (MatmulCompactInt8 has the order). At every batch a pass
// reads one row from each of several long runs of rows (4 bf16, 4 int8; see rows), each converted
// vector used against up to 4 rows of x held in L1. Per output element: one VL-lane fma accumulator
// over the vector part of K in order, the fixed pairwise lane sum (of one output, or of several at
// once in the same order: Lanes), the scalar tail in order (the same conversion, the same fma),
// then the bias: the same operations whatever the rows of x are grouped with and however rows of w
// are split over threads, so a row decoded in a batch equals the row decoded alone, bit for bit.
//
// GEMM path (prefill, scoring): the weight is converted to float32 while it is packed into the
// GEMM's panels (the packing is read once per product and amortised over its M rows), then the
// float32 GEMM runs unchanged.
//

final class MatmulCompact {
  private MatmulCompact() {}

  static void decode(
      float[] y, int yOff, float[] x, int xOff, CompactWeight w, float[] bias, int biasOff, int M) {
    int N = w.n, K = w.k;
    if (M == 0 || N == 0) return;
    // split the rows of w over threads once each part streams MatmulDecode.splitBytes, in blocks
    // of whole slabs (int8: a part's passes read one stream of scales) or of 16 rows (bf16); the
    // split changes no output's operations either way, so a thread that finishes its part early
    // takes 64-row chunks from the end of the other's (Parallel.forRangeStealing)
    int block = w.format == CompactWeight.Format.BF16 ? 16 : CompactWeight.SLAB;
    int blocks = (N + block - 1) / block;
    long blockBytes = Math.max(1, w.bytes() / N) * block;
    int grain =
        (int)
            Math.max(1, Math.min(blocks, (MatmulDecode.splitBytes + blockBytes - 1) / blockBytes));
    if (2L * M * N * K < MatmulGemm.serialFlops / 4) grain = blocks;
    // int8 reads x in the weights' superblock layout, permuted once here for every part
    float[] xp =
        w.format == CompactWeight.Format.INT8 ? MatmulCompactInt8.permuted(w, x, xOff, M) : null;
    if (Parallel.serial(blocks, grain)) rows(y, yOff, x, xOff, xp, w, bias, biasOff, M, 0, N);
    else
      Parallel.forRangeStealing(
          blocks,
          grain,
          CompactWeight.SLAB / block,
          (b0, b1) ->
              rows(y, yOff, x, xOff, xp, w, bias, biasOff, M, b0 * block, Math.min(N, b1 * block)));
  }

  /** Runs of consecutive rows a bf16 batch-1 pass reads at once (one row of each). */
  static final int BF16_RUNS = 4;

  /**
   * Rows [n0, n1) of w against all M rows of x, in passes that read one row from each of several
   * runs of consecutive rows, so that the hardware prefetcher sees a few long streams rather than
   * many short ones (a compact row is only 1-6 KB): bf16 splits [n0, n1) into {@link #BF16_RUNS}
   * runs; int8 reads slab by slab, each slab as {@link CompactWeight#RUNS} runs whose scales lie in
   * pass order (one more stream, not one per run: with eight of them, int8 streamed half as fast).
   * On 1stage_L's product shapes, two threads, against 16 (bf16) or 8 (int8) adjacent rows per
   * pass: bf16 34-37 -> 39-46 GB/s, int8 26-29 -> 36-39 GB/s with 8 runs (docs/performance-log.md,
   * 2026-12-07); 4 runs streamed another 12% faster (CompactWeight#SLAB).
   *
   * <p>In a pass, at 16 lanes, the pass's 4 rows of w go against blocks of 4 rows of x, then
   * against the 1 to 3 left (int8: 3 as 4 with a row of zeros, its 4 x 3 kernel having run slower:
   * C2 spilled its accumulators in the loop), each converted vector of w used against every row of
   * x of the block, and the block's 4-16 lane sums taken at once (Lanes#H8). In cache, one Zen 4
   * core, 256 x 1,536: int8 with 4-8 rows of x 65-73 -> 79-92 GFLOP/s, bf16 53-85 -> 92-109; in
   * 1stage_L's batch-8 step, int8 70.0-71.8 -> 52.9-56.1 ms, bf16 84.1-87.8 -> 58.7-64.2
   * (docs/performance-log.md, eleventh session). Before, each block of 4 rows of x took the pass's
   * rows of w in pairs, and each output's lanes were summed alone from a stored vector, as the
   * 8-lane paths still do: with 16 registers (AVX2) the 16 accumulators of 4 x 4 do not fit, and
   * bf16 with 2 rows of x ran 1.7x slower, int8 1.3x. Rows past the runs go one at a time.
   */
  private static void rows(
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] xp,
      CompactWeight w,
      float[] bias,
      int biasOff,
      int M,
      int n0,
      int n1) {
    float[] tmp = Lanes.local(); // this thread's lane buffer
    int N = w.n, K = w.k;
    boolean bf = w.format == CompactWeight.Format.BF16;
    int kb = bf ? w.kv : w.kq, runs = bf ? BF16_RUNS : CompactWeight.RUNS;
    // bf16 reads [n0, n1) as one region of runs; int8 slab by slab (n0 starts a slab: decode
    // splits in whole slabs), each slab's passes in order whatever M
    for (int base = n0; base < n1; ) {
      int end = bf ? n1 : base + w.slabRows(base), q = (end - base) / runs;
      for (int i = 0; i < q; i++) {
        int n = base + i, m = 0;
        if (!bf) {
          // int8: the pass's 4 rows of w against blocks of 4 rows of x, then the 1 to 3 left
          for (; m + 4 <= M; m += 4)
            MatmulCompactInt8Rows.int8w4x4(
                tmp, y, yOff, x, xOff, xp, w, bias, biasOff, m, n, q, N, K, kb, 4);
          switch (M - m) {
            case 1 ->
                MatmulCompactInt8.int8w4x1(
                    tmp, y, yOff, x, xOff, xp, w, bias, biasOff, m, n, q, N, K, kb);
            case 2 -> {
              if (MatmulGemm.VL < 16)
                for (int j = 0; j < runs; j += 2)
                  MatmulCompactInt8Rows.int8w2x2(
                      tmp, y, yOff, x, xOff, xp, w, bias, biasOff, m, n + j * q, q, N, K, kb);
              else
                MatmulCompactInt8Rows.int8w4x2(
                    tmp, y, yOff, x, xOff, xp, w, bias, biasOff, m, n, q, N, K, kb);
            }
            case 3 -> {
              if (MatmulCompactInt8.padded(M) > M) // a row of zeros in xp after the 3
              MatmulCompactInt8Rows.int8w4x4(
                    tmp, y, yOff, x, xOff, xp, w, bias, biasOff, m, n, q, N, K, kb, 3);
              else
                for (int j = 0; j < runs; j += 2)
                  MatmulCompactInt8Rows.int8w2x3(
                      tmp, y, yOff, x, xOff, xp, w, bias, biasOff, m, n + j * q, q, N, K, kb);
            }
            default -> {}
          }
          continue;
        }
        if (MatmulGemm.VL < 16) {
          // bf16 at 8 lanes and fewer: pairs of the pass's rows of w against blocks of 4 rows of x,
          // then each row of x alone (4 rows of w against 2 or 3 of x ran up to 1.7x slower there)
          for (; m + 4 <= M; m += 4)
            for (int j = 0; j < runs; j += 2)
              MatmulCompactBf16Rows.bf16w2x4(
                  tmp, y, yOff, x, xOff, w, bias, biasOff, m, n + j * q, q, N, K, kb);
          for (; m < M; m++)
            MatmulCompactBf16.bf16w4x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, q, N, K, kb);
          continue;
        }
        for (; m + 4 <= M; m += 4)
          MatmulCompactBf16Rows.bf16w4x4(
              tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, q, N, K, kb);
        switch (M - m) {
          case 1 ->
              MatmulCompactBf16.bf16w4x1(
                  tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, q, N, K, kb);
          case 2 ->
              MatmulCompactBf16Rows.bf16w4x2(
                  tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, q, N, K, kb);
          case 3 ->
              MatmulCompactBf16Rows.bf16w4x3(
                  tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, q, N, K, kb);
          default -> {}
        }
      }
      for (int n = base + runs * q; n < end; n++) {
        for (int m = 0; m < M; m++) one(tmp, y, yOff, x, xOff, xp, w, bias, biasOff, m, n, kb);
      }
      base = end;
    }
  }

  /** Row n of w against row m of x, alone. */
  private static void one(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] xp,
      CompactWeight w,
      float[] bias,
      int biasOff,
      int m,
      int n,
      int kb) {
    if (w.format == CompactWeight.Format.BF16)
      MatmulCompactBf16.bf16w1x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, w.n, w.k, kb);
    else
      MatmulCompactInt8.int8w1x1(tmp, y, yOff, x, xOff, xp, w, bias, biasOff, m, n, w.n, w.k, kb);
  }

  /**
   * The lane sum of tmp in MatmulDecode's fixed pairwise order, then the scalar tail k in [kb, K)
   * in order (each weight converted as the vectors convert it), then the bias.
   */
  static float finish(
      float[] tmp, float[] x, int xr, CompactWeight w, int n, int kb, int K, float[] bias, int bo) {
    return finishSum(MatmulDecode.laneSum(tmp), x, xr, w, n, kb, K, bias, bo);
  }

  /** As {@link #finish}, given the lane sum. */
  static float finishSum(
      float sum, float[] x, int xr, CompactWeight w, int n, int kb, int K, float[] bias, int bo) {
    float s = kb == 0 ? 0f : sum;
    if (kb < K) {
      if (w.format == CompactWeight.Format.BF16) {
        short[] b = w.bf16Tail;
        int tr = n * (K - kb) - kb;
        for (int k = kb; k < K; k++)
          s = Math.fma(x[xr + k], Float.intBitsToFloat(b[tr + k] << 16), s);
      } else {
        byte[] q = w.q8;
        float sc = w.tailScales[n]; // the one partial group, in place after the superblocks
        for (int k = kb, qr = n * K; k < K; k++) s = Math.fma(x[xr + k], q[qr + k] * sc, s);
      }
    }
    return bias == null ? s : bias[bo + n] + s;
  }

  /**
   * Packs w (as B = wᵀ, K × N) for MatmulGemm.gemm's {@code packedB}, converting to float32: the
   * layout of MatmulGemm.packB with bTrans.
   */
  static void pack(float[] bp, CompactWeight w) {
    int red = w.k, cols = w.n;
    int P = MatmulGemm.panels(cols),
        NR = MatmulGemm.NR,
        grain = (int) Math.max(1, (1L << 16) / ((long) Math.max(1, red) * NR));
    if (Parallel.serial(P, grain)) packPanels(bp, w, P, 0, P);
    else Parallel.forRange(P, grain, (p0, p1) -> packPanels(bp, w, P, p0, p1));
  }

  private static void packPanels(float[] bp, CompactWeight w, int P, int p0, int p1) {
    int red = w.k, cols = w.n, NR = MatmulGemm.NR, KC = MatmulGemm.KC;
    boolean int8 = w.format == CompactWeight.Format.INT8;
    float[] row = int8 ? new float[MatmulCompactInt8.ROW_BUFFER] : null; // once per call
    for (int p = p0; p < p1; p++) {
      for (int k0 = 0; k0 < red; k0 += KC) {
        int kc = Math.min(KC, red - k0), dst = P * NR * k0 + p * kc * NR, n0 = p * NR;
        int nc = Math.min(NR, cols - n0);
        for (int j = 0; j < NR; j++) {
          if (j < nc && int8)
            MatmulCompactInt8.rowToFloats(w, n0 + j, k0, k0 + kc, bp, dst + j, NR, row);
          else if (j < nc) w.rowToFloats(n0 + j, k0, k0 + kc, bp, dst + j, NR);
          else for (int k = 0; k < kc; k++) bp[dst + k * NR + j] = 0f;
        }
      }
    }
  }
}
