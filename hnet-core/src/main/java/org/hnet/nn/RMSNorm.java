package org.hnet.nn;

import org.hnet.kernels.Ops;
import org.hnet.kernels.OpsBackward;
import org.hnet.tensor.Arena;
import org.hnet.tensor.Rows;

/** RMSNorm with eps 1e-5 (every norm of the reference uses it). */
public final class RMSNorm {
  public static final float EPS = 1e-5f;
  public final Param weight;
  public final int d;

  RMSNorm(Params ps, String prefix, int stage, int d) {
    this.d = d;
    this.weight = ps.take(prefix + ".weight", stage, false, d);
  }

  /** What the backward needs: the input x [m × d]. */
  static final class Saved {
    float[] x;
    int m;
  }

  /** x [M × d] → [M × d] in a buffer of w; with a tape, records x for the backward. */
  float[] forward(float[] x, int M, Tape tape, Arena w) {
    float[] y = w.floats(M * d);
    Ops.rmsnorm(y, 0, d, x, 0, d, weight.data, M, d, EPS);
    if (tape != null) {
      Saved s = tape.push(Saved.class, Saved::new);
      s.x = x;
      s.m = M;
    }
    return y;
  }

  /**
   * dy [M × d] → dx + plus [M × d] (plus nullable: the gradient reaching the norm's input by
   * another path, e.g. a residual connection, added as the rows are written); adds ∂L/∂weight. dx
   * is a buffer of w.
   */
  float[] backward(float[] dy, float[] plus, Tape tape, Arena w) {
    Saved s = tape.pop(Saved.class);
    int M = s.m;
    float[] dx = w.floats(M * d);
    Rows[] v = w.views(3);
    OpsBackward.rmsnormBackward(
        v[0].set(dx, 0, M, d, d),
        false,
        plus,
        weight.gradBuffer(),
        v[1].set(dy, 0, M, d, d),
        v[2].set(s.x, 0, M, d, d),
        weight.data,
        EPS,
        w.floats(M));
    return dx;
  }
}
