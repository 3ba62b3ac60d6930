package org.hnet.nn;

import org.hnet.kernels.Ops;

/** RMSNorm with eps 1e-5 (every norm of the reference uses it). */
public final class RMSNorm {
  public static final float EPS = 1e-5f;
  public final Param weight;
  public final int d;

  RMSNorm(Params ps, String prefix, int stage, int d) {
    this.d = d;
    this.weight = ps.take(prefix + ".weight", stage, false, d);
  }

  public float[] forward(float[] x, int M) {
    float[] y = new float[M * d];
    Ops.rmsnorm(y, 0, d, x, 0, d, weight.data, M, d, EPS);
    return y;
  }
}
