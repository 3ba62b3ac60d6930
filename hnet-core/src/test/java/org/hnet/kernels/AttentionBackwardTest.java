package org.hnet.kernels;

import static org.hnet.kernels.AttentionTest.packing;
import static org.hnet.kernels.AttentionTest.randomQkv;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.hnet.tensor.Rows;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Dimensions: T tokens, H heads, P head dim, R rotary dims, Wn window, HP = H·P. qkv rows of stride
 * ≥ 3HP hold q | k | v; dout rows [HP]; lse [T × H]. v and dout lie in [−1, 1], q and k in up to
 * [−4, 4] so that some softmaxes are peaked.
 */
@ExtendWith(RestoreThreads.class)
class AttentionBackwardTest {

  // ---------------------------------------------------------------------------------------------
  // Double-precision twin of the forward and of its analytic backward. The rotary uses the float32
  // cos/sin tables as exact coefficients, so the twin is one smooth function of qkv.

  /** Rotated part (0 = q, 1 = k) of tokens [s0, s0+len): [len × HP] in double. */
  static double[] rotated(
      double[] qkv, int off, int stride, int s0, int len, int part, int H, int P, int R) {
    int HP = H * P, r2 = R / 2;
    float[][] tab = Rotary.tables(len, R);
    double[] x = new double[len * HP];
    for (int t = 0; t < len; t++) {
      for (int h = 0; h < H; h++) {
        int src = off + (s0 + t) * stride + part * HP + h * P, dst = t * HP + h * P;
        for (int c = 0; c < P; c++) x[dst + c] = qkv[src + c];
        for (int i = 0; i < r2; i++) {
          double c = tab[0][t * r2 + i],
              s = tab[1][t * r2 + i],
              x1 = qkv[src + i],
              x2 = qkv[src + i + r2];
          x[dst + i] = x1 * c - x2 * s;
          x[dst + i + r2] = x2 * c + x1 * s;
        }
      }
    }
    return x;
  }

  /** Softmax row i of head h into p[lo..i]; returns its log-sum-exp. */
  static double softmaxRow(
      double[] qr, double[] kr, int i, int h, int lo, int HP, int P, double[] p) {
    double scale = Attention.scale(P), mx = Double.NEGATIVE_INFINITY, z = 0;
    for (int j = lo; j <= i; j++) {
      double d = 0;
      for (int c = 0; c < P; c++) d += qr[i * HP + h * P + c] * kr[j * HP + h * P + c];
      p[j] = d * scale;
      mx = Math.max(mx, p[j]);
    }
    for (int j = lo; j <= i; j++) z += p[j] = Math.exp(p[j] - mx);
    for (int j = lo; j <= i; j++) p[j] /= z;
    return mx + Math.log(z);
  }

  /** out [T × HP] (and lse [T × H] when not null) of the double twin. */
  static double[] forwardD(
      double[] qkv, int off, int stride, int[] cu, int H, int P, int R, int w, double[] lse) {
    int HP = H * P, T = cu[cu.length - 1];
    double[] out = new double[T * HP];
    for (int sq = 0; sq + 1 < cu.length; sq++) {
      int s0 = cu[sq], len = cu[sq + 1] - s0;
      double[] qr = rotated(qkv, off, stride, s0, len, 0, H, P, R),
          kr = rotated(qkv, off, stride, s0, len, 1, H, P, R);
      double[] p = new double[len];
      for (int h = 0; h < H; h++) {
        for (int i = 0; i < len; i++) {
          int lo = w < 0 ? 0 : Math.max(0, i - w);
          double l = softmaxRow(qr, kr, i, h, lo, HP, P, p);
          if (lse != null) lse[(s0 + i) * H + h] = l;
          for (int c = 0; c < P; c++) {
            double o = 0;
            for (int j = lo; j <= i; j++)
              o += p[j] * qkv[off + (s0 + j) * stride + 2 * HP + h * P + c];
            out[(s0 + i) * HP + h * P + c] = o;
          }
        }
      }
    }
    return out;
  }

  static double loss(
      double[] qkv, int off, int stride, int[] cu, int H, int P, int R, int w, float[] dout) {
    double[] out = forwardD(qkv, off, stride, cu, H, P, R, w, null);
    double l = 0;
    for (int k = 0; k < out.length; k++) l += out[k] * dout[k];
    return l;
  }

  /** Analytic gradient of {@link #loss} in double, laid out like qkv (zero outside q | k | v). */
  static double[] backwardD(
      double[] qkv, int off, int stride, int[] cu, int H, int P, int R, int w, float[] dout) {
    int HP = H * P, r2 = R / 2;
    double scale = Attention.scale(P);
    double[] g = new double[qkv.length];
    for (int sq = 0; sq + 1 < cu.length; sq++) {
      int s0 = cu[sq], len = cu[sq + 1] - s0;
      double[] qr = rotated(qkv, off, stride, s0, len, 0, H, P, R),
          kr = rotated(qkv, off, stride, s0, len, 1, H, P, R);
      double[] dq = new double[len * HP], dk = new double[len * HP], p = new double[len];
      for (int h = 0; h < H; h++) {
        for (int i = 0; i < len; i++) {
          int lo = w < 0 ? 0 : Math.max(0, i - w), go = (s0 + i) * HP + h * P;
          softmaxRow(qr, kr, i, h, lo, HP, P, p);
          double dd = 0;
          for (int c = 0; c < P; c++) {
            double o = 0;
            for (int j = lo; j <= i; j++)
              o += p[j] * qkv[off + (s0 + j) * stride + 2 * HP + h * P + c];
            dd += dout[go + c] * o;
          }
          for (int j = lo; j <= i; j++) {
            int vj = off + (s0 + j) * stride + 2 * HP + h * P;
            double dp = 0;
            for (int c = 0; c < P; c++) dp += dout[go + c] * qkv[vj + c];
            double ds = p[j] * (dp - dd) * scale;
            for (int c = 0; c < P; c++) {
              dq[i * HP + h * P + c] += ds * kr[j * HP + h * P + c];
              dk[j * HP + h * P + c] += ds * qr[i * HP + h * P + c];
              g[vj + c] += p[j] * dout[go + c];
            }
          }
        }
      }
      float[][] tab = Rotary.tables(len, R);
      for (int t = 0; t < len; t++) {
        for (int part = 0; part < 2; part++) {
          double[] src = part == 0 ? dq : dk;
          for (int h = 0; h < H; h++) {
            int so = t * HP + h * P, d = off + (s0 + t) * stride + part * HP + h * P;
            for (int c = 0; c < P; c++) g[d + c] = src[so + c];
            for (int i = 0; i < r2; i++) {
              double c = tab[0][t * r2 + i], s = tab[1][t * r2 + i];
              g[d + i] = src[so + i] * c + src[so + i + r2] * s;
              g[d + i + r2] = src[so + i + r2] * c - src[so + i] * s;
            }
          }
        }
      }
    }
    return g;
  }

  /** max |a − b| over a's length, relative to max |a|; b read at the same indices. */
  static double relErr(double[] exact, float[] got) {
    double scale = 0, err = 0;
    for (int k = 0; k < exact.length; k++) {
      scale = Math.max(scale, Math.abs(exact[k]));
      double e = Math.abs(exact[k] - got[k]);
      err = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(err, e);
    }
    return scale == 0 ? err : err / scale;
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * backwardNaive (and the fast backward, and the double analytic gradient) against central
   * differences of the double twin. FD error: truncation h²/6·|f'''| ≈ 1e-9 and cancellation
   * ε_double·|loss|/h ≈ 1e-12, so the double analytic gradient must agree to 1e-7 relative. The
   * float32 kernels round every score, probability and product (u = 6e-8) in sums of at most 9 keys
   * × P = 4 channels; with intermediates up to ~10× max |grad| (peaked softmaxes, |q̃·k̃| up to 8),
   * a bound of 50 roundings is 3e-6 relative: tolerance 1e-5.
   */
  @Test
  void naiveAndFastMatchFiniteDifferences() {
    Random rnd = new Random(21);
    int H = 2, P = 4, HP = H * P, stride = 3 * HP + 2, off = 3;
    double worstNaive = 0, worstFast = 0, worstDouble = 0;
    for (int[] cu : new int[][] {{0, 1, 9}, {0, 6, 7}, {0, 5, 10}}) {
      int T = cu[2];
      for (int R : new int[] {0, 2, 4}) {
        for (int w : new int[] {-1, 0, 2}) {
          float[] qkv = randomQkv(rnd, off + T * stride + 1, 1f);
          for (int t = 0; t < T; t++)
            for (int k = 0; k < 2 * HP; k++) qkv[off + t * stride + k] *= 2f;
          float[] dout = randomQkv(rnd, T * HP, 1f);
          double[] x = GradCheck.toDouble(qkv);
          double[] num =
              GradCheck.numeric(x, 1e-4, xx -> loss(xx, off, stride, cu, H, P, R, w, dout));
          double[] ana = backwardD(x, off, stride, cu, H, P, R, w, dout);
          AttnHeads a = new AttnHeads(H, P, R, w);
          Rows qv = new Rows(qkv, off, T, 3 * HP, stride), gv = Rows.of(dout, T, HP);
          float[] naive = new float[qkv.length];
          AttentionBackward.backwardNaive(
              new Rows(naive, off, T, 3 * HP, stride), gv, qv, cu, 2, a);
          float[] out = new float[T * HP], lse = new float[T * H], fast = new float[qkv.length];
          Rows ov = Rows.of(out, T, HP);
          AttentionBackward.forwardTrain(ov, lse, qv, cu, 2, a);
          AttentionBackward.backward(
              new Rows(fast, off, T, 3 * HP, stride), gv, qv, ov, lse, cu, 2, a);
          String what = "cu=" + Arrays.toString(cu) + " R=" + R + " w=" + w;
          double scale = 0, dErr = 0;
          for (int k = 0; k < num.length; k++) {
            scale = Math.max(scale, Math.abs(num[k]));
            dErr = Math.max(dErr, Math.abs(num[k] - ana[k]));
          }
          assertTrue(dErr <= 1e-7 * scale, "double analytic vs FD " + dErr / scale + " " + what);
          GradCheck.assertClose("naive " + what, num, naive, 0, 1e-5);
          GradCheck.assertClose("fast " + what, num, fast, 0, 1e-5);
          worstDouble = Math.max(worstDouble, dErr / scale);
          worstNaive = Math.max(worstNaive, relErr(num, naive));
          worstFast = Math.max(worstFast, relErr(num, fast));
        }
      }
    }
    System.out.printf(
        "Attention backward vs central FD (rel. to max|grad|): naive %.3g, fast %.3g, double %.3g%n",
        worstNaive, worstFast, worstDouble);
  }

  /**
   * Sweep like the forward's: forwardTrain's out is forward's bit for bit and its lse matches
   * double; backward is bitwise the same for 1 and 2 threads, does not read dqkv, leaves
   * non-gradient elements alone and agrees with backwardNaive and with the double gradient.
   * Tolerance, relative to the case's max |grad|: a score rounded by δ ≈ 2·ulp(max|S|) ≈ 4e-6 (|S|
   * ≤ ~20 here) moves P by a relative δ; the gradients are sums of P·(dP − D)·k̃ or P·dO terms
   * whose size is that of the gradient itself, so they move by a few δ relative; exp (2 ulp) and
   * lse (≤ 2 ulp) add less: 2e-5. Observed: ~1e-6.
   */
  @Test
  void backwardMatchesNaiveOverSweep() {
    Boolean savedSplit = AttentionBackward.SPLIT.force;
    AttentionBackward.SPLIT.force = true; // the thread split is what these cases check
    Random rnd = new Random(22);
    double worstDiff = 0, worstFast = 0, worstNaive = 0, worstLse = 0, worstAbs = 0;
    int cases = 0;
    try {
      for (int T : new int[] {0, 1, 2, 3, 17, 64, 130}) {
        for (int H : new int[] {1, 2, 4}) {
          for (int P : new int[] {1, 8, 16, 24, 64}) {
            for (int R : new int[] {0, 2, 8, P}) {
              if (R > P || (R & 1) != 0 || (R == P && (R == 2 || R == 8))) continue;
              for (int w : new int[] {-1, 0, 1, 5, 64}) {
                int[] cu = packing(rnd, T);
                int nSeq = cu.length - 1, HP = H * P;
                int stride = 3 * HP + rnd.nextInt(3) * 5, qOff = rnd.nextInt(9);
                int dStride = 3 * HP + rnd.nextInt(3) * 3, dOff = rnd.nextInt(9);
                int oOff = rnd.nextInt(9), gOff = rnd.nextInt(9);
                float[] qkv = randomQkv(rnd, qOff + T * stride + 3, 1f);
                float qk = 1 + 3 * rnd.nextFloat();
                for (int t = 0; t < T; t++)
                  for (int k = 0; k < 2 * HP; k++) qkv[qOff + t * stride + k] *= qk;
                float[] dout = new float[gOff + T * HP + 2];
                System.arraycopy(randomQkv(rnd, T * HP, 1f), 0, dout, gOff, T * HP);
                String what =
                    "T="
                        + T
                        + " H="
                        + H
                        + " P="
                        + P
                        + " R="
                        + R
                        + " w="
                        + w
                        + " cu="
                        + Arrays.toString(cu);

                float[] out = new float[oOff + T * HP + 2], outTrain = new float[out.length];
                float[] lse = new float[T * H];
                AttnHeads a = new AttnHeads(H, P, R, w);
                Rows qv = new Rows(qkv, qOff, T, 3 * HP, stride);
                Rows gv = new Rows(dout, gOff, T, HP, HP), ov = new Rows(out, oOff, T, HP, HP);
                Attention.forward(ov, qv, cu, nSeq, a);
                AttentionBackward.forwardTrain(
                    new Rows(outTrain, oOff, T, HP, HP), lse, qv, cu, nSeq, a);
                assertArrayEquals(out, outTrain, "forwardTrain out: " + what);
                double[] lseD = new double[T * H];
                double[] x = GradCheck.toDouble(qkv);
                forwardD(x, qOff, stride, cu, H, P, R, w, lseD);
                // lse moves with the scores' float32 rounding: a P-term dot whose partial sums
                // exceed the final score, observed up to ~4 ulp(max|S|) (1e-6 + 2 ulp in
                // AttentionTest.tolerance, plus 2 more); the 2-ulp exp in l (log error ≤ 2^-22);
                // and the rounding of log(l) and of m + log(l) (≤ 2 ulp(lse)).
                double maxScore =
                    AttentionTest.forwardDouble(qkv, qOff, stride, cu, H, P, R, w)[T * HP];
                for (int k = 0; k < T * H; k++) {
                  double e = Math.abs(lse[k] - lseD[k]);
                  double tol =
                      AttentionTest.tolerance(maxScore)
                          + 2 * Math.ulp((float) maxScore)
                          + 2 * Math.ulp((float) lseD[k])
                          + 0x1p-22;
                  assertTrue(e <= tol, "lse " + e + " at " + k + " " + what);
                  worstLse = Math.max(worstLse, e / tol);
                }

                float[] ref = new float[dOff + T * dStride + 3];
                Arrays.fill(ref, 7f);
                AttentionBackward.backwardNaive(
                    new Rows(ref, dOff, T, 3 * HP, dStride), gv, qv, cu, nSeq, a);
                float[] got1 = new float[ref.length], got2 = new float[ref.length];
                Arrays.fill(got1, 7f);
                Arrays.fill(got2, Float.NaN);
                float[] before = qkv.clone(), doutBefore = dout.clone();
                Parallel.setThreads(1);
                AttentionBackward.backward(
                    new Rows(got1, dOff, T, 3 * HP, dStride), gv, qv, ov, lse, cu, nSeq, a);
                Parallel.setThreads(2);
                AttentionBackward.backward(
                    new Rows(got2, dOff, T, 3 * HP, dStride), gv, qv, ov, lse, cu, nSeq, a);
                assertArrayEquals(before, qkv, "qkv modified: " + what);
                assertArrayEquals(doutBefore, dout, "dout modified: " + what);
                double[] exact = new double[ref.length];
                double[] g =
                    backwardD(
                        x,
                        qOff,
                        stride,
                        cu,
                        H,
                        P,
                        R,
                        w,
                        Arrays.copyOfRange(dout, gOff, gOff + T * HP));
                for (int i = 0; i < ref.length; i++) {
                  int rel = i - dOff,
                      t = Math.floorDiv(rel, dStride),
                      c = Math.floorMod(rel, dStride);
                  boolean grad = rel >= 0 && t < T && c < 3 * HP;
                  if (grad) {
                    exact[i] = g[qOff + t * stride + c];
                    assertEquals(
                        Float.floatToIntBits(got1[i]),
                        Float.floatToIntBits(got2[i]),
                        "threads: " + what);
                  } else {
                    assertEquals(7f, got1[i], "wrote outside the gradient: " + what);
                    assertTrue(Float.isNaN(got2[i]), "wrote outside the gradient: " + what);
                    got1[i] = ref[i] = 0f;
                  }
                }
                double dn = relErr(exact, ref), df = relErr(exact, got1);
                double scale = 0, diff = 0;
                for (int i = 0; i < ref.length; i++) {
                  scale = Math.max(scale, Math.abs(exact[i]));
                  diff = Math.max(diff, Math.abs(got1[i] - ref[i]));
                }
                worstAbs = Math.max(worstAbs, diff);
                diff = scale == 0 ? diff : diff / scale;
                assertTrue(
                    df <= 2e-5 && dn <= 2e-5 && diff <= 2e-5,
                    "fast " + df + " naive " + dn + " diff " + diff + " " + what);
                worstDiff = Math.max(worstDiff, diff);
                worstFast = Math.max(worstFast, df);
                worstNaive = Math.max(worstNaive, dn);
                cases++;
              }
            }
          }
        }
      }
    } finally {
      AttentionBackward.SPLIT.force = savedSplit;
    }
    System.out.printf(
        "Attention.backward vs naive: %d cases, max |diff| = %.3g abs, %.3g rel. to max|grad|%n",
        cases, worstAbs, worstDiff);
    System.out.printf(
        "  vs double (rel.): fast %.3g, naive %.3g; lse vs double: %.2f of its tolerance%n",
        worstFast, worstNaive, worstLse);
  }

  /** Several key and query blocks, windows crossing block edges, 3 threads splitting sequences. */
  @Test
  void backwardLongSequencesAndManyThreads() {
    Boolean savedSplit = AttentionBackward.SPLIT.force;
    AttentionBackward.SPLIT.force = true; // the thread split is what these cases check
    Random rnd = new Random(23);
    double worst = 0;
    try {
      for (int[] c :
          new int[][] {{2, 32, 16, -1}, {4, 16, 16, 37}, {1, 64, 32, 200}, {3, 24, 8, 63}}) {
        int H = c[0], P = c[1], R = c[2], w = c[3], HP = H * P, T = 700;
        int[] cu = {0, 300, 301, 520, 700};
        float[] qkv = randomQkv(rnd, T * 3 * HP, 2f);
        for (int t = 0; t < T; t++)
          for (int k = 2 * HP; k < 3 * HP; k++) qkv[t * 3 * HP + k] *= 0.5f;
        float[] dout = randomQkv(rnd, T * HP, 1f);
        float[] out = new float[T * HP], lse = new float[T * H];
        AttnHeads a = new AttnHeads(H, P, R, w);
        Rows qv = Rows.of(qkv, T, 3 * HP), gv = Rows.of(dout, T, HP), ov = Rows.of(out, T, HP);
        AttentionBackward.forwardTrain(ov, lse, qv, cu, 4, a);
        float[] ref = new float[T * 3 * HP],
            got = new float[ref.length],
            got1 = new float[ref.length];
        AttentionBackward.backwardNaive(Rows.of(ref, T, 3 * HP), gv, qv, cu, 4, a);
        Parallel.setThreads(3);
        AttentionBackward.backward(Rows.of(got, T, 3 * HP), gv, qv, ov, lse, cu, 4, a);
        Parallel.setThreads(1);
        AttentionBackward.backward(Rows.of(got1, T, 3 * HP), gv, qv, ov, lse, cu, 4, a);
        assertArrayEquals(got1, got);
        double scale = 0, d = 0;
        for (int i = 0; i < ref.length; i++) {
          scale = Math.max(scale, Math.abs(ref[i]));
          d = Math.max(d, Math.abs(ref[i] - got[i]));
        }
        assertTrue(d <= 2e-5 * scale, "diff " + d / scale + " for " + Arrays.toString(c));
        worst = Math.max(worst, d / scale);
      }
    } finally {
      AttentionBackward.SPLIT.force = savedSplit;
    }
    System.out.printf(
        "Attention.backward long sequences: max |diff| = %.3g rel. to max|grad|%n", worst);
  }

  /**
   * dout and out rows need not be HP apart: the backward reads them at their views' strides, and
   * the gradient is bitwise the one from dense rows.
   */
  @Test
  void backwardReadsDoutAndOutAtTheirStrides() {
    Random rnd = new Random(24);
    int H = 2, P = 16, R = 8, HP = H * P, T = 90, pad = 5;
    int[] cu = {0, 40, T};
    AttnHeads a = new AttnHeads(H, P, R, 17);
    float[] qkv = randomQkv(rnd, T * 3 * HP, 2f), dout = randomQkv(rnd, T * HP, 1f);
    float[] out = new float[T * HP], lse = new float[T * H];
    Rows qv = Rows.of(qkv, T, 3 * HP), gv = Rows.of(dout, T, HP), ov = Rows.of(out, T, HP);
    AttentionBackward.forwardTrain(ov, lse, qv, cu, 2, a);
    float[] doutWide = new float[3 + T * (HP + pad)], outWide = new float[7 + T * (HP + pad)];
    Arrays.fill(doutWide, Float.NaN);
    Arrays.fill(outWide, Float.NaN);
    for (int t = 0; t < T; t++) {
      System.arraycopy(dout, t * HP, doutWide, 3 + t * (HP + pad), HP);
      System.arraycopy(out, t * HP, outWide, 7 + t * (HP + pad), HP);
    }
    float[] dense = new float[T * 3 * HP], wide = new float[dense.length];
    AttentionBackward.backward(Rows.of(dense, T, 3 * HP), gv, qv, ov, lse, cu, 2, a);
    AttentionBackward.backward(
        Rows.of(wide, T, 3 * HP),
        new Rows(doutWide, 3, T, HP, HP + pad),
        qv,
        new Rows(outWide, 7, T, HP, HP + pad),
        lse,
        cu,
        2,
        a);
    assertArrayEquals(dense, wide);
  }

  @Test
  void rejectsBadArguments() {
    float[] qkv = new float[12], out = new float[4], d = new float[12], lse = new float[2];
    int[] cu = {0, 2};
    Rows qv = Rows.of(qkv, 2, 6), ov = Rows.of(out, 2, 2), dv = Rows.of(d, 2, 6);
    AttnHeads a = new AttnHeads(1, 2, 0, -1);
    assertThrows(
        IllegalArgumentException.class,
        () -> AttentionBackward.backward(new Rows(d, 0, 2, 5, 5), ov, qv, ov, lse, cu, 1, a));
    assertThrows(
        IllegalArgumentException.class,
        () -> AttentionBackward.backward(dv, ov, qv, ov, new float[1], cu, 1, a));
    assertThrows(IllegalArgumentException.class, () -> new AttnHeads(1, 2, 1, -1));
    assertThrows(IllegalArgumentException.class, () -> new AttnHeads(1, 2, 4, -1));
    assertThrows(IllegalArgumentException.class, () -> new AttnHeads(0, 2, 0, -1));
    assertThrows(IllegalArgumentException.class, () -> new AttnHeads(1, 2, 0, -2));
    assertThrows( // a dout view of one row for two tokens
        IllegalArgumentException.class,
        () -> AttentionBackward.backward(dv, Rows.of(out, 1, 2), qv, ov, lse, cu, 1, a));
    assertThrows(
        IllegalArgumentException.class,
        () -> AttentionBackward.forwardTrain(ov, new float[1], qv, cu, 1, a));
    assertThrows( // an out view of one row for two tokens
        IllegalArgumentException.class,
        () -> AttentionBackward.forwardTrain(Rows.of(out, 1, 2), lse, qv, cu, 1, a));
  }
}
