package org.hnet.nn;

import org.hnet.kernels.Ops;
import org.hnet.kernels.OpsBackward;

/** SwiGLU MLP: fc2(y * silu(gate)) with fc1's output split in halves [y | gate]; no biases. */
public final class SwiGLU {
  public final Linear fc1;
  public final Linear fc2;
  public final int d, hidden;
  // workspace slots: gated hidden [T × hidden] (ws); ∂fc1 output [T × 2·hidden] (bws, shared by
  // every MLP: it dies when backward returns)
  private final int ws, bws;

  /** What the backward needs: fc1's output h [t × 2·hidden]. */
  static final class Saved {
    float[] h;
    int t;
    Workspace w;
  }

  SwiGLU(Params ps, String prefix, int stage, int d, int hidden) {
    this.d = d;
    this.hidden = hidden;
    // input gradients: fc2's dies inside backward, fc1's at once in Block (norm2's backward)
    this.fc1 = new Linear(ps, prefix + ".fc1", stage, d, 2 * hidden, false, "SwiGLU.fc1.dx");
    this.fc2 = new Linear(ps, prefix + ".fc2", stage, hidden, d, false, "SwiGLU.fc2.dx");
    this.ws = ps.slots(1);
    this.bws = ps.sharedSlots("SwiGLU.backward", 1);
  }

  public float[] forward(float[] x, int T) {
    return forward(x, T, null, Workspace.TRANSIENT);
  }

  float[] forward(float[] x, int T, Tape tape, Workspace w) {
    float[] h = fc1.forward(x, T, tape, w); // [T × 2·hidden]
    float[] g = w.floats(ws, T * hidden);
    Ops.swiglu(g, 0, h, 0, T, hidden);
    float[] y = fc2.forward(g, T, tape, w);
    if (tape != null) {
      Saved s = tape.push(Saved.class, Saved::new);
      s.h = h;
      s.t = T;
      s.w = w;
    }
    return y;
  }

  /** One decode step of R rows (each row as if decoded alone). */
  public float[] step(float[] x, int R) {
    return step(x, R, Workspace.TRANSIENT);
  }

  float[] step(float[] x, int R, Workspace w) {
    return step(x, R, null, w);
  }

  /** The rows r with active[r] (all when null); the other rows of the output are zero. */
  float[] step(float[] x, int R, boolean[] active, Workspace w) {
    float[] h = fc1.step(x, R, active, w);
    float[] g = w.floats(ws, R * hidden);
    Ops.swiglu(g, 0, h, 0, R, hidden);
    return fc2.step(g, R, active, w);
  }

  float[] backward(float[] dy, Tape tape) {
    Saved s = tape.pop(Saved.class);
    float[] dg = fc2.backward(dy, tape); // [T × hidden]
    int T = s.t;
    float[] dh = s.w.floats(bws, T * 2 * hidden);
    OpsBackward.swigluBackward(dh, 0, dg, 0, s.h, 0, T, hidden);
    return fc1.backward(dh, tape);
  }
}
