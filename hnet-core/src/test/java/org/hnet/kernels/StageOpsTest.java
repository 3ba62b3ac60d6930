package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The stage's linear glue: each backward is the adjoint of its forward (⟨f(x), g⟩ = ⟨x, fᵀ(g)⟩ for
 * random x and g, which is what finite differences would check of a linear map), over sizes that
 * include 0, 1 and non-multiples of the vector width; the sums against plain loops.
 */
class StageOpsTest {
  static final int[] T_SIZES = {0, 1, 2, 7, 33};
  static final int[] D_SIZES = {1, 3, 16, 17, 40};

  static float[] randn(Random r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
    return a;
  }

  static double dot(float[] a, float[] b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double) a[i] * b[i];
    return s;
  }

  static boolean[] mask(Random r, int T) {
    boolean[] m = new boolean[T];
    for (int t = 0; t < T; t++) m[t] = t == 0 || r.nextInt(3) == 0;
    return m;
  }

  @Test
  void scatterIsTheAdjointOfGather() {
    Random r = new Random(1);
    for (int T : T_SIZES) {
      for (int d : D_SIZES) {
        boolean[] m = mask(r, T);
        int Tc = 0;
        for (boolean b : m) if (b) Tc++;
        float[] h = randn(r, T * d), g = randn(r, Tc * d);
        float[] chunks = new float[Tc * d], dh = new float[T * d];
        StageOps.gatherRows(chunks, h, m, T, d);
        StageOps.scatterAddRows(dh, g, m, T, d);
        assertEquals(dot(chunks, g, Tc * d), dot(h, dh, T * d), 1e-9, "T=" + T + " d=" + d);
        // and it adds onto what is there
        float[] twice = dh.clone();
        StageOps.scatterAddRows(twice, g, m, T, d);
        for (int i = 0; i < T * d; i++) assertEquals(2 * dh[i], twice[i], 0f);
      }
    }
  }

  @Test
  void padAndCutBackwardsAreTheirAdjoints() {
    Random r = new Random(2);
    for (int T : T_SIZES) {
      for (int d : D_SIZES) {
        for (int dIn : new int[] {0, 1, d / 2, d}) {
          float[] x = randn(r, T * dIn), pad = randn(r, d - dIn), g = randn(r, T * d);
          float[] out = new float[T * d];
          StageOps.padRows(out, x, pad, T, dIn, d);
          float[] dx = new float[T * dIn], dPad = new float[d - dIn];
          StageOps.padRowsBackward(dx, dPad, g, T, dIn, d);
          // ⟨pad(x, p), g⟩ = ⟨x, dx⟩ + ⟨p, dPad⟩
          // (dPad is a float32 sum of T products: ~1e-7 of the total is its rounding)
          double want = dot(out, g, T * d);
          assertEquals(
              want, dot(x, dx, T * dIn) + dot(pad, dPad, d - dIn), 1e-6 * (1 + Math.abs(want)));
          float[] cut = new float[T * dIn], gc = randn(r, T * dIn), back = new float[T * d];
          java.util.Arrays.fill(back, Float.NaN); // every element is written
          StageOps.cutRows(cut, g, T, d, dIn);
          StageOps.cutRowsBackward(back, gc, T, dIn, d);
          assertEquals(dot(cut, gc, T * dIn), dot(g, back, T * d), 1e-9, "cut");
        }
      }
    }
  }

  @Test
  void addAndSteBackwardMatchPlainLoops() {
    Random r = new Random(3);
    for (int T : T_SIZES) {
      for (int d : D_SIZES) {
        float[] a = randn(r, T * d), b = randn(r, T * d), out = new float[T * d];
        StageOps.add(out, a, b, T * d);
        float[] want = new float[T * d];
        for (int i = 0; i < T * d; i++) want[i] = a[i] + b[i];
        assertArrayEquals(want, out, 0f);
        boolean[] m = mask(r, T);
        float[] dp = randn(r, T), wantP = dp.clone();
        StageOps.steBackward(dp, a, b, m, T, d);
        for (int t = 0; t < T; t++) {
          double s = 0;
          for (int c = 0; c < d; c++) s += (double) a[t * d + c] * b[t * d + c];
          wantP[t] += m[t] ? (float) s : (float) -s;
        }
        assertArrayEquals(wantP, dp, 0f);
      }
    }
  }
}
