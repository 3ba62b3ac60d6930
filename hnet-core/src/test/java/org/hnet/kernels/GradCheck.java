package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.ToDoubleFunction;

/**
 * Central finite differences in double precision: the loss is a double-precision twin of the
 * float32 forward, so the check measures the backward kernel, not float32 rounding.
 */
public final class GradCheck {
  private GradCheck() {}

  /** ∂loss/∂x_i by central differences with step h, for every i. */
  public static double[] numeric(double[] x, double h, ToDoubleFunction<double[]> loss) {
    double[] g = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double keep = x[i];
      x[i] = keep + h;
      double up = loss.applyAsDouble(x);
      x[i] = keep - h;
      double down = loss.applyAsDouble(x);
      x[i] = keep;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  }

  /** Asserts max |analytic − numeric| ≤ rtol · max |numeric| (+ a tiny absolute floor). */
  public static void assertClose(
      String what, double[] numeric, float[] analytic, int off, double rtol) {
    double scale = 0, err = 0;
    for (int i = 0; i < numeric.length; i++) {
      scale = Math.max(scale, Math.abs(numeric[i]));
      err = Math.max(err, Math.abs(numeric[i] - analytic[off + i]));
    }
    assertTrue(err <= rtol * scale + 1e-9, what + ": max abs error " + err + " vs scale " + scale);
  }

  public static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) d[i] = a[i];
    return d;
  }
}
