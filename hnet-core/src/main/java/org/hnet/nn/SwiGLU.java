package org.hnet.nn;

import org.hnet.kernels.Ops;
import org.hnet.kernels.OpsBackward;
import org.hnet.tensor.Arena;

/** SwiGLU MLP: fc2(y * silu(gate)) with fc1's output split in halves [y | gate]; no biases. */
public final class SwiGLU {
  public final Linear fc1;
  public final Linear fc2;
  public final int d, hidden;

  /** What the backward needs: fc1's output h [t × 2·hidden]. */
  static final class Saved {
    float[] h;
    int t;
  }

  SwiGLU(Params ps, String prefix, int stage, int d, int hidden) {
    this.d = d;
    this.hidden = hidden;
    this.fc1 = new Linear(ps, prefix + ".fc1", stage, d, 2 * hidden, false, true);
    this.fc2 = new Linear(ps, prefix + ".fc2", stage, hidden, d, false, true);
  }

  /** x [T × d] → [T × d] in a buffer of w; with a tape, records what the backward needs. */
  float[] forward(float[] x, int T, Tape tape, Arena w) {
    float[] h = fc1.forward(x, T, tape, w); // [T × 2·hidden]
    float[] g = w.floats(T * hidden);
    Ops.swiglu(g, 0, h, 0, T, hidden);
    float[] y = fc2.forward(g, T, tape, w);
    if (tape != null) {
      Saved s = tape.push(Saved.class, Saved::new);
      s.h = h;
      s.t = T;
    }
    return y;
  }

  /** One decode step of R rows (each row as if decoded alone). */
  float[] step(float[] x, int R, Arena w) {
    return step(x, R, null, w);
  }

  /** The rows r with active[r] (all when null); the other rows of the output are zero. */
  float[] step(float[] x, int R, boolean[] active, Arena w) {
    float[] h = fc1.step(x, R, active, w);
    float[] g = w.floats(R * hidden);
    Ops.swiglu(g, 0, h, 0, R, hidden);
    return fc2.step(g, R, active, w);
  }

  /** dy [T × d] → dx [T × d] in a buffer of w; adds into the parameters' gradients. */
  float[] backward(float[] dy, Tape tape, Arena w) {
    Saved s = tape.pop(Saved.class);
    float[] dg = fc2.backward(dy, tape, w); // [T × hidden]
    int T = s.t;
    float[] dh = w.floats(T * 2 * hidden);
    OpsBackward.swigluBackward(dh, 0, dg, 0, s.h, 0, T, hidden);
    return fc1.backward(dh, tape, w);
  }
}
