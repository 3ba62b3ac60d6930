package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every fast Matmul kernel against its naive twin.
 *
 * <p>Tolerance. The naive twins accumulate in double and round once, so they are within one float
 * ulp (relative u = 2^-24) of the exact result. The fast kernels compute each element as a sum of n
 * terms (n-1 reduction products plus the initial value: bias, previous dx or dw) in float with
 * fused multiply-adds in some fixed order (sequential per lane, then a pairwise lane sum in the
 * decode path). The classical bound for any summation order (Higham, Accuracy and Stability,
 * §3.1/§4.2) is |fl(Σ) - Σ| <= γ_n · Σ|t_i| with γ_n = n·u/(1-n·u), t_i the individual terms (each
 * product is rounded at most once, which the γ_n already covers with n counting products and
 * additions). So we accept |fast - naive| <= (γ_{n+1} + u) · Σ|t_i| + MIN_NORMAL, the last term
 * only guarding a sum of zeros.
 */
@ExtendWith(RestoreThreads.class)
class MatmulTest {
  /**
   * The decode kernels' lane sum adds in one fixed pairwise order (lane i += lane i + h for h =
   * VL/2, ..., 1), whatever the code that does it: equal bit for bit to that order written out.
   */
  @Test
  void laneSumAddsInTheFixedPairwiseOrder() {
    Random r = new Random(12);
    int vl = MatmulGemm.VL;
    float[] tmp = new float[64], ref = new float[64];
    for (int trial = 0; trial < 20000; trial++) {
      for (int i = 0; i < vl; i++) {
        double m = Math.exp(r.nextGaussian() * 8); // magnitudes far apart, so the order shows
        tmp[i] = trial % 97 == 0 && i % 3 == 0 ? -0f : (float) (r.nextGaussian() * m);
      }
      System.arraycopy(tmp, 0, ref, 0, vl);
      for (int h = vl / 2; h > 0; h >>= 1) for (int i = 0; i < h; i++) ref[i] += ref[i + h];
      float got = MatmulDecode.laneSum(tmp.clone());
      assertEquals(
          Float.floatToIntBits(ref[0]),
          Float.floatToIntBits(got),
          "lanes " + java.util.Arrays.toString(java.util.Arrays.copyOf(tmp, vl)));
    }
  }

  private static final int[] SIZES = {
    0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 47, 48, 49, 65, 100, 257, 300
  };
  private static final double U = Math.ulp(1.0f) / 2; // 2^-24
  private static final float GUARD = 12345.678f;

  private long savedSerialFlops;

  @BeforeEach
  void save() {
    savedSerialFlops = MatmulGemm.serialFlops;
    MatmulGemm.serialFlops = 0; // small test shapes too take the multi-threaded paths
  }

  @AfterEach
  void restore() {
    MatmulGemm.serialFlops = savedSerialFlops;
  }

  /** Shapes: each size in each dimension with the other two at a few bases, plus corner cases. */
  static List<int[]> shapes() {
    Set<List<Integer>> set = new LinkedHashSet<>();
    int[][] bases = {{17, 33, 49}, {100, 7, 257}, {8, 65, 16}};
    for (int[] b : bases) {
      for (int s : SIZES) {
        set.add(List.of(s, b[1], b[2]));
        set.add(List.of(b[0], s, b[2]));
        set.add(List.of(b[0], b[1], s));
      }
    }
    int[][] extra = {
      {1, 1, 1},
      {4, 5, 6},
      {6, 48, 256},
      {5, 47, 255},
      {9, 49, 513},
      {96, 96, 96},
      {97, 300, 300},
      {300, 300, 17},
      {257, 1, 300},
      {1, 300, 257},
      {2, 1096, 256},
      {8, 100, 384}
    };
    for (int[] e : extra) set.add(List.of(e[0], e[1], e[2]));
    List<int[]> out = new ArrayList<>();
    for (List<Integer> s : set) out.add(new int[] {s.get(0), s.get(1), s.get(2)});
    return out;
  }

  /**
   * An array of n random values in [-1, 1) after a guard prefix of length off, guard-filled tail.
   */
  static float[] data(Random r, int off, int n) {
    float[] a = new float[off + n + 5];
    java.util.Arrays.fill(a, GUARD);
    for (int i = 0; i < n; i++) a[off + i] = r.nextFloat() * 2 - 1;
    return a;
  }

  static float[] guards(int off, int n) {
    float[] a = new float[off + n + 5];
    java.util.Arrays.fill(a, GUARD);
    return a;
  }

  @Test
  void linearMatchesNaive() {
    Random r = new Random(1);
    for (int[] s : shapes()) {
      int M = s[0], N = s[1], K = s[2];
      for (boolean withBias : new boolean[] {false, true}) {
        int xo = r.nextInt(5), wo = r.nextInt(5), yo = r.nextInt(5), bo = r.nextInt(5);
        float[] x = data(r, xo, M * K), w = data(r, wo, N * K);
        float[] bias = withBias ? data(r, bo, N) : null;
        float[] want = guards(yo, M * N);
        Matmul.linearNaive(want, yo, x, xo, w, wo, bias, bo, M, N, K);
        float[] one = null;
        for (int t = 1; t <= 2; t++) {
          Parallel.setThreads(t);
          float[] got = guards(yo, M * N);
          Matmul.linear(got, yo, x, xo, w, wo, bias, bo, M, N, K);
          String what = "linear " + shape(s) + " bias=" + withBias + " threads=" + t;
          for (int m = 0; m < M; m++) {
            for (int n = 0; n < N; n++) {
              double mag = bias == null ? 0 : Math.abs(bias[bo + n]);
              for (int k = 0; k < K; k++) mag += Math.abs(x[xo + m * K + k] * w[wo + n * K + k]);
              int i = yo + m * N + n;
              near(want[i], got[i], K + 1, mag, what + " at [" + m + "," + n + "]");
            }
          }
          assertGuards(got, yo, M * N, what);
          float[] again = guards(yo, M * N);
          Matmul.linear(again, yo, x, xo, w, wo, bias, bo, M, N, K);
          assertArrayEquals(got, again, "repeat " + what);
          if (one == null) one = got;
          else assertArrayEquals(one, got, "1 vs 2 threads " + what);
        }
        // packed weight: same tolerance; bit-identical to the unpacked GEMM when M > DECODE_ROWS
        Matmul.PackedWeight pw = Matmul.pack(w, wo, N, K);
        float[] got = guards(yo, M * N);
        Matmul.linear(got, yo, x, xo, pw, bias, bo, M);
        if (M > Matmul.DECODE_ROWS) assertArrayEquals(one, got, "packed " + shape(s));
        for (int i = 0; i < M * N; i++) {
          int m = i / N, n = i % N;
          double mag = bias == null ? 0 : Math.abs(bias[bo + n]);
          for (int k = 0; k < K; k++) mag += Math.abs(x[xo + m * K + k] * w[wo + n * K + k]);
          near(want[yo + i], got[yo + i], K + 1, mag, "packed " + shape(s) + " at " + i);
        }
        assertGuards(got, yo, M * N, "packed " + shape(s));
      }
    }
  }

  /**
   * The decode path (M ≤ 8) gives each row exactly what the row gets alone, and each element is the
   * documented operation sequence: VL per-lane fma chains over the vector part of K, the pairwise
   * lane sum (lane i += lane i + h, h = VL/2 … 1), the scalar tail in order, then the bias. The
   * reference below does that sequence in scalar floats, so a kernel that transposes the lane sums
   * wrongly (a lane of the wrong output, a wrong pairing) fails bit for bit.
   */
  @Test
  void decodeRowsAreTheDocumentedSumAndIndependentOfTheBatch() {
    Random r = new Random(7);
    int vl = MatmulGemm.VL;
    for (int[] nk :
        new int[][] {
          {1, 8}, {3, 5}, {4, 16}, {7, 24}, {8, 64}, {12, 40}, {13, 33}, {17, 256}, {36, 100},
          {64, 384}
        }) {
      int N = nk[0], K = nk[1];
      for (boolean withBias : new boolean[] {false, true}) {
        for (int M = 1; M <= Matmul.DECODE_ROWS; M++) {
          int xo = r.nextInt(5), wo = r.nextInt(5), bo = r.nextInt(5);
          float[] x = data(r, xo, M * K), w = data(r, wo, N * K);
          float[] bias = withBias ? data(r, bo, N) : null;
          for (int t = 1; t <= 2; t++) {
            Parallel.setThreads(t);
            float[] got = guards(0, M * N);
            Matmul.linear(got, 0, x, xo, w, wo, bias, bo, M, N, K);
            assertGuards(got, 0, M * N, "decode " + M + "x" + N + "x" + K);
            for (int m = 0; m < M; m++) {
              float[] alone = new float[N];
              float[] xm = java.util.Arrays.copyOfRange(x, xo + m * K, xo + (m + 1) * K);
              Matmul.linear(alone, 0, xm, 0, w, wo, bias, bo, 1, N, K);
              for (int n = 0; n < N; n++) {
                float[] lanes = new float[vl];
                int kb = K / vl * vl;
                for (int k = 0; k < kb; k++)
                  lanes[k % vl] = Math.fma(x[xo + m * K + k], w[wo + n * K + k], lanes[k % vl]);
                for (int h = vl / 2; h > 0; h >>= 1)
                  for (int i = 0; i < h; i++) lanes[i] += lanes[i + h];
                float want = lanes[0];
                for (int k = kb; k < K; k++)
                  want = Math.fma(x[xo + m * K + k], w[wo + n * K + k], want);
                if (bias != null) want = bias[bo + n] + want;
                String at =
                    "M="
                        + M
                        + " N="
                        + N
                        + " K="
                        + K
                        + " bias="
                        + withBias
                        + " threads="
                        + t
                        + " ["
                        + m
                        + ","
                        + n
                        + "]";
                assertEquals(
                    Float.floatToRawIntBits(want),
                    Float.floatToRawIntBits(got[m * N + n]),
                    at + ": " + want + " vs " + got[m * N + n]);
                assertEquals(
                    Float.floatToRawIntBits(alone[n]),
                    Float.floatToRawIntBits(got[m * N + n]),
                    "alone vs batch " + at);
              }
            }
          }
        }
      }
    }
  }

  @Test
  void backwardInputMatchesNaive() {
    Random r = new Random(2);
    for (int[] s : shapes()) {
      int M = s[0], N = s[1], K = s[2];
      for (boolean acc : new boolean[] {false, true}) {
        int dxo = r.nextInt(5), dyo = r.nextInt(5), wo = r.nextInt(5);
        float[] dy = data(r, dyo, M * N), w = data(r, wo, N * K);
        float[] dx0 = data(r, dxo, M * K);
        float[] want = dx0.clone();
        Matmul.linearBackwardInputNaive(want, dxo, dy, dyo, w, wo, M, N, K, acc);
        float[] one = null;
        for (int t = 1; t <= 2; t++) {
          Parallel.setThreads(t);
          String what = "backwardInput " + shape(s) + " acc=" + acc + " threads=" + t;
          float[] got = dx0.clone();
          Matmul.linearBackwardInput(got, dxo, dy, dyo, w, wo, M, N, K, acc);
          for (int m = 0; m < M; m++) {
            for (int k = 0; k < K; k++) {
              double mag = acc ? Math.abs(dx0[dxo + m * K + k]) : 0;
              for (int n = 0; n < N; n++) mag += Math.abs(dy[dyo + m * N + n] * w[wo + n * K + k]);
              int i = dxo + m * K + k;
              near(want[i], got[i], N + 1, mag, what + " at [" + m + "," + k + "]");
            }
          }
          assertGuards(got, dxo, M * K, what);
          float[] again = dx0.clone();
          Matmul.linearBackwardInput(again, dxo, dy, dyo, w, wo, M, N, K, acc);
          assertArrayEquals(got, again, "repeat " + what);
          if (one == null) one = got;
          else assertArrayEquals(one, got, "1 vs 2 threads " + what);
        }
      }
    }
  }

  @Test
  void backwardWeightMatchesNaive() {
    Random r = new Random(3);
    for (int[] s : shapes()) {
      int M = s[0], N = s[1], K = s[2];
      for (boolean withBias : new boolean[] {false, true}) {
        int dwo = r.nextInt(5), dbo = r.nextInt(5), dyo = r.nextInt(5), xo = r.nextInt(5);
        float[] dy = data(r, dyo, M * N), x = data(r, xo, M * K);
        float[] dw0 = data(r, dwo, N * K);
        float[] db0 = withBias ? data(r, dbo, N) : null;
        float[] wantW = dw0.clone();
        float[] wantB = withBias ? db0.clone() : null;
        Matmul.linearBackwardWeightNaive(wantW, dwo, wantB, dbo, dy, dyo, x, xo, M, N, K);
        float[] oneW = null, oneB = null;
        for (int t = 1; t <= 2; t++) {
          Parallel.setThreads(t);
          String what = "backwardWeight " + shape(s) + " bias=" + withBias + " threads=" + t;
          float[] gotW = dw0.clone();
          float[] gotB = withBias ? db0.clone() : null;
          Matmul.linearBackwardWeight(gotW, dwo, gotB, dbo, dy, dyo, x, xo, M, N, K);
          for (int n = 0; n < N; n++) {
            for (int k = 0; k < K; k++) {
              double mag = Math.abs(dw0[dwo + n * K + k]);
              for (int m = 0; m < M; m++) mag += Math.abs(dy[dyo + m * N + n] * x[xo + m * K + k]);
              int i = dwo + n * K + k;
              near(wantW[i], gotW[i], M + 1, mag, what + " dw at [" + n + "," + k + "]");
            }
            if (withBias) {
              double mag = Math.abs(db0[dbo + n]);
              for (int m = 0; m < M; m++) mag += Math.abs(dy[dyo + m * N + n]);
              near(wantB[dbo + n], gotB[dbo + n], M + 1, mag, what + " dbias at " + n);
            }
          }
          assertGuards(gotW, dwo, N * K, what);
          if (withBias) assertGuards(gotB, dbo, N, what + " dbias");
          float[] againW = dw0.clone();
          float[] againB = withBias ? db0.clone() : null;
          Matmul.linearBackwardWeight(againW, dwo, againB, dbo, dy, dyo, x, xo, M, N, K);
          assertArrayEquals(gotW, againW, "repeat " + what);
          if (withBias) assertArrayEquals(gotB, againB, "repeat dbias " + what);
          if (oneW == null) {
            oneW = gotW;
            oneB = gotB;
          } else {
            assertArrayEquals(oneW, gotW, "1 vs 2 threads " + what);
            if (withBias) assertArrayEquals(oneB, gotB, "1 vs 2 threads dbias " + what);
          }
        }
      }
    }
  }

  @Test
  void largeProductsAreDeterministicAcrossThreadCounts() {
    Random r = new Random(4);
    int M = 700, N = 530, K = 600; // several MC and KC blocks, ragged edges everywhere
    float[] x = data(r, 3, M * K), w = data(r, 1, N * K), bias = data(r, 2, N);
    float[] ref = null;
    for (int t : new int[] {1, 2, 3}) {
      Parallel.setThreads(t);
      float[] y = guards(0, M * N);
      Matmul.linear(y, 0, x, 3, w, 1, bias, 2, M, N, K);
      if (ref == null) ref = y;
      else assertArrayEquals(ref, y, "threads=" + t);
    }
    float[] want = new float[M * N];
    Matmul.linearNaive(want, 0, x, 3, w, 1, bias, 2, M, N, K);
    for (int i = 0; i < M * N; i += 97) {
      int m = i / N, n = i % N;
      double mag = Math.abs(bias[2 + n]);
      for (int k = 0; k < K; k++) mag += Math.abs(x[3 + m * K + k] * w[1 + n * K + k]);
      near(want[i], ref[i], K + 1, mag, "at " + i);
    }
  }

  @Test
  void rejectsBadArguments() {
    float[] a = new float[12];
    assertThrows(
        IllegalArgumentException.class, () -> Matmul.linear(a, 0, a, 0, a, 0, null, 0, -1, 2, 2));
    assertThrows(
        IndexOutOfBoundsException.class, () -> Matmul.linear(a, 0, a, 0, a, 7, null, 0, 2, 2, 3));
    assertThrows(
        IndexOutOfBoundsException.class,
        () -> Matmul.linearBackwardWeight(a, 0, a, 11, a, 0, a, 0, 2, 2, 2));
  }

  @Test
  void zeroReductionGivesBiasOrLeavesAccumulators() {
    float[] y = {9, 9, 9, 9, 9, 9};
    Matmul.linear(y, 0, new float[0], 0, new float[0], 0, new float[] {1, 2, 3}, 0, 2, 3, 0);
    assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3}, y);
    Matmul.linear(y, 0, new float[0], 0, new float[0], 0, null, 0, 2, 3, 0);
    float[] dx = {5, 5};
    Matmul.linearBackwardInput(dx, 0, new float[0], 0, new float[0], 0, 1, 0, 2, true);
    assertArrayEquals(new float[] {5, 5}, dx);
    Matmul.linearBackwardInput(dx, 0, new float[0], 0, new float[0], 0, 1, 0, 2, false);
    assertArrayEquals(new float[] {0, 0}, dx);
    assertArrayEquals(new float[6], y);
  }

  private static void near(float want, float got, int terms, double mag, String what) {
    double gamma = terms * U / (1 - terms * U);
    double tol = (gamma + U) * mag + Float.MIN_NORMAL;
    if (!(Math.abs((double) want - got) <= tol)) {
      fail(
          what
              + ": want "
              + want
              + " got "
              + got
              + " (|diff| "
              + Math.abs((double) want - got)
              + " > tol "
              + tol
              + ")");
    }
  }

  private static void assertGuards(float[] a, int off, int n, String what) {
    for (int i = 0; i < off; i++) assertEquals(GUARD, a[i], "guard before " + what);
    for (int i = off + n; i < a.length; i++) assertEquals(GUARD, a[i], "guard after " + what);
  }

  private static String shape(int[] s) {
    return "M=" + s[0] + " N=" + s[1] + " K=" + s[2];
  }
}
