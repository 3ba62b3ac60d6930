package org.hnet.kernels;

// Dimension legend:
//   M  rows (tokens / positions of the batch)
//   N  output features (rows of the weight w[N×K], as in nn.Linear)
//   K  reduction (input features)
//   x[M×K], w[N×K], y[M×N], bias[N], dy[M×N], dx[M×K], dw[N×K], dbias[N]; all row-major, contiguous
//   rows, each array addressed from its own offset.
//
// Paths:
//   linear, M > DECODE_ROWS: packed GEMM (MatmulGemm): w packed into K-major panels, 6-row register
//     tiles, K blocked; row tiles (or, for few rows, panels) split over threads.
//   linear, M <= DECODE_ROWS (decode): dot products that stream each row of w once: with 8-lane
//     vectors 8 rows of w × 1 row of x, or 4 rows of w × 2 rows of x, per pass, the 8 lane sums
//     done together by transposition; otherwise 4 rows of w × 3 (or 2, or 1) rows of x and one
//     lane sum per output. Rows of w split over threads by flops or by bytes of w streamed
//     (matrix-vector products are memory-bound). No packing.
//   linearBackwardInput: the same GEMM with w (not transposed) packed as B.
//   linearBackwardWeight: the same GEMM with C = dw (N rows, K columns), A = dyᵀ, B = x, reduction
//     over M, which is never split: threads take rows (or panels) of dw.
//
// Determinism: every output element is computed by a fixed sequence of float operations that
// depends on the shapes only (not on the thread count nor on how work is split), so results are
// bit-identical run to run and for any Parallel.threads(). The decode path and the GEMM path order
// their sums differently, so linear(M <= 8) is not bit-identical to the GEMM on the same rows.
//
// The *Naive twins are the oracle (and a fallback): plain loops accumulating in double, rounded to
// float once per output element.

import jdk.incubator.vector.FloatVector;
import org.hnet.kernels.Profile.Kind;
import org.hnet.tensor.Arena;

public final class Matmul {
  private Matmul() {}

  /** Forward products with at most this many rows take the streaming (decode) path. */
  public static final int DECODE_ROWS = 8;

  private static final jdk.incubator.vector.VectorSpecies<Float> S = MatmulGemm.S;
  private static final int VL = MatmulGemm.VL;

  /** A weight w[N×K] packed once (for y = x·wᵀ), for repeated {@link #linear} calls. */
  public static final class PackedWeight {
    final float[] data;
    public final int n;
    public final int k;

    PackedWeight(float[] data, int n, int k) {
      this.data = data;
      this.n = n;
      this.k = k;
    }
  }

  /**
   * Packs w[N×K] (from wOff) for {@link #linear(float[], int, float[], int, PackedWeight, float[],
   * int, int)}.
   */
  public static PackedWeight pack(float[] w, int wOff, int N, int K) {
    dims(1, N, K);
    check("w", w, wOff, (long) N * K);
    float[] data = new float[Math.toIntExact(MatmulGemm.packedSize(K, N))];
    if (N > 0 && K > 0) MatmulGemm.packB(data, w, wOff, K, true, K, N);
    return new PackedWeight(data, N, K);
  }

  /**
   * nn.Linear forward: y[M×N] = x[M×K] · w[N×K]^T (+ bias[N] when bias != null). All row-major,
   * contiguous rows.
   */
  public static void linear(
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
    Kind kind = M <= DECODE_ROWS ? Kind.MATVEC : Kind.MATMUL;
    long prof = Profile.begin(kind);
    Flops.add(2L * M * N * K);
    checkLinear(y, yOff, x, xOff, w, wOff, bias, biasOff, M, N, K);
    if (M <= DECODE_ROWS) {
      MatmulDecode.decode(y, yOff, x, xOff, w, wOff, bias, biasOff, M, N, K);
    } else {
      MatmulGemm.gemm(
          y, yOff, N, M, N, K, x, xOff, K, 1, w, wOff, K, true, null, bias, biasOff, false);
    }
    Profile.end(kind, prof);
  }

  /**
   * {@link #linear} always by the GEMM path, whatever M: a row's result then does not depend on how
   * many rows it is batched with (a sequence forward of 5 positions equals the same 5 positions
   * inside a packed batch of 500).
   */
  public static void linearGemm(
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
    long prof = Profile.begin(Kind.MATMUL);
    Flops.add(2L * M * N * K);
    checkLinear(y, yOff, x, xOff, w, wOff, bias, biasOff, M, N, K);
    if (M > 0)
      MatmulGemm.gemm(
          y, yOff, N, M, N, K, x, xOff, K, 1, w, wOff, K, true, null, bias, biasOff, false);
    Profile.end(Kind.MATMUL, prof);
  }

  /**
   * {@link #linear} always by the streaming (decode) path, whatever M: one decode step of R rows
   * then gives each row exactly what it gets when decoded alone.
   */
  public static void linearDecode(
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
    long prof = Profile.begin(Kind.MATVEC);
    Flops.add(2L * M * N * K);
    checkLinear(y, yOff, x, xOff, w, wOff, bias, biasOff, M, N, K);
    MatmulDecode.decode(y, yOff, x, xOff, w, wOff, bias, biasOff, M, N, K);
    Profile.end(Kind.MATVEC, prof);
  }

  /**
   * {@link #linearGemm} with a compact (bf16 or int8) weight: converted to float32 as the GEMM
   * packs it, then the float32 GEMM.
   */
  public static void linearGemm(
      float[] y, int yOff, float[] x, int xOff, CompactWeight w, float[] bias, int biasOff, int M) {
    long prof = Profile.begin(Kind.MATMUL);
    int N = w.n, K = w.k;
    Flops.add(2L * M * N * K);
    checkCompact(y, yOff, x, xOff, w, bias, biasOff, M);
    if (M > 0 && N > 0) {
      // the weight converted and packed once per call, in this thread's arena
      Arena arena = Arena.local();
      int mark = arena.mark();
      try {
        float[] bp = arena.floats(Math.toIntExact(MatmulGemm.packedSize(K, N)));
        if (K > 0) MatmulCompact.pack(bp, w);
        MatmulGemm.gemm(
            y, yOff, N, M, N, K, x, xOff, K, 1, null, 0, K, true, bp, bias, biasOff, false);
      } finally {
        arena.release(mark);
      }
    }
    Profile.end(Kind.MATMUL, prof);
  }

  /**
   * {@link #linearDecode} with a compact (bf16 or int8) weight, converted in registers: each row of
   * the result is what that row gets when multiplied alone.
   */
  public static void linearDecode(
      float[] y, int yOff, float[] x, int xOff, CompactWeight w, float[] bias, int biasOff, int M) {
    long prof = Profile.begin(Kind.MATVEC);
    Flops.add(2L * M * w.n * w.k);
    checkCompact(y, yOff, x, xOff, w, bias, biasOff, M);
    MatmulCompact.decode(y, yOff, x, xOff, w, bias, biasOff, M);
    Profile.end(Kind.MATVEC, prof);
  }

  private static void checkCompact(
      float[] y, int yOff, float[] x, int xOff, CompactWeight w, float[] bias, int biasOff, int M) {
    dims(M, w.n, w.k);
    check("y", y, yOff, (long) M * w.n);
    check("x", x, xOff, (long) M * w.k);
    if (bias != null) check("bias", bias, biasOff, w.n);
  }

  /** The operands of a forward product fit their arrays (and the sizes are not negative). */
  private static void checkLinear(
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
    dims(M, N, K);
    check("y", y, yOff, (long) M * N);
    check("x", x, xOff, (long) M * K);
    check("w", w, wOff, (long) N * K);
    if (bias != null) check("bias", bias, biasOff, N);
  }

  /** nn.Linear forward with a weight packed by {@link #pack}: y[M×N] = x[M×K] · wᵀ (+ bias). */
  public static void linear(
      float[] y, int yOff, float[] x, int xOff, PackedWeight pw, float[] bias, int biasOff, int M) {
    long prof = Profile.begin(Kind.MATMUL);
    int N = pw.n, K = pw.k;
    dims(M, N, K);
    check("y", y, yOff, (long) M * N);
    check("x", x, xOff, (long) M * K);
    if (bias != null) check("bias", bias, biasOff, N);
    MatmulGemm.gemm(
        y, yOff, N, M, N, K, x, xOff, K, 1, null, 0, K, true, pw.data, bias, biasOff, false);
    Profile.end(Kind.MATMUL, prof);
  }

  /** Input gradient: dx[M×K] = dy[M×N] · w[N×K] (accumulate=true adds into dx). */
  public static void linearBackwardInput(
      float[] dx,
      int dxOff,
      float[] dy,
      int dyOff,
      float[] w,
      int wOff,
      int M,
      int N,
      int K,
      boolean accumulate) {
    long prof = Profile.begin(Kind.MATMUL_DX);
    Flops.add(2L * M * N * K);
    dims(M, N, K);
    check("dx", dx, dxOff, (long) M * K);
    check("dy", dy, dyOff, (long) M * N);
    check("w", w, wOff, (long) N * K);
    MatmulGemm.gemm(
        dx, dxOff, K, M, K, N, dy, dyOff, N, 1, w, wOff, K, false, null, null, 0, accumulate);
    Profile.end(Kind.MATMUL_DX, prof);
  }

  /**
   * Weight gradient: dw[N×K] += dy[M×N]^T · x[M×K]; dbias[N] += column sums of dy when dbias !=
   * null.
   */
  public static void linearBackwardWeight(
      float[] dw,
      int dwOff,
      float[] dbias,
      int dbOff,
      float[] dy,
      int dyOff,
      float[] x,
      int xOff,
      int M,
      int N,
      int K) {
    long prof = Profile.begin(Kind.MATMUL_DW);
    Flops.add(2L * M * N * K);
    dims(M, N, K);
    check("dw", dw, dwOff, (long) N * K);
    check("dy", dy, dyOff, (long) M * N);
    check("x", x, xOff, (long) M * K);
    if (dbias != null) check("dbias", dbias, dbOff, N);
    MatmulGemm.gemm(dw, dwOff, K, N, K, M, dy, dyOff, 1, N, x, xOff, K, false, null, null, 0, true);
    if (dbias != null) columnSums(dbias, dbOff, dy, dyOff, M, N);
    Profile.end(Kind.MATMUL_DW, prof);
  }

  // ---------------------------------------------------------------------------------------------
  // Naive twins (oracle): double accumulation, one rounding to float per output element.

  /** Naive {@link #linear}: y = (float) (bias + Σ_k x·w) accumulated in double. */
  public static void linearNaive(
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
    for (int m = 0; m < M; m++) {
      for (int n = 0; n < N; n++) {
        double s = bias == null ? 0 : bias[biasOff + n];
        for (int k = 0; k < K; k++) s += (double) x[xOff + m * K + k] * w[wOff + n * K + k];
        y[yOff + m * N + n] = (float) s;
      }
    }
  }

  /** Naive {@link #linearBackwardInput}: dx = (float) (dx? + Σ_n dy·w) accumulated in double. */
  public static void linearBackwardInputNaive(
      float[] dx,
      int dxOff,
      float[] dy,
      int dyOff,
      float[] w,
      int wOff,
      int M,
      int N,
      int K,
      boolean accumulate) {
    for (int m = 0; m < M; m++) {
      for (int k = 0; k < K; k++) {
        double s = accumulate ? dx[dxOff + m * K + k] : 0;
        for (int n = 0; n < N; n++) s += (double) dy[dyOff + m * N + n] * w[wOff + n * K + k];
        dx[dxOff + m * K + k] = (float) s;
      }
    }
  }

  /**
   * Naive {@link #linearBackwardWeight}: dw = (float) (dw + Σ_m dy·x), dbias likewise, in double.
   */
  public static void linearBackwardWeightNaive(
      float[] dw,
      int dwOff,
      float[] dbias,
      int dbOff,
      float[] dy,
      int dyOff,
      float[] x,
      int xOff,
      int M,
      int N,
      int K) {
    for (int n = 0; n < N; n++) {
      for (int k = 0; k < K; k++) {
        double s = dw[dwOff + n * K + k];
        for (int m = 0; m < M; m++) s += (double) dy[dyOff + m * N + n] * x[xOff + m * K + k];
        dw[dwOff + n * K + k] = (float) s;
      }
      if (dbias != null) {
        double s = dbias[dbOff + n];
        for (int m = 0; m < M; m++) s += dy[dyOff + m * N + n];
        dbias[dbOff + n] = (float) s;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // dbias[n] += Σ_m dy[m, n]: per column a float sum in increasing m, then one add into dbias.
  // Columns split over threads; each thread streams its column range of every row of dy.

  private static void columnSums(float[] dbias, int dbOff, float[] dy, int dyOff, int M, int N) {
    if (N == 0) return;
    long serial = MatmulGemm.serialFlops;
    int grain =
        (long) M * N < serial ? N : (int) Math.max(VL, Math.min(N, serial / 4 / Math.max(1, M)));
    if (Parallel.serial(N, grain)) columnSums(dbias, dbOff, dy, dyOff, M, N, 0, N);
    else Parallel.forRange(N, grain, (n0, n1) -> columnSums(dbias, dbOff, dy, dyOff, M, N, n0, n1));
  }

  /** Columns [n0, n1) of {@link #columnSums(float[], int, float[], int, int, int)}. */
  private static void columnSums(
      float[] dbias, int dbOff, float[] dy, int dyOff, int M, int N, int n0, int n1) {
    int len = n1 - n0;
    Arena arena = Arena.local();
    int mark = arena.mark();
    try {
      float[] acc = arena.floats(len);
      java.util.Arrays.fill(acc, 0, len, 0f);
      int jb = S.loopBound(len);
      for (int m = 0; m < M; m++) {
        int row = dyOff + m * N + n0;
        int j = 0;
        for (; j < jb; j += VL) {
          FloatVector.fromArray(S, acc, j)
              .add(FloatVector.fromArray(S, dy, row + j))
              .intoArray(acc, j);
        }
        for (; j < len; j++) acc[j] += dy[row + j];
      }
      for (int j = 0; j < len; j++) dbias[dbOff + n0 + j] += acc[j];
    } finally {
      arena.release(mark);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static void dims(int M, int N, int K) {
    if (M < 0 || N < 0 || K < 0) {
      throw new IllegalArgumentException("negative dimension: M=" + M + " N=" + N + " K=" + K);
    }
  }

  private static void check(String name, float[] a, int off, long count) {
    if (off < 0 || off + count > a.length) {
      throw new IndexOutOfBoundsException(
          name + ": " + count + " floats at offset " + off + " do not fit an array of " + a.length);
    }
  }
}
