package org.hnet.nn;

import org.hnet.kernels.Ops;

/** RMSNorm with eps 1e-5 (every norm of the reference uses it). */
public final class RMSNorm {
  public static final float EPS = 1e-5f;
  public final Param weight;
  public final int d;
  private final int ws; // workspace slots: output [M × d], input gradient [M × d], rstd scratch [M]

  RMSNorm(Params ps, String prefix, int stage, int d) {
    this.d = d;
    this.mode = ps.mode;
    this.weight = ps.take(prefix + ".weight", stage, false, d);
    this.ws = ps.slots(3);
  }

  private float[] savedX;
  private int savedM;
  private Workspace savedWs;
  private final Params.Mode mode;

  public float[] forward(float[] x, int M) {
    return forward(x, M, Workspace.TRANSIENT);
  }

  /** x [M × d] → [M × d] in this norm's buffer of w; when training, x is kept for the backward. */
  float[] forward(float[] x, int M, Workspace w) {
    float[] y = w.floats(ws, M * d);
    Ops.rmsnorm(y, 0, d, x, 0, d, weight.data, M, d, EPS);
    if (mode.training) {
      savedX = x;
      savedM = M;
      savedWs = w;
    }
    return y;
  }

  /** dy [M × d] → dx [M × d]; adds ∂L/∂weight. */
  public float[] backward(float[] dy) {
    return backward(dy, null);
  }

  /**
   * dy [M × d] → dx + plus [M × d] (plus nullable: the gradient reaching the norm's input by
   * another path, e.g. a residual connection, added as the rows are written); adds ∂L/∂weight.
   */
  public float[] backward(float[] dy, float[] plus) {
    int M = savedM;
    float[] dx = savedWs.floats(ws + 1, M * d);
    Ops.rmsnormBackward(
        dx,
        0,
        d,
        false,
        plus,
        weight.gradBuffer(),
        dy,
        0,
        d,
        savedX,
        0,
        d,
        weight.data,
        M,
        d,
        EPS,
        savedWs.floats(ws + 2, M));
    savedX = null;
    savedWs = null;
    return dx;
  }
}
