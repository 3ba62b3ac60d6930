package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Element-wise kernels against scalar double-precision definitions, over widths around the vector
 * length.
 */
class OpsTest {
  static final int[] WIDTHS = {0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 64, 100, 257};

  static float[] randn(Random r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
    return a;
  }

  @Test
  void rmsnormMatchesItsTwin() {
    Random r = new Random(1);
    for (int D : WIDTHS) {
      if (D == 0) continue;
      int M = 5, stride = D + 3;
      float[] x = randn(r, M * stride + 2), w = randn(r, D);
      float[] fast = new float[M * D + 1], slow = new float[M * D + 1];
      Ops.rmsnorm(fast, 1, D, x, 2, stride, w, M, D, 1e-5f);
      Ops.rmsnormNaive(slow, 1, D, x, 2, stride, w, M, D, 1e-5f);
      for (int i = 0; i < fast.length; i++)
        assertEquals(slow[i], fast[i], 2e-6f * (1 + Math.abs(slow[i])), "D=" + D + " i=" + i);
    }
  }

  @Test
  void gatedRmsnormIsRmsnormOfTheGatedValues() {
    Random r = new Random(2);
    for (int D : WIDTHS) {
      if (D == 0) continue;
      int M = 4, vs = D + 5, zs = 2 * D + 1;
      float[] v = randn(r, M * vs), z = randn(r, M * zs), w = randn(r, D);
      float[] got = new float[M * D];
      Ops.gatedRmsnorm(got, 0, v, 0, vs, z, 1, zs, w, M, D, 1e-5f);
      for (int m = 0; m < M; m++) {
        double[] g = new double[D];
        double ss = 0;
        for (int i = 0; i < D; i++) {
          double zi = z[1 + m * zs + i];
          g[i] = v[m * vs + i] * zi / (1 + Math.exp(-zi));
          ss += g[i] * g[i];
        }
        double rstd = 1 / Math.sqrt(ss / D + 1e-5);
        for (int i = 0; i < D; i++) {
          double want = g[i] * rstd * w[i];
          assertEquals(want, got[m * D + i], 3e-6 * (1 + Math.abs(want)), "D=" + D);
        }
      }
    }
  }

  @Test
  void swigluGatesTheFirstHalfWithTheSecond() {
    Random r = new Random(3);
    for (int H : WIDTHS) {
      int M = 3;
      float[] h = randn(r, M * 2 * H), out = new float[M * H];
      Ops.swiglu(out, 0, h, 0, M, H);
      for (int m = 0; m < M; m++) {
        for (int i = 0; i < H; i++) {
          double y = h[m * 2 * H + i], g = h[m * 2 * H + H + i];
          double want = y * g / (1 + Math.exp(-g));
          assertEquals(want, out[m * H + i], 2e-6 * (1 + Math.abs(want)));
        }
      }
    }
  }

  @Test
  void softplusFollowsTorchsThreshold() {
    assertEquals(25f, Ops.softplus(25f));
    assertEquals(Math.log1p(Math.exp(1.5)), Ops.softplus(1.5f), 1e-6);
    assertEquals(Math.log1p(Math.exp(-30)), Ops.softplus(-30f), 1e-18);
  }
}
