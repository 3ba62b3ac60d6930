package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.hnet.tensor.Rows;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * SsdNaiveBackward.scanBackward against central finite differences of a double-precision twin of
 * the forward; SsdBackward.scanBackward (chunked) against the naive one.
 */
@ExtendWith(RestoreThreads.class)
class SsdBackwardTest {
  /**
   * Kernel vs FD, max |error| / max |gradient| per tensor. The FD side is exact to ~1e-9 (double,
   * step 1e-5, O(h²) truncation); the kernels take float inputs to float outputs, so each gradient
   * carries float rounding of its inputs' products and sums, ~1e-7..1e-6 relative to its scale on
   * these sizes. 1e-4 leaves two orders of margin while any wrong term shows up at O(1).
   */
  static final double FD_TOL = 1e-4;

  /**
   * Chunked (float, chunk-wise sums, carried decays, float chunk states) vs naive (double inside,
   * float out), per tensor relative to its max (see compare for the [H] ones). Seen ≤ ~5e-6.
   */
  static final double TOL = 2e-5;

  static final String[] NAMES = {"dx", "dDtRaw", "dB", "dC", "dDtBias", "dA_log", "dD"};
  static final double[] worstFd = new double[7],
      worstNaiveFd = new double[7],
      worstSweep = new double[7];
  static double worstLarge;

  @AfterAll
  static void report() {
    StringBuilder s =
        new StringBuilder("SsdBackwardTest max rel diff (fd naive | fd chunked | sweep):");
    for (int i = 0; i < 7; i++) {
      s.append(
          String.format(
              " %s %.2g|%.2g|%.2g", NAMES[i], worstNaiveFd[i], worstFd[i], worstSweep[i]));
    }
    System.out.println(s + String.format("; large %.2g", worstLarge));
  }

  // ---------------------------------------------------------------------------------------------
  // Double-precision twin of the forward: loss = Σ dy·y, contiguous layouts.

  /** p = {x [T·H·P], dtRaw [T·H], dtBias [H], aLog [H], B [T·N], C [T·N], D [H]}. */
  static double loss(double[][] p, double[] dy, int[] cu, int H, int P, int N) {
    double[] x = p[0], dtRaw = p[1], dtBias = p[2], aLog = p[3], b = p[4], c = p[5], d = p[6];
    double loss = 0;
    double[] s = new double[P * N];
    for (int seq = 0; seq + 1 < cu.length; seq++) {
      for (int h = 0; h < H; h++) {
        Arrays.fill(s, 0);
        double a = -Math.exp(aLog[h]);
        for (int t = cu[seq]; t < cu[seq + 1]; t++) {
          double v = dtRaw[t * H + h] + dtBias[h];
          double dt = v > 20 ? v : Math.log1p(Math.exp(v));
          double dA = Math.exp(dt * a);
          for (int pp = 0; pp < P; pp++) {
            double y = d[h] * x[(t * H + h) * P + pp];
            for (int n = 0; n < N; n++) {
              s[pp * N + n] = dA * s[pp * N + n] + dt * x[(t * H + h) * P + pp] * b[t * N + n];
              y += s[pp * N + n] * c[t * N + n];
            }
            loss += dy[(t * H + h) * P + pp] * y;
          }
        }
      }
    }
    return loss;
  }

  /** max |analytic − numeric| / max |numeric| (analytic at off + i). */
  static double fdErr(double[] numeric, float[] analytic, int off) {
    double scale = 1e-30, err = 0;
    for (int i = 0; i < numeric.length; i++) {
      scale = Math.max(scale, Math.abs(numeric[i]));
      err = Math.max(err, Math.abs(numeric[i] - analytic[off + i]));
    }
    return err / scale;
  }

  @Test
  void naiveAndChunkedMatchFiniteDifferences() {
    Random r = new Random(21);
    int H = 2, P = 3, N = 2;
    // {cu, dtRaw mean, dtRaw std, A_log base}: near dt≈0.3..1.3 (smooth softplus), then a case
    // entirely above the softplus threshold (dt = dtRaw + dtBias ≈ 22, small |A| keeps decays ≈
    // 0.7)
    double[][] setups = {{-1, 0.6, 0}, {-1, 0.6, 0}, {22, 0.4, -4}};
    int[][] cus = {{0, 11, 12}, {0, 1, 9}, {0, 5, 6}};
    for (int si = 0; si < setups.length; si++) {
      int[] cu = cus[si];
      int T = cu[cu.length - 1], nSeq = cu.length - 1;
      float[] x = randn(r, T * H * P, 1), dt = new float[T * H], dtBias = new float[H];
      float[] aLog = new float[H],
          b = randn(r, T * N, 1),
          c = randn(r, T * N, 1),
          d = randn(r, H, 1);
      float[] dy = randn(r, T * H * P, 1);
      for (int i = 0; i < dt.length; i++)
        dt[i] = (float) (setups[si][0] + setups[si][1] * r.nextGaussian());
      for (int h = 0; h < H; h++) {
        dtBias[h] = (float) (0.1 * r.nextGaussian());
        aLog[h] = (float) (setups[si][2] + r.nextDouble());
      }
      if (si == 2) for (float v : dt) assertTrue(v - 0.3f > 20f); // every dt above the threshold
      double[][] pd = new double[7][];
      float[][] pf = {x, dt, dtBias, aLog, b, c, d};
      for (int i = 0; i < 7; i++) pd[i] = GradCheck.toDouble(pf[i]);
      double[] dyd = GradCheck.toDouble(dy);
      for (int variant = 0; variant < 3; variant++) { // naive, chunked chunk 4, chunked chunk 1
        float[][] g = {
          new float[T * H * P],
          new float[T * H],
          new float[H],
          new float[H],
          new float[T * N],
          new float[T * N],
          new float[H]
        };
        for (int i : new int[] {2, 3, 6}) Arrays.fill(g[i], 0.5f); // ADDS INTO: start from 0.5
        SsdRows dIn = new SsdRows(), in = new SsdRows();
        dIn.x.set(g[0], 0, T, H * P, H * P);
        dIn.dt.set(g[1], 0, T, H, H);
        dIn.b.set(g[4], 0, T, N, N);
        dIn.c.set(g[5], 0, T, N, N);
        in.x.set(x, 0, T, H * P, H * P);
        in.dt.set(dt, 0, T, H, H);
        in.b.set(b, 0, T, N, N);
        in.c.set(c, 0, T, N, N);
        SsdHeads grads = new SsdHeads(g[2], g[3], g[6], H, P, N);
        SsdHeads p = new SsdHeads(dtBias, aLog, d, H, P, N);
        Rows dyv = new Rows(dy, 0, T, H * P, H * P);
        if (variant == 0) {
          SsdNaiveBackward.scanBackward(dIn, grads, dyv, in, p, cu, nSeq, 1);
        } else {
          SsdBackward.scanBackward(dIn, grads, dyv, in, p, cu, nSeq, variant == 1 ? 4 : 1);
        }
        for (int i : new int[] {2, 3, 6}) for (int h = 0; h < H; h++) g[i][h] -= 0.5f;
        // g[i] is the gradient of parameter pd[i]; its NAMES index:
        int[] nameOf = {0, 1, 4, 5, 2, 3, 6};
        for (int k = 0; k < 7; k++) {
          int pi = k;
          double[] num =
              GradCheck.numeric(
                  pd[pi],
                  1e-5,
                  v -> {
                    double[][] q = pd.clone();
                    q[pi] = v;
                    return loss(q, dyd, cu, H, P, N);
                  });
          double e = fdErr(num, g[k], 0);
          int name = nameOf[k];
          if (variant == 0) worstNaiveFd[name] = Math.max(worstNaiveFd[name], e);
          else worstFd[name] = Math.max(worstFd[name], e);
          assertTrue(
              e <= FD_TOL, "setup " + si + " variant " + variant + " " + NAMES[name] + ": " + e);
        }
      }
    }
  }

  static float[] randn(Random r, int n, double scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) (scale * r.nextGaussian());
    return a;
  }

  // ---------------------------------------------------------------------------------------------
  // Chunked vs naive.

  /**
   * Gradient outputs for a {@link SsdTest.Case}: in Mamba2's layout (one row per token [1 pad | dz
   * (H·P) | dx (H·P) | dB (N) | dC (N) | dDt (H) | 2 pad], everything but dx..dDt NaN and never to
   * be written) or in separate NaN-gapped arrays. dy in a NaN-gapped strided buffer.
   */
  static final class Grads {
    final SsdTest.Case k;
    final float[] dxs, ddts, dbs, dcs;
    final int dxOff, dxStride, ddtOff, ddtStride, dbOff, dbStride, dcOff, dcStride;
    final float[] dDtBias, dALog, dD;

    Grads(SsdTest.Case k, boolean packed) {
      this.k = k;
      int hp = k.H * k.P, T = k.T, N = k.N, H = k.H;
      if (packed) {
        int stride = 1 + 2 * hp + 2 * N + H + 2;
        dxs = ddts = dbs = dcs = nan(T * stride + 1);
        dxOff = 1 + hp;
        dbOff = dxOff + hp;
        dcOff = dbOff + N;
        ddtOff = dcOff + N;
        dxStride = dbStride = dcStride = ddtStride = stride;
      } else {
        dxStride = hp + 1;
        ddtStride = H + 2;
        dbStride = N + 1;
        dcStride = N + 3;
        dxOff = 1;
        ddtOff = 2;
        dbOff = 0;
        dcOff = 3;
        dxs = nan(dxOff + T * dxStride);
        ddts = nan(ddtOff + T * ddtStride);
        dbs = nan(dbOff + T * dbStride + 1);
        dcs = nan(dcOff + T * dcStride);
      }
      dDtBias = new float[H];
      dALog = new float[H];
      dD = new float[H];
      Arrays.fill(dDtBias, 0.25f);
      Arrays.fill(dALog, -0.5f);
      Arrays.fill(dD, 1f);
    }

    void run(boolean naive, float[] dy, int dyOff, int dyStride, int chunk) {
      SsdTest.Case c = k;
      int T = c.T, hp = c.H * c.P;
      SsdRows dIn = new SsdRows(), in = new SsdRows();
      dIn.x.set(dxs, dxOff, T, hp, dxStride);
      dIn.dt.set(ddts, ddtOff, T, c.H, ddtStride);
      dIn.b.set(dbs, dbOff, T, c.N, dbStride);
      dIn.c.set(dcs, dcOff, T, c.N, dcStride);
      in.x.set(c.xs, c.xOff, T, hp, c.xStride);
      in.dt.set(c.dts, c.dtOff, T, c.H, c.dtStride);
      in.b.set(c.bs, c.bOff, T, c.N, c.bStride);
      in.c.set(c.cs, c.cOff, T, c.N, c.cStride);
      SsdHeads grads = new SsdHeads(dDtBias, dALog, dD, c.H, c.P, c.N);
      SsdHeads p = new SsdHeads(c.dtBias, c.aLog, c.d, c.H, c.P, c.N);
      Rows dyv = new Rows(dy, dyOff, T, hp, dyStride);
      if (naive) SsdNaiveBackward.scanBackward(dIn, grads, dyv, in, p, c.cu, c.nSeq, chunk);
      else SsdBackward.scanBackward(dIn, grads, dyv, in, p, c.cu, c.nSeq, chunk);
    }

    /** The 7 tensors, each as a flat array of its logical elements. */
    float[][] tensors() {
      int T = k.T, hp = k.H * k.P;
      return new float[][] {
        gather(dxs, dxOff, dxStride, T, hp),
        gather(ddts, ddtOff, ddtStride, T, k.H),
        gather(dbs, dbOff, dbStride, T, k.N),
        gather(dcs, dcOff, dcStride, T, k.N),
        dDtBias,
        dALog,
        dD
      };
    }

    /** Every element outside the outputs is still NaN, every output finite. */
    void checkLayout() {
      int T = k.T;
      boolean[][] mark = new boolean[4][];
      float[][] bufs = {dxs, ddts, dbs, dcs};
      int[][] lay = {
        {dxOff, dxStride, k.H * k.P},
        {ddtOff, ddtStride, k.H},
        {dbOff, dbStride, k.N},
        {dcOff, dcStride, k.N}
      };
      java.util.IdentityHashMap<float[], boolean[]> marks = new java.util.IdentityHashMap<>();
      for (int i = 0; i < 4; i++) {
        boolean[] m = marks.computeIfAbsent(bufs[i], a -> new boolean[a.length]);
        mark[i] = m;
        for (int t = 0; t < T; t++) {
          for (int e = 0; e < lay[i][2]; e++) m[lay[i][0] + t * lay[i][1] + e] = true;
        }
      }
      for (var en : marks.entrySet()) {
        float[] a = en.getKey();
        boolean[] m = en.getValue();
        for (int i = 0; i < a.length; i++) {
          assertTrue(
              m[i] ? Float.isFinite(a[i]) : Float.isNaN(a[i]), "layout at " + i + ": " + a[i]);
        }
      }
    }
  }

  static float[] nan(int n) {
    float[] a = new float[n];
    Arrays.fill(a, Float.NaN);
    return a;
  }

  static float[] gather(float[] a, int off, int stride, int rows, int width) {
    float[] o = new float[rows * width];
    for (int t = 0; t < rows; t++) System.arraycopy(a, off + t * stride, o, t * width, width);
    return o;
  }

  static float[] dyFor(SsdTest.Case k, Random r) {
    float[] dy = k.newY(); // NaN gaps, yOff / yStride
    for (int t = 0; t < k.T; t++) {
      for (int i = 0; i < k.H * k.P; i++) dy[k.yOff + t * k.yStride + i] = (float) r.nextGaussian();
    }
    return dy;
  }

  /**
   * Asserts each tensor within tol of the reference, relative to its max; records the worst. The
   * three [H] parameter gradients are single sums over all tokens of terms of both signs, so their
   * float error is set by the terms' mass, not by the (possibly much smaller) sum: they are scaled
   * by max(|ref|) + mass, mass per head being Σ_t |dDtRaw_t| (dDtBias: exact, it is that sum), |A|
   * Σ_t dt_t |ddt_t| (dA_log: the decay part of ddt_t times dt_t is its term; ddt_t stands in for
   * that part) and Σ_t |dy_t·x_t| (dD: exact).
   */
  static void compare(
      float[][] got,
      float[][] ref,
      double[] worst,
      double tol,
      String what,
      SsdTest.Case k,
      float[] dy) {
    double[] mass = new double[7];
    for (int h = 0; h < k.H; h++) {
      double mb = 0, ma = 0, md = 0, a = Math.exp(k.aLog[h]);
      for (int t = 0; t < k.T; t++) {
        double v = (double) k.dts[k.dtOff + t * k.dtStride + h] + k.dtBias[h];
        double dtv = v > 20 ? v : Math.log1p(Math.exp(v));
        double raw = ref[1][t * k.H + h];
        mb += Math.abs(raw);
        ma += a * dtv * Math.abs(raw / SsdBackward.softplusGrad(v));
        double dyx = 0;
        for (int p = 0; p < k.P; p++) {
          dyx +=
              (double) dy[k.yOff + t * k.yStride + h * k.P + p]
                  * k.xs[k.xOff + t * k.xStride + h * k.P + p];
        }
        md += Math.abs(dyx);
      }
      mass[4] = Math.max(mass[4], mb);
      mass[5] = Math.max(mass[5], ma);
      mass[6] = Math.max(mass[6], md);
    }
    for (int i = 0; i < 7; i++) {
      double maxDiff = 0, maxRef = 1e-30;
      for (int j = 0; j < ref[i].length; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[i][j] - ref[i][j]));
        maxRef = Math.max(maxRef, Math.abs(ref[i][j]));
      }
      double e = maxDiff / (maxRef + mass[i]);
      worst[i] = Math.max(worst[i], e);
      assertTrue(e <= tol, what + " " + NAMES[i] + ": rel diff " + e);
    }
  }

  @Test
  void chunkedMatchesNaiveOverSweep() {
    Random r = new Random(22);
    for (int T : new int[] {0, 1, 2, 3, 31, 32, 33, 65, 200}) {
      for (int variant = 0; variant < 3; variant++) {
        int[] cu = SsdTest.segments(T, variant, r);
        for (int H : new int[] {1, 2, 3}) {
          for (int P : new int[] {1, 16, 64}) {
            for (int N : new int[] {1, 16, 17, 32}) {
              boolean inter = (T + H + P + N + variant) % 2 == 0;
              SsdTest.Case k = new SsdTest.Case(cu, H, P, N, inter, r, -2, 1);
              float[] dy = dyFor(k, r);
              Grads ref = new Grads(k, inter);
              ref.run(true, dy, k.yOff, k.yStride, 1);
              ref.checkLayout();
              float[][] refT = ref.tensors();
              for (int chunk : new int[] {1, 8, 32, 64, 256, 13}) {
                float[][] first = null;
                for (int threads = 1; threads <= 2; threads++) {
                  Parallel.setThreads(threads);
                  Grads g = new Grads(k, !inter);
                  g.run(false, dy, k.yOff, k.yStride, chunk);
                  String what =
                      "T="
                          + T
                          + " cu="
                          + Arrays.toString(cu)
                          + " H="
                          + H
                          + " P="
                          + P
                          + " N="
                          + N
                          + " chunk="
                          + chunk
                          + " threads="
                          + threads;
                  g.checkLayout();
                  float[][] got = g.tensors();
                  compare(got, refT, worstSweep, TOL, what, k, dy);
                  if (threads == 1) first = got;
                  else
                    for (int i = 0; i < 7; i++) assertArrayEquals(first[i], got[i], what + " bits");
                }
              }
            }
          }
        }
      }
    }
  }

  @Test
  void extremeDecaysAndLargeShapesMatch() {
    Random r = new Random(23);
    // dtRaw ~ N(10, 20): from no decay to decays that underflow to 0 (acum ≈ -1e4).
    SsdTest.Case k = new SsdTest.Case(new int[] {0, 40, 41, 300}, 3, 16, 17, true, r, 10, 20);
    checkLarge(k, r, new int[] {1, 16, 64, 256});
    // Mamba2 defaults (P 64, N 128, chunk 256) over long packed sequences, 3 threads.
    Parallel.setThreads(3);
    k = new SsdTest.Case(new int[] {0, 700, 701, 1500}, 4, 64, 128, true, r, -2, 1);
    checkLarge(k, r, new int[] {64, 256});
  }

  /**
   * The same with the internal block cap lifted (Ssd.maxBlock), so chunks 64 and 256 really run.
   */
  @Test
  void uncappedBlocksMatch() {
    int saved = Ssd.maxBlock;
    Ssd.maxBlock = Integer.MAX_VALUE;
    try {
      extremeDecaysAndLargeShapesMatch();
    } finally {
      Ssd.maxBlock = saved;
    }
  }

  private static void checkLarge(SsdTest.Case k, Random r, int[] chunks) {
    float[] dy = dyFor(k, r);
    Grads ref = new Grads(k, false);
    ref.run(true, dy, k.yOff, k.yStride, 1);
    float[][] refT = ref.tensors();
    for (int chunk : chunks) {
      Grads g = new Grads(k, true);
      g.run(false, dy, k.yOff, k.yStride, chunk);
      g.checkLayout();
      double[] w = new double[7];
      compare(g.tensors(), refT, w, TOL, "chunk " + chunk, k, dy);
      for (int i = 0; i < 7; i++) {
        worstLarge = Math.max(worstLarge, w[i]);
        worstSweep[i] = Math.max(worstSweep[i], w[i]);
      }
    }
  }
}
