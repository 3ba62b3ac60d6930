package org.hnet.nn;

import org.hnet.kernels.Ops;

/** RMSNorm with eps 1e-5 (every norm of the reference uses it). */
public final class RMSNorm {
  public static final float EPS = 1e-5f;
  public final Param weight;
  public final int d;

  RMSNorm(Params ps, String prefix, int stage, int d) {
    this.d = d;
    this.mode = ps.mode;
    this.weight = ps.take(prefix + ".weight", stage, false, d);
  }

  private float[] savedX;
  private final Params.Mode mode;

  public float[] forward(float[] x, int M) {
    float[] y = new float[M * d];
    Ops.rmsnorm(y, 0, d, x, 0, d, weight.data, M, d, EPS);
    if (mode.training) savedX = x;
    return y;
  }

  /** dy [M × d] → dx [M × d]; adds ∂L/∂weight. */
  public float[] backward(float[] dy) {
    int M = dy.length / d;
    float[] dx = new float[M * d];
    Ops.rmsnormBackward(dx, 0, d, false, weight.gradBuffer(), dy, 0, d, savedX, 0, d, weight.data, M, d, EPS);
    savedX = null;
    return dx;
  }
}
