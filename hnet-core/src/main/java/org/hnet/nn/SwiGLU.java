package org.hnet.nn;

import org.hnet.kernels.Ops;

/** SwiGLU MLP: fc2(y * silu(gate)) with fc1's output split in halves [y | gate]; no biases. */
public final class SwiGLU {
  public final Linear fc1;
  public final Linear fc2;
  public final int d, hidden;
  private final Params.Mode mode;
  // workspace slots: gated hidden [T × hidden] (ws); ∂fc1 output [T × 2·hidden] (bws, shared by
  // every MLP: it dies when backward returns)
  private final int ws, bws;
  private float[] savedH; // fc1 output [T × 2·hidden]
  private int savedT;
  private Workspace savedWs;

  SwiGLU(Params ps, String prefix, int stage, int d, int hidden) {
    this.d = d;
    this.hidden = hidden;
    this.mode = ps.mode;
    // input gradients: fc2's dies inside backward, fc1's at once in Block (norm2's backward)
    this.fc1 = new Linear(ps, prefix + ".fc1", stage, d, 2 * hidden, false, "SwiGLU.fc1.dx");
    this.fc2 = new Linear(ps, prefix + ".fc2", stage, hidden, d, false, "SwiGLU.fc2.dx");
    this.ws = ps.slots(1);
    this.bws = ps.sharedSlots("SwiGLU.backward", 1);
  }

  public float[] forward(float[] x, int T) {
    return forward(x, T, Workspace.TRANSIENT);
  }

  float[] forward(float[] x, int T, Workspace w) {
    float[] h = fc1.forward(x, T, w); // [T × 2·hidden]
    float[] g = w.floats(ws, T * hidden);
    Ops.swiglu(g, 0, h, 0, T, hidden);
    if (mode.training) {
      savedH = h;
      savedT = T;
      savedWs = w;
    }
    return fc2.forward(g, T, w);
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

  public float[] backward(float[] dy) {
    float[] dg = fc2.backward(dy); // [T × hidden]
    int T = savedT;
    float[] dh = savedWs.floats(bws, T * 2 * hidden);
    Ops.swigluBackward(dh, 0, dg, 0, savedH, 0, T, hidden);
    savedH = null;
    savedWs = null;
    return fc1.backward(dh);
  }
}
