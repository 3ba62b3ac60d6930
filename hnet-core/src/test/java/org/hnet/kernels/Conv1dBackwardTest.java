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

/** Conv1dBackward against double finite differences, and the fast one against the naive one. */
@ExtendWith(RestoreThreads.class)
class Conv1dBackwardTest {
  /**
   * Kernel vs FD (double twin, step 1e-5, error ~1e-9), max |error| / max |gradient| per tensor:
   * float inputs and outputs put ~1e-7 relative rounding on each gradient; 1e-4 is two orders of
   * margin while a wrong term shows up at O(1).
   */
  static final double FD_TOL = 1e-4;

  /**
   * Fast (float) vs naive (double inside), max |diff| / (max |ref| + mass) per tensor. The mass, a
   * bound on the gradient's size (|silu'| ≤ 1.1), stands in for the terms' scale: a sum over many
   * tokens can cancel far below it (dbias with C = 1), and near silu'’s root (z ≈ −1.28) dz is tiny
   * while float z still carries ~1e-7·|z| error; both made max |ref| alone a 1e-5 metric of pure
   * conditioning. Mass: din Σ_k |w| max|dout|; dw Σ_t |dout_t| |in_src|; dbias Σ_t |dout_t|. Seen ≤
   * ~1.1e-7.
   */
  static final double TOL = 2e-6;

  static final String[] NAMES = {"din", "dw", "dbias"};
  static final double[] worstFd = new double[3], worstSweep = new double[3];

  @AfterAll
  static void report() {
    System.out.printf(
        "Conv1dBackwardTest max rel diff: FD din %.2g dw %.2g dbias %.2g;"
            + " fast vs naive din %.2g dw %.2g dbias %.2g%n",
        worstFd[0], worstFd[1], worstFd[2], worstSweep[0], worstSweep[1], worstSweep[2]);
  }

  /** Σ dout · silu(conv(in) + bias) in double, contiguous [T × C] in and dout. */
  static double loss(
      double[] in, double[] w, double[] bias, double[] dout, int[] cu, int C, int W) {
    double loss = 0;
    for (int s = 0; s + 1 < cu.length; s++) {
      for (int t = cu[s]; t < cu[s + 1]; t++) {
        for (int ch = 0; ch < C; ch++) {
          double z = bias[ch];
          for (int k = 0; k < W; k++) {
            int src = t - (W - 1) + k;
            if (src >= cu[s]) z += w[ch * W + k] * in[src * C + ch];
          }
          loss += dout[t * C + ch] * z / (1 + Math.exp(-z));
        }
      }
    }
    return loss;
  }

  @Test
  void matchesFiniteDifferences() {
    Random r = new Random(31);
    int[] cu = {0, 5, 6, 9};
    int T = 9, C = 3;
    for (int W : new int[] {1, 2, 4}) {
      float[] in = SsdBackwardTest.randn(r, T * C, 1.5), w = SsdBackwardTest.randn(r, C * W, 0.7);
      float[] bias = SsdBackwardTest.randn(r, C, 0.5), dout = SsdBackwardTest.randn(r, T * C, 1);
      double[] ind = GradCheck.toDouble(in),
          wd = GradCheck.toDouble(w),
          bd = GradCheck.toDouble(bias);
      double[] gd = GradCheck.toDouble(dout);
      double[][] num = {
        GradCheck.numeric(ind, 1e-5, v -> loss(v, wd, bd, gd, cu, C, W)),
        GradCheck.numeric(wd, 1e-5, v -> loss(ind, v, bd, gd, cu, C, W)),
        GradCheck.numeric(bd, 1e-5, v -> loss(ind, wd, v, gd, cu, C, W))
      };
      for (boolean naive : new boolean[] {true, false}) {
        float[] din = new float[T * C], dw = new float[C * W], db = new float[C];
        Arrays.fill(dw, 0.5f); // ADDS INTO
        Arrays.fill(db, -1f);
        if (naive) {
          Conv1dBackward.causalSiluBackwardNaive(
              Rows.of(din, T, C),
              dw,
              db,
              Rows.of(dout, T, C),
              Rows.of(in, T, C),
              w,
              bias,
              cu,
              3,
              W);
        } else {
          Conv1dBackward.causalSiluBackward(
              Rows.of(din, T, C),
              dw,
              db,
              Rows.of(dout, T, C),
              Rows.of(in, T, C),
              w,
              bias,
              cu,
              3,
              W);
        }
        for (int i = 0; i < dw.length; i++) dw[i] -= 0.5f;
        for (int i = 0; i < C; i++) db[i] += 1f;
        float[][] got = {din, dw, db};
        for (int i = 0; i < 3; i++) {
          double e = SsdBackwardTest.fdErr(num[i], got[i], 0);
          worstFd[i] = Math.max(worstFd[i], e);
          assertTrue(e <= FD_TOL, "W=" + W + " naive=" + naive + " " + NAMES[i] + ": " + e);
        }
      }
    }
  }

  /**
   * dout in rows of C+2 (offset 3) with NaN gaps; din in rows of C+3 (offset 1), gaps must stay
   * NaN.
   */
  static float[][] run(Conv1dTest.Case k, float[] dout, boolean naive) {
    int C = k.C, W = k.W, dinOff = 1, dinStride = C + 3;
    float[] din = SsdBackwardTest.nan(dinOff + k.T * dinStride + 2);
    float[] dw = new float[C * W], db = new float[C];
    Rows dIn = new Rows(din, dinOff, k.T, C, dinStride), dOut = new Rows(dout, 3, k.T, C, C + 2);
    if (naive) {
      Conv1dBackward.causalSiluBackwardNaive(
          dIn, dw, db, dOut, k.inRows(), k.w, k.bias, k.cu, k.nSeq, W);
    } else {
      Conv1dBackward.causalSiluBackward(
          dIn, dw, db, dOut, k.inRows(), k.w, k.bias, k.cu, k.nSeq, W);
    }
    for (int i = 0; i < din.length; i++) {
      int t = (i - dinOff) / dinStride, ch = (i - dinOff) % dinStride;
      boolean out = i >= dinOff && t < k.T && ch < C;
      assertTrue(out ? Float.isFinite(din[i]) : Float.isNaN(din[i]), "din layout at " + i);
    }
    return new float[][] {SsdBackwardTest.gather(din, dinOff, dinStride, k.T, C), dw, db};
  }

  static float[] doutFor(Conv1dTest.Case k, Random r) {
    float[] dout = SsdBackwardTest.nan(3 + k.T * (k.C + 2));
    for (int t = 0; t < k.T; t++) {
      for (int ch = 0; ch < k.C; ch++) dout[3 + t * (k.C + 2) + ch] = (float) r.nextGaussian();
    }
    return dout;
  }

  @Test
  void fastMatchesNaiveOverSweep() {
    Random r = new Random(32);
    for (int T : new int[] {0, 1, 2, 3, 31, 32, 33, 65, 200}) {
      for (int variant = 0; variant < 3; variant++) {
        int[] cu = SsdTest.segments(T, variant, r);
        for (int C : new int[] {1, 7, 16, 33, 160}) {
          for (int W : new int[] {1, 2, 4}) {
            Conv1dTest.Case k = new Conv1dTest.Case(cu, C, W, r);
            float[] dout = doutFor(k, r);
            float[][] ref = run(k, dout, true), first = null;
            for (int threads = 1; threads <= 3; threads++) {
              Parallel.setThreads(threads);
              float[][] got = run(k, dout, false);
              String what = "cu=" + Arrays.toString(cu) + " C=" + C + " W=" + W + " thr=" + threads;
              check(got, ref, what, k, dout);
              if (first == null) first = got;
              else for (int i = 0; i < 3; i++) assertArrayEquals(first[i], got[i], what + " bits");
            }
          }
        }
      }
    }
    Parallel.setThreads(3); // long packed run with a real split
    Conv1dTest.Case k = new Conv1dTest.Case(new int[] {0, 1, 900, 903, 2000}, 160, 4, r);
    float[] dout = doutFor(k, r);
    check(run(k, dout, false), run(k, dout, true), "large", k, dout);
  }

  private static void check(
      float[][] got, float[][] ref, String what, Conv1dTest.Case k, float[] dout) {
    int C = k.C, W = k.W;
    double[] mass = new double[3];
    double maxDout = 0;
    for (int t = 0; t < k.T; t++) {
      for (int ch = 0; ch < C; ch++)
        maxDout = Math.max(maxDout, Math.abs(dout[3 + t * (C + 2) + ch]));
    }
    for (int ch = 0; ch < C; ch++) {
      double sw = 0, sb = 0;
      for (int kk = 0; kk < W; kk++) sw += Math.abs(k.w[ch * W + kk]);
      mass[0] = Math.max(mass[0], sw * maxDout);
      for (int kk = 0; kk < W; kk++) {
        double m = 0;
        for (int s = 0; s < k.nSeq; s++) {
          for (int t = k.cu[s]; t < k.cu[s + 1]; t++) {
            int src = t - (W - 1) + kk;
            if (src >= k.cu[s]) {
              m += Math.abs(dout[3 + t * (C + 2) + ch] * k.in[k.inOff + src * k.inStride + ch]);
            }
          }
        }
        mass[1] = Math.max(mass[1], m);
      }
      for (int t = 0; t < k.T; t++) sb += Math.abs(dout[3 + t * (C + 2) + ch]);
      mass[2] = Math.max(mass[2], sb);
    }
    for (int i = 0; i < 3; i++) {
      double maxDiff = 0, maxRef = 1e-30;
      for (int j = 0; j < ref[i].length; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[i][j] - ref[i][j]));
        maxRef = Math.max(maxRef, Math.abs(ref[i][j]));
      }
      double e = maxDiff / (maxRef + mass[i]);
      worstSweep[i] = Math.max(worstSweep[i], e);
      assertTrue(e <= TOL, what + " " + NAMES[i] + ": " + e);
    }
  }
}
