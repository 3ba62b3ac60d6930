package org.hnet.kernels;

import java.util.Random;
import org.hnet.tensor.Rows;
import org.junit.jupiter.api.Test;

/** Backward of the element-wise kernels against double-precision central differences. */
class OpsBackwardTest {
  static final double H = 1e-5;

  static double silu(double x) {
    return x / (1 + Math.exp(-x));
  }

  /** Σ dy · rmsnorm(x)·w in double. */
  static double rmsLoss(double[] x, double[] w, double[] dy, int M, int D) {
    double loss = 0;
    for (int m = 0; m < M; m++) {
      double ss = 0;
      for (int i = 0; i < D; i++) ss += x[m * D + i] * x[m * D + i];
      double r = 1 / Math.sqrt(ss / D + 1e-5);
      for (int i = 0; i < D; i++) loss += dy[m * D + i] * x[m * D + i] * r * w[i];
    }
    return loss;
  }

  @Test
  void rmsnormBackwardMatchesFiniteDifferences() {
    Random r = new Random(4);
    // not D = 1: there the exact dx is O(eps/x²) ≈ 1e-4 but the difference of two O(1) float32
    // terms, so float32 cancellation (not the kernel) sets the error relative to its scale
    for (int D : new int[] {2, 3, 16, 33}) {
      int M = 3;
      float[] x = OpsTest.randn(r, M * D), w = OpsTest.randn(r, D), dy = OpsTest.randn(r, M * D);
      float[] dx = new float[M * D], dw = new float[D];
      OpsBackward.rmsnormBackward(
          Rows.of(dx, M, D),
          false,
          null,
          dw,
          Rows.of(dy, M, D),
          Rows.of(x, M, D),
          w,
          1e-5f,
          new float[M]);
      double[] xd = GradCheck.toDouble(x), wd = GradCheck.toDouble(w), gd = GradCheck.toDouble(dy);
      GradCheck.assertClose(
          "dx D=" + D, GradCheck.numeric(xd, H, v -> rmsLoss(v, wd, gd, M, D)), dx, 0, 1e-4);
      GradCheck.assertClose(
          "dw D=" + D, GradCheck.numeric(wd, H, v -> rmsLoss(xd, v, gd, M, D)), dw, 0, 1e-4);
    }
  }

  @Test
  void gatedRmsnormBackwardMatchesFiniteDifferences() {
    Random r = new Random(5);
    int M = 3, D = 17;
    float[] v = OpsTest.randn(r, M * D),
        z = OpsTest.randn(r, M * D),
        w = OpsTest.randn(r, D),
        dy = OpsTest.randn(r, M * D);
    float[] dv = new float[M * D], dz = new float[M * D], dw = new float[D];
    OpsBackward.gatedRmsnormBackward(
        Rows.of(dv, M, D),
        Rows.of(dz, M, D),
        dw,
        dy,
        Rows.of(v, M, D),
        Rows.of(z, M, D),
        w,
        1e-5f,
        new float[M * D],
        new float[M]);
    double[] vd = GradCheck.toDouble(v),
        zd = GradCheck.toDouble(z),
        wd = GradCheck.toDouble(w),
        gd = GradCheck.toDouble(dy);
    java.util.function.ToDoubleFunction<double[][]> loss =
        a -> {
          double[] g = new double[M * D];
          for (int i = 0; i < M * D; i++) g[i] = a[0][i] * silu(a[1][i]);
          return rmsLoss(g, a[2], gd, M, D);
        };
    GradCheck.assertClose(
        "dv",
        GradCheck.numeric(vd, H, x -> loss.applyAsDouble(new double[][] {x, zd, wd})),
        dv,
        0,
        1e-4);
    GradCheck.assertClose(
        "dz",
        GradCheck.numeric(zd, H, x -> loss.applyAsDouble(new double[][] {vd, x, wd})),
        dz,
        0,
        1e-4);
    GradCheck.assertClose(
        "dw",
        GradCheck.numeric(wd, H, x -> loss.applyAsDouble(new double[][] {vd, zd, x})),
        dw,
        0,
        1e-4);
  }

  @Test
  void swigluBackwardMatchesFiniteDifferences() {
    Random r = new Random(6);
    int M = 4, Hd = 19;
    float[] h = OpsTest.randn(r, M * 2 * Hd),
        dout = OpsTest.randn(r, M * Hd),
        dh = new float[M * 2 * Hd];
    OpsBackward.swigluBackward(dh, 0, dout, 0, h, 0, M, Hd);
    double[] hd = GradCheck.toDouble(h), gd = GradCheck.toDouble(dout);
    double[] num =
        GradCheck.numeric(
            hd,
            H,
            x -> {
              double loss = 0;
              for (int m = 0; m < M; m++)
                for (int i = 0; i < Hd; i++)
                  loss += gd[m * Hd + i] * x[m * 2 * Hd + i] * silu(x[m * 2 * Hd + Hd + i]);
              return loss;
            });
    GradCheck.assertClose("dh", num, dh, 0, 1e-4);
  }
}
