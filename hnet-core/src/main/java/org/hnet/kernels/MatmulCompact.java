package org.hnet.kernels;

// Products with a CompactWeight (bf16 or int8 groups): y[M×N] = x[M×K]·w[N×K]ᵀ + bias[N], legend
// as in Matmul.
//
// Decode path (M <= Matmul.DECODE_ROWS): each row of w is streamed once. The weights are held in
// int vectors (CompactWeight's layout) and converted to float32 in registers with same-shape
// operations only: bf16, two weights per int, by a shift and by a mask; int8, four per int, by
// shifts, an int→float conversion and the group's scale. Each converted vector is used against up
// to 4 rows of x held in L1. Per output element: one VL-lane fma accumulator over the vector part
// of K in order, the fixed pairwise lane sum, the scalar tail in order (the same conversion, the
// same fma), then the bias: the same operations whatever the rows of x are grouped with and
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
    // split the rows of w over threads once each part streams MatmulDecode.splitBytes
    long rowBytes = Math.max(1, w.bytes() / N);
    int grain = (int) Math.max(1, Math.min(N, (MatmulDecode.splitBytes + rowBytes - 1) / rowBytes));
    if (2L * M * N * K < MatmulGemm.serialFlops / 4) grain = N;
    if (Parallel.serial(N, grain)) rows(y, yOff, x, xOff, w, bias, biasOff, M, 0, N);
    else
      Parallel.forRange(N, grain, (n0, n1) -> rows(y, yOff, x, xOff, w, bias, biasOff, M, n0, n1));
  }

  /**
   * Rows [n0, n1) of w against all M rows of x: with 4 or more rows of x, pairs of rows of w
   * against 4 rows of x (8 accumulators; each weight vector converted once per 4 rows of x);
   * otherwise 4 rows of w against one row of x (four rows of w stream from memory at once, which a
   * single row did not: 40-55% of the bandwidth bound at batch 1). Leftover rows one by one.
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
      for (; n + 4 <= n1; n += 4) {
        for (int m = 0; m < M; m++) {
          if (bf)
            MatmulCompactBf16.bf16w4x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
          else MatmulCompactInt8.int8w4x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
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
        byte[] q = w.q8Tail;
        float[] sc = w.scales;
        int sr = n * CompactWeight.groups(K), tr = n * (K - kb) - kb;
        for (int k = kb; k < K; k++)
          s = Math.fma(x[xr + k], q[tr + k] * sc[sr + k / CompactWeight.GROUP], s);
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
