package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.hnet.tensor.Rows;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Conv1d.causalSilu against Conv1d.causalSiluNaive, and Conv1d.step continuing from finalState. */
@ExtendWith(RestoreThreads.class)
class Conv1dTest {
  static final double TOL = 1e-6; // max |fast - naive| / max |naive|
  static double worstSweep, worstStep;

  @AfterAll
  static void report() {
    System.out.printf("Conv1dTest max rel diff: sweep %.3g, step %.3g%n", worstSweep, worstStep);
  }

  /**
   * Input in an xBC-like row: [3 NaN | in (C) | 2 NaN] per token after a 1-float prefix, so reading
   * outside the C channels shows up as NaN; out in rows of C+1 whose gaps must stay NaN.
   */
  static final class Case {
    final int T, C, W, nSeq;
    final int[] cu;
    final float[] in, w, bias;
    final int inOff = 4, inStride, outOff = 1, outStride;

    Case(int[] cu, int C, int W, Random r) {
      this.cu = cu;
      this.nSeq = cu.length - 1;
      this.T = cu[nSeq];
      this.C = C;
      this.W = W;
      inStride = C + 5;
      outStride = C + 1;
      in = new float[1 + T * inStride + 5];
      Arrays.fill(in, Float.NaN);
      for (int t = 0; t < T; t++) {
        for (int ch = 0; ch < C; ch++) in[inOff + t * inStride + ch] = (float) r.nextGaussian();
      }
      w = new float[C * W];
      bias = new float[C];
      for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() / Math.sqrt(W));
      for (int i = 0; i < C; i++) bias[i] = (float) (0.5 * r.nextGaussian());
    }

    float[] newOut() {
      float[] o = new float[outOff + T * outStride];
      Arrays.fill(o, Float.NaN);
      return o;
    }

    Rows inRows() {
      return new Rows(in, inOff, T, C, inStride);
    }

    void run(boolean naive, float[] out, float[] fs) {
      Rows o = new Rows(out, outOff, T, C, outStride);
      if (naive) Conv1d.causalSiluNaive(o, fs, inRows(), w, bias, cu, nSeq, W);
      else Conv1d.causalSilu(o, fs, inRows(), w, bias, cu, nSeq, W);
    }

    double relDiff(float[] a, float[] b) {
      double maxDiff = 0, maxRef = 1e-30;
      for (int t = 0; t < T; t++) {
        for (int i = 0; i < outStride; i++) {
          int at = outOff + t * outStride + i;
          if (i >= C) {
            assertTrue(Float.isNaN(a[at]), "gap written");
            continue;
          }
          assertTrue(Float.isFinite(a[at]), "non-finite out");
          maxDiff = Math.max(maxDiff, Math.abs(a[at] - b[at]));
          maxRef = Math.max(maxRef, Math.abs(b[at]));
        }
      }
      return maxDiff / maxRef;
    }
  }

  @Test
  void naiveMatchesHandComputed() {
    // C=1, W=3, two sequences [1,2,3] and [4]; w = [0.5, -1, 2], bias 0.25.
    float[] in = {1, 2, 3, 4}, out = new float[4], fs = new float[6];
    Conv1d.causalSiluNaive(
        Rows.of(out, 4, 1),
        fs,
        Rows.of(in, 4, 1),
        new float[] {0.5f, -1, 2},
        new float[] {0.25f},
        new int[] {0, 3, 4},
        2,
        3);
    double[] pre = {0.25 + 2 * 1, 0.25 - 1 + 2 * 2, 0.25 + 0.5 - 2 + 6, 0.25 + 2 * 4};
    for (int i = 0; i < 4; i++) assertEquals(pre[i] / (1 + Math.exp(-pre[i])), out[i], 1e-6);
    assertArrayEquals(new float[] {1, 2, 3, 0, 0, 4}, fs); // oldest first, zero-padded in front
    // SiLU of a very negative value is -0 (no NaN from e^-v overflowing).
    Conv1d.causalSiluNaive(
        Rows.of(out, 1, 1),
        null,
        Rows.of(new float[] {-1000}, 1, 1),
        new float[] {1},
        new float[] {0},
        new int[] {0, 1},
        1,
        1);
    assertEquals(0f, Math.abs(out[0]));
  }

  @Test
  void viewsShorterThanTheTokensAreRefused() {
    int[] cu = {0, 4};
    float[] w = new float[4 * 2], bias = new float[4];
    Rows out = Rows.of(new float[16], 4, 4), in = Rows.of(new float[16], 4, 4);
    Rows short3 = Rows.of(new float[12], 3, 4);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Conv1d.causalSilu(out, null, short3, w, bias, cu, 1, 2));
    assertTrue(e.getMessage().startsWith("in is 3 × 4"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Conv1dBackward.causalSiluBackward(out, w, bias, short3, in, w, bias, cu, 1, 2));
    assertTrue(e.getMessage().startsWith("dOut is 3 × 4"), e.getMessage());
  }

  @Test
  void fastMatchesNaiveOverSweep() {
    Random r = new Random(11);
    for (int T : new int[] {0, 1, 2, 3, 31, 32, 33, 65, 200}) {
      for (int variant = 0; variant < 3; variant++) {
        int[] cu = SsdTest.segments(T, variant, r);
        for (int C : new int[] {1, 7, 16, 33, 160}) {
          for (int W : new int[] {1, 2, 4}) {
            Case k = new Case(cu, C, W, r);
            float[] ref = k.newOut(), fsRef = new float[k.nSeq * C * W];
            k.run(true, ref, fsRef);
            float[] out1 = null;
            for (int threads = 1; threads <= 2; threads++) {
              Parallel.setThreads(threads);
              float[] out = k.newOut(), fs = new float[k.nSeq * C * W];
              Arrays.fill(fs, Float.NaN);
              k.run(false, out, fs);
              String what = "cu=" + Arrays.toString(cu) + " C=" + C + " W=" + W + " thr=" + threads;
              double e = k.relDiff(out, ref);
              worstSweep = Math.max(worstSweep, e);
              assertTrue(e <= TOL, what + ": " + e);
              assertArrayEquals(fsRef, fs, what + ": final state");
              if (threads == 1) out1 = out;
              else assertArrayEquals(out1, out, what + ": thread count changed the bits");
            }
          }
        }
      }
    }
  }

  @Test
  void largeParallelRunMatches() {
    // Enough tokens that forRange really splits (grain = 16384 / (C·W) tokens).
    Parallel.setThreads(3);
    Case k = new Case(new int[] {0, 1, 900, 903, 2000}, 160, 4, new Random(12));
    float[] ref = k.newOut(), out = k.newOut();
    k.run(true, ref, null);
    k.run(false, out, null);
    double e = k.relDiff(out, ref);
    worstSweep = Math.max(worstSweep, e);
    assertTrue(e <= TOL, "" + e);
  }

  @Test
  void packedSequencesEqualEachAlone() {
    int[] cu = {0, 1, 2, 9, 9, 40};
    Case k = new Case(cu, 33, 4, new Random(13));
    float[] out = k.newOut(), fs = new float[5 * 33 * 4];
    k.run(false, out, fs);
    for (int s = 0; s < 5; s++) {
      int len = cu[s + 1] - cu[s];
      float[] o = new float[Math.max(1, len * 33)], f = new float[33 * 4];
      Conv1d.causalSilu(
          new Rows(o, 0, len, 33, 33),
          f,
          new Rows(k.in, k.inOff + cu[s] * k.inStride, len, 33, k.inStride),
          k.w,
          k.bias,
          new int[] {0, len},
          1,
          4);
      for (int t = 0; t < len; t++) {
        for (int ch = 0; ch < 33; ch++) {
          assertEquals(out[k.outOff + (cu[s] + t) * k.outStride + ch], o[t * 33 + ch], "seq " + s);
        }
      }
      assertArrayEquals(Arrays.copyOfRange(fs, s * 132, s * 132 + 132), f, "state " + s);
    }
  }

  @Test
  void stepContinuesFromFinalState() {
    Random r = new Random(14);
    for (int threads = 1; threads <= 2; threads++) {
      Parallel.setThreads(threads);
      for (int W : new int[] {1, 2, 4}) {
        for (int C : new int[] {1, 7, 33}) {
          int[] lens = {12, 1, 5, 0};
          int R = lens.length;
          int[] cu = new int[R + 1];
          for (int i = 0; i < R; i++) cu[i + 1] = cu[i] + lens[i];
          Case k = new Case(cu, C, W, r);
          float[] ref = k.newOut(), fsRef = new float[R * C * W];
          k.run(true, ref, fsRef);
          for (int pre = 0; pre <= 12; pre++) checkStepFrom(k, lens, pre, ref, fsRef);
        }
      }
    }
  }

  /** Prefill min(pre, len_r) tokens per row with causalSilu, then step the rest row-batched. */
  private static void checkStepFrom(Case k, int[] lens, int pre, float[] ref, float[] fsRef) {
    int R = lens.length, C = k.C, W = k.W;
    int[] pos = new int[R], preCu = new int[R + 1];
    for (int i = 0; i < R; i++) {
      pos[i] = Math.min(pre, lens[i]);
      preCu[i + 1] = preCu[i] + pos[i];
    }
    float[] in = new float[Math.max(1, preCu[R] * C)];
    for (int i = 0; i < R; i++) {
      for (int j = 0; j < pos[i]; j++) {
        System.arraycopy(k.in, k.inOff + (k.cu[i] + j) * k.inStride, in, (preCu[i] + j) * C, C);
      }
    }
    float[] state = new float[R * C * W], out = new float[Math.max(1, preCu[R] * C)];
    Conv1d.causalSilu(
        new Rows(out, 0, preCu[R], C, C),
        state,
        new Rows(in, 0, preCu[R], C, C),
        k.w,
        k.bias,
        preCu,
        R,
        W);
    float[] sin = new float[R * C], sout = new float[R * C];
    boolean[] active = new boolean[R];
    while (true) {
      boolean any = false;
      for (int i = 0; i < R; i++) {
        active[i] = pos[i] < lens[i];
        any |= active[i];
        if (active[i])
          System.arraycopy(k.in, k.inOff + (k.cu[i] + pos[i]) * k.inStride, sin, i * C, C);
      }
      if (!any) break;
      float[] before = state.clone();
      Arrays.fill(sout, Float.NaN);
      Conv1d.step(
          state, sout, sin, Conv1d.tapMajor(new float[W * C], k.w, C, W), k.bias, R, C, W, active);
      for (int i = 0; i < R; i++) {
        if (!active[i]) {
          assertArrayEquals(
              Arrays.copyOfRange(before, i * C * W, (i + 1) * C * W),
              Arrays.copyOfRange(state, i * C * W, (i + 1) * C * W),
              "inactive row state");
          for (int ch = 0; ch < C; ch++) assertTrue(Float.isNaN(sout[i * C + ch]), "inactive out");
          continue;
        }
        int t = k.cu[i] + pos[i];
        double maxDiff = 0, maxRef = 1e-30;
        for (int ch = 0; ch < C; ch++) {
          float want = ref[k.outOff + t * k.outStride + ch];
          maxDiff = Math.max(maxDiff, Math.abs(sout[i * C + ch] - want));
          maxRef = Math.max(maxRef, Math.abs(want));
        }
        worstStep = Math.max(worstStep, maxDiff / maxRef);
        assertTrue(maxDiff / maxRef <= TOL, "pre=" + pre + " row " + i + ": " + maxDiff / maxRef);
        pos[i]++;
      }
    }
    // The state after stepping to the end is exactly the prefill-of-everything state.
    assertArrayEquals(fsRef, state, "pre=" + pre);
  }
}
