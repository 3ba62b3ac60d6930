package org.hnet.kernels;

// Products with a CompactWeight (bf16 or int8 groups): y[M×N] = x[M×K]·w[N×K]ᵀ + bias[N], legend
// as in Matmul.
//
// Decode path (M <= Matmul.DECODE_ROWS): each row of w is streamed once and converted to float32
// in registers: bf16, two weights per int, by a shift and by a mask; int8, bytes widened to
// float32, each group's sum scaled once (MatmulCompactInt8 has the order). At batch 1 many rows of
// w stream at once (16 bf16, 8 int8); with 4 or more rows of x each converted vector is used
// against 4 of them held in L1. Per output element: one VL-lane fma accumulator over the vector
// part of K in order, the fixed pairwise lane sum, the scalar tail in order (the same conversion,
// the same fma), then the bias: the same operations whatever the rows of x are grouped with and
// however rows of w are split over threads, so a row decoded in a batch equals the row decoded
// alone, bit for bit.
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
    // of BLOCK rows, so that thread boundaries fall between the widest kernel's passes (the split
    // changes no output's operations either way)
    int blocks = (N + BLOCK - 1) / BLOCK;
    long blockBytes = Math.max(1, w.bytes() / N) * BLOCK;
    int grain =
        (int)
            Math.max(1, Math.min(blocks, (MatmulDecode.splitBytes + blockBytes - 1) / blockBytes));
    if (2L * M * N * K < MatmulGemm.serialFlops / 4) grain = blocks;
    if (Parallel.serial(blocks, grain)) rows(y, yOff, x, xOff, w, bias, biasOff, M, 0, N);
    else
      Parallel.forRange(
          blocks,
          grain,
          (b0, b1) ->
              rows(y, yOff, x, xOff, w, bias, biasOff, M, b0 * BLOCK, Math.min(N, b1 * BLOCK)));
  }

  /** Rows of w per work item of a decode product: the widest batch-1 kernel's. */
  static final int BLOCK = 16;

  /**
   * Rows [n0, n1) of w against all M rows of x: with 4 or more rows of x, pairs of rows of w
   * against 4 rows of x (8 accumulators; each weight vector converted once per 4 rows of x);
   * otherwise several rows of w against one row of x (16 for bf16, 8 for int8: rows streamed from
   * memory at once keep more lines in flight; one row reached 40-55% of the bandwidth bound at
   * batch 1). Leftover rows four, then one at a time.
   */
  private static void rows(
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      CompactWeight w,
      float[] bias,
      int biasOff,
      int M,
      int n0,
      int n1) {
    float[] tmp = Lanes.local(); // this thread's lane buffer
    int N = w.n, K = w.k;
    boolean bf = w.format == CompactWeight.Format.BF16;
    int kb = bf ? w.kv : w.kq;
    int n = n0;
    if (M >= 4) {
      for (; n + 2 <= n1; n += 2) {
        int m = 0;
        for (; m + 4 <= M; m += 4) {
          if (bf)
            MatmulCompactBf16.bf16w2x4(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
          else MatmulCompactInt8.int8w2x4(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
        }
        for (; m < M; m++) {
          for (int j = n; j < n + 2; j++) {
            if (bf)
              MatmulCompactBf16.bf16w1x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, j, N, K, kb);
            else
              MatmulCompactInt8.int8w1x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, j, N, K, kb);
          }
        }
      }
    } else {
      if (bf) {
        for (; n + 16 <= n1; n += 16) {
          for (int m = 0; m < M; m++)
            MatmulCompactBf16.bf16w16x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
        }
        for (; n + 4 <= n1; n += 4) {
          for (int m = 0; m < M; m++)
            MatmulCompactBf16.bf16w4x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
        }
      } else {
        // n0 is a multiple of BLOCK, so each pass starts a tile of scales
        for (; n + 8 <= n1; n += 8) {
          for (int m = 0; m < M; m++)
            MatmulCompactInt8.int8w8x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
        }
      }
    }
    for (; n < n1; n++) {
      for (int m = 0; m < M; m++) {
        if (bf) MatmulCompactBf16.bf16w1x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
        else MatmulCompactInt8.int8w1x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
      }
    }
  }

  /**
   * The lane sum of tmp in MatmulDecode's fixed pairwise order, then the scalar tail k in [kb, K)
   * in order (each weight converted as the vectors convert it), then the bias.
   */
  static float finish(
      float[] tmp, float[] x, int xr, CompactWeight w, int n, int kb, int K, float[] bias, int bo) {
    float s = kb == 0 ? 0f : MatmulDecode.laneSum(tmp);
    if (kb < K) {
      if (w.format == CompactWeight.Format.BF16) {
        short[] b = w.bf16Tail;
        int tr = n * (K - kb) - kb;
        for (int k = kb; k < K; k++)
          s = Math.fma(x[xr + k], Float.intBitsToFloat(b[tr + k] << 16), s);
      } else {
        byte[] q = w.q8;
        float sc = w.scales[w.scaleIndex(n, kb / CompactWeight.GROUP)]; // the one partial group
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
    float[] row = int8 ? new float[Math.min(KC, red)] : null; // a converted row (once per call)
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
