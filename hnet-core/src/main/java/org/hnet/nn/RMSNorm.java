package org.hnet.nn;

import org.hnet.kernels.Ops;
import org.hnet.kernels.OpsBackward;
import org.hnet.tensor.Rows;

/** RMSNorm with eps 1e-5 (every norm of the reference uses it). */
public final class RMSNorm {
  public static final float EPS = 1e-5f;
  public final Param weight;
  public final int d;
  // workspace slots: output [M × d], input gradient [M × d], rstd scratch [M], the backward's views
  private final int ws;

  RMSNorm(Params ps, String prefix, int stage, int d) {
    this.d = d;
    this.weight = ps.take(prefix + ".weight", stage, false, d);
    this.ws = ps.slots(4);
  }

  /** What the backward needs: the input x [m × d]. */
  static final class Saved {
    float[] x;
    int m;
    Workspace w;
  }

  public float[] forward(float[] x, int M) {
    return forward(x, M, null, Workspace.TRANSIENT);
  }

  /** x [M × d] → [M × d] in this norm's buffer of w; with a tape, records x for the backward. */
  float[] forward(float[] x, int M, Tape tape, Workspace w) {
    float[] y = w.floats(ws, M * d);
    Ops.rmsnorm(y, 0, d, x, 0, d, weight.data, M, d, EPS);
    if (tape != null) {
      Saved s = tape.push(Saved.class, Saved::new);
      s.x = x;
      s.m = M;
      s.w = w;
    }
    return y;
  }

  /**
   * dy [M × d] → dx + plus [M × d] (plus nullable: the gradient reaching the norm's input by
   * another path, e.g. a residual connection, added as the rows are written); adds ∂L/∂weight.
   */
  float[] backward(float[] dy, float[] plus, Tape tape) {
    Saved s = tape.pop(Saved.class);
    int M = s.m;
    float[] dx = s.w.floats(ws + 1, M * d);
    Rows[] v = s.w.views(ws + 3, 3);
    OpsBackward.rmsnormBackward(
        v[0].set(dx, 0, M, d, d),
        false,
        plus,
        weight.gradBuffer(),
        v[1].set(dy, 0, M, d, d),
        v[2].set(s.x, 0, M, d, d),
        weight.data,
        EPS,
        s.w.floats(ws + 2, M));
    return dx;
  }
}
